/**
 * The embedded store is private to the user running it. The service's in-process store listens
 * on a Unix socket in its data folder and on no TCP port; the socket is 0600 and the folder 0700,
 * so a process of another user cannot connect (shown, when the test runs as root, by a child
 * under uid 65534 that gets EACCES); every file the store makes is 0600 even under umask 000;
 * `deno task db --socket` does the same, a stale socket left by `kill -9` is replaced and a live
 * one never taken over; bad socket paths and non-loopback addresses are refused with the reason.
 */
import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { startEmbeddedMongo } from "../src/embedded_mongo/mod.ts";
import { openStore } from "../src/embedded_mongo/storage/mod.ts";
import { getDb } from "../src/app/database.ts";

const GETDB_CHILD = new URL("./fixtures/embedded_getdb_child.ts", import.meta.url).pathname;
const CLI = new URL("../src/app/store_cli.ts", import.meta.url).pathname;

/** `deno run -A <args>` under umask 000, with piped stdio. */
function spawnUnderUmask000(args: string[]): Deno.ChildProcess {
  return new Deno.Command("sh", {
    args: ["-c", 'umask 000; exec "$0" run -A "$@"', Deno.execPath(), ...args],
    env: { NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** The first stdout line of `child` matching `test`, parsed as JSON (stderr kept for errors). */
async function firstLine(
  child: Deno.ChildProcess,
  test: (line: string) => boolean = () => true,
): Promise<Record<string, unknown>> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  try {
    for (;;) {
      const line = text.split("\n").slice(0, -1).find(test);
      if (line !== undefined) return JSON.parse(line);
      const { value, done } = await reader.read();
      if (done) {
        const err = await new Response(child.stderr).text();
        throw new Error(`Cannot start child: no line on stdout\n${text}\n${err}`);
      }
      text += value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** Ends a child started by `spawnUnderUmask000`: closes its stdin, waits, drains its output. */
async function finish(child: Deno.ChildProcess, signal?: Deno.Signal): Promise<Deno.CommandStatus> {
  if (signal) child.kill(signal);
  else await child.stdin.close();
  const [status] = await Promise.all([
    child.status,
    child.stdout.cancel().catch(() => {}),
    new Response(child.stderr).text().catch(() => ""),
  ]);
  return status;
}

/** `name -> "dir 700" | "file 600" | "socket 600"` for everything under `dir`, recursively. */
function modes(dir: string, prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  const self = Deno.lstatSync(dir);
  if (prefix === "") out["."] = `dir ${(self.mode! & 0o777).toString(8)}`;
  for (const e of Deno.readDirSync(dir)) {
    const path = `${dir}/${e.name}`;
    const info = Deno.lstatSync(path);
    const kind = info.isDirectory ? "dir" : info.isSocket ? "socket" : "file";
    out[prefix + e.name] = `${kind} ${(info.mode! & 0o777).toString(8)}`;
    if (info.isDirectory) Object.assign(out, modes(path, `${prefix}${e.name}/`));
  }
  return out;
}

/** What a shell command prints (`/proc` of another process is read through `sh`: Deno asks for -A). */
async function shell(script: string): Promise<string> {
  const out = await new Deno.Command("sh", { args: ["-c", script], stderr: "null" }).output();
  return new TextDecoder().decode(out.stdout);
}

/** The inodes of the TCP sockets listening on this machine (`/proc/net/tcp`, `tcp6`). */
async function listeningTcpInodes(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const text = await shell("cat /proc/net/tcp /proc/net/tcp6");
  for (const line of text.split("\n")) {
    const cols = line.trim().split(/\s+/);
    if (cols.length > 9 && cols[3] === "0A") out.set(cols[9], cols[1]); // inode -> local addr
  }
  return out;
}

/** The inodes of the sockets process `pid` holds. */
async function socketInodes(pid: number): Promise<Set<string>> {
  const text = await shell(`for f in /proc/${pid}/fd/*; do readlink "$f"; done`);
  return new Set([...text.matchAll(/socket:\[(\d+)\]/g)].map((m) => m[1]));
}

/** Why another user's connection cannot be tried here, or undefined when it can. */
async function otherUserProblem(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "not Linux";
  if (Deno.uid() !== 0) return "not running as root (the file modes are checked instead)";
  for (const tool of ["setpriv", "perl"]) {
    const found = await new Deno.Command("sh", { args: ["-c", `command -v ${tool}`] }).output();
    if (!found.success) return `${tool} is not installed (the file modes are checked instead)`;
  }
  return undefined;
}

const noOtherUser = await otherUserProblem();

const CONNECT_PL = `
use Socket;
socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die "socket: $!";
if (connect($s, pack_sockaddr_un($ARGV[0]))) { print "connected\\n"; exit 0 }
print "refused: $!\\n"; exit 1;
`;

/** Tries to connect to the Unix socket `path` as uid/gid 65534 (nobody); returns what happened. */
async function connectAsNobody(path: string): Promise<string> {
  const out = await new Deno.Command("setpriv", {
    args: ["--reuid=65534", "--regid=65534", "--clear-groups", "perl", "-e", CONNECT_PL, path],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return (new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr)).trim();
}

Deno.test("getDb() serves the in-process store on a 0600 socket in its 0700 data folder, opens no TCP port, and makes every file 0600 even under umask 000", async () => {
  const root = await Deno.makeTempDir({ prefix: "private-" });
  const dataDir = `${root}/data`;
  const child = spawnUnderUmask000([GETDB_CHILD, dataDir]);
  try {
    const where = await firstLine(child);
    const held = await socketInodes(child.pid);
    assert.ok(held.size > 0, "the child holds its socket listener and driver connections");
    const tcp = [...await listeningTcpInodes()].filter(([inode]) => held.has(inode));
    assert.deepEqual(tcp, [], "the service's process listens on no TCP port");
    assert.deepEqual(where, {
      host: `${dataDir}/mongod.sock`,
      socketPath: `${dataDir}/mongod.sock`,
    });

    assert.deepEqual(modes(dataDir), {
      ".": "dir 700",
      "LOCK": "file 600",
      "journal-00000000.bson": "file 600",
      "mongod.sock": "socket 600",
    });
    assert.equal((await finish(child)).code, 0);
    assert.deepEqual(modes(dataDir), {
      ".": "dir 700",
      "LOCK": "file 600",
      "journal-00000001.bson": "file 600",
      "snapshot.bson": "file 600",
    });
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await child.status;
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test({
  name: `getDb()'s socket cannot be opened by a process of another user (uid 65534 gets EACCES)${
    noOtherUser ? ` (SKIPPED: ${noOtherUser})` : ""
  }`,
  ignore: noOtherUser !== undefined,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "private-" });
    Deno.chmodSync(root, 0o755); // the other user may walk up to the data folder
    const dataDir = `${root}/data`;
    const child = spawnUnderUmask000([GETDB_CHILD, dataDir]);
    const control = `${root}/open/control.sock`;
    let listener: Deno.Listener | undefined;
    try {
      const { socketPath } = await firstLine(child);
      assert.equal(socketPath, `${dataDir}/mongod.sock`);
      // The probe can connect where the modes allow it: a socket of our own, open to all.
      Deno.mkdirSync(`${root}/open`, { mode: 0o777 });
      Deno.chmodSync(`${root}/open`, 0o777);
      listener = Deno.listen({ transport: "unix", path: control });
      Deno.chmodSync(control, 0o777);
      assert.equal(await connectAsNobody(control), "connected");

      assert.equal(await connectAsNobody(socketPath as string), "refused: Permission denied");
      // Even with the data folder opened up by mistake, the socket itself is 0600.
      Deno.chmodSync(dataDir, 0o755);
      assert.equal(await connectAsNobody(socketPath as string), "refused: Permission denied");
      Deno.chmodSync(dataDir, 0o700);
      assert.equal((await finish(child)).code, 0);
    } finally {
      listener?.close();
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
      await child.status;
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("deno task db --socket: a 0600 socket under umask 000; a live one is not taken over, a stale one left by kill -9 is replaced", async () => {
  const root = await Deno.makeTempDir({ prefix: "private-cli-" });
  Deno.chmodSync(root, 0o755);
  const path = `${root}/db.sock`;
  const child = spawnUnderUmask000([CLI, "--socket", path, "--dbpath", `${root}/data`]);
  let client: MongoClient | undefined;
  try {
    const listening = await firstLine(child, (l) => l.includes('"msg":"listening"'));
    assert.equal(listening.url, `mongodb://${encodeURIComponent(path)}/?directConnection=true`);
    assert.equal(listening.socket, path);
    assert.equal(listening.port, null);
    assert.equal(Deno.lstatSync(path).mode! & 0o777, 0o600);
    assert.equal(Deno.lstatSync(`${root}/data`).mode! & 0o777, 0o700);
    if (noOtherUser === undefined) {
      assert.equal(await connectAsNobody(path), "refused: Permission denied");
    }
    client = new MongoClient(listening.url as string);
    await client.db("app").collection<{ _id: string }>("users").insertOne({ _id: "alice" });

    await assert.rejects(
      startEmbeddedMongo({ socketPath: path }),
      new RegExp(`^Error: Cannot listen on ${path}: a server is already listening there$`),
    );
    assert.deepEqual(await client.db("app").command({ ping: 1 }), { ok: 1 });
    await client.close();
    client = undefined;

    assert.equal((await finish(child, "SIGKILL")).signal, "SIGKILL");
    assert.ok(Deno.lstatSync(path).isSocket, "kill -9 left the socket file behind");
    const again = await startEmbeddedMongo({ socketPath: path, dataDir: `${root}/data` });
    try {
      assert.equal(Deno.lstatSync(path).mode! & 0o777, 0o600);
      client = new MongoClient(again.url);
      assert.deepEqual(await client.db("app").collection("users").find().toArray(), [{
        _id: "alice",
      }]);
      await client.close();
      client = undefined;
    } finally {
      await again.close();
    }
    assert.throws(() => Deno.lstatSync(path), Deno.errors.NotFound, "close() removes the socket");
  } finally {
    await client?.close();
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await child.status;
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("startEmbeddedMongo() refuses a socket path too long, not .sock, relative or not a socket, and a non-loopback address", async () => {
  const root = await Deno.makeTempDir({ prefix: "private-paths-" });
  try {
    const long = `${root}/${"d".repeat(120)}.sock`;
    const bytes = new TextEncoder().encode(long).length;
    await assert.rejects(
      startEmbeddedMongo({ socketPath: long }),
      {
        message:
          `Cannot listen on ${long}: a Unix socket path is at most 107 bytes and this one has ${bytes}; choose a shorter path`,
      },
    );
    await assert.rejects(startEmbeddedMongo({ socketPath: `${root}/db` }), /must end in \.sock/);
    await assert.rejects(startEmbeddedMongo({ socketPath: "db.sock" }), /must be absolute/);
    const file = `${root}/file.sock`;
    Deno.writeTextFileSync(file, "keep me");
    await assert.rejects(
      startEmbeddedMongo({ socketPath: file }),
      { message: `Cannot listen on ${file}: the path exists and is not a socket` },
    );
    assert.equal(Deno.readTextFileSync(file), "keep me");
    for (const hostname of ["0.0.0.0", "::", "10.0.0.1"]) {
      await assert.rejects(
        startEmbeddedMongo({ port: 0, hostname }),
        /not a loopback address\. The embedded server has no authentication/,
      );
    }
    // The service's store with a data folder whose socket path would be too long.
    const deep = `${root}/${"d".repeat(100)}`;
    await assert.rejects(
      getDb({ dbName: "app", dataDir: deep }),
      new RegExp(`^Error: Cannot listen on ${deep}/mongod\\.sock: a Unix socket path is at most`),
    );
    // ...and the data folder it opened first was released again.
    const store = await openStore({ dataDir: deep });
    await store.close();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("openStore() makes a data folder left world-readable by an older version private again", async () => {
  const dir = await Deno.makeTempDir({ prefix: "private-old-" });
  try {
    const first = await openStore({ dataDir: dir });
    first.createCollection("app", "users").insert({ _id: "alice" });
    await first.close();
    Deno.chmodSync(dir, 0o755);
    for (const e of Deno.readDirSync(dir)) Deno.chmodSync(`${dir}/${e.name}`, 0o644);
    const store = await openStore({ dataDir: dir });
    await store.close();
    for (const [name, mode] of Object.entries(modes(dir))) {
      assert.equal(mode, name === "." ? "dir 700" : "file 600", name);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

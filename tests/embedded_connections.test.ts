/**
 * The embedded server under many connections: `maxConns` refuses the one too many (closed at
 * once, logged) and keeps serving the others; and the standalone `deno task db` under a
 * 256-file limit, flooded with more idle connections than it can hold, keeps accepting once they
 * close (accept errors are logged and retried with back-off, not taken for a closed listener).
 */
import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { startEmbeddedMongo } from "../src/embedded_mongo/mod.ts";
import { openStore } from "../src/embedded_mongo/storage/mod.ts";
import { opMsg, readFrame, replyDoc } from "./fixtures/wire_frames.ts";

/** Sends `ping` and returns the reply, or null when the server closed the connection. */
async function ping(conn: Deno.Conn, requestId: number): Promise<unknown> {
  try {
    await conn.write(opMsg(requestId, { ping: 1, $db: "admin" }));
  } catch {
    return null;
  }
  const frame = await readFrame(conn);
  return frame ? replyDoc(frame).doc : null;
}

Deno.test("maxConns: the connection over the cap is closed at once and logged, the others are served, a freed slot is reused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "maxconns-" });
  const path = `${dir}/db.sock`;
  const events: Record<string, unknown>[] = [];
  const server = await startEmbeddedMongo({
    socketPath: path,
    maxConns: 2,
    log: (e) => events.push(e),
  });
  const open: Deno.Conn[] = [];
  const connect = async () => {
    const conn = await Deno.connect({ transport: "unix", path });
    open.push(conn);
    return conn;
  };
  try {
    const a = await connect();
    const b = await connect();
    assert.deepEqual(await ping(a, 1), { ok: 1 });
    assert.deepEqual(await ping(b, 1), { ok: 1 });
    const extra = await connect();
    assert.equal(await ping(extra, 1), null, "the third connection is closed by the server");
    assert.deepEqual(await ping(a, 2), { ok: 1 });
    assert.deepEqual(await ping(b, 2), { ok: 1 });
    const refusals = events.filter((e) => e.event === "connection_refused");
    assert.equal(refusals.length, 1);
    assert.deepEqual(
      { ...refusals[0] },
      {
        level: "warn",
        event: "connection_refused",
        reason: "maxConns reached",
        maxConns: 2,
        refused: 1,
        refusedTotal: 1,
      },
    );
    await a.write(opMsg(3, { serverStatus: 1, $db: "admin" }));
    const status = replyDoc((await readFrame(a))!).doc;
    assert.deepEqual(status.connections, {
      current: 2,
      available: 0,
      totalCreated: 2,
      refused: 1,
      maxConns: 2,
    });

    a.close();
    // The server sees `a` go when its read ends; until then a newcomer may still be refused.
    const deadline = Date.now() + 5000;
    let served = false;
    while (!served) {
      assert.ok(Date.now() < deadline, "the slot freed by closing a connection was never reused");
      const fresh = await connect();
      served = (await ping(fresh, 1)) !== null;
      if (!served) await new Promise((r) => setTimeout(r, 10));
    }
    assert.deepEqual(await ping(b, 3), { ok: 1 });
  } finally {
    for (const conn of open) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

const CLI = new URL("../src/app/store_cli.ts", import.meta.url).pathname;

/** Reads a child's output stream line by line into `lines`, in the background. */
function collectLines(stream: ReadableStream<Uint8Array>, lines: string[]): Promise<void> {
  return (async () => {
    let partial = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      partial += text;
      const parts = partial.split("\n");
      partial = parts.pop()!;
      lines.push(...parts);
    }
  })();
}

async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("deno task db under a 256-file limit: 300 idle connections, then closed, and a new driver connection works", async () => {
  const child = new Deno.Command("prlimit", {
    args: [
      "--nofile=256:256",
      Deno.execPath(),
      "run",
      "-A",
      CLI,
      "--port",
      "0",
      "--maxConns",
      "100000",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out: string[] = [];
  const err: string[] = [];
  const reading = [collectLines(child.stdout, out), collectLines(child.stderr, err)];
  const idle: Deno.Conn[] = [];
  let client: MongoClient | undefined;
  try {
    const listening = await until("the listening line", 20_000, () => {
      const line = out.find((l) => l.includes('"msg":"listening"'));
      return line ? JSON.parse(line) : undefined;
    });
    const port = listening.port as number;
    for (let i = 0; i < 300; i++) idle.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    // prlimit runs the server in its own process: watch its descriptors reach the limit (read
    // through `sh`, since Deno wants -A for another process's /proc).
    const deadline = Date.now() + 20_000;
    for (;;) {
      const out = await new Deno.Command("sh", {
        args: ["-c", `ls /proc/${child.pid}/fd | wc -l`],
      }).output();
      if (Number(new TextDecoder().decode(out.stdout)) >= 250) break;
      assert.ok(Date.now() < deadline, "the server never ran out of file descriptors");
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const conn of idle.splice(0)) conn.close();

    client = new MongoClient(listening.url, { serverSelectionTimeoutMS: 15_000 });
    const c = client.db("flood").collection<{ _id: number }>("after");
    await c.insertOne({ _id: 1 });
    assert.deepEqual(await c.find().toArray(), [{ _id: 1 }]);
    const failed = JSON.parse(err.find((l) => l.includes('"msg":"accept_failed"'))!);
    assert.equal(failed.level, "warn");
    assert.equal(failed.component, "embedded-mongo");
    assert.match(failed.error, /Too many open files/);
    assert.equal(typeof failed.retryInMs, "number");
    const recovered = await until("an accept_recovered line", 5000, () => {
      const line = out.find((l) => l.includes('"msg":"accept_recovered"'));
      return line ? JSON.parse(line) : undefined;
    });
    assert.ok(recovered.failures >= 1);
    await client.close();
    client = undefined;
    child.kill("SIGTERM");
    assert.equal((await child.status).code, 0);
  } finally {
    for (const conn of idle) conn.close();
    await client?.close();
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await child.status;
    await Promise.all(reading);
  }
});

Deno.test("close() answers a write that is already running before it closes the connection", async () => {
  const dir = await Deno.makeTempDir({ prefix: "graceful-" });
  // A journal whose fsync waits until the test lets it go: the insert is applied and waits for
  // durability while close() begins.
  let holdSync = false;
  let release!: () => void;
  const held = new Promise<void>((r) => release = r);
  let syncing!: () => void;
  const syncStarted = new Promise<void>((r) => syncing = r);
  const server = await startEmbeddedMongo({
    socketPath: `${dir}/db.sock`,
    dataDir: `${dir}/data`,
    storage: {
      fsync: "always",
      openJournal: (path) => {
        const file = Deno.openSync(path, { create: true, append: true, mode: 0o600 });
        return {
          writeSync: (p) => file.writeSync(p),
          truncateSync: (len) => file.truncateSync(len),
          syncData: async () => {
            if (holdSync) {
              syncing();
              await held;
            }
            await file.syncData();
          },
          syncDataSync: () => file.syncDataSync(),
          statSync: () => file.statSync(),
          close: () => file.close(),
        };
      },
    },
    log: () => {},
  });
  const client = new MongoClient(server.url, { retryWrites: false });
  try {
    const c = client.db("app").collection<{ _id: string }>("users");
    await c.insertOne({ _id: "before" });
    holdSync = true;
    const inFlight = c.insertOne({ _id: "in-flight" });
    await syncStarted;
    const closing = server.close();
    release();
    assert.deepEqual(await inFlight, { acknowledged: true, insertedId: "in-flight" });
    await closing;
  } finally {
    release();
    await client.close();
    await server.close();
  }
  try {
    const store = await openStore({ dataDir: `${dir}/data`, log: () => {} });
    try {
      assert.deepEqual([...store.getCollection("app", "users")!.all()].map((d) => d._id), [
        "before",
        "in-flight",
      ]);
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { parseArgs } from "./store_cli.ts";

Deno.test("parseArgs() reads --port, --dbpath, --bind_ip, --socket and --maxConns, with defaults", () => {
  assert.deepEqual(parseArgs([]), { port: 27017, bindIp: "127.0.0.1" });
  assert.deepEqual(parseArgs(["--port", "0", "--dbpath", "/tmp/x", "--bind_ip=127.0.0.2"]), {
    port: 0,
    dbpath: "/tmp/x",
    bindIp: "127.0.0.2",
  });
  assert.equal(parseArgs(["--bind_ip", "::1"]).bindIp, "::1");
  assert.equal(parseArgs(["--bind_ip", "localhost"]).bindIp, "localhost");
  assert.deepEqual(parseArgs(["--socket", "run/db.sock", "--maxConns=50"], "/srv/app"), {
    port: 27017,
    bindIp: "127.0.0.1",
    socket: "/srv/app/run/db.sock",
    maxConns: 50,
  });
});

Deno.test("parseArgs() refuses unknown flags, missing values and bad ports", () => {
  assert.throws(() => parseArgs(["--nope"]), /Cannot start: unknown flag '--nope'/);
  assert.throws(() => parseArgs(["--port"]), /--port needs a value/);
  assert.throws(() => parseArgs(["--port", "70000"]), /--port must be an integer/);
  assert.throws(() => parseArgs(["--port", "12a"]), /--port must be an integer/);
  assert.throws(() => parseArgs(["--dbpath", "--port", "1"]), /--dbpath needs a value/);
  assert.throws(() => parseArgs(["--maxConns", "0"]), /--maxConns must be a positive integer/);
  assert.throws(() => parseArgs(["--maxConns", "-3"]), /--maxConns needs a value|positive/);
});

Deno.test("parseArgs() refuses a non-loopback --bind_ip, saying why and what to run instead", () => {
  for (const ip of ["0.0.0.0", "192.168.1.10", "::", "example.com", "128.0.0.1", "127.0.0.256"]) {
    assert.throws(
      () => parseArgs(["--bind_ip", ip]),
      (e: Error) => {
        assert.match(
          e.message,
          new RegExp(`^Cannot start: --bind_ip ${ip.replace(/\./g, "\\.")}: `),
        );
        assert.match(e.message, /not a loopback address/);
        assert.match(e.message, /no authentication/);
        assert.match(e.message, /run MongoDB itself: a replica set/);
        return true;
      },
    );
  }
});

Deno.test("parseArgs() refuses a bad --socket, and --socket with a TCP flag", () => {
  assert.throws(() => parseArgs(["--socket", "/tmp/db"]), /must end in \.sock/);
  const long = "/tmp/" + "d".repeat(100) + ".sock";
  assert.throws(
    () => parseArgs(["--socket", long]),
    /Cannot start: --socket .*: a Unix socket path is at most 107 bytes and this one has 110/,
  );
  assert.throws(
    () => parseArgs(["--socket", "/tmp/db.sock", "--port", "1"]),
    /--socket serves no TCP port, so --port does not apply/,
  );
});

const CLI = new URL("./store_cli.ts", import.meta.url).pathname;

Deno.test("deno task db exits non-zero with a message on a bad flag", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "--bogus"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.notEqual(out.code, 0);
  const line = JSON.parse(new TextDecoder().decode(out.stderr).trim());
  assert.equal(line.level, "error");
  assert.match(line.msg, /^Cannot start: unknown flag '--bogus'/);
});

Deno.test("deno task db prints one JSON line when listening, serves, and stops on SIGTERM", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "--port", "0"],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let client: MongoClient | undefined;
  try {
    let buffered = "";
    while (!buffered.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) break;
      buffered += value;
    }
    const first = JSON.parse(buffered.split("\n")[0]);
    assert.equal(first.msg, "listening");
    assert.equal(first.level, "info");
    assert.equal(first.component, "embedded-mongo");
    assert.match(first.url, /^mongodb:\/\/127\.0\.0\.1:\d+\/\?directConnection=true$/);
    client = new MongoClient(first.url);
    await client.db("cli").collection("c").insertOne({ _id: "x" as never });
    assert.equal(await client.db("cli").collection("c").countDocuments(), 1);
    await client.close();
    client = undefined;
    child.kill("SIGTERM");
    let rest = "";
    for (;;) {
      const { value, done } = await lines.read();
      if (done) break;
      rest += value;
    }
    assert.match(rest, /"msg":"stopped","component":"embedded-mongo","signal":"SIGTERM"/);
    const status = await child.status;
    assert.equal(status.code, 0);
  } finally {
    await client?.close();
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await child.stderr.cancel();
    await child.status;
  }
});

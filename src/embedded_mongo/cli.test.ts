import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { parseArgs } from "./cli.ts";

Deno.test("parseArgs() reads --port, --dbpath and --bind_ip, with defaults", () => {
  assert.deepEqual(parseArgs([]), { port: 27017, bindIp: "127.0.0.1" });
  assert.deepEqual(parseArgs(["--port", "0", "--dbpath", "/tmp/x", "--bind_ip=0.0.0.0"]), {
    port: 0,
    dbpath: "/tmp/x",
    bindIp: "0.0.0.0",
  });
});

Deno.test("parseArgs() refuses unknown flags, missing values and bad ports", () => {
  assert.throws(() => parseArgs(["--nope"]), /Cannot start: unknown flag '--nope'/);
  assert.throws(() => parseArgs(["--port"]), /--port needs a value/);
  assert.throws(() => parseArgs(["--port", "70000"]), /--port must be an integer/);
  assert.throws(() => parseArgs(["--port", "12a"]), /--port must be an integer/);
  assert.throws(() => parseArgs(["--dbpath", "--port", "1"]), /--dbpath needs a value/);
});

const CLI = new URL("./cli.ts", import.meta.url).pathname;

Deno.test("cli.ts exits non-zero with a message on a bad flag", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "--bogus"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.notEqual(out.code, 0);
  assert.match(new TextDecoder().decode(out.stderr), /Cannot start: unknown flag '--bogus'/);
});

Deno.test("cli.ts prints one JSON line when listening, serves, and stops on SIGTERM", async () => {
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
    assert.equal(first.event, "listening");
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
    assert.match(rest, /"event":"stopped","signal":"SIGTERM"/);
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

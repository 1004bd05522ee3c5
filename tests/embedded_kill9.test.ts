/**
 * Crash safety of the embedded server's storage: a child process inserts numbered documents and
 * prints each number once it is acknowledged; the test kills it with SIGKILL mid-stream, reopens
 * the data folder, and checks that every acknowledged document is there (zero lost).
 */
import assert from "node:assert/strict";
import { openStore } from "../src/embedded_mongo/storage/mod.ts";

const CHILD = new URL("./fixtures/embedded_kill9_child.ts", import.meta.url).pathname;

async function killMidStream(mode: "store" | "driver", ackedBeforeKill: number): Promise<void> {
  const dir = Deno.makeTempDirSync({ prefix: `kill9-${mode}-` });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CHILD, mode, dir],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const acked: number[] = [];
  let partial = "";
  const take = (text: string) => {
    partial += text;
    const lines = partial.split("\n");
    partial = lines.pop()!;
    for (const l of lines) acked.push(Number(l));
  };
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const errText = (async () => {
    let all = "";
    for (;;) {
      const { value, done } = await stderr.read();
      if (done) return all;
      all += value;
    }
  })();
  try {
    while (acked.length < ackedBeforeKill) {
      const { value, done } = await reader.read();
      if (done) break;
      take(value);
    }
  } finally {
    child.kill("SIGKILL");
  }
  // Lines already in the pipe were acknowledged before the kill.
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    take(value);
  }
  const status = await child.status;
  const childErr = await errText;
  assert.equal(status.signal, "SIGKILL", `the child ended on its own: ${childErr}`);
  assert.ok(acked.length >= ackedBeforeKill, `the child acknowledged too few: ${childErr}`);
  assert.deepEqual(acked, acked.map((_, i) => i));

  const original = console.error;
  console.error = () => {}; // a torn tail is expected and reported on stderr
  const store = await openStore({ dataDir: dir }).finally(() => console.error = original);
  try {
    const coll = store.getCollection("kill9", "items");
    assert.ok(coll, "the collection survived");
    const lost = acked.filter((i) => coll.getById(i)?.n !== i);
    assert.deepEqual(lost, []);
    assert.ok(coll.count() >= acked.length);
    assert.deepEqual(coll.lookup("n", acked.at(-1))?.map((d) => d._id), [acked.at(-1)]);
  } finally {
    await store.close();
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("durable() survives kill -9: every acknowledged insert is there after reopening", async () => {
  await killMidStream("store", 2000);
});

Deno.test("insertOne() through the embedded server survives kill -9 with zero lost", async () => {
  await killMidStream("driver", 300);
});

import assert from "node:assert/strict";
import { CURSOR_IDLE_MS, CursorRegistry, DEFAULT_FIRST_BATCH } from "./cursors.ts";

const docs = (n: number) => Array.from({ length: n }, (_, i) => ({ _id: i }));

Deno.test("open() returns 101 documents first and closes an exhausted cursor", () => {
  const cursors = new CursorRegistry();
  const big = cursors.open("d.c", docs(150));
  assert.equal(big.docs.length, DEFAULT_FIRST_BATCH);
  assert.notEqual(big.id.toString(), "0");
  const rest = cursors.more(big.id.toNumber(), "d.c");
  assert.equal(rest?.docs.length, 49);
  assert.equal(rest?.id.toString(), "0");
  assert.equal(cursors.size, 0);
  const exact = cursors.open("d.c", docs(5), 5);
  assert.equal(exact.id.toString(), "0");
  const single = cursors.open("d.c", docs(5), 2, true);
  assert.deepEqual([single.docs.length, single.id.toString()], [2, "0"]);
});

Deno.test("more() refuses a cursor of another namespace, kill() closes one", () => {
  const cursors = new CursorRegistry();
  const open = cursors.open("d.c", docs(10), 2);
  assert.equal(cursors.more(open.id.toNumber(), "d.other"), undefined);
  assert.equal(cursors.kill(open.id.toNumber()), true);
  assert.equal(cursors.more(open.id.toNumber(), "d.c"), undefined);
  assert.equal(cursors.kill(open.id.toNumber()), false);
});

Deno.test("reap() closes cursors idle for 10 minutes and keeps used ones", () => {
  let now = 0;
  const cursors = new CursorRegistry(() => now);
  const idle = cursors.open("d.c", docs(10), 1);
  const used = cursors.open("d.c", docs(10), 1);
  now = CURSOR_IDLE_MS - 1;
  cursors.more(used.id.toNumber(), "d.c", 1);
  assert.equal(cursors.reap(), 0);
  now = CURSOR_IDLE_MS + 1;
  assert.equal(cursors.reap(), 1);
  assert.equal(cursors.more(idle.id.toNumber(), "d.c"), undefined);
  assert.equal(cursors.more(used.id.toNumber(), "d.c", 1)?.docs.length, 1);
});

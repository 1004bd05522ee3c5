/**
 * Tests of the deadline queue: items due are handed over in order, items done early are
 * skipped, and an idle queue holds no timer.
 */
import assert from "node:assert/strict";
import { type Deadlined, DeadlineQueue } from "./deadlines.ts";

interface Item extends Deadlined {
  name: string;
}

function item(name: string, inMs: number): Item {
  return { name, dueAt: performance.now() + inMs, done: false };
}

Deno.test("DeadlineQueue.push() hands over the items not done, in order, once each is due", async () => {
  const due: string[] = [];
  let last!: () => void;
  const lastDue = new Promise<void>((resolve) => last = resolve);
  const queue = new DeadlineQueue<Item>((i) => {
    due.push(i.name);
    if (i.name === "d") last();
  });
  const [a, b, c] = [item("a", 10), item("b", 10), item("c", 15)];
  queue.push(a);
  queue.push(b);
  queue.push(c);
  assert.equal(queue.armed, true);
  b.done = true;
  queue.settle();
  assert.equal(queue.size, 3);
  // Pushed later, due later: waits for its own deadline after the others were handed over.
  setTimeout(() => queue.push(item("d", 40)), 0);
  await lastDue;
  assert.deepEqual(due, ["a", "c", "d"]);
  assert.equal(queue.size, 0);
  assert.equal(queue.armed, false);
});

Deno.test("DeadlineQueue.settle() drops the done items at the head and stops the timer when idle", () => {
  const due: string[] = [];
  const queue = new DeadlineQueue<Item>((i) => due.push(i.name));
  const items = Array.from({ length: 3000 }, (_, n) => item(`i${n}`, 60_000));
  for (const i of items) queue.push(i);
  items[1].done = true;
  queue.settle();
  assert.equal(queue.size, 3000);
  items[0].done = true;
  queue.settle();
  assert.equal(queue.size, 2998);
  for (const i of items) i.done = true;
  queue.settle();
  assert.equal(queue.size, 0);
  assert.equal(queue.armed, false);
  assert.deepEqual(due, []);
});

Deno.test("DeadlineQueue.clear() forgets the items and stops the timer", () => {
  const queue = new DeadlineQueue<Item>(() => {
    throw new Error("never due");
  });
  queue.push(item("a", 60_000));
  queue.clear();
  assert.equal(queue.size, 0);
  assert.equal(queue.armed, false);
});

import assert from "node:assert/strict";
import { DocHeap } from "./heap.ts";

function bytes(seed: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (seed * 31 + i * 7) & 255;
  return out;
}

function read(heap: DocHeap, slot: number): Uint8Array {
  const slab = heap.locate(slot);
  return slab.slice(heap.pos, heap.end);
}

Deno.test("set() and free() keep every live record readable while slabs fill and compact", () => {
  const heap = new DocHeap();
  const expected = new Map<number, Uint8Array>();
  let seed = 1;
  const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  for (let step = 0; step < 60_000; step++) {
    const r = next() % 10;
    const live = [...expected.keys()];
    const size = 1 + (next() % 600);
    if (r < 4 || live.length < 100) {
      const b = bytes(step, size);
      expected.set(heap.add(b), b);
    } else if (r < 8) {
      const slot = live[next() % live.length];
      const b = bytes(step, size);
      heap.set(slot, b);
      expected.set(slot, b);
    } else {
      const slot = live[next() % live.length];
      heap.free(slot);
      expected.delete(slot);
      assert.equal(heap.has(slot), false);
    }
  }
  let liveBytes = 0;
  for (const [slot, b] of expected) {
    assert.deepEqual(read(heap, slot), b, `slot ${slot}`);
    liveBytes += 8 + b.length;
  }
  // Dead bytes stay under a quarter of each slab but the one being filled (1 MiB at most).
  assert.ok(
    heap.slabBytes < liveBytes * 4 / 3 + 2 * 1024 * 1024,
    `${heap.slabBytes} vs ${liveBytes}`,
  );
});

Deno.test("capture() keeps reading what was there while later writes compact slabs away", () => {
  const heap = new DocHeap();
  const slots = Array.from({ length: 3000 }, (_, i) => heap.add(bytes(i, 400)));
  const capture = heap.capture(slots.length, (visit) => slots.forEach(visit));
  for (let round = 0; round < 5; round++) {
    for (const slot of slots) heap.set(slot, bytes(slot + 1000 * (round + 1), 400));
  }
  capture.locs.forEach((loc, i) => {
    const slab = capture.slabs[Math.floor(loc / 2 ** 32)]!;
    const at = loc % 2 ** 32;
    assert.deepEqual(slab.slice(at + 8, at + 8 + 400), bytes(i, 400));
  });
});

Deno.test("adopt() takes a chunk of records as a slab and gives each a slot", () => {
  const source = new DocHeap();
  const slots = [source.add(bytes(1, 10)), source.add(bytes(2, 20)), source.add(bytes(3, 30))];
  const { slabs, locs } = source.capture(3, (visit) => slots.forEach(visit));
  const chunk = slabs[0]!.slice(locs[0], locs[2] + 8 + 30);
  const heap = new DocHeap();
  heap.add(bytes(9, 5));
  const adopted = heap.adopt(chunk);
  assert.equal(adopted.length, 3);
  assert.deepEqual(adopted.map((s) => read(heap, s)), [bytes(1, 10), bytes(2, 20), bytes(3, 30)]);
});

import assert from "node:assert/strict";
import { type CollectionStore, openStore } from "../storage/mod.ts";
import { candidateSlots, indexedCount } from "./plan.ts";

/** A collection that records which of its access paths a query took. */
async function spied(): Promise<{ coll: CollectionStore; calls: string[] }> {
  const store = await openStore({});
  const real = store.createCollection("d", "c");
  real.createIndexes([
    { name: "s_1", key: { s: 1 } },
    { name: "at_1", key: { at: 1 }, expireAfterSeconds: 60 },
    { name: "n_1", key: { n: 1 } },
  ]);
  for (let i = 1; i <= 5; i++) {
    real.insert({ _id: i, s: i % 2 ? "odd" : "even", n: i * 10, at: new Date(i * 1000), x: i });
  }
  const calls: string[] = [];
  const watched = ["slots", "slotOf", "lookupSlots", "rangeSlots", "countRange"];
  const coll = new Proxy(real, {
    get(target, key) {
      const v = Reflect.get(target, key);
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        if (watched.includes(String(key))) calls.push(String(key));
        return v.apply(target, args);
      };
    },
  });
  return { coll, calls };
}

function ids(coll: CollectionStore, slots: Iterable<number>): unknown[] {
  return [...slots].map((s) => coll.field(s, "_id"));
}

Deno.test("candidateSlots() looks up an _id equality or $in, then an equality on an indexed field", async () => {
  const { coll, calls } = await spied();
  assert.deepEqual(ids(coll, candidateSlots(coll, { _id: 2, s: "even" })), [2]);
  assert.deepEqual(ids(coll, candidateSlots(coll, { _id: { $in: [3, 9, 1] } })), [3, 1]);
  assert.deepEqual(ids(coll, candidateSlots(coll, { $and: [{ s: { $eq: "even" } }] })), [2, 4]);
  assert.deepEqual(calls, ["slotOf", "slotOf", "slotOf", "slotOf", "lookupSlots"]);
});

Deno.test("candidateSlots() walks the ordered index for a date or number range", async () => {
  const { coll, calls } = await spied();
  const r1 = candidateSlots(coll, { at: { $gt: new Date(3000) }, x: { $gte: 0 } });
  assert.deepEqual(ids(coll, r1), [4, 5]);
  assert.deepEqual(ids(coll, candidateSlots(coll, { n: { $gte: 20, $lt: 40 } })), [2, 3]);
  assert.deepEqual(calls, ["rangeSlots", "rangeSlots"]);
});

Deno.test("candidateSlots() scans when no index applies", async () => {
  const { coll, calls } = await spied();
  for (
    const filter of [{}, { x: 1 }, { s: { $in: ["odd"] } }, { s: null }, { $or: [{ s: "odd" }] }]
  ) {
    calls.length = 0;
    candidateSlots(coll, filter);
    assert.deepEqual(calls.at(-1), "slots", JSON.stringify(filter));
  }
  // Mixed kinds cannot be one range; a range on an unindexed field scans too.
  calls.length = 0;
  candidateSlots(coll, { at: { $gt: 1, $lt: new Date(9) } });
  assert.deepEqual(calls, ["slots"]);
  calls.length = 0;
  candidateSlots(coll, { x: { $gt: 1 } });
  assert.deepEqual(calls, ["rangeSlots", "slots"]);
});

Deno.test("indexedCount() counts one range on an indexed date or number field from the index", async () => {
  const { coll, calls } = await spied();
  assert.equal(indexedCount(coll, { at: { $gt: new Date(2000) } }), 3);
  assert.equal(indexedCount(coll, { at: { $gte: new Date(2000), $lte: new Date(4000) } }), 3);
  assert.equal(indexedCount(coll, { n: { $eq: 30 } }), 1);
  assert.deepEqual(calls, ["countRange", "countRange", "countRange"]);
  assert.equal(indexedCount(coll, { at: { $gt: new Date(2000) }, x: 1 }), undefined);
  assert.equal(indexedCount(coll, { x: { $gt: 1 } }), undefined);
  assert.equal(indexedCount(coll, { s: "odd" }), undefined);
});

Deno.test("indexedCount() declines once a document holds several values for the field", async () => {
  const { coll } = await spied();
  coll.insert({ _id: 6, at: [new Date(1), new Date(9000)] });
  assert.equal(indexedCount(coll, { at: { $gt: new Date(0) } }), undefined);
  assert.equal(coll.count(), 6);
});

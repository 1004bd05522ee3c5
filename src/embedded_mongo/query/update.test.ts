/**
 * The `$inc` fast path answers exactly as mingo's updater (the general path) does, and leaves
 * everything else to it.
 */
import assert from "node:assert/strict";
import { BSON, Long } from "bson";
import { update as mingoUpdate } from "mingo/updater";
import { mingoOptions } from "./engine.ts";
import { applyUpdate, idFirst, simpleInc } from "./update.ts";

/** What the general path makes of `doc` under `modifier`: mingo's updater on a copy. */
function viaMingo(doc: Record<string, unknown>, modifier: Record<string, unknown>) {
  const out = structuredClone(doc);
  mingoUpdate(out, modifier, undefined, undefined, {
    cloneMode: "deep",
    queryOptions: mingoOptions(),
  });
  return idFirst(out);
}

Deno.test("simpleInc() gives mingo's document, field order and BSON bytes included", () => {
  const cases: Array<[Record<string, unknown>, Record<string, unknown>]> = [
    [{ _id: "k", count: 1, expiresAt: new Date(5) }, { $inc: { count: 1 } }],
    [{ _id: "k", count: 3 }, { $inc: { count: -1 } }],
    [{ _id: "k", count: 0.5 }, { $inc: { count: 2 } }],
    [{ _id: "k", count: 2 ** 31 - 1 }, { $inc: { count: 1 } }],
    [{ _id: "k", a: 1 }, { $inc: { b: 4 } }], // missing field: appended
    [{ _id: "k", a: 1, b: 2 }, { $inc: { b: 1, a: -3 } }],
    [{ a: 1, _id: "k" }, { $inc: { a: 1 } }], // _id first
  ];
  for (const [doc, modifier] of cases) {
    const fast = simpleInc(doc, modifier);
    assert.ok(fast, JSON.stringify(modifier));
    const general = viaMingo(doc, modifier);
    assert.deepEqual(Object.keys(fast), Object.keys(general));
    assert.deepEqual(
      BSON.serialize(fast),
      BSON.serialize(general),
      JSON.stringify([doc, modifier]),
    );
    assert.deepEqual(applyUpdate(doc, modifier), general);
  }
});

Deno.test("simpleInc() leaves to the general path what it does not do", () => {
  const doc = { _id: "k", count: 1, s: "x", n: null, l: Long.fromNumber(5), o: { a: 1 } };
  for (
    const modifier of [
      { $inc: { s: 1 } }, // a string target (an error, from the general path)
      { $inc: { n: 1 } }, // null
      { $inc: { l: 1 } }, // a Long
      { $inc: { "o.a": 1 } }, // a dotted path
      { $inc: { count: Long.fromNumber(1) } }, // a Long increment
      { $inc: { count: 1 }, $set: { s: "y" } }, // another operator too
      { $set: { count: 2 } },
    ]
  ) {
    assert.equal(simpleInc(doc, modifier), undefined, JSON.stringify(modifier));
  }
});

import assert from "node:assert/strict";
import { Binary, BSON, Decimal128, Long, ObjectId, UUID } from "bson";
import { Query } from "mingo/query";
import { mingoOptions } from "./engine.ts";
import { cloneDocument, compareValues, normalizeValue, sortComparator } from "./values.ts";

/** A document as the server sees it: through BSON, then normalised. */
function roundTrip<T extends object>(doc: T): T {
  const out = BSON.deserialize(BSON.serialize(doc)) as T;
  normalizeValue(out);
  return out;
}

Deno.test("normalizeValue() makes mingo tell different binaries apart and match equal ones", () => {
  const a = new Binary(new Uint8Array([0xfe, 0x41]), 0);
  const b = new Binary(new Uint8Array([0xfd, 0x41]), 0);
  // Without normalisation mingo compares Binary#toString(), lossy UTF-8: the two look equal.
  const rawDoc = BSON.deserialize(BSON.serialize({ u: a }));
  const rawFilter = BSON.deserialize(BSON.serialize({ u: b }));
  assert.equal(new Query(rawFilter, mingoOptions()).test(rawDoc), true);
  const doc = roundTrip({ u: a, list: [a] });
  assert.equal(new Query(roundTrip({ u: b }), mingoOptions()).test(doc), false);
  assert.equal(new Query(roundTrip({ u: a }), mingoOptions()).test(doc), true);
  assert.equal(new Query(roundTrip({ list: { $in: [a] } }), mingoOptions()).test(doc), true);
  // It still serializes as a Binary of the same subtype.
  const back = BSON.deserialize(BSON.serialize(doc));
  assert.ok(back.u instanceof Binary);
  assert.equal(back.u.sub_type, 0);
  assert.equal(back.u.toString("hex"), "fe41");
});

Deno.test("mingo tells UUIDs apart (bson gives them an exact toString)", () => {
  const a = new UUID("ffffffff-ffff-4fff-bfff-fffffffffffe");
  const b = new UUID("ffffffff-ffff-4fff-bfff-fffffffffffd");
  const doc = roundTrip({ u: a });
  assert.equal(new Query(roundTrip({ u: b }), mingoOptions()).test(doc), false);
  assert.equal(new Query(roundTrip({ u: { $in: [b, a] } }), mingoOptions()).test(doc), true);
});

Deno.test("mingo matches ObjectId, Date and promoted Long the MongoDB way", () => {
  const id1 = new ObjectId("00000000000000000000000a");
  const id2 = new ObjectId("0000000000000000000000b0");
  const doc = roundTrip({ _id: id2, at: new Date(5000), n: Long.fromNumber(7) });
  const q = (f: object) => new Query(roundTrip(f), mingoOptions()).test(doc);
  assert.equal(q({ _id: id2 }), true);
  assert.equal(q({ _id: id1 }), false);
  assert.equal(q({ _id: { $gt: id1 } }), true);
  assert.equal(q({ at: { $lt: new Date(6000) } }), true);
  assert.equal(q({ n: 7 }), true);
  assert.equal(q({ n: { $gte: 7.5 } }), false);
});

Deno.test("compareValues() orders types as MongoDB does and numbers by value", () => {
  const ordered = [
    null,
    -1,
    Long.fromNumber(2),
    Decimal128.fromString("10"),
    "a",
    { a: 1 },
    [1],
    new Binary(new Uint8Array([1])),
    new ObjectId(),
    false,
    true,
    new Date(0),
    /x/,
  ];
  for (let i = 0; i + 1 < ordered.length; i++) {
    assert.ok(compareValues(ordered[i], ordered[i + 1]) < 0, `${i}`);
    assert.ok(compareValues(ordered[i + 1], ordered[i]) > 0, `${i}`);
  }
  assert.equal(compareValues(Decimal128.fromString("9"), 9), 0);
  assert.ok(compareValues(Decimal128.fromString("9"), Decimal128.fromString("10")) < 0);
});

Deno.test("sortComparator() sorts by several keys, missing first, arrays by min or max", () => {
  const docs = [{ a: 2, b: 1 }, { a: 1, b: 2 }, { b: 3 }, { a: [0, 5], b: 4 }, { a: 1, b: 1 }];
  assert.deepEqual([...docs].sort(sortComparator({ a: 1, b: -1 })).map((d) => d.b), [
    3,
    4,
    2,
    1,
    1,
  ]);
  assert.deepEqual([...docs].sort(sortComparator({ a: -1 })).map((d) => d.b), [4, 1, 2, 1, 3]);
});

Deno.test("cloneDocument() copies objects and arrays, keeps BSON values", () => {
  const id = new ObjectId();
  const doc = { _id: id, sub: { list: [1, { x: 2 }] }, at: new Date(1) };
  const copy = cloneDocument(doc);
  assert.deepEqual(copy, doc);
  assert.notEqual(copy.sub, doc.sub);
  assert.notEqual(copy.sub.list, doc.sub.list);
  assert.equal(copy._id, id);
  (copy.sub.list[1] as { x: number }).x = 3;
  assert.equal((doc.sub.list[1] as { x: number }).x, 2);
});

import assert from "node:assert/strict";
import { type Document, Long, ObjectId } from "bson";
import { Query } from "mingo/query";
import { openStore } from "../storage/mod.ts";
import { compileFilter, matching, mingoOptions } from "./engine.ts";
import { simplePredicates } from "./simple.ts";

Deno.test("compileFilter() refuses a non-object filter and JavaScript operators", () => {
  assert.throws(() => compileFilter([1]), /must be an object/);
  assert.throws(() => compileFilter({ $where: "true" }), /\$where/);
  assert.throws(() => compileFilter({ a: { $bogus: 1 } }));
  assert.equal(compileFilter({ a: { $gt: 1 } }).test({ a: 2 }), true);
});

const oid = new ObjectId("64b7f0c2a1b2c3d4e5f60718");
const DOCS: Document[] = [
  { _id: 1, a: 5, s: "b", d: new Date(10), o: oid, t: true },
  { _id: 2, a: 7.5, s: "a", d: new Date(20), t: false },
  { _id: 3, a: "5", s: null, d: 10 },
  { _id: 4, a: [1, 5, 9], s: ["a", "c"], d: [new Date(5), new Date(30)] },
  { _id: 5, a: { x: 1 }, s: "", d: "x", o: new ObjectId() },
  { _id: 6 },
  { _id: 7, a: Long.fromString("9007199254740993"), s: "B" },
];
const FILTERS: Document[] = [
  { a: 5 },
  { a: { $ne: 5 } },
  { a: { $gt: 4 } },
  { a: { $lte: 5 } },
  { a: { $in: [7.5, "5"] } },
  { s: "a" },
  { s: { $gte: "b" } },
  { s: { $lt: "b" }, a: { $gte: 0 } },
  { d: { $gt: new Date(15) } },
  { d: { $lte: new Date(10) } },
  { d: new Date(10) },
  { o: oid },
  { o: { $ne: oid } },
  { t: true },
  { t: { $ne: false } },
  { _id: { $in: [1, 3, 6] }, a: { $ne: "5" } },
  { $and: [{ a: { $gt: 1 } }, { a: { $lt: 8 } }] },
];

Deno.test("compileFilter() answers simple filters as mingo does, stored or in memory", async () => {
  const store = await openStore({});
  const coll = store.createCollection("d", "c");
  for (const d of DOCS) coll.insert(d);
  for (const filter of FILTERS) {
    assert.ok(simplePredicates(filter), `simple: ${JSON.stringify(filter)}`);
    const query = new Query(filter, mingoOptions());
    const expected = DOCS.filter((d) => query.test(d)).map((d) => d._id);
    const matcher = compileFilter(filter);
    assert.deepEqual(
      DOCS.filter((d) => matcher.test(d)).map((d) => d._id),
      expected,
      JSON.stringify(filter),
    );
    const stored = [...matching(coll, filter, matcher)].map((s) => coll.field(s, "_id"));
    assert.deepEqual(stored, expected, `stored: ${JSON.stringify(filter)}`);
  }
});

Deno.test("simplePredicates() declines what it does not judge itself", () => {
  for (
    const filter of [
      { "a.b": 1 },
      { a: null },
      { a: { x: 1 } },
      { a: [1] },
      { a: /x/ },
      { a: { $exists: true } },
      { a: { $gt: oid } },
      { a: { $in: [null] } },
      { $or: [{ a: 1 }] },
      { a: NaN },
    ]
  ) {
    assert.equal(simplePredicates(filter), undefined, JSON.stringify(filter));
  }
});

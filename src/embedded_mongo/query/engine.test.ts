import assert from "node:assert/strict";
import type { Document } from "bson";
import type { CollectionStore } from "../storage/types.ts";
import { candidates, compileFilter, matching } from "./engine.ts";

/** A collection whose full scan fails: a query that scans it is caught. */
function indexedOnly(docs: Document[], indexed: string[]): CollectionStore & { lookups: string[] } {
  const lookups: string[] = [];
  return {
    db: "d",
    name: "c",
    options: {},
    lookups,
    count: () => docs.length,
    all: () => {
      throw new Error("scanned");
    },
    getById: (id) => {
      lookups.push(`_id=${String(id)}`);
      return docs.find((d) => d._id === id);
    },
    lookup: (field, value) => {
      if (!indexed.includes(field)) return undefined;
      lookups.push(`${field}=${String(value)}`);
      return docs.filter((d) => d[field] === value);
    },
    insert: () => {},
    replace: () => {},
    delete: () => false,
    listIndexes: () => [],
    createIndexes: () => 0,
    dropIndex: () => {},
  };
}

const DOCS = [{ _id: 1, s: "a", n: 1 }, { _id: 2, s: "b", n: 2 }, { _id: 3, s: "b", n: 3 }];

Deno.test("candidates() uses getById for an _id equality and an index for an indexed field", () => {
  const coll = indexedOnly(DOCS, ["s"]);
  assert.deepEqual([...matching(coll, { _id: 2, n: 2 })], [DOCS[1]]);
  assert.deepEqual([...matching(coll, { _id: { $eq: 9 } })], []);
  assert.deepEqual([...matching(coll, { s: "b", n: { $gt: 2 } })], [DOCS[2]]);
  assert.deepEqual([...matching(coll, { $and: [{ s: { $eq: "a" } }] })], [DOCS[0]]);
  assert.deepEqual(coll.lookups, ["_id=2", "_id=9", "s=b", "s=a"]);
});

Deno.test("candidates() scans when no equality can use an index", () => {
  const coll = indexedOnly(DOCS, ["s"]);
  for (const filter of [{}, { n: 1 }, { s: { $in: ["a"] } }, { s: null }, { $or: [{ s: "a" }] }]) {
    assert.throws(() => [...candidates(coll, filter)], /scanned/, JSON.stringify(filter));
  }
});

Deno.test("compileFilter() refuses a non-object filter and JavaScript operators", () => {
  assert.throws(() => compileFilter([1]), /must be an object/);
  assert.throws(() => compileFilter({ $where: "true" }), /\$where/);
  assert.throws(() => compileFilter({ a: { $bogus: 1 } }));
  assert.equal(compileFilter({ a: { $gt: 1 } }).test({ a: 2 }), true);
});

import assert from "node:assert/strict";
import { Long, ObjectId } from "bson";
import { type CollectionStore, DuplicateKeyError, IndexError, openStore } from "./mod.ts";

async function collection(): Promise<CollectionStore> {
  const store = await openStore({});
  return store.createCollection("db", "coll");
}

function ids(docs: Iterable<{ _id?: unknown }> | undefined): unknown[] {
  return docs ? [...docs].map((d) => d._id) : [];
}

/** Lookup results come in no promised order. */
function sortedIds(docs: Iterable<{ _id?: unknown }> | undefined): unknown[] {
  return ids(docs).sort((a, b) => String(a).localeCompare(String(b)));
}

function dupError(fn: () => void): DuplicateKeyError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DuplicateKeyError, `expected a DuplicateKeyError, got ${e}`);
    return e;
  }
  assert.fail("expected a DuplicateKeyError");
}

function indexError(fn: () => void): IndexError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof IndexError, `expected an IndexError, got ${e}`);
    return e;
  }
  assert.fail("expected an IndexError");
}

Deno.test("insert() keeps natural order; replace() keeps the place; delete() removes", async () => {
  const c = await collection();
  c.insert({ _id: 3, v: "a" });
  c.insert({ _id: 1, v: "b" });
  c.insert({ _id: 2, v: "c" });
  c.replace(3, { _id: 3, v: "z" });
  assert.deepEqual([...c.all()], [{ _id: 3, v: "z" }, { _id: 1, v: "b" }, { _id: 2, v: "c" }]);
  assert.equal(c.delete(1), true);
  assert.equal(c.delete(1), false);
  assert.equal(c.count(), 2);
  assert.deepEqual(c.getById(2), { _id: 2, v: "c" });
  assert.equal(c.getById(1), undefined);
  c.insert({ _id: 1, v: "again" });
  assert.deepEqual(ids(c.all()), [3, 2, 1]);
});

Deno.test("insert() treats 1, 1.0 and Long(1) as one _id, and ObjectId by value", async () => {
  const c = await collection();
  c.insert({ _id: 1 });
  const e = dupError(() => c.insert({ _id: Long.fromNumber(1) }));
  assert.equal(e.indexName, "_id_");
  assert.deepEqual(e.keyPattern, { _id: 1 });
  assert.equal(e.ns, "db.coll");
  assert.deepEqual(c.getById(1.0), { _id: 1 });
  const hex = "64b7f0c2a1b2c3d4e5f60718";
  c.insert({ _id: new ObjectId(hex), n: 1 });
  assert.deepEqual(c.getById(new ObjectId(hex))?.n, 1);
  c.insert({ _id: { a: 1, b: [new Date(7)] } });
  assert.ok(c.getById({ a: Long.fromNumber(1), b: [new Date(7)] }));
  assert.equal(c.getById({ b: [new Date(7)], a: 1 }), undefined);
});

Deno.test("lookup() finds through single and compound indexes, and says when none applies", async () => {
  const c = await collection();
  c.createIndexes([
    { name: "user_1", key: { user: 1 } },
    { name: "a_1_b_-1", key: { a: 1, b: -1 } },
  ]);
  c.insert({ _id: 1, user: "u1", a: 1, b: 1 });
  c.insert({ _id: 2, user: "u2", a: 1, b: 2 });
  c.insert({ _id: 3, user: "u1", a: 2 });
  assert.deepEqual(sortedIds(c.lookup("user", "u1")), [1, 3]);
  assert.deepEqual(sortedIds(c.lookup("a", Long.fromNumber(1))), [1, 2]);
  assert.deepEqual(sortedIds(c.lookup("user", "nobody")), []);
  assert.deepEqual(sortedIds(c.lookup("_id", 2)), [2]);
  assert.equal(c.lookup("b", 1), undefined);
  c.replace(1, { _id: 1, user: "u2", a: 2 });
  assert.deepEqual(sortedIds(c.lookup("user", "u1")), [3]);
  assert.deepEqual(sortedIds(c.lookup("user", "u2")), [1, 2]);
  c.delete(2);
  assert.deepEqual(sortedIds(c.lookup("user", "u2")), [1]);
  assert.deepEqual(sortedIds(c.lookup("a", 2)), [1, 3]);
});

Deno.test("insert() refuses a unique duplicate and leaves no trace in any index", async () => {
  const c = await collection();
  c.createIndexes([
    { name: "a_1", key: { a: 1 }, unique: true },
    { name: "email_1", key: { email: 1 }, unique: true },
    { name: "tag_1", key: { tag: 1 } },
  ]);
  c.insert({ _id: 1, a: 1, email: "a@b", tag: "t" });
  const e = dupError(() => c.insert({ _id: 2, a: 2, email: "a@b", tag: "t" }));
  assert.equal(e.indexName, "email_1");
  assert.deepEqual(e.keyPattern, { email: 1 });
  assert.deepEqual(e.keyValue, { email: "a@b" });
  assert.equal(e.code, 11000);
  assert.equal(c.count(), 1);
  assert.equal(c.getById(2), undefined);
  assert.deepEqual(sortedIds(c.lookup("a", 2)), []);
  assert.deepEqual(sortedIds(c.lookup("tag", "t")), [1]);
  // No stale entry for a: 2 blocks a later document.
  c.insert({ _id: 3, a: 2, email: "c@d" });
  assert.deepEqual(sortedIds(c.lookup("a", 2)), [3]);
});

Deno.test("replace() refuses a unique duplicate and leaves the old document indexed", async () => {
  const c = await collection();
  c.createIndexes([
    { name: "a_1", key: { a: 1 }, unique: true },
    { name: "email_1", key: { email: 1 }, unique: true },
  ]);
  c.insert({ _id: 1, a: 1, email: "x" });
  c.insert({ _id: 2, a: 2, email: "y" });
  const e = dupError(() => c.replace(2, { _id: 2, a: 3, email: "x" }));
  assert.deepEqual(e.keyValue, { email: "x" });
  assert.deepEqual(c.getById(2), { _id: 2, a: 2, email: "y" });
  assert.deepEqual(sortedIds(c.lookup("a", 2)), [2]);
  assert.deepEqual(sortedIds(c.lookup("a", 3)), []);
  assert.deepEqual(sortedIds(c.lookup("email", "y")), [2]);
  c.insert({ _id: 3, a: 3, email: "z" });
  // Replacing a document with its own unique values is allowed.
  c.replace(1, { _id: 1, a: 1, email: "x", more: true });
  assert.deepEqual(sortedIds(c.lookup("email", "x")), [1]);
});

Deno.test("insert() enforces a compound unique index on all its fields together", async () => {
  const c = await collection();
  c.createIndexes([{ name: "a_1_b_1", key: { a: 1, b: 1 }, unique: true }]);
  c.insert({ _id: 1, a: 1, b: "x" });
  c.insert({ _id: 2, a: 1, b: "y" });
  c.insert({ _id: 3, a: 2, b: "x" });
  const e = dupError(() => c.insert({ _id: 4, a: 1.0, b: "y" }));
  assert.equal(e.indexName, "a_1_b_1");
  assert.deepEqual(e.keyPattern, { a: 1, b: 1 });
  assert.deepEqual(e.keyValue, { a: 1, b: "y" });
  c.insert({ _id: 5, a: 3 });
  const missing = dupError(() => c.insert({ _id: 6, a: 3, b: null }));
  assert.deepEqual(missing.keyValue, { a: 3, b: null });
  assert.deepEqual(sortedIds(c.lookup("a", 1)), [1, 2]);
});

Deno.test("createIndexes() refuses existing duplicates and creates nothing", async () => {
  const c = await collection();
  c.insert({ _id: 1, a: 1, b: 1 });
  c.insert({ _id: 2, a: 1, b: 2 });
  const e = dupError(() =>
    c.createIndexes([
      { name: "b_1", key: { b: 1 }, unique: true },
      { name: "a_1", key: { a: 1 }, unique: true },
    ])
  );
  assert.equal(e.indexName, "a_1");
  assert.deepEqual(e.keyValue, { a: 1 });
  assert.deepEqual(c.listIndexes().map((i) => i.name), ["_id_"]);
  assert.equal(c.lookup("b", 1), undefined);
});

Deno.test("createIndexes() is a no-op when identical and reports name and option conflicts", async () => {
  const c = await collection();
  assert.equal(c.createIndexes([{ name: "a_1", key: { a: 1 }, unique: true }]), 1);
  assert.equal(c.createIndexes([{ name: "a_1", key: { a: 1 }, unique: true }]), 0);
  assert.equal(c.createIndexes([{ name: "_id_", key: { _id: 1 } }]), 0);
  const sameNameOtherKey = indexError(() => c.createIndexes([{ name: "a_1", key: { a: -1 } }]));
  assert.equal(sameNameOtherKey.code, 86);
  assert.equal(sameNameOtherKey.codeName, "IndexKeySpecsConflict");
  const sameNameOtherOptions = indexError(() => c.createIndexes([{ name: "a_1", key: { a: 1 } }]));
  assert.equal(sameNameOtherOptions.code, 86);
  const sameKeyOtherName = indexError(() =>
    c.createIndexes([{ name: "other", key: { a: 1 }, unique: true }])
  );
  assert.equal(sameKeyOtherName.code, 85);
  assert.equal(sameKeyOtherName.codeName, "IndexOptionsConflict");
  const ttlCompound = indexError(() =>
    c.createIndexes([{ name: "t", key: { a: 1, b: 1 }, expireAfterSeconds: 5 }])
  );
  assert.equal(ttlCompound.code, 67);
  assert.equal(
    c.createIndexes([{ name: "b_1", key: { b: 1 } }, { name: "c_1", key: { c: 1 } }]),
    2,
  );
  assert.deepEqual(c.listIndexes(), [
    { name: "_id_", key: { _id: 1 } },
    { name: "a_1", key: { a: 1 }, unique: true },
    { name: "b_1", key: { b: 1 } },
    { name: "c_1", key: { c: 1 } },
  ]);
});

Deno.test("dropIndex() drops by name or all, refuses _id_ and unknown names", async () => {
  const c = await collection();
  c.createIndexes([
    { name: "a_1", key: { a: 1 }, unique: true },
    { name: "b_1", key: { b: 1 } },
    { name: "c_1", key: { c: 1 } },
  ]);
  c.insert({ _id: 1, a: 1 });
  c.dropIndex("a_1");
  c.insert({ _id: 2, a: 1 });
  assert.equal(c.lookup("a", 1), undefined);
  const id = indexError(() => c.dropIndex("_id_"));
  assert.equal(id.code, 72);
  assert.equal(id.message, "cannot drop _id index");
  assert.equal(id.codeName, "InvalidOptions");
  const unknown = indexError(() => c.dropIndex("nope"));
  assert.equal(unknown.code, 27);
  assert.equal(unknown.message, "index not found with name [nope]");
  assert.equal(unknown.codeName, "IndexNotFound");
  c.dropIndex("*");
  assert.deepEqual(c.listIndexes().map((i) => i.name), ["_id_"]);
});

Deno.test("insert() into a sparse unique index skips documents without the field", async () => {
  const c = await collection();
  c.createIndexes([{ name: "e_1", key: { e: 1 }, unique: true, sparse: true }]);
  c.insert({ _id: 1 });
  c.insert({ _id: 2 });
  c.insert({ _id: 3, e: null });
  dupError(() => c.insert({ _id: 4, e: null }));
  c.insert({ _id: 5, e: "x" });
  assert.deepEqual(sortedIds(c.lookup("e", "x")), [5]);
  // A sparse index cannot answer for null (it lacks the missing fields).
  assert.equal(c.lookup("e", null), undefined);
  const plain = await collection();
  plain.createIndexes([{ name: "e_1", key: { e: 1 }, unique: true }]);
  plain.insert({ _id: 1 });
  const e = dupError(() => plain.insert({ _id: 2, e: null }));
  assert.deepEqual(e.keyValue, { e: null });
});

Deno.test("insert() indexes every element of an array (multikey) and unique forbids sharing", async () => {
  const c = await collection();
  c.createIndexes([
    { name: "tags_1", key: { tags: 1 }, unique: true },
    { name: "items.sku_1", key: { "items.sku": 1 } },
  ]);
  c.insert({ _id: 1, tags: ["a", "b", "a"], items: [{ sku: 7 }, { sku: 8 }] });
  c.insert({ _id: 2, tags: ["c"], items: [{ sku: 8 }] });
  assert.deepEqual(sortedIds(c.lookup("tags", "b")), [1]);
  assert.deepEqual(sortedIds(c.lookup("items.sku", 8)), [1, 2]);
  const e = dupError(() => c.insert({ _id: 3, tags: ["d", "b"] }));
  assert.deepEqual(e.keyValue, { tags: "b" });
  assert.deepEqual(sortedIds(c.lookup("tags", "d")), []);
  c.replace(1, { _id: 1, tags: ["b", "e"] });
  assert.deepEqual(sortedIds(c.lookup("tags", "a")), []);
  assert.deepEqual(sortedIds(c.lookup("tags", "e")), [1]);
  assert.deepEqual(sortedIds(c.lookup("items.sku", 8)), [2]);
});

Deno.test("insert() refuses parallel arrays in a compound index and changes nothing", async () => {
  const c = await collection();
  c.createIndexes([{ name: "a_1_b_1", key: { a: 1, b: 1 } }]);
  const e = indexError(() => c.insert({ _id: 1, a: [1, 2], b: [3, 4] }));
  assert.equal(e.code, 171);
  assert.equal(c.count(), 0);
  c.insert({ _id: 2, a: [1, 2], b: 3 });
  assert.deepEqual(sortedIds(c.lookup("a", 2)), [2]);
});

Deno.test("lookup() never uses a partial index, whose filter leaves documents out", async () => {
  const c = await collection();
  c.createIndexes([{
    name: "e_1",
    key: { e: 1 },
    unique: true,
    partialFilterExpression: { active: { $eq: true } },
  }]);
  c.insert({ _id: 1, e: "x", active: true });
  c.insert({ _id: 2, e: "x", active: false });
  dupError(() => c.insert({ _id: 3, e: "x", active: true }));
  assert.equal(c.lookup("e", "x"), undefined);
});

Deno.test("expireTtl() removes documents past their TTL at the given time, and only those", async () => {
  const store = await openStore({});
  const c = store.createCollection("db", "sessions");
  c.createIndexes([{ name: "at_1", key: { at: 1 }, expireAfterSeconds: 60 }]);
  const t0 = Date.UTC(2030, 0, 1);
  c.insert({ _id: "old", at: new Date(t0) });
  c.insert({ _id: "edge", at: new Date(t0 + 30_000) });
  c.insert({ _id: "new", at: new Date(t0 + 120_000) });
  c.insert({ _id: "array", at: [new Date(t0 + 500_000), new Date(t0 - 10_000)] });
  c.insert({ _id: "string", at: "2000-01-01" });
  c.insert({ _id: "none" });
  assert.equal(await store.expireTtl(new Date(t0 + 59_999)), 1);
  assert.deepEqual(ids(c.all()), ["old", "edge", "new", "string", "none"]);
  assert.equal(await store.expireTtl(new Date(t0 + 90_000)), 2);
  assert.deepEqual(ids(c.all()), ["new", "string", "none"]);
  assert.equal(await store.expireTtl(new Date(t0 + 10_000_000)), 1);
  assert.deepEqual(ids(c.all()), ["string", "none"]);
  await store.close();
});

Deno.test("expireTtl() deletes in batches that yield to the event loop, and counts its work", async () => {
  const store = await openStore({});
  const c = store.createCollection("db", "sessions");
  c.createIndexes([{ name: "at_1", key: { at: 1 }, expireAfterSeconds: 0 }]);
  for (let i = 0; i < 300; i++) c.insert({ _id: i, at: new Date(i < 200 ? 1000 + i : 9e12) });
  let timerRanDuringPass = false;
  let passDone = false;
  setTimeout(() => timerRanDuringPass = !passDone, 0);
  const pass = store.expireTtl(new Date(5000), 0);
  assert.equal(store.expireTtl(new Date(5000), 0), pass, "one pass at a time");
  assert.equal(await pass, 200);
  passDone = true;
  assert.equal(timerRanDuringPass, true);
  assert.equal(c.count(), 100);
  const { longestSliceMs, ...counts } = store.ttlMetrics();
  assert.deepEqual(counts, { deletedDocuments: 200, passes: 1 });
  assert.equal(typeof longestSliceMs, "number");
  assert.equal(await store.expireTtl(new Date(5000)), 0);
  assert.equal(store.ttlMetrics().passes, 2);
  await store.close();
});

Deno.test("createCollection() returns the existing collection; drops remove collections and databases", async () => {
  const store = await openStore({});
  const a = store.createCollection("d1", "a", { validator: { x: 1 } });
  assert.equal(store.createCollection("d1", "a"), a);
  store.createCollection("d1", "b");
  store.createCollection("d2", "c").insert({ _id: 1 });
  assert.deepEqual(store.listCollections("d1"), [
    { name: "a", options: { validator: { x: 1 } } },
    { name: "b", options: {} },
  ]);
  assert.deepEqual(store.listDatabases().map((d) => [d.name, d.empty]), [
    ["d1", true],
    ["d2", false],
  ]);
  assert.equal(store.dropCollection("d1", "a"), true);
  assert.equal(store.dropCollection("d1", "a"), false);
  store.dropDatabase("d2");
  assert.equal(store.getCollection("d2", "c"), undefined);
  assert.deepEqual(store.listDatabases().map((d) => d.name), ["d1"]);
  await store.close();
});

/**
 * Tests of the concepts' shared helpers: `ByIdReads`, the reads by `_id` that share store
 * commands while one is in flight, through a client that records the commands it sends.
 */
import assert from "node:assert/strict";
import { type Db, type Document, MongoClient } from "mongodb";
import { serverUrl, testDb } from "../../tests/support/test_db.ts";
import { ByIdReads } from "./shared.ts";

interface Doc extends Document {
  _id: string;
  n: number;
}

/** A database of its own, seen through a second client that records each `find`'s filter. */
async function withSpy(
  fn: (db: Db, finds: Document[]) => Promise<void>,
): Promise<void> {
  const [base, client] = await testDb();
  const url = Deno.env.get("MONGODB_URL") ?? serverUrl(client);
  const spy = new MongoClient(url, { monitorCommands: true });
  const finds: Document[] = [];
  spy.on("commandStarted", (e) => {
    if (e.commandName === "find") finds.push(e.command.filter);
  });
  try {
    await fn(spy.db(base.databaseName), finds);
  } finally {
    await spy.close();
    await client.close();
  }
}

Deno.test("ByIdReads.read() one at a time sends one equality find per read", async () => {
  await withSpy(async (db, finds) => {
    const coll = db.collection<Doc>("Shared.docs");
    await coll.insertMany([{ _id: "a", n: 1 }, { _id: "b", n: 2 }]);
    const reads = new ByIdReads(db, coll);
    assert.deepEqual(await reads.read("a"), { _id: "a", n: 1 });
    assert.equal(await reads.read("missing"), null);
    assert.deepEqual(await reads.read("b"), { _id: "b", n: 2 });
    assert.deepEqual(finds, [{ _id: "a" }, { _id: "missing" }, { _id: "b" }]);
  });
});

Deno.test("ByIdReads.read() asked meanwhile go out together, each gets its own document", async () => {
  await withSpy(async (db, finds) => {
    const coll = db.collection<Doc>("Shared.docs");
    const docs = Array.from({ length: 40 }, (_, i) => ({ _id: `d${i}`, n: i }));
    await coll.insertMany(docs);
    const reads = new ByIdReads(db, coll);
    // 40 present ids, 10 absent ones and 5 asked twice, all asked at once.
    const ids = [
      ...docs.map((d) => d._id),
      ...Array.from({ length: 10 }, (_, i) => `none${i}`),
      "d3",
      "d7",
      "none2",
      "d39",
      "d0",
    ];
    const got = await Promise.all(ids.map((id) => reads.read(id)));
    assert.deepEqual(got, ids.map((id) => docs.find((d) => d._id === id) ?? null));
    // The first read went alone; the 50 distinct ids asked while it was in flight in one more
    // (d0 among them: its second read was asked after the first command was sent).
    assert.equal(finds.length, 2);
    assert.deepEqual(finds[0], { _id: "d0" });
    const batch = finds[1]._id.$in as string[];
    assert.equal(batch.length, 50);
    assert.deepEqual(new Set(batch), new Set(ids.slice(1)));
  });
});

Deno.test("ByIdReads.read() sends at most maxBatch ids a command", async () => {
  await withSpy(async (db, finds) => {
    const coll = db.collection<Doc>("Shared.docs");
    const docs = Array.from({ length: 21 }, (_, i) => ({ _id: `d${i}`, n: i }));
    await coll.insertMany(docs);
    const reads = new ByIdReads(db, coll, 8);
    const got = await Promise.all(docs.map((d) => reads.read(d._id)));
    assert.deepEqual(got, docs);
    assert.deepEqual(
      finds.map((f) => typeof f._id === "string" ? 1 : f._id.$in.length),
      [1, 8, 8, 4],
    );
  });
});

Deno.test("ByIdReads.read() never answers from before it was asked: a delete is seen", async () => {
  await withSpy(async (db, finds) => {
    const coll = db.collection<Doc>("Shared.docs");
    await coll.insertMany([{ _id: "a", n: 1 }, { _id: "b", n: 2 }]);
    const reads = new ByIdReads(db, coll);
    const first = reads.read("b"); // in flight
    const before = reads.read("a"); // waits for the next command
    assert.deepEqual(await first, { _id: "b", n: 2 });
    assert.deepEqual(await before, { _id: "a", n: 1 });
    // Deleted while a read of it is in flight: a read asked after the delete answers null.
    const inFlight = reads.read("a");
    await coll.deleteOne({ _id: "a" });
    const after = reads.read("a");
    await inFlight;
    assert.equal(await after, null);
    assert.equal(await reads.read("a"), null);
    assert.equal(finds.length, 5);
  });
});

Deno.test("ByIdReads.read() a store failure rejects that command's reads, the next ones work", async () => {
  await withSpy(async (db) => {
    const coll = db.collection<Doc>("Shared.docs");
    await coll.insertOne({ _id: "a", n: 1 });
    // A collection name the store refuses makes every find fail.
    const bad = new ByIdReads(db, db.collection<Doc>("bad\0name"));
    const failed = await Promise.allSettled([bad.read("a"), bad.read("b"), bad.read("a")]);
    assert.deepEqual(failed.map((r) => r.status), ["rejected", "rejected", "rejected"]);
    const reads = new ByIdReads(db, coll);
    assert.deepEqual(await reads.read("a"), { _id: "a", n: 1 });
  });
});

Deno.test("ByIdReads.read() a command that throws at once fails its reads and blocks no later one", async () => {
  let calls = 0;
  const db = {
    command: (cmd: Document) => {
      calls++;
      if (calls === 1) throw new Error("Cannot send: refused at once");
      const ids: string[] = typeof cmd.filter._id === "string"
        ? [cmd.filter._id]
        : cmd.filter._id.$in;
      return Promise.resolve({
        ok: 1,
        cursor: { firstBatch: ids.map((id) => ({ _id: id, n: 1 })) },
      });
    },
  } as unknown as Db;
  const reads = new ByIdReads<Doc>(db, { collectionName: "Shared.docs" } as never);
  await assert.rejects(reads.read("a"), /refused at once/);
  assert.deepEqual(await Promise.all([reads.read("b"), reads.read("c")]), [
    { _id: "b", n: 1 },
    { _id: "c", n: 1 },
  ]);
  assert.equal(calls, 3);
});

/**
 * The embedded MongoDB-compatible server driven by the official `mongodb` driver (and, for the
 * wire-level cases, by a raw socket): handshake, every command, MongoDB's error codes, cursors,
 * TTL, concurrency, malformed input, unacknowledged writes and persistence.
 */
import assert from "node:assert/strict";
import { Binary, type Document, Long, MongoClient, ObjectId, UUID } from "mongodb";
import { startEmbeddedMongo } from "../src/embedded_mongo/mod.ts";
import { expectClosed, opMsg, opQuery, readFrame, replyDoc } from "./fixtures/wire_frames.ts";

type Server = Awaited<ReturnType<typeof startEmbeddedMongo>>;

async function withServer(
  fn: (client: MongoClient, server: Server) => Promise<void>,
  options: { ttlMonitorIntervalMs?: number; dataDir?: string } = {},
): Promise<void> {
  const server = await startEmbeddedMongo({ port: 0, ...options });
  const client = new MongoClient(server.url);
  try {
    await client.connect();
    await fn(client, server);
  } finally {
    await client.close();
    await server.close();
  }
}

async function codeOf(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
  } catch (e) {
    return (e as { code?: number }).code;
  }
  assert.fail("expected an error");
}

Deno.test("hello() presents a standalone MongoDB 8.0 to the driver", async () => {
  await withServer(async (client) => {
    const admin = client.db("admin");
    const hello = await admin.command({ hello: 1 });
    assert.equal(hello.isWritablePrimary, true);
    assert.equal(hello.maxWireVersion, 25);
    assert.equal(hello.minWireVersion, 0);
    assert.equal(hello.maxBsonObjectSize, 16777216);
    assert.equal(hello.maxMessageSizeBytes, 48000000);
    assert.equal(hello.maxWriteBatchSize, 100000);
    assert.equal(hello.logicalSessionTimeoutMinutes, 30);
    assert.equal(hello.readOnly, false);
    assert.ok(hello.localTime instanceof Date);
    assert.equal(typeof hello.connectionId, "number");
    assert.equal(hello.compression, undefined);
    const legacy = await admin.command({ isMaster: 1 });
    assert.equal(legacy.ismaster, true);
    const info = await admin.command({ buildInfo: 1 });
    assert.equal(info.version, "8.0.0");
    assert.deepEqual(info.versionArray, [8, 0, 0, 0]);
    assert.deepEqual(await admin.command({ ping: 1 }), { ok: 1 });
  });
});

Deno.test("runCommand() answers an unknown command with code 59 CommandNotFound", async () => {
  await withServer(async (client) => {
    try {
      await client.db("x").command({ frobnicate: 1 });
      assert.fail("expected an error");
    } catch (e) {
      const err = e as { code: number; codeName: string; message: string };
      assert.equal(err.code, 59);
      assert.equal(err.codeName, "CommandNotFound");
      assert.equal(err.message, "no such command: 'frobnicate'");
    }
  });
});

Deno.test("insert() adds an ObjectId _id first, and find() filters, sorts, projects, skips, limits", async () => {
  await withServer(async (client) => {
    const c = client.db("t").collection("people");
    const r = await c.insertMany([
      { name: "ann", age: 30, tags: ["a"] },
      { name: "bob", age: 25 },
      { age: 40, name: "cy", _id: 7 as never },
    ]);
    assert.equal(r.insertedCount, 3);
    const raw = await c.findOne({ name: "cy" });
    assert.deepEqual(Object.keys(raw!), ["_id", "age", "name"]);
    const ann = await c.findOne({ name: "ann" });
    assert.ok(ann!._id instanceof ObjectId);
    const sorted = await c.find({ age: { $gte: 25 } }, { projection: { _id: 0, name: 1 } })
      .sort({ age: -1 }).skip(1).limit(1).toArray();
    assert.deepEqual(sorted, [{ name: "ann" }]);
    assert.deepEqual(await c.find({ tags: "a" }).project({ _id: 0, name: 1 }).toArray(), [{
      name: "ann",
    }]);
    assert.deepEqual(await c.find({ _id: 7 as never }).toArray(), [{
      _id: 7,
      age: 40,
      name: "cy",
    }]);
    assert.deepEqual(await c.find({ nope: 1 }).toArray(), []);
    assert.deepEqual(await client.db("t").collection("missing").find({}).toArray(), []);
  });
});

Deno.test("insert() with a duplicate unique key fails with 11000, keyPattern and keyValue, leaving no trace", async () => {
  await withServer(async (client) => {
    const c = client.db("t").collection("users");
    assert.equal(await c.createIndex({ email: 1 }, { unique: true }), "email_1");
    await c.insertOne({ _id: 1 as never, email: "a@x" });
    // The driver keeps only code and message of a write error, so read the raw reply.
    const reply = await client.db("t").command({
      insert: "users",
      documents: [{ _id: 2, email: "b@x" }, { _id: 3, email: "a@x" }, { _id: 4, email: "c@x" }],
    });
    assert.equal(reply.n, 1);
    assert.equal(reply.writeErrors.length, 1);
    assert.equal(reply.writeErrors[0].index, 1);
    assert.equal(reply.writeErrors[0].code, 11000);
    assert.deepEqual(reply.writeErrors[0].keyPattern, { email: 1 });
    assert.deepEqual(reply.writeErrors[0].keyValue, { email: "a@x" });
    assert.equal(await codeOf(c.insertMany([{ _id: 9 as never, email: "a@x" }])), 11000);
    // Ordered: the statement after the failure did not run; the failed one left nothing.
    assert.deepEqual(await c.find({}).sort({ _id: 1 }).toArray(), [
      { _id: 1, email: "a@x" },
      { _id: 2, email: "b@x" },
    ]);
    assert.equal(await codeOf(c.insertOne({ _id: 1 as never, email: "z@x" })), 11000);
    assert.equal(await c.countDocuments({ email: "z@x" }), 0);
    // Unordered: the rest still runs.
    const unordered = await codeOf(
      c.insertMany([{ _id: 5 as never, email: "a@x" }, { _id: 6 as never, email: "f@x" }], {
        ordered: false,
      }),
    );
    assert.equal(unordered, 11000);
    assert.equal(await c.countDocuments({}), 3);
    // An update that would duplicate a key fails and changes nothing.
    assert.equal(await codeOf(c.updateOne({ _id: 2 as never }, { $set: { email: "a@x" } })), 11000);
    assert.deepEqual(await c.findOne({ _id: 2 as never }), { _id: 2, email: "b@x" });
  });
});

Deno.test("update() applies operators, replacements, pipelines, upserts, multi and arrayFilters", async () => {
  await withServer(async (client) => {
    const c = client.db("t").collection("u");
    await c.insertMany([
      { _id: 1, n: 1, arr: [1, 5, 9] },
      { _id: 2, n: 2, arr: [2, 6] },
      { _id: 3, n: 3 },
    ] as never[]);
    let r = await c.updateOne({ _id: 1 as never }, { $inc: { n: 10 }, $set: { "sub.x": 1 } });
    assert.deepEqual([r.matchedCount, r.modifiedCount], [1, 1]);
    r = await c.updateOne({ _id: 1 as never }, { $set: { n: 11 } });
    assert.deepEqual([r.matchedCount, r.modifiedCount], [1, 0]);
    r = await c.updateMany({ n: { $lt: 5 } }, { $mul: { n: 2 } });
    assert.deepEqual([r.matchedCount, r.modifiedCount], [2, 2]);
    r = await c.updateMany({}, { $set: { "arr.$[big]": 0 } }, {
      arrayFilters: [{ big: { $gt: 4 } }],
    });
    assert.deepEqual([r.matchedCount, r.modifiedCount], [3, 2]);
    r = await c.replaceOne({ _id: 3 as never }, { whole: true });
    assert.deepEqual([r.matchedCount, r.modifiedCount], [1, 1]);
    r = await c.updateOne({ _id: 2 as never }, [{ $set: { total: { $sum: "$arr" } } }]);
    assert.deepEqual([r.matchedCount, r.modifiedCount], [1, 1]);
    r = await c.updateOne({ key: "k" }, { $set: { v: 1 }, $setOnInsert: { created: true } }, {
      upsert: true,
    });
    assert.equal(r.upsertedCount, 1);
    assert.ok(r.upsertedId instanceof ObjectId);
    r = await c.updateOne({ key: "k" }, { $set: { v: 2 }, $setOnInsert: { created: false } }, {
      upsert: true,
    });
    assert.deepEqual([r.matchedCount, r.modifiedCount, r.upsertedCount], [1, 1, 0]);
    assert.deepEqual(await c.find({}, { projection: { _id: 0 } }).sort({ _id: 1 }).toArray(), [
      { n: 11, arr: [1, 0, 0], sub: { x: 1 } },
      { n: 4, arr: [2, 0], total: 2 },
      { whole: true },
      { key: "k", v: 2, created: true },
    ]);
    assert.deepEqual(await c.findOne({ _id: 3 as never }), { _id: 3, whole: true });
  });
});

Deno.test("update() refuses what MongoDB refuses, with MongoDB's codes", async () => {
  await withServer(async (client) => {
    const c = client.db("t").collection("e");
    await c.insertOne({ _id: 1 as never, s: "text", n: 1 });
    const cases: [Document | Document[], number][] = [
      [{ $set: { _id: 2 } }, 66],
      [{ $inc: { s: 1 } }, 14],
      [{ $inc: { n: "x" } }, 14],
      [{ $set: { n: 1 }, $inc: { n: 1 } }, 40],
      [{ $push: { s: 1 } }, 2],
      [{ $bogus: { n: 1 } }, 9],
      [{ $set: { "s.x": 1 } }, 28],
    ];
    for (const [update, code] of cases) {
      const got = await codeOf(
        client.db("t").command({ update: "e", updates: [{ q: { _id: 1 }, u: update }] }).then(
          (r) => {
            if (r.writeErrors) throw { code: r.writeErrors[0].code };
            return r;
          },
        ),
      );
      assert.equal(got, code, JSON.stringify(update));
    }
    assert.equal(await codeOf(c.replaceOne({ _id: 1 as never }, { _id: 5, a: 1 })), 66);
    assert.deepEqual(await c.findOne({}), { _id: 1, s: "text", n: 1 });
  });
});

Deno.test("findAndModify() returns the old or new document, upserts, removes, and reports duplicate keys", async () => {
  await withServer(async (client) => {
    const c = client.db("t").collection("f");
    await c.insertMany([{ _id: 1, k: "a", n: 1 }, { _id: 2, k: "b", n: 5 }] as never[]);
    await c.createIndex({ k: 1 }, { unique: true });
    assert.deepEqual(
      await c.findOneAndUpdate({}, { $inc: { n: 1 } }, {
        sort: { n: -1 },
        returnDocument: "after",
      }),
      { _id: 2, k: "b", n: 6 },
    );
    assert.deepEqual(
      await c.findOneAndUpdate({ _id: 1 as never }, { $inc: { n: 1 } }, { projection: { n: 1 } }),
      { _id: 1, n: 1 },
    );
    assert.deepEqual(
      await c.findOneAndReplace({ k: "z" }, { k: "z", n: 0 }, {
        upsert: true,
        returnDocument: "after",
      })
        .then((d) => d && { k: d.k, n: d.n }),
      { k: "z", n: 0 },
    );
    assert.deepEqual(await c.findOneAndDelete({ k: "a" }), { _id: 1, k: "a", n: 2 });
    assert.equal(await c.findOneAndDelete({ k: "a" }), null);
    try {
      await c.findOneAndUpdate({ _id: 2 as never }, { $set: { k: "z" } });
      assert.fail("expected an error");
    } catch (e) {
      const err = e as { code: number; keyPattern: Document; keyValue: Document };
      assert.equal(err.code, 11000);
      assert.deepEqual(err.keyPattern, { k: 1 });
      assert.deepEqual(err.keyValue, { k: "z" });
    }
  });
});

Deno.test("delete(), count(), distinct() and aggregate() give MongoDB's answers", async () => {
  await withServer(async (client) => {
    const c = client.db("t").collection("d");
    await c.insertMany([
      { _id: 1, g: "x", v: 1, tags: ["a", "b"] },
      { _id: 2, g: "y", v: 2, tags: ["b"] },
      { _id: 3, g: "x", v: 3, tags: [] },
      { _id: 4, g: "z", v: 4 },
    ] as never[]);
    assert.equal(await c.countDocuments({ g: "x" }), 2);
    assert.equal(await c.estimatedDocumentCount(), 4);
    assert.deepEqual(await c.distinct("g"), ["x", "y", "z"]);
    assert.deepEqual(await c.distinct("tags"), ["a", "b"]);
    assert.deepEqual(
      await c.aggregate([
        { $match: { v: { $gte: 1 } } },
        { $unwind: "$tags" },
        { $group: { _id: "$tags", n: { $sum: 1 } } },
        { $sort: { _id: 1 } },
        { $project: { _id: 0, tag: "$_id", n: 1 } },
      ]).toArray(),
      [{ n: 1, tag: "a" }, { n: 2, tag: "b" }],
    );
    assert.deepEqual(
      await c.aggregate([{ $set: { w: { $multiply: ["$v", 2] } } }, { $skip: 1 }, { $limit: 2 }, {
        $project: { w: 1 },
      }]).toArray(),
      [{ _id: 2, w: 4 }, { _id: 3, w: 6 }],
    );
    assert.deepEqual(await c.aggregate([{ $count: "all" }]).toArray(), [{ all: 4 }]);
    assert.equal((await c.deleteOne({ g: "x" })).deletedCount, 1);
    assert.equal((await c.deleteMany({ v: { $gt: 1 } })).deletedCount, 3);
    assert.equal(await c.countDocuments({}), 0);
  });
});

Deno.test("JavaScript operators ($where, $function, $accumulator) are refused", async () => {
  await withServer(async (client) => {
    const c = client.db("t").collection("js");
    await c.insertOne({ a: 1 });
    assert.notEqual(await codeOf(c.find({ $where: "this.a == 1" }).toArray()), undefined);
    assert.notEqual(
      await codeOf(
        c.find({
          $expr: { $function: { body: "function() { return true }", args: [], lang: "js" } },
        })
          .toArray(),
      ),
      undefined,
    );
    assert.notEqual(
      await codeOf(
        c.aggregate([{
          $group: {
            _id: null,
            x: {
              $accumulator: {
                init: "function() { return 0 }",
                accumulate: "function(s) { return s }",
                accumulateArgs: [],
                merge: "function(a) { return a }",
                lang: "js",
              },
            },
          },
        }]).toArray(),
      ),
      undefined,
    );
  });
});

Deno.test("find() compares ObjectId, UUID, Long and Date values the MongoDB way", async () => {
  await withServer(async (client) => {
    const c = client.db("t").collection("types");
    const ids = [
      new ObjectId("000000000000000000000001"),
      new ObjectId("0000000000000000000000ff"),
    ];
    // Two UUIDs whose bytes are not valid UTF-8 and differ: they must not compare equal.
    const u1 = new UUID("ffffffff-ffff-4fff-bfff-fffffffffffe");
    const u2 = new UUID("ffffffff-ffff-4fff-bfff-fffffffffffd");
    await c.insertMany([
      { _id: ids[0], u: u1, big: Long.fromString("9007199254740993"), at: new Date(1000) },
      { _id: ids[1], u: u2, big: Long.fromNumber(5), at: new Date(2000) },
    ]);
    assert.deepEqual((await c.find({ _id: ids[1] }).toArray()).map((d) => d._id.toHexString()), [
      ids[1].toHexString(),
    ]);
    assert.equal(await c.countDocuments({ _id: { $gt: ids[0] } }), 1);
    assert.equal(await c.countDocuments({ u: u1 }), 1);
    assert.equal(await c.countDocuments({ u: { $in: [u2] } }), 1);
    assert.equal(await c.countDocuments({ at: { $gte: new Date(1500) } }), 1);
    assert.equal(await c.countDocuments({ big: 5 }), 1);
    const back = await c.findOne({ _id: ids[0] }, { promoteLongs: false });
    assert.equal(String(back!.big), "9007199254740993");
    assert.ok(back!.u instanceof Binary);
    assert.equal((back!.u as Binary).sub_type, 4);
    const sorted = await c.find({}).sort({ _id: -1 }).toArray();
    assert.deepEqual(
      sorted.map((d) => d._id.toHexString()),
      ids.map((i) => i.toHexString()).reverse(),
    );
  });
});

Deno.test("listIndexes() and dropIndexes() show and remove indexes", async () => {
  await withServer(async (client) => {
    const c = client.db("t").collection("ix");
    await c.createIndex({ a: 1 });
    await c.createIndex({ b: -1 }, { name: "b_desc", sparse: true });
    await c.createIndex({ at: 1 }, { expireAfterSeconds: 60 });
    const names = (await c.listIndexes().toArray()).map((i) => i.name);
    assert.deepEqual(names, ["_id_", "a_1", "b_desc", "at_1"]);
    const b = (await c.listIndexes().toArray()).find((i) => i.name === "b_desc");
    assert.deepEqual(b, { v: 2, name: "b_desc", key: { b: -1 }, sparse: true });
    await c.dropIndex("a_1");
    assert.deepEqual((await c.indexes()).map((i) => i.name), ["_id_", "b_desc", "at_1"]);
    assert.equal(await codeOf(c.dropIndex("nope")), 27);
    await c.dropIndexes();
    assert.deepEqual((await c.indexes()).map((i) => i.name), ["_id_"]);
    assert.equal(await codeOf(client.db("t").collection("absent").indexes()), 26);
  });
});

Deno.test("listCollections(), listDatabases(), create(), drop() and dropDatabase() manage namespaces", async () => {
  await withServer(async (client) => {
    const db = client.db("ns1");
    await db.createCollection("empty");
    await db.collection("full").insertOne({ a: 1 });
    assert.deepEqual((await db.listCollections().toArray()).map((c) => c.name).sort(), [
      "empty",
      "full",
    ]);
    assert.deepEqual(
      (await db.listCollections({ name: "full" }, { nameOnly: true }).toArray()).map((c) => c.name),
      ["full"],
    );
    const dbs = await client.db("admin").admin().listDatabases();
    assert.ok(dbs.databases.some((d) => d.name === "ns1"));
    assert.equal(await db.collection("full").drop(), true);
    assert.deepEqual((await db.listCollections().toArray()).map((c) => c.name), ["empty"]);
    await db.dropDatabase();
    assert.deepEqual(await db.listCollections().toArray(), []);
  });
});

Deno.test("getMore() pages through a cursor in batches and killCursors() closes it", async () => {
  await withServer(async (client) => {
    const db = client.db("t");
    const c = db.collection("page");
    await c.insertMany(Array.from({ length: 25 }, (_, i) => ({ _id: i })) as never[]);
    const first = await db.command({ find: "page", sort: { _id: 1 }, batchSize: 10 }, {
      promoteLongs: false,
    });
    assert.ok(first.cursor.id instanceof Long);
    assert.notEqual(first.cursor.id.toString(), "0");
    assert.equal(first.cursor.ns, "t.page");
    assert.deepEqual(first.cursor.firstBatch.map((d: Document) => d._id), [
      0,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
      9,
    ]);
    const second = await db.command({
      getMore: first.cursor.id,
      collection: "page",
      batchSize: 10,
    });
    assert.equal(second.cursor.nextBatch.length, 10);
    assert.equal(second.cursor.nextBatch[0]._id, 10);
    const third = await db.command({ getMore: first.cursor.id, collection: "page", batchSize: 10 });
    assert.deepEqual(third.cursor.nextBatch.map((d: Document) => d._id), [20, 21, 22, 23, 24]);
    assert.equal(third.cursor.id.toString(), "0");
    assert.equal(
      await codeOf(db.command({ getMore: first.cursor.id, collection: "page" })),
      43,
    );
    const again = await db.command({ find: "page", batchSize: 3 });
    const killed = await db.command({ killCursors: "page", cursors: [again.cursor.id] });
    assert.equal(killed.cursorsKilled.length, 1);
    assert.equal(await codeOf(db.command({ getMore: again.cursor.id, collection: "page" })), 43);
    // The driver's own cursor pages the same way.
    const all = await c.find({}, { batchSize: 4 }).toArray();
    assert.equal(all.length, 25);
    const defaultBatch = await db.command({ find: "page" });
    assert.equal(defaultBatch.cursor.firstBatch.length, 25);
  });
});

Deno.test("TTL monitor removes documents past their index's expiry", async () => {
  await withServer(async (client) => {
    const c = client.db("t").collection("ttl");
    await c.createIndex({ at: 1 }, { expireAfterSeconds: 0 });
    await c.insertMany([
      { _id: "old", at: new Date(Date.now() - 60_000) },
      { _id: "future", at: new Date(Date.now() + 3_600_000) },
      { _id: "none" },
    ] as never[]);
    const deadline = Date.now() + 10_000;
    while (await c.countDocuments({ _id: "old" as never }) > 0) {
      assert.ok(Date.now() < deadline, "the expired document was not removed in time");
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual((await c.find({}).sort({ _id: 1 }).toArray()).map((d) => d._id), [
      "future",
      "none",
    ]);
    const { metrics } = await client.db("admin").command({ serverStatus: 1 });
    assert.equal(metrics.ttl.deletedDocuments, 1);
    assert.ok(metrics.ttl.passes >= 1);
  }, { ttlMonitorIntervalMs: 25 });
});

Deno.test("countDocuments() and find() on a date or number range give the same answers with an index as without", async () => {
  await withServer(async (client) => {
    const indexed = client.db("t").collection("ranged");
    const plain = client.db("t").collection("unindexed");
    await indexed.createIndex({ at: 1 });
    await indexed.createIndex({ n: 1 });
    const docs = Array.from({ length: 200 }, (_, i) => ({
      _id: i,
      at: i % 7 === 0 ? "not a date" : new Date(1000 * (i % 50)),
      n: i % 11 === 0 ? null : (i % 30) - 10,
    }));
    await indexed.insertMany(docs as never[]);
    await plain.insertMany(docs as never[]);
    const filters = [
      { at: { $gt: new Date(20_000) } },
      { at: { $gte: new Date(20_000), $lt: new Date(30_000) } },
      { at: { $lte: new Date(0) } },
      { n: { $gt: 5 } },
      { n: { $gte: -3, $lte: 3 } },
      { n: { $eq: 0 } },
    ];
    for (const f of filters) {
      const label = JSON.stringify(f);
      assert.equal(await indexed.countDocuments(f), await plain.countDocuments(f), label);
      assert.equal(
        await indexed.countDocuments(f, { skip: 3, limit: 5 }),
        await plain.countDocuments(f, { skip: 3, limit: 5 }),
        label,
      );
      const ids = async (c: typeof plain) =>
        (await c.find(f).toArray()).map((d) => Number(d._id)).sort((a, b) => a - b);
      assert.deepEqual(await ids(indexed), await ids(plain), label);
    }
  });
});

Deno.test("many concurrent clients each see their own writes", async () => {
  await withServer(async (_client, server) => {
    const clients = await Promise.all(
      Array.from({ length: 20 }, () => new MongoClient(server.url).connect()),
    );
    try {
      await Promise.all(clients.map(async (cl, k) => {
        const c = cl.db("t").collection("conc");
        for (let i = 0; i < 50; i++) {
          if (i % 2 === 0) await c.insertOne({ k, i });
          else {
            const found = await c.findOne({ k, i: i - 1 });
            assert.equal(found?.i, i - 1);
          }
        }
      }));
      const c = clients[0].db("t").collection("conc");
      assert.equal(await c.countDocuments({}), 20 * 25);
      for (let k = 0; k < 20; k++) assert.equal(await c.countDocuments({ k }), 25);
    } finally {
      await Promise.all(clients.map((cl) => cl.close()));
    }
  });
});

Deno.test("insertOne() with w:0 (moreToCome) gets no reply, and the write is there", async () => {
  await withServer(async (client) => {
    const c = client.db("t").collection("w0", { writeConcern: { w: 0 } });
    const r = await c.insertOne({ _id: "fire-and-forget" as never });
    assert.equal(r.acknowledged, false);
    const deadline = Date.now() + 5000;
    const acked = client.db("t").collection("w0");
    while (!(await acked.findOne({ _id: "fire-and-forget" as never }))) {
      assert.ok(Date.now() < deadline, "the unacknowledged insert never appeared");
      await new Promise((r) => setTimeout(r, 10));
    }
  });
});

// --- raw wire ---------------------------------------------------------------------------------

Deno.test("wire: legacy OP_QUERY handshake, OP_MSG with document sequences and a checksum", async () => {
  await withServer(async (client, server) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port! });
    try {
      await conn.write(opQuery(1, "admin.$cmd", { isMaster: 1 }));
      const hello = replyDoc((await readFrame(conn))!);
      assert.equal(hello.opCode, 1);
      assert.equal(hello.responseTo, 1);
      assert.equal(hello.doc.ismaster, true);
      assert.equal(hello.doc.maxWireVersion, 25);
      await conn.write(opMsg(2, { insert: "seq", $db: "w" }, 1, [["documents", [{ _id: 1 }, {
        _id: 2,
      }]]]));
      const inserted = replyDoc((await readFrame(conn))!);
      assert.equal(inserted.opCode, 2013);
      assert.equal(inserted.responseTo, 2);
      assert.deepEqual(inserted.doc, { n: 2, ok: 1 });
      // A body that is not valid BSON gets an error reply, and the connection keeps serving.
      const bad = opMsg(3, { ping: 1, $db: "w" });
      bad[24] = 0x7f; // an unknown BSON element type inside the body
      await conn.write(bad);
      const refused = replyDoc((await readFrame(conn))!);
      assert.equal(refused.doc.ok, 0);
      await conn.write(opMsg(4, { ping: 1, $db: "w" }));
      assert.deepEqual(replyDoc((await readFrame(conn))!).doc, { ok: 1 });
      // moreToCome: no reply, but the write happens.
      await conn.write(opMsg(5, { insert: "seq", documents: [{ _id: 3 }], $db: "w" }, 2));
      await conn.write(opMsg(6, { count: "seq", $db: "w" }));
      const counted = replyDoc((await readFrame(conn))!);
      assert.equal(counted.responseTo, 6);
      assert.equal(counted.doc.n, 3);
    } finally {
      conn.close();
    }
    assert.equal(await client.db("w").collection("seq").countDocuments(), 3);
  });
});

Deno.test("wire: broken frames close only their own connection", async () => {
  await withServer(async (client, server) => {
    const connect = () => Deno.connect({ hostname: "127.0.0.1", port: server.port! });
    const frames: Uint8Array[] = [];
    const tooShort = new Uint8Array(16);
    new DataView(tooShort.buffer).setInt32(0, 3, true);
    frames.push(tooShort);
    const tooBig = new Uint8Array(16);
    new DataView(tooBig.buffer).setInt32(0, 2 ** 30, true);
    frames.push(tooBig);
    const badOp = opMsg(1, { ping: 1, $db: "x" });
    new DataView(badOp.buffer).setInt32(12, 9999, true);
    frames.push(badOp);
    const badChecksum = opMsg(1, { ping: 1, $db: "x" }, 1);
    badChecksum[badChecksum.length - 1] ^= 0xff;
    frames.push(badChecksum);
    frames.push(
      crypto.getRandomValues(new Uint8Array(64)).map((b, i) => i < 4 ? [64, 0, 0, 0][i] : b),
    );
    for (const frame of frames) {
      const conn = await connect();
      await conn.write(frame);
      await expectClosed(conn);
    }
    // A truncated frame: the client hangs up in the middle; the server just drops it.
    const truncated = await connect();
    await truncated.write(opMsg(1, { ping: 1, $db: "x" }).subarray(0, 10));
    truncated.close();
    // Meanwhile the driver's connection is still served.
    assert.deepEqual(await client.db("x").command({ ping: 1 }), { ok: 1 });
    const fresh = await connect();
    try {
      await fresh.write(opMsg(9, { ping: 1, $db: "x" }));
      assert.deepEqual(replyDoc((await readFrame(fresh))!).doc, { ok: 1 });
    } finally {
      fresh.close();
    }
  });
});

Deno.test("startEmbeddedMongo() with a dataDir keeps data and indexes across a clean restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "embedded-mongo-" });
  try {
    await withServer(async (client) => {
      const c = client.db("p").collection("kept");
      await c.createIndex({ email: 1 }, { unique: true });
      await c.insertMany([{ _id: 1, email: "a" }, { _id: 2, email: "b" }] as never[]);
      await c.updateOne({ _id: 2 as never }, { $set: { email: "c" } });
      await c.deleteOne({ _id: 1 as never });
    }, { dataDir });
    await withServer(async (client) => {
      const c = client.db("p").collection("kept");
      assert.deepEqual(await c.find({}).toArray(), [{ _id: 2, email: "c" }]);
      assert.deepEqual((await c.indexes()).map((i) => i.name), ["_id_", "email_1"]);
      assert.equal(await codeOf(c.insertOne({ email: "c" })), 11000);
    }, { dataDir });
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

import assert from "node:assert/strict";
import { deserialize } from "bson";
import { MongoClient } from "mongodb";
import { serverUrl, testDb } from "../../tests/support/test_db.ts";
import { startEmbeddedMongo } from "../embedded_mongo/mod.ts";
import { connectEmbedded, getDb, SOCKET_NAME } from "./database.ts";
import { memoryLogger } from "../utils/log.ts";

Deno.test("getDb() passes clientOptions to the driver and the embedded server's events to the logger", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "getdb-" });
  const { logger, entries } = memoryLogger();
  const [db, client] = await getDb({
    dbName: "app",
    dataDir,
    clientOptions: { appName: "getdb-test", serverSelectionTimeoutMS: 1234 },
    logger,
  });
  try {
    assert.equal(client.options.appName, "getdb-test");
    assert.equal(client.options.serverSelectionTimeoutMS, 1234);
    assert.equal(
      serverUrl(client),
      `mongodb://${encodeURIComponent(`${dataDir}/${SOCKET_NAME}`)}/?directConnection=true`,
    );
    await db.collection("c").insertOne({ _id: 1 as never });
    // A broken frame closes its connection, and the server says so.
    const conn = await Deno.connect({ transport: "unix", path: `${dataDir}/${SOCKET_NAME}` });
    await conn.write(new Uint8Array([3, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
    const deadline = Date.now() + 5000;
    while (!entries.some((e) => e.msg === "connection_closed")) {
      assert.ok(Date.now() < deadline, "no connection_closed entry");
      await new Promise((r) => setTimeout(r, 10));
    }
    conn.close();
    const entry = entries.find((e) => e.msg === "connection_closed")!;
    assert.equal(entry.level, "info");
    assert.equal(entry.component, "embedded-mongo");
    assert.match(String(entry.reason), /message length/i);
  } finally {
    await client.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test({
  name: "testDb() serves each test on a socket in a private folder of its own, removed on close",
  // With MONGODB_URL, testDb() gives a database on that server instead.
  ignore: Deno.env.get("MONGODB_URL") !== undefined,
}, async () => {
  const [db, client] = await testDb();
  const socket = client.options.hosts[0].socketPath!;
  const folder = socket.slice(0, socket.lastIndexOf("/"));
  assert.equal(Deno.statSync(folder).mode! & 0o777, 0o700);
  assert.equal(Deno.lstatSync(socket).mode! & 0o777, 0o600);
  await db.collection("c").insertOne({ _id: 1 as never });
  await client.close();
  assert.throws(() => Deno.statSync(folder), Deno.errors.NotFound);
});

/** An embedded server in a fresh private folder; `remove()` deletes the folder. */
async function embeddedServer(storage?: Parameters<typeof startEmbeddedMongo>[0]["storage"]) {
  const dir = await Deno.makeTempDir({ prefix: "inproc-" });
  const server = await startEmbeddedMongo({
    socketPath: `${dir}/${SOCKET_NAME}`,
    dataDir: storage ? dir : undefined,
    storage,
  });
  return { server, remove: () => Deno.remove(dir, { recursive: true }) };
}

Deno.test("connectEmbedded(): the client's commands go through in-process connections, not the socket", async () => {
  const { server, remove } = await embeddedServer();
  let opened = 0;
  let replies = 0;
  const connectInProcess = server.connectInProcess;
  server.connectInProcess = (options) => {
    opened++;
    const stream = connectInProcess(options);
    stream.on("data", () => replies++);
    return stream;
  };
  const client = await connectEmbedded(server, undefined, remove);
  try {
    const coll = client.db("t").collection<{ _id: number }>("c");
    await Promise.all(Array.from({ length: 20 }, (_, i) => coll.insertOne({ _id: i })));
    const before = replies;
    for (let i = 0; i < 20; i++) assert.ok(await coll.findOne({ _id: i }));
    assert.ok(opened >= 1, "no in-process connection was made");
    assert.ok(replies - before >= 20, `${replies - before} replies in process for 20 finds`);
    // The socket stays for other clients: a client of its own on the URL works too.
    const other = new MongoClient(server.url);
    try {
      assert.equal(await other.db("t").collection("c").countDocuments(), 20);
    } finally {
      await other.close();
    }
  } finally {
    await client.close();
  }
});

Deno.test("connectEmbedded(): the client's connections are opened without sessions, so its commands carry no lsid", async () => {
  const { server, remove } = await embeddedServer();
  const commands: Record<string, unknown>[] = [];
  const connectInProcess = server.connectInProcess;
  server.connectInProcess = (options) => {
    const stream = connectInProcess(options);
    const write = stream.write.bind(stream) as (chunk: Uint8Array, ...rest: unknown[]) => boolean;
    // Each driver write here is one OP_MSG: header, flags, then the body section (kind 0).
    stream.write = ((chunk: Uint8Array, ...rest: unknown[]) => {
      if (chunk.length > 21 && chunk[20] === 0) commands.push(deserialize(chunk.subarray(21)));
      return write(chunk, ...rest);
    }) as typeof stream.write;
    return stream;
  };
  const client = await connectEmbedded(server, undefined, remove);
  try {
    const coll = client.db("t").collection<{ _id: number; n?: number }>("c");
    await coll.insertOne({ _id: 1 });
    await coll.updateOne({ _id: 1 }, { $set: { n: 2 } });
    assert.equal((await coll.findOne({ _id: 1 }))?.n, 2);
    const sent = commands.filter((c) => "insert" in c || "update" in c || "find" in c);
    assert.equal(sent.length, 3, `saw ${commands.map((c) => Object.keys(c)[0]).join(", ")}`);
    for (const command of sent) assert.equal("lsid" in command, false, JSON.stringify(command));
    // A client on the socket still sees a server with sessions.
    const other = new MongoClient(server.url);
    try {
      const hello = await other.db("admin").command({ hello: 1 });
      assert.equal(hello.logicalSessionTimeoutMinutes, 30);
    } finally {
      await other.close();
    }
  } finally {
    await client.close();
  }
});

Deno.test("connectEmbedded(): a command the store never answers fails after socketTimeoutMS, and the client goes on", async () => {
  let stall = false;
  const stalled: Array<() => void> = [];
  const { server, remove } = await embeddedServer({
    fsync: "always",
    openJournal: (path) => {
      const file = Deno.openSync(path, { append: true, create: true, mode: 0o600 });
      return {
        writeSync: (bytes: Uint8Array) => file.writeSync(bytes),
        truncateSync: (length?: number) => file.truncateSync(length),
        syncData: () =>
          stall ? new Promise<void>((resolve) => stalled.push(resolve)) : file.syncData(),
        syncDataSync: () => file.syncDataSync(),
        statSync: () => file.statSync(),
        close: () => file.close(),
      };
    },
  });
  const client = await connectEmbedded(server, { socketTimeoutMS: 300 }, remove);
  try {
    const coll = client.db("t").collection<{ _id: number }>("c");
    await coll.insertOne({ _id: 1 });
    stall = true; // the next write waits for an fsync that never ends
    const started = Date.now();
    await assert.rejects(coll.insertOne({ _id: 2 }), (e: Error) => {
      assert.equal(e.name, "MongoNetworkTimeoutError");
      return true;
    });
    const took = Date.now() - started;
    assert.ok(took >= 250 && took < 5000, `failed after ${took} ms`);
    stall = false;
    assert.deepEqual(await coll.findOne({ _id: 1 }), { _id: 1 });
  } finally {
    for (const release of stalled) release(); // lets the store close
    await client.close();
  }
});

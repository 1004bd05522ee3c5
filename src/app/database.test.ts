import assert from "node:assert/strict";
import { serverUrl, testDb } from "../../tests/support/test_db.ts";
import { getDb, SOCKET_NAME } from "./database.ts";
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

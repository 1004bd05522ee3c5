import assert from "node:assert/strict";
import { Decimal128, type Document, Long, ObjectId } from "bson";
import { CursorRegistry } from "../query/cursors.ts";
import { openStore, type Store } from "../storage/mod.ts";
import { serializeReply } from "../wire/reply.ts";
import type { CommandContext } from "./context.ts";
import { find, pointFind } from "./find.ts";

async function fixture(): Promise<{ store: Store; ctx: CommandContext }> {
  const store = await openStore({});
  const users = store.createCollection("d", "users");
  users.createIndexes([
    { name: "username_1", key: { username: 1 }, unique: true },
    { name: "team_1", key: { team: 1 } },
  ]);
  users.insert({ _id: "u1", username: "ann", team: "red", n: 1 });
  users.insert({ _id: "u2", username: "bob", team: "red", n: 2 });
  users.insert({ _id: "u3", username: "cy", team: "blue", n: 3 });
  const misc = store.createCollection("d", "misc");
  misc.insert({ _id: 1, what: "int" });
  misc.insert({ _id: new ObjectId("64b7f0c2a1b2c3d4e5f60718"), what: "oid" });
  misc.insert({ _id: new Date(5), what: "date" });
  misc.insert({ _id: Long.fromNumber(7), what: "long" });
  misc.insert({ _id: Decimal128.fromString("8"), what: "decimal" });
  misc.insert({ _id: "x", unindexed: "v" });
  return { store, ctx: { store, cursors: new CursorRegistry(), connectionId: 1, db: "d" } };
}

/** The reply's bytes, as they would go on the wire. */
async function reply(cmd: Document, ctx: CommandContext): Promise<number[]> {
  return [...serializeReply(await find.run(cmd, ctx))];
}

/** The same command through the general path: `$natural` orders nothing but is a sort. */
function general(cmd: Document): Document {
  return { ...cmd, sort: { $natural: 1 } };
}

const FINDS: Document[] = [
  { find: "users", filter: { _id: "u2" }, limit: 1, singleBatch: true },
  { find: "users", filter: { _id: "u2" } },
  { find: "users", filter: { _id: "u2" }, batchSize: 1 },
  { find: "users", filter: { _id: "nobody" }, limit: 1, singleBatch: true },
  { find: "users", filter: { _id: 2 }, limit: 1 },
  { find: "users", filter: { username: "cy" }, limit: 1, singleBatch: true },
  { find: "users", filter: { username: "zed" }, limit: 1, singleBatch: true },
  { find: "users", filter: { team: "red" }, limit: 1 },
  { find: "users", filter: { team: "red" }, limit: -1 },
  { find: "misc", filter: { _id: 1.0 }, limit: 1 },
  { find: "misc", filter: { _id: "1" }, limit: 1 },
  { find: "misc", filter: { _id: new ObjectId("64b7f0c2a1b2c3d4e5f60718") } },
  { find: "misc", filter: { _id: new Date(5) } },
  { find: "misc", filter: { _id: 7 } },
  { find: "misc", filter: { _id: 8 } },
  { find: "gone", filter: { _id: "u1" }, limit: 1 },
];

Deno.test("find.run() answers an equality lookup exactly as the general path does", async () => {
  const { ctx } = await fixture();
  for (const cmd of FINDS) {
    assert.deepEqual(await reply(cmd, ctx), await reply(general(cmd), ctx), JSON.stringify(cmd));
  }
});

Deno.test("pointFind() answers _id and indexed equalities, and finds the document or none", async () => {
  const { store } = await fixture();
  const users = store.getCollection("d", "users");
  const ids = (batch: Uint8Array[] | undefined) => batch?.length;
  assert.equal(ids(pointFind(users, { _id: "u2" }, 0)), 1);
  assert.equal(ids(pointFind(users, { _id: "nobody" }, 1)), 0);
  assert.equal(ids(pointFind(users, { username: "cy" }, 1)), 1);
  assert.equal(ids(pointFind(users, { username: "zed" }, 1)), 0);
  assert.equal(ids(pointFind(undefined, { _id: "u2" }, 1)), 0);
});

Deno.test("pointFind() leaves every other filter to the general path", async () => {
  const { store } = await fixture();
  const users = store.getCollection("d", "users");
  const misc = store.getCollection("d", "misc");
  const declined: [Document | undefined, number][] = [
    [undefined, 1],
    [{}, 1],
    [{ _id: "u2", n: 2 }, 1], // extra field
    [{ _id: { $eq: "u2" } }, 1],
    [{ _id: { $in: ["u2"] } }, 1],
    [{ _id: null }, 1],
    [{ $and: [{ _id: "u2" }] }, 1],
    [{ team: "red" }, 0], // not _id: only with limit 1
    [{ unindexed: "v" }, 1], // no index
  ];
  for (const [filter, limit] of declined) {
    const coll = filter && "unindexed" in filter ? misc : users;
    assert.equal(pointFind(coll, filter, limit), undefined, JSON.stringify(filter));
  }
  // A stored _id the simple predicate does not judge (a decimal) goes to mingo, on the general
  // path.
  assert.equal(pointFind(misc, { _id: 8 }, 1), undefined);
});

Deno.test("find.run() with a projection, sort or skip takes the general path", async () => {
  const { ctx } = await fixture();
  const batch = async (cmd: Document) => (await find.run(cmd, ctx)).cursor.firstBatch;
  assert.deepEqual(await batch({ find: "users", filter: { _id: "u2" }, projection: { n: 1 } }), [
    { _id: "u2", n: 2 },
  ]);
  assert.deepEqual(await batch({ find: "users", filter: { _id: "u2" }, skip: 1 }), []);
  assert.deepEqual(
    await batch({ find: "users", filter: { _id: "u2", n: 3 }, limit: 1 }),
    [],
  );
});

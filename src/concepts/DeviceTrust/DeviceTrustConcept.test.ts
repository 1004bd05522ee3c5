/**
 * Tests of the DeviceTrust concept: its principle as a trace, issue (new and renewed devices, the
 * per-user cap), _recognize (every kind of bad token gives the same empty answer), expiry with an
 * injected clock, races, junk inputs and what the raw collection holds.
 */
import assert from "node:assert/strict";
import type { Db, MongoClient } from "mongodb";
import { testDb } from "../../../tests/support/test_db.ts";
import type { ID } from "../../utils/types.ts";
import DeviceTrustConcept, { type DeviceTrustOptions } from "./DeviceTrustConcept.ts";

const DAY = 24 * 60 * 60 * 1000;
/** The tests' "now": far in the future, so the server's TTL monitor (real time) reaps nothing. */
const T0 = Date.UTC(2100, 0, 1);
const TOKEN = /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/;
const alice = "user:alice" as ID;
const bob = "user:bob" as ID;
const INVALID_USER = {
  error: "Cannot issue device: user must be a non-empty string of at most 128 characters",
};

interface Ctx {
  c: DeviceTrustConcept;
  db: Db;
  client: MongoClient;
  clock: { t: number };
}

async function withConcept(fn: (ctx: Ctx) => Promise<void>, options: DeviceTrustOptions = {}) {
  const [db, client] = await testDb();
  try {
    const clock = { t: T0 };
    const c = new DeviceTrustConcept(db, { now: () => new Date(clock.t), ...options });
    await fn({ c, db, client, clock });
  } finally {
    await client.close();
  }
}

async function issued(c: DeviceTrustConcept, user: ID, deviceToken?: string) {
  const r = await c.issue({ user, deviceToken });
  if ("error" in r) assert.fail(r.error);
  return r;
}

const idOf = (token: string) => token.split(".")[0];
const secretOf = (token: string) => token.split(".")[1];
function wrongSecret(token: string): string {
  const s = secretOf(token);
  return `${idOf(token)}.${s[0] === "A" ? "B" : "A"}${s.slice(1)}`;
}

Deno.test("principle: a device that proved a user is recognised as that user's, and only with its token", () =>
  withConcept(async ({ c }) => {
    // After alice proves herself from a browser, it is given a device token.
    const { deviceToken, expiresAt } = await issued(c, alice);
    assert.match(deviceToken, TOKEN);
    assert.deepEqual(expiresAt, new Date(T0 + 180 * DAY));
    // Presented later, it names the device and the user it proved.
    assert.deepEqual(await c._recognize({ deviceToken }), [{
      device: idOf(deviceToken),
      user: alice,
    }]);
    // A forged token (same id, another secret) is not recognised.
    assert.deepEqual(await c._recognize({ deviceToken: wrongSecret(deviceToken) }), []);
  }));

Deno.test("issue() renews a presented device of the same user: same id, new secret, old one dead", () =>
  withConcept(async ({ c, clock }) => {
    const first = await issued(c, alice);
    clock.t += 10 * DAY;
    const renewed = await issued(c, alice, first.deviceToken);
    assert.equal(idOf(renewed.deviceToken), idOf(first.deviceToken));
    assert.notEqual(renewed.deviceToken, first.deviceToken);
    assert.deepEqual(renewed.expiresAt, new Date(T0 + 190 * DAY));
    assert.deepEqual(await c._recognize({ deviceToken: first.deviceToken }), []);
    assert.deepEqual(await c._recognize({ deviceToken: renewed.deviceToken }), [
      { device: idOf(first.deviceToken), user: alice },
    ]);
  }));

Deno.test("issue() makes a new device for a token of another user, a forged or a dead one", () =>
  withConcept(async ({ c, db, clock }) => {
    const bobs = await issued(c, bob);
    const alices = await issued(c, alice);
    const presented = [
      bobs.deviceToken, // another user's device
      wrongSecret(alices.deviceToken), // forged secret
      `${"Z".repeat(22)}.${"Q".repeat(43)}`, // unknown id
      "junk",
    ];
    for (const deviceToken of presented) {
      const r = await issued(c, alice, deviceToken);
      assert.notEqual(idOf(r.deviceToken), idOf(deviceToken));
    }
    // Bob's and alice's first devices are untouched.
    assert.deepEqual(await c._recognize({ deviceToken: bobs.deviceToken }), [
      { device: idOf(bobs.deviceToken), user: bob },
    ]);
    assert.equal(await db.collection("DeviceTrust.devices").countDocuments({ user: alice }), 5);
    // An expired device is not renewed either.
    clock.t += 181 * DAY;
    const after = await issued(c, alice, alices.deviceToken);
    assert.notEqual(idOf(after.deviceToken), idOf(alices.deviceToken));
  }));

Deno.test("issue() keeps at most maxPerUser devices per user, forgetting the least recently renewed", () =>
  withConcept(async ({ c, clock }) => {
    const tokens: string[] = [];
    for (let i = 0; i < 3; i++) {
      clock.t += 1000;
      tokens.push((await issued(c, alice)).deviceToken);
    }
    // The oldest is renewed, so the second becomes the least recently used.
    clock.t += 1000;
    tokens[0] = (await issued(c, alice, tokens[0])).deviceToken;
    clock.t += 1000;
    const fourth = (await issued(c, alice)).deviceToken;
    const known = async (t: string) => (await c._recognize({ deviceToken: t })).length === 1;
    assert.deepEqual(
      [await known(tokens[0]), await known(tokens[1]), await known(tokens[2]), await known(fourth)],
      [true, false, true, true],
    );
    // Another user's devices do not count against alice's.
    for (let i = 0; i < 3; i++) await issued(c, bob);
    assert.ok(await known(fourth));
  }, { maxPerUser: 3 }));

Deno.test("_recognize() gives [] for expired, malformed and junk tokens alike", () =>
  withConcept(async ({ c, db, clock }) => {
    const { deviceToken } = await issued(c, alice);
    const junk = [
      undefined,
      null,
      5,
      {},
      [],
      [deviceToken],
      { $ne: null },
      { $regex: ".*" },
      "",
      idOf(deviceToken),
      `${deviceToken}=`,
      ` ${deviceToken}`,
      deviceToken.replace(".", "$"),
      "x".repeat(100_000),
    ];
    for (const t of junk) {
      assert.deepEqual(await c._recognize({ deviceToken: t as string }), [], String(t));
    }
    for (const input of [null, undefined, 5, "str", [deviceToken]]) {
      assert.deepEqual(await c._recognize(input as never), []);
    }
    clock.t += 180 * DAY;
    assert.deepEqual(await c._recognize({ deviceToken }), []);
    // The store holds the hash, never the secret.
    const [doc] = await db.collection("DeviceTrust.devices").find({}).toArray();
    assert.deepEqual(Object.keys(doc).sort(), [
      "_id",
      "createdAt",
      "expiresAt",
      "hash",
      "renewedAt",
      "user",
    ]);
    assert.ok(!JSON.stringify(doc).includes(secretOf(deviceToken)));
    assert.match(doc.hash, /^[0-9a-f]{64}$/);
  }));

Deno.test("issue() refuses junk users and writes nothing", () =>
  withConcept(async ({ c, db }) => {
    for (const user of [undefined, null, "", "u".repeat(129), 5, { $ne: null }, ["u"]]) {
      assert.deepEqual(await c.issue({ user: user as ID }), INVALID_USER, String(user));
    }
    for (const input of [null, undefined, "str", [alice]]) {
      assert.deepEqual(await c.issue(input as never), INVALID_USER);
    }
    assert.equal(await db.collection("DeviceTrust.devices").countDocuments(), 0);
  }));

Deno.test("issue() racing issue() with one device token: one renews it, the other gets a new device", () =>
  withConcept(async ({ c }) => {
    const { deviceToken } = await issued(c, alice);
    const [a, b] = await Promise.all([
      issued(c, alice, deviceToken),
      issued(c, alice, deviceToken),
    ]);
    const ids = [idOf(a.deviceToken), idOf(b.deviceToken)];
    assert.equal(ids.filter((id) => id === idOf(deviceToken)).length, 1);
    for (const t of [a.deviceToken, b.deviceToken]) {
      assert.equal((await c._recognize({ deviceToken: t })).length, 1);
    }
  }));

Deno.test("store: indexes on user and a TTL index on expiresAt", () =>
  withConcept(async ({ c, db }) => {
    await issued(c, alice);
    const indexes = await db.collection("DeviceTrust.devices").listIndexes().toArray();
    assert.deepEqual(indexes.find((i) => i.name === "user_1")?.key, { user: 1 });
    const ttl = indexes.find((i) => i.name === "expiresAt_ttl");
    assert.deepEqual([ttl?.key, ttl?.expireAfterSeconds], [{ expiresAt: 1 }, 0]);
  }));

Deno.test("constructor: a ttl or cap that is not a positive integer is refused", () => {
  const db = { collection: () => ({}) } as unknown as Db;
  for (const bad of [0, -1, 1.5, NaN, "10"]) {
    assert.throws(() => new DeviceTrustConcept(db, { ttlMs: bad as number }), RangeError);
    assert.throws(() => new DeviceTrustConcept(db, { maxPerUser: bad as number }), RangeError);
  }
});

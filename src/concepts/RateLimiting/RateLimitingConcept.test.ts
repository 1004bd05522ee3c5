/**
 * Tests of the RateLimiting concept: the principle as a trace, hit/reset/_isLimited requires and
 * effects, window expiry with an injected clock, parallel hits, junk inputs and what the raw
 * collection holds. Each test has a database of its own, so the file runs with --parallel.
 */
import assert from "node:assert/strict";
import type { Db, MongoClient } from "mongodb";
import { testDb } from "../../../tests/support/test_db.ts";
import RateLimitingConcept, { Errors, type RateLimitingOptions } from "./RateLimitingConcept.ts";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
/** The tests' "now": far in the future, so the server's TTL monitor (real time) reaps nothing. */
const T0 = Date.UTC(2100, 0, 1); // a multiple of every window length used here
const LIMITED = Errors.HIT_LIMITED;

interface Ctx {
  c: RateLimitingConcept;
  db: Db;
  client: MongoClient;
  clock: { t: number };
  /** A concept on the same database with other options (same clock). */
  other(options: RateLimitingOptions): RateLimitingConcept;
}

async function withConcept(fn: (ctx: Ctx) => Promise<void>, options: RateLimitingOptions = {}) {
  const [db, client] = await testDb();
  try {
    const clock = { t: T0 };
    const make = (o: RateLimitingOptions) =>
      new RateLimitingConcept(db, { now: () => new Date(clock.t), ...o });
    await fn({ c: make(options), db, client, clock, other: make });
  } finally {
    await client.close();
  }
}

function raw(db: Db) {
  return db.collection<{ _id: string; key: string; start: Date; count: number; expiresAt: Date }>(
    "RateLimiting.windows",
  );
}

async function hits(c: RateLimitingConcept, key: string, n: number) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await c.hit({ key }));
  return out;
}

Deno.test("principle: attempts beyond the limit in a window are refused until the window ends", () =>
  withConcept(async ({ c, clock }) => {
    const key = "login:user:alice";
    // Each attempt is recorded; up to the limit they are allowed.
    assert.deepEqual(await hits(c, key, 3), [
      { remaining: 2 },
      { remaining: 1 },
      { remaining: 0 },
    ]);
    // The next one, 4 minutes into the window, is refused until the window ends.
    clock.t = T0 + 4 * MINUTE;
    assert.deepEqual(await c._isLimited({ key }), [{ limited: true, retryAfterMs: 6 * MINUTE }]);
    assert.deepEqual(await c.hit({ key }), { error: LIMITED, retryAfterMs: 6 * MINUTE });
    // When the window has ended, attempts are allowed again.
    clock.t = T0 + 10 * MINUTE;
    assert.deepEqual(await c._isLimited({ key }), [{ limited: false, retryAfterMs: 0 }]);
    assert.deepEqual(await c.hit({ key }), { remaining: 2 });
  }, { limit: 3 }));

Deno.test("hit() with the defaults allows 10 attempts in 10 minutes", () =>
  withConcept(async ({ c, clock }) => {
    const results = await hits(c, "login:ip:203.0.113.7", 10);
    assert.deepEqual(results, Array.from({ length: 10 }, (_, i) => ({ remaining: 9 - i })));
    clock.t = T0 + 9 * MINUTE + 59 * SECOND;
    assert.deepEqual(await c.hit({ key: "login:ip:203.0.113.7" }), {
      error: LIMITED,
      retryAfterMs: SECOND,
    });
    clock.t = T0 + 10 * MINUTE;
    assert.deepEqual(await c.hit({ key: "login:ip:203.0.113.7" }), { remaining: 9 });
  }));

Deno.test("hit() keeps refusing, and counting, until the window ends", () =>
  withConcept(async ({ c, clock, db }) => {
    await hits(c, "k", 2);
    for (let i = 1; i <= 3; i++) {
      clock.t = T0 + i * MINUTE;
      assert.deepEqual(await c.hit({ key: "k" }), {
        error: LIMITED,
        retryAfterMs: (10 - i) * MINUTE,
      });
    }
    const docs = await raw(db).find({}).toArray();
    assert.equal(docs.length, 1);
    assert.equal(docs[0].count, 5);
  }, { limit: 2 }));

Deno.test("hit() windows are fixed: they start at multiples of windowMs, not at the first hit", () =>
  withConcept(async ({ c, clock }) => {
    clock.t = T0 + 59 * SECOND;
    assert.deepEqual(await hits(c, "k", 2), [{ remaining: 1 }, { remaining: 0 }]);
    assert.deepEqual(await c.hit({ key: "k" }), { error: LIMITED, retryAfterMs: SECOND });
    clock.t = T0 + MINUTE;
    assert.deepEqual(await c.hit({ key: "k" }), { remaining: 1 });
  }, { limit: 2, windowMs: MINUTE }));

Deno.test("hit() counts each key on its own", () =>
  withConcept(async ({ c }) => {
    assert.deepEqual(await hits(c, "login:user:alice", 2), [{ remaining: 1 }, { remaining: 0 }]);
    assert.deepEqual(await c.hit({ key: "login:user:alice" }), {
      error: LIMITED,
      retryAfterMs: 10 * MINUTE,
    });
    assert.deepEqual(await c.hit({ key: "login:user:bob" }), { remaining: 1 });
    assert.deepEqual(await c.hit({ key: "login:user:Alice" }), { remaining: 1 });
    assert.deepEqual(await c._isLimited({ key: "login:user:bob" }), [{
      limited: false,
      retryAfterMs: 0,
    }]);
  }, { limit: 2 }));

Deno.test("hit() stores one document per key and window, with the window's end for the TTL", () =>
  withConcept(async ({ c, db, clock }) => {
    clock.t = T0 + 3 * MINUTE;
    await hits(c, "login:ip:::1", 3);
    clock.t = T0 + 12 * MINUTE;
    await c.hit({ key: "login:ip:::1" });
    const docs = await raw(db).find({}, { projection: { _id: 0 } }).sort({ start: 1 }).toArray();
    assert.deepEqual(docs, [
      {
        key: "login:ip:::1",
        start: new Date(T0),
        count: 3,
        expiresAt: new Date(T0 + 10 * MINUTE),
      },
      {
        key: "login:ip:::1",
        start: new Date(T0 + 10 * MINUTE),
        count: 1,
        expiresAt: new Date(T0 + 20 * MINUTE),
      },
    ]);
    const indexes = await raw(db).listIndexes().toArray();
    const ttl = indexes.find((i) => i.name === "expiresAt_ttl");
    assert.deepEqual(ttl?.key, { expiresAt: 1 });
    assert.equal(ttl?.expireAfterSeconds, 0);
    assert.deepEqual(indexes.find((i) => i.name === "key_1")?.key, { key: 1 });
  }));

Deno.test("hit() 20 at once with limit 10: exactly 10 are allowed", () =>
  withConcept(async ({ c, db }) => {
    const results = await Promise.all(Array.from({ length: 20 }, () => c.hit({ key: "k" })));
    const allowed = results.filter((r) => "remaining" in r) as { remaining: number }[];
    assert.equal(allowed.length, 10);
    assert.deepEqual(
      allowed.map((r) => r.remaining).sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    assert.deepEqual(
      results.filter((r) => "error" in r),
      Array(10).fill({ error: LIMITED, retryAfterMs: 10 * MINUTE }),
    );
    assert.deepEqual(await raw(db).find({}, { projection: { _id: 0, count: 1 } }).toArray(), [
      { count: 20 },
    ]);
  }));

Deno.test("hit() 20 at once through 4 app nodes sharing the database: exactly 10 are allowed", () =>
  withConcept(async ({ other }) => {
    const nodes = Array.from({ length: 4 }, () => other({ limit: 10 }));
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => nodes[i % 4].hit({ key: "login:user:alice" })),
    );
    assert.equal(results.filter((r) => "remaining" in r).length, 10);
    assert.equal(results.filter((r) => "error" in r).length, 10);
    assert.deepEqual(await nodes[0]._isLimited({ key: "login:user:alice" }), [{
      limited: true,
      retryAfterMs: 10 * MINUTE,
    }]);
  }));

Deno.test("hit() instances with different window lengths do not share counts", () =>
  withConcept(async ({ c, other }) => {
    const short = other({ limit: 1, windowMs: MINUTE });
    assert.deepEqual(await short.hit({ key: "k" }), { remaining: 0 });
    assert.deepEqual(await c.hit({ key: "k" }), { remaining: 0 });
    assert.deepEqual(await short.hit({ key: "k" }), { error: LIMITED, retryAfterMs: MINUTE });
    assert.deepEqual(await c.hit({ key: "k" }), { error: LIMITED, retryAfterMs: 10 * MINUTE });
  }, { limit: 1 }));

/** `db` whose collections fail their next `failures` upserts with a duplicate-key error. */
function racingDb(db: Db, failures: number): Db {
  const collection = (name: string) =>
    new Proxy(db.collection(name), {
      get(target, prop) {
        if (prop === "findOneAndUpdate" && failures > 0) {
          failures--;
          return () =>
            Promise.reject(Object.assign(new Error("E11000 duplicate key"), { code: 11000 }));
        }
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  return { collection } as unknown as Db;
}

Deno.test("hit() retries once when a racing upsert loses with a duplicate key", () =>
  withConcept(async ({ db, clock }) => {
    const c = new RateLimitingConcept(racingDb(db, 1), { now: () => clock.t, limit: 2 });
    assert.deepEqual(await c.hit({ key: "k" }), { remaining: 1 });
    assert.deepEqual(await c.hit({ key: "k" }), { remaining: 0 });
    assert.deepEqual(await raw(db).find({}, { projection: { _id: 0, count: 1 } }).toArray(), [
      { count: 2 },
    ]);
  }));

Deno.test("hit() throws a duplicate key that persists past the retry", () =>
  withConcept(async ({ db, clock }) => {
    const c = new RateLimitingConcept(racingDb(db, 2), { now: () => clock.t });
    await assert.rejects(c.hit({ key: "k" }), { code: 11000 });
    assert.equal(await raw(db).countDocuments(), 0);
  }));

Deno.test("_isLimited() tells whether the next hit would be refused, without counting", () =>
  withConcept(async ({ c, clock }) => {
    assert.deepEqual(await c._isLimited({ key: "k" }), [{ limited: false, retryAfterMs: 0 }]);
    await hits(c, "k", 2);
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(await c._isLimited({ key: "k" }), [{ limited: false, retryAfterMs: 0 }]);
    }
    assert.deepEqual(await c.hit({ key: "k" }), { remaining: 0 });
    clock.t = T0 + 90 * SECOND;
    assert.deepEqual(await c._isLimited({ key: "k" }), [{
      limited: true,
      retryAfterMs: 8 * MINUTE + 30 * SECOND,
    }]);
    assert.deepEqual(await c.hit({ key: "k" }), {
      error: LIMITED,
      retryAfterMs: 8 * MINUTE + 30 * SECOND,
    });
  }, { limit: 3 }));

Deno.test("_isLimited() of a key never hit writes nothing", () =>
  withConcept(async ({ c, db }) => {
    assert.deepEqual(await c._isLimited({ key: "never" }), [{ limited: false, retryAfterMs: 0 }]);
    assert.equal(await raw(db).countDocuments(), 0);
  }));

Deno.test("reset() forgets a key's attempts, in every window, and only that key's", () =>
  withConcept(async ({ c, db, clock }) => {
    clock.t = T0 + 9 * MINUTE;
    await hits(c, "login:user:alice", 2);
    clock.t = T0 + 11 * MINUTE;
    await hits(c, "login:user:alice", 2);
    await hits(c, "login:ip:203.0.113.7", 2);
    assert.deepEqual(await c._isLimited({ key: "login:user:alice" }), [{
      limited: true,
      retryAfterMs: 9 * MINUTE,
    }]);
    assert.deepEqual(await c.reset({ key: "login:user:alice" }), {});
    assert.deepEqual(await c._isLimited({ key: "login:user:alice" }), [{
      limited: false,
      retryAfterMs: 0,
    }]);
    assert.deepEqual(await c.hit({ key: "login:user:alice" }), { remaining: 1 });
    assert.deepEqual(await c._isLimited({ key: "login:ip:203.0.113.7" }), [{
      limited: true,
      retryAfterMs: 9 * MINUTE,
    }]);
    assert.deepEqual(
      await raw(db).find({}, { projection: { _id: 0, key: 1, count: 1 } }).sort({ key: 1 })
        .toArray(),
      [{ key: "login:ip:203.0.113.7", count: 2 }, { key: "login:user:alice", count: 1 }],
    );
  }, { limit: 2 }));

Deno.test("reset() of a key never hit succeeds and changes nothing", () =>
  withConcept(async ({ c, db }) => {
    await c.hit({ key: "a" });
    assert.deepEqual(await c.reset({ key: "b" }), {});
    assert.equal(await raw(db).countDocuments(), 1);
  }));

Deno.test("hit(), reset() and _isLimited() accept keys of 1 and 256 characters of any kind", () =>
  withConcept(async ({ c }) => {
    for (const key of ["x", "k".repeat(256), "😀", "login:user:用户", "$ne", "a.b", " "]) {
      assert.deepEqual(await c.hit({ key }), { remaining: 0 }, key);
      assert.deepEqual(await c._isLimited({ key }), [{
        limited: true,
        retryAfterMs: 10 * MINUTE,
      }]);
      assert.deepEqual(await c.reset({ key }), {});
      assert.deepEqual(await c._isLimited({ key }), [{ limited: false, retryAfterMs: 0 }]);
    }
  }, { limit: 1 }));

const JUNK: unknown[] = [
  { $ne: null },
  { $gt: "" },
  { $regex: ".*" },
  { $exists: true },
  ["k"],
  [],
  {},
  1,
  0,
  true,
  null,
  undefined,
  "",
  "k".repeat(257),
  "k".repeat(1_000_000),
];

Deno.test("hit(), reset() and _isLimited() refuse junk keys and never match a stored one", () =>
  withConcept(async ({ c, db }) => {
    await hits(c, "k", 3);
    const before = await raw(db).find({}).toArray();
    for (const key of JUNK) {
      const label = JSON.stringify(key)?.slice(0, 20);
      assert.deepEqual(
        await c.hit({ key: key as string }),
        { error: Errors.HIT_INVALID_KEY },
        label,
      );
      assert.deepEqual(await c.reset({ key: key as string }), { error: Errors.RESET_INVALID_KEY });
      assert.deepEqual(await c._isLimited({ key: key as string }), [{
        error: Errors.IS_LIMITED_INVALID_KEY,
      }]);
    }
    for (const input of [null, undefined, [], "k", 1, [{ key: "k" }]]) {
      assert.deepEqual(await c.hit(input as never), { error: Errors.HIT_INVALID_KEY });
      assert.deepEqual(await c.reset(input as never), { error: Errors.RESET_INVALID_KEY });
      assert.deepEqual(await c._isLimited(input as never), [{
        error: Errors.IS_LIMITED_INVALID_KEY,
      }]);
    }
    assert.deepEqual(await raw(db).find({}).toArray(), before);
  }, { limit: 2 }));

Deno.test("constructor() refuses a limit or window that is not a positive integer", () => {
  const db = { collection: () => ({}) } as unknown as Db;
  for (const bad of [0, -1, 1.5, NaN, Infinity, "10"]) {
    assert.throws(() => new RateLimitingConcept(db, { limit: bad as number }), RangeError);
    assert.throws(() => new RateLimitingConcept(db, { windowMs: bad as number }), RangeError);
  }
  assert.ok(new RateLimitingConcept(db, { limit: 1, windowMs: 1 }));
});

// ---------------------------------------------------------------------------------------------
// take / giveBack: a slot reserved before the attempt, returned when the attempt does not count.

/** The counts of every stored window, by key. */
async function counts(db: Db): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const d of await raw(db).find({}).toArray()) out[d.key] = d.count;
  return out;
}

Deno.test("take() 60 at once on one key with limit 10: exactly 10 succeed, and the count is 10", () =>
  withConcept(async ({ c, db }) => {
    const results = await Promise.all(
      Array.from({ length: 60 }, () => c.take({ keys: ["login:user:alice"] })),
    );
    const taken = results.filter((r) => "window" in r) as { window: number; remaining: number }[];
    assert.equal(taken.length, 10);
    assert.deepEqual(
      taken.map((r) => r.remaining).sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    assert.ok(taken.every((r) => r.window === T0));
    assert.deepEqual(
      results.filter((r) => "error" in r),
      Array(50).fill({ error: Errors.TAKE_LIMITED, retryAfterMs: 10 * MINUTE }),
    );
    // Refused takes gave their slots back: the count is what the 10 holders took.
    assert.deepEqual(await counts(db), { "login:user:alice": 10 });
  }));

Deno.test("take() of two keys refused by one leaves the other as it was", () =>
  withConcept(async ({ c, db }) => {
    assert.deepEqual(await c.take({ keys: ["ip:a"] }), { window: T0, remaining: 1 });
    assert.deepEqual(await c.take({ keys: ["ip:a", "user:x"] }), { window: T0, remaining: 0 });
    assert.deepEqual(await c.take({ keys: ["user:y", "ip:a"] }), {
      error: Errors.TAKE_LIMITED,
      retryAfterMs: 10 * MINUTE,
    });
    assert.deepEqual(await counts(db), { "ip:a": 2, "user:x": 1, "user:y": 0 });
    // A key named twice is taken once.
    assert.deepEqual(await c.take({ keys: ["user:z", "user:z"] }), { window: T0, remaining: 1 });
    assert.equal((await counts(db))["user:z"], 1);
  }, { limit: 2 }));

Deno.test("take() and hit() count in the same windows", () =>
  withConcept(async ({ c }) => {
    await hits(c, "k", 2);
    assert.deepEqual(await c.take({ keys: ["k"] }), { window: T0, remaining: 0 });
    assert.deepEqual(await c._isLimited({ key: "k" }), [{
      limited: true,
      retryAfterMs: 10 * MINUTE,
    }]);
  }, { limit: 3 }));

Deno.test("giveBack() returns one slot per key in the window taken, never below 0", () =>
  withConcept(async ({ c, db, clock }) => {
    const first = await c.take({ keys: ["user:a", "ip:b"] });
    const second = await c.take({ keys: ["user:a", "ip:b"] });
    assert.deepEqual([first, second], [{ window: T0, remaining: 1 }, { window: T0, remaining: 0 }]);
    assert.deepEqual(await c.take({ keys: ["user:a"] }), {
      error: Errors.TAKE_LIMITED,
      retryAfterMs: 10 * MINUTE,
    });
    // The attempt that held the first slots succeeded: its slots come back.
    assert.deepEqual(await c.giveBack({ keys: ["user:a", "ip:b"], window: T0 }), {});
    assert.deepEqual(await counts(db), { "user:a": 1, "ip:b": 1 });
    assert.deepEqual(await c.take({ keys: ["user:a"] }), { window: T0, remaining: 0 });
    // Giving back more than was taken stops at 0.
    for (let i = 0; i < 4; i++) await c.giveBack({ keys: ["ip:b"], window: T0 });
    assert.deepEqual(await counts(db), { "user:a": 2, "ip:b": 0 });
    // A later window is its own: giving back in the old one does not touch it.
    clock.t = T0 + 10 * MINUTE;
    assert.deepEqual(await c.take({ keys: ["user:a"] }), {
      window: T0 + 10 * MINUTE,
      remaining: 1,
    });
    assert.deepEqual(await c.giveBack({ keys: ["user:a"], window: T0 }), {});
    const later = await raw(db).findOne({ _id: `${10 * MINUTE}:${T0 + 10 * MINUTE}:user:a` });
    assert.equal(later?.count, 1);
  }, { limit: 2 }));

Deno.test("take() and giveBack() refuse junk keys and windows, and write nothing", () =>
  withConcept(async ({ c, db }) => {
    await c.take({ keys: ["k"] });
    const before = await raw(db).find({}).toArray();
    const junkLists = [
      ...JUNK.map((key) => [key]),
      [],
      Array(9).fill("k"),
      "k",
      { $in: ["k"] },
      null,
      undefined,
    ];
    for (const keys of junkLists) {
      const label = JSON.stringify(keys)?.slice(0, 30);
      assert.deepEqual(await c.take({ keys: keys as string[] }), {
        error: Errors.TAKE_INVALID_KEYS,
      }, label);
      assert.deepEqual(await c.giveBack({ keys: keys as string[], window: T0 }), {
        error: Errors.GIVE_BACK_INVALID_KEYS,
      }, label);
    }
    for (const window of [T0 + 1, -10 * MINUTE, 1.5, NaN, "0", null, undefined, { $gt: 0 }]) {
      assert.deepEqual(await c.giveBack({ keys: ["k"], window: window as number }), {
        error: Errors.GIVE_BACK_INVALID_WINDOW,
      }, String(window));
    }
    for (const input of [null, undefined, [], "k", 1]) {
      assert.deepEqual(await c.take(input as never), { error: Errors.TAKE_INVALID_KEYS });
      assert.deepEqual(await c.giveBack(input as never), { error: Errors.GIVE_BACK_INVALID_KEYS });
    }
    assert.deepEqual(await raw(db).find({}).toArray(), before);
  }));

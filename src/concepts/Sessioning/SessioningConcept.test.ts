/**
 * Tests of the Sessioning concept: its principle as a trace, every action's requires and effects
 * (seen through the queries), expiry with an injected clock, races, junk inputs and what the raw
 * collection holds. Each test has a database of its own, so the file runs with --parallel.
 */
import assert from "node:assert/strict";
import { type Db, MongoClient } from "mongodb";
import { serverUrl, testDb } from "../../../tests/support/test_db.ts";
import type { ID } from "../../utils/types.ts";
import SessioningConcept, {
  type SessionEvent,
  type SessioningOptions,
} from "./SessioningConcept.ts";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** The tests' "now": far in the future, so the server's TTL monitor (real time) reaps nothing. */
const T0 = Date.UTC(2100, 0, 1);
const at = (ms: number) => new Date(T0 + ms);

const TOKEN = /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/;
const DENIED_USER = { error: "Cannot get user: invalid or expired session" };
const DENIED_SESSION = { error: "Cannot get session: invalid or expired session" };
const alice = "user:alice" as ID;
const bob = "user:bob" as ID;

interface Ctx {
  c: SessioningConcept;
  db: Db;
  client: MongoClient;
  clock: { t: number };
  events: SessionEvent[];
  /** A concept on the same database with other options (same clock and events). */
  other(options: SessioningOptions): SessioningConcept;
}

/** Runs `fn` with a concept on a fresh database, a clock at T0 and an event log. */
async function withConcept(fn: (ctx: Ctx) => Promise<void>, options: SessioningOptions = {}) {
  const [db, client] = await testDb();
  try {
    const clock = { t: T0 };
    const events: SessionEvent[] = [];
    const make = (o: SessioningOptions) =>
      new SessioningConcept(db, {
        now: () => new Date(clock.t),
        onEvent: (e) => events.push(e),
        ...o,
      });
    await fn({ c: make(options), db, client, clock, events, other: make });
  } finally {
    await client.close();
  }
}

/** The success value of a result, failing the test on `{ error }`. */
function ok<T extends object>(result: T | { error: string }): T {
  if ("error" in result) assert.fail(`unexpected error: ${result.error}`);
  return result as T;
}

async function newSession(c: SessioningConcept, user: ID = alice, extra = {}): Promise<string> {
  return ok(await c.create({ user, ...extra })).session;
}

const idOf = (token: string) => token.split(".")[0];
const secretOf = (token: string) => token.split(".")[1];

/** A token with the same public id and another (well-formed) secret. */
function wrongSecret(token: string): string {
  const s = secretOf(token);
  return `${idOf(token)}.${s[0] === "A" ? "B" : "A"}${s.slice(1)}`;
}

const UNKNOWN = `${"Z".repeat(22)}.${"Q".repeat(43)}`;

Deno.test("principle: a created session is the user's on every request until it is deleted", () =>
  withConcept(async ({ c }) => {
    // A user has been authenticated: a session is created for them.
    const { session } = ok(await c.create({ user: alice }));
    // Requests presenting the token are treated as the user's, again and again.
    assert.deepEqual(await c._getUser({ session }), [{ user: alice }]);
    assert.deepEqual(await c._getUser({ session }), [{ user: alice }]);
    // Logout deletes the session.
    assert.deepEqual(await c.delete({ session }), {});
    // The token no longer works.
    assert.deepEqual(await c._getUser({ session }), [DENIED_USER]);
  }));

Deno.test("create() returns an <id>.<secret> token and stores the session's facts", () =>
  withConcept(async ({ c, events }) => {
    const session = await newSession(c, alice, { userAgent: "Firefox/140", ip: "203.0.113.9" });
    assert.match(session, TOKEN);
    assert.deepEqual(await c._getSession({ session }), [{
      id: idOf(session),
      user: alice,
      createdAt: at(0),
      lastSeenAt: at(0),
      expiresAt: at(DAY),
    }]);
    assert.deepEqual(await c._getSessions({ user: alice }), [{
      id: idOf(session),
      createdAt: at(0),
      lastSeenAt: at(0),
      expiresAt: at(DAY),
      userAgent: "Firefox/140",
      ip: "203.0.113.9",
    }]);
    assert.deepEqual(events.filter((e) => e.type !== "validated"), [
      { type: "created", id: idOf(session), user: alice, at: at(0) },
    ]);
  }));

Deno.test("create() gives every session its own id and secret", () =>
  withConcept(async ({ c }) => {
    const tokens = await Promise.all(Array.from({ length: 40 }, () => newSession(c)));
    assert.equal(new Set(tokens.map(idOf)).size, 40);
    assert.equal(new Set(tokens.map(secretOf)).size, 40);
    assert.equal((await c._getSessions({ user: alice })).length, 40);
  }));

Deno.test("create() requires a valid user, userAgent and ip", () =>
  withConcept(async ({ c, db }) => {
    const badUser = {
      error: "Cannot create session: user must be a non-empty string of at most 128 characters",
    };
    const badIp = {
      error: "Cannot create session: ip must be a string of at most 64 printable characters",
    };
    for (const user of [undefined, null, "", "u".repeat(129), 42, {}, [], { $ne: null }]) {
      assert.deepEqual(await c.create({ user: user as ID }), badUser);
    }
    for (const input of [null, undefined, "user:alice", 7, [alice]]) {
      assert.deepEqual(
        await c.create(input as unknown as { user: ID }),
        { error: "Cannot create session: expected { user }" },
      );
    }
    for (const userAgent of [1, null, {}, ["x"]]) {
      assert.deepEqual(
        await c.create({ user: alice, userAgent: userAgent as string }),
        { error: "Cannot create session: userAgent must be a string" },
      );
    }
    for (const ip of ["1".repeat(65), "10.0.0.1 x", "10.0.0.1\n", 10, { $ne: null }, null]) {
      assert.deepEqual(await c.create({ user: alice, ip: ip as string }), badIp);
    }
    assert.equal(await db.collection("Sessioning.sessions").countDocuments(), 0);
    // The longest valid user works.
    assert.match(await newSession(c, "u".repeat(128) as ID), TOKEN);
  }));

Deno.test("create() cuts a long userAgent, drops control characters and omits empty extras", () =>
  withConcept(async ({ c }) => {
    const a = await newSession(c, alice, { userAgent: "A\u0000g\nent" + "x".repeat(1000) });
    const [info] = await c._getSessions({ user: alice });
    assert.deepEqual(info, {
      id: idOf(a),
      createdAt: at(0),
      lastSeenAt: at(0),
      expiresAt: at(DAY),
      userAgent: ("Agent" + "x".repeat(1000)).slice(0, 256),
    });
    await newSession(c, bob, { userAgent: "", ip: "" });
    assert.deepEqual(Object.keys((await c._getSessions({ user: bob }))[0]).sort(), [
      "createdAt",
      "expiresAt",
      "id",
      "lastSeenAt",
    ]);
  }));

Deno.test("delete() requires a live session with that token", () =>
  withConcept(async ({ c, clock }) => {
    const fail = { error: "Cannot delete session: no such session" };
    const session = await newSession(c);
    for (const bad of [UNKNOWN, wrongSecret(session), idOf(session), session + "A", ""]) {
      assert.deepEqual(await c.delete({ session: bad }), fail);
    }
    // None of those touched the real session.
    assert.deepEqual(await c._getUser({ session }), [{ user: alice }]);
    assert.deepEqual(await c.delete({ session }), {});
    assert.deepEqual(await c.delete({ session }), fail);
    // An expired session cannot be deleted either: it is already over.
    const old = await newSession(c);
    clock.t += DAY;
    assert.deepEqual(await c.delete({ session: old }), fail);
  }));

Deno.test("delete() ends that session only", () =>
  withConcept(async ({ c, events }) => {
    const a = await newSession(c);
    const b = await newSession(c);
    assert.deepEqual(await c.delete({ session: a }), {});
    assert.deepEqual(await c._getUser({ session: a }), [DENIED_USER]);
    assert.deepEqual(await c._getUser({ session: b }), [{ user: alice }]);
    assert.deepEqual(events.filter((e) => e.type === "deleted"), [
      { type: "deleted", id: idOf(a), user: alice, at: at(0) },
    ]);
  }));

Deno.test("_getUser() denies unknown, wrong-secret, expired and revoked tokens alike", () =>
  withConcept(async ({ c, clock, events }) => {
    const live = await newSession(c);
    const revoked = await newSession(c);
    const expired = await newSession(c);
    ok(await c.revoke({ user: alice, id: idOf(revoked) }));
    clock.t += 23 * HOUR;
    ok(await c.touch({ session: live }));
    clock.t += 2 * HOUR; // `expired` has idled out; `live` was touched
    events.length = 0;
    const denials = [];
    for (const session of [UNKNOWN, wrongSecret(live), expired, revoked]) {
      denials.push(...await c._getUser({ session }));
    }
    assert.deepEqual(denials, [DENIED_USER, DENIED_USER, DENIED_USER, DENIED_USER]);
    assert.deepEqual(await c._getUser({ session: live }), [{ user: alice }]);
    const now = at(25 * HOUR);
    assert.deepEqual(events.filter((e) => e.type !== "validated"), [
      { type: "rejected", id: idOf(UNKNOWN), reason: "unknown", at: now },
      { type: "rejected", id: idOf(live), reason: "secret", at: now },
      { type: "expired", id: idOf(expired), user: alice, at: now },
      { type: "rejected", id: idOf(revoked), reason: "unknown", at: now },
    ]);
  }));

Deno.test("_getSession() returns the public facts of a live session, or one error", () =>
  withConcept(async ({ c, clock }) => {
    const session = await newSession(c);
    clock.t += 10 * MINUTE;
    ok(await c.touch({ session }));
    assert.deepEqual(await c._getSession({ session }), [{
      id: idOf(session),
      user: alice,
      createdAt: at(0),
      lastSeenAt: at(10 * MINUTE),
      expiresAt: at(10 * MINUTE + DAY),
    }]);
    for (const bad of [UNKNOWN, wrongSecret(session), "nope"]) {
      assert.deepEqual(await c._getSession({ session: bad }), [DENIED_SESSION]);
    }
    clock.t += 10 * MINUTE + DAY;
    assert.deepEqual(await c._getSession({ session }), [DENIED_SESSION]);
  }));

Deno.test("_getSessions() lists the live sessions newest first, without secrets", () =>
  withConcept(async ({ c, clock }) => {
    const s1 = await newSession(c, alice, { ip: "10.0.0.1" });
    clock.t += 23 * HOUR;
    const s2 = await newSession(c, alice, { userAgent: "curl/8" });
    clock.t += MINUTE;
    const s3 = await newSession(c);
    await newSession(c, bob);
    clock.t += 2 * HOUR; // s1 has idled out
    assert.deepEqual(await c._getSessions({ user: alice }), [
      {
        id: idOf(s3),
        createdAt: at(23 * HOUR + MINUTE),
        lastSeenAt: at(23 * HOUR + MINUTE),
        expiresAt: at(47 * HOUR + MINUTE),
      },
      {
        id: idOf(s2),
        createdAt: at(23 * HOUR),
        lastSeenAt: at(23 * HOUR),
        expiresAt: at(47 * HOUR),
        userAgent: "curl/8",
      },
    ]);
    assert.equal(
      JSON.stringify(await c._getSessions({ user: alice })).includes(secretOf(s2)),
      false,
    );
    assert.deepEqual(await c._getUser({ session: s1 }), [DENIED_USER]);
    assert.deepEqual(await c._getSessions({ user: "user:nobody" as ID }), []);
  }));

Deno.test("touch() slides the idle expiry forward", () =>
  withConcept(async ({ c, clock }) => {
    const session = await newSession(c);
    clock.t += 6 * MINUTE;
    assert.deepEqual(await c.touch({ session }), {
      user: alice,
      id: idOf(session),
      expiresAt: at(6 * MINUTE + DAY),
    });
    clock.t += DAY - MINUTE; // past the first idle limit, within the renewed one
    assert.deepEqual(await c._getUser({ session }), [{ user: alice }]);
    clock.t += MINUTE; // exactly at the renewed limit: over
    assert.deepEqual(await c._getUser({ session }), [DENIED_USER]);
  }));

Deno.test("touch() writes at most once per touch interval", () =>
  withConcept(async ({ c, clock }) => {
    const session = await newSession(c);
    clock.t += 5 * MINUTE - 1;
    assert.deepEqual(await c.touch({ session }), {
      user: alice,
      id: idOf(session),
      expiresAt: at(DAY),
    });
    assert.deepEqual((await c._getSession({ session }))[0], {
      id: idOf(session),
      user: alice,
      createdAt: at(0),
      lastSeenAt: at(0),
      expiresAt: at(DAY),
    });
    clock.t += 1; // a whole interval since the last write
    assert.deepEqual(await c.touch({ session }), {
      user: alice,
      id: idOf(session),
      expiresAt: at(5 * MINUTE + DAY),
    });
    clock.t += MINUTE;
    assert.deepEqual(await c.touch({ session }), {
      user: alice,
      id: idOf(session),
      expiresAt: at(5 * MINUTE + DAY),
    });
    assert.deepEqual(
      (await c._getSession({ session }))[0],
      {
        id: idOf(session),
        user: alice,
        createdAt: at(0),
        lastSeenAt: at(5 * MINUTE),
        expiresAt: at(5 * MINUTE + DAY),
      },
    );
  }));

Deno.test("touch() never extends a session past its absolute expiry", () =>
  withConcept(async ({ c, clock }) => {
    const session = await newSession(c);
    for (let h = 20; h <= 160; h += 20) {
      clock.t = T0 + h * HOUR;
      assert.deepEqual(await c.touch({ session }), {
        user: alice,
        id: idOf(session),
        expiresAt: at(Math.min(7 * DAY, (h + 24) * HOUR)),
      });
    }
    clock.t = T0 + 7 * DAY - 1;
    assert.deepEqual(await c._getUser({ session }), [{ user: alice }]);
    assert.deepEqual(await c.touch({ session }), {
      user: alice,
      id: idOf(session),
      expiresAt: at(7 * DAY),
    });
    clock.t = T0 + 7 * DAY;
    assert.deepEqual(await c._getUser({ session }), [DENIED_USER]);
    assert.deepEqual(await c.touch({ session }), {
      error: "Cannot touch session: no such session",
    });
  }));

Deno.test("touch() requires a live session with that token", () =>
  withConcept(async ({ c, clock }) => {
    const fail = { error: "Cannot touch session: no such session" };
    const session = await newSession(c);
    clock.t += HOUR;
    for (const bad of [UNKNOWN, wrongSecret(session), "x"]) {
      assert.deepEqual(await c.touch({ session: bad }), fail);
    }
    // A wrong secret did not renew the session.
    assert.deepEqual((await c._getSession({ session }))[0], {
      id: idOf(session),
      user: alice,
      createdAt: at(0),
      lastSeenAt: at(0),
      expiresAt: at(DAY),
    });
    clock.t += DAY;
    assert.deepEqual(await c.touch({ session }), fail);
  }));

Deno.test("idle and absolute expiry follow the options", () =>
  withConcept(async ({ c, clock, events }) => {
    const session = await newSession(c);
    clock.t += 59 * MINUTE;
    ok(await c.touch({ session })); // last seen at 59 min: idle limit 1h59
    clock.t = T0 + 119 * MINUTE - 1;
    assert.deepEqual(await c._getUser({ session }), [{ user: alice }]);
    clock.t += 1;
    assert.deepEqual(await c._getUser({ session }), [DENIED_USER]);
    assert.deepEqual(events.filter((e) => e.type !== "validated").at(-1), {
      type: "expired",
      id: idOf(session),
      user: alice,
      at: at(119 * MINUTE),
    });

    clock.t = T0;
    const kept = await newSession(c);
    for (let m = 50; m < 180; m += 50) {
      clock.t = T0 + m * MINUTE;
      ok(await c.touch({ session: kept }));
    }
    clock.t = T0 + 3 * HOUR - 1;
    assert.deepEqual(await c._getUser({ session: kept }), [{ user: alice }]);
    clock.t += 1;
    assert.deepEqual(await c._getUser({ session: kept }), [DENIED_USER]);
  }, { absoluteTtlMs: 3 * HOUR, idleTtlMs: HOUR, touchIntervalMs: MINUTE }));

Deno.test("rotate() gives a new token, kills the old one, keeps createdAt and the absolute limit", () =>
  withConcept(async ({ c, clock, events }) => {
    const old = await newSession(c);
    clock.t += 23 * HOUR;
    const { session } = ok(await c.rotate({ session: old }));
    assert.match(session, TOKEN);
    assert.notEqual(secretOf(session), secretOf(old));
    assert.deepEqual(await c._getUser({ session: old }), [DENIED_USER]);
    assert.deepEqual(await c._getUser({ session }), [{ user: alice }]);
    assert.deepEqual(await c._getSession({ session }), [{
      id: idOf(session),
      user: alice,
      createdAt: at(0),
      lastSeenAt: at(23 * HOUR),
      expiresAt: at(47 * HOUR),
    }]);
    assert.deepEqual(events.filter((e) => e.type === "rotated"), [{
      type: "rotated",
      id: idOf(old),
      user: alice,
      at: at(23 * HOUR),
    }]);
    // The absolute limit (2 days from creation) still holds for the new token.
    clock.t += 23 * HOUR;
    assert.deepEqual(await c.touch({ session }), {
      user: alice,
      id: idOf(session),
      expiresAt: at(2 * DAY),
    });
    clock.t = T0 + 2 * DAY;
    assert.deepEqual(await c._getUser({ session }), [DENIED_USER]);
  }, { absoluteTtlMs: 2 * DAY }));

Deno.test("rotate() requires a live session with that token", () =>
  withConcept(async ({ c, clock }) => {
    const fail = { error: "Cannot rotate session: no such session" };
    const old = await newSession(c);
    for (const bad of [UNKNOWN, wrongSecret(old), idOf(old), 5]) {
      assert.deepEqual(await c.rotate({ session: bad as string }), fail);
    }
    const { session } = ok(await c.rotate({ session: old }));
    assert.deepEqual(await c.rotate({ session: old }), fail);
    assert.deepEqual(await c._getUser({ session }), [{ user: alice }]);
    clock.t += DAY;
    assert.deepEqual(await c.rotate({ session }), fail);
  }));

Deno.test("revoke() ends a session by public id, only for its owner", () =>
  withConcept(async ({ c, clock, events }) => {
    const fail = { error: "Cannot revoke session: no such session" };
    const a = await newSession(c, alice);
    const b = await newSession(c, bob);
    assert.deepEqual(await c.revoke({ user: bob, id: idOf(a) }), fail);
    assert.deepEqual(await c._getUser({ session: a }), [{ user: alice }]);
    assert.deepEqual(await c.revoke({ user: alice, id: idOf(a) }), {});
    assert.deepEqual(await c._getUser({ session: a }), [DENIED_USER]);
    assert.deepEqual(await c._getUser({ session: b }), [{ user: bob }]);
    assert.deepEqual(events.filter((e) => e.type === "revoked"), [
      { type: "revoked", id: idOf(a), user: alice, at: at(0), reason: "revoked" },
    ]);
    assert.deepEqual(await c.revoke({ user: alice, id: idOf(a) }), fail);
    assert.deepEqual(await c.revoke({ user: bob, id: b }), fail); // a token is not an id
    clock.t += DAY;
    assert.deepEqual(await c.revoke({ user: bob, id: idOf(b) }), fail); // expired
    assert.deepEqual(
      await c.revoke({ user: "" as ID, id: idOf(b) }),
      { error: "Cannot revoke session: user must be a non-empty string of at most 128 characters" },
    );
  }));

Deno.test("deleteAllForUser() ends every live session of the user and counts them", () =>
  withConcept(async ({ c, clock, events }) => {
    const old = await newSession(c, alice);
    clock.t += 23 * HOUR;
    const mine = [
      await newSession(c, alice),
      await newSession(c, alice),
      await newSession(c, alice),
    ];
    const theirs = await newSession(c, bob);
    clock.t += 2 * HOUR; // `old` has expired and does not count
    events.length = 0;
    assert.deepEqual(await c.deleteAllForUser({ user: alice }), { count: 3 });
    for (const s of [...mine, old]) {
      assert.deepEqual(await c._getUser({ session: s }), [DENIED_USER]);
    }
    assert.deepEqual(await c._getUser({ session: theirs }), [{ user: bob }]);
    assert.deepEqual(
      events.filter((e) => e.type === "revoked").map((e) => e.id).sort(),
      mine.map(idOf).sort(),
    );
    assert.deepEqual(await c.deleteAllForUser({ user: alice }), { count: 0 });
    assert.deepEqual(
      await c.deleteAllForUser({ user: 5 as unknown as ID }),
      {
        error: "Cannot delete sessions: user must be a non-empty string of at most 128 characters",
      },
    );
  }));

Deno.test("deleteOthers() ends the user's other sessions, keeps this one, and counts them", () =>
  withConcept(async ({ c }) => {
    const [s1, s2, s3] = [await newSession(c), await newSession(c), await newSession(c)];
    const theirs = await newSession(c, bob);
    assert.deepEqual(await c.deleteOthers({ session: s1 }), { count: 2 });
    assert.deepEqual(await c._getUser({ session: s1 }), [{ user: alice }]);
    assert.deepEqual(await c._getUser({ session: s2 }), [DENIED_USER]);
    assert.deepEqual(await c._getUser({ session: s3 }), [DENIED_USER]);
    assert.deepEqual(await c._getUser({ session: theirs }), [{ user: bob }]);
    assert.deepEqual(await c.deleteOthers({ session: s1 }), { count: 0 });
    const fail = { error: "Cannot delete other sessions: no such session" };
    assert.deepEqual(await c.deleteOthers({ session: s2 }), fail);
    assert.deepEqual(await c.deleteOthers({ session: wrongSecret(s1) }), fail);
    assert.deepEqual(await c._getUser({ session: s1 }), [{ user: alice }]);
  }));

/** A second client on the test's server that counts the documents matched by `update` commands. */
function countingClient(client: MongoClient): { spy: MongoClient; matched: () => number } {
  const url = Deno.env.get("MONGODB_URL") ?? serverUrl(client);
  const spy = new MongoClient(url, { monitorCommands: true });
  let n = 0;
  spy.on("commandSucceeded", (e) => {
    if (e.commandName === "update") n += Number((e.reply as { n?: number }).n ?? 0);
  });
  return { spy, matched: () => n };
}

Deno.test("touch() from parallel requests writes once", () =>
  withConcept(async ({ db, client, clock }) => {
    const { spy, matched } = countingClient(client);
    try {
      const c = new SessioningConcept(spy.db(db.databaseName), { now: () => new Date(clock.t) });
      const session = await newSession(c);
      clock.t += 2 * MINUTE;
      const early = await Promise.all(Array.from({ length: 10 }, () => c.touch({ session })));
      assert.deepEqual(
        early,
        Array(10).fill({ user: alice, id: idOf(session), expiresAt: at(DAY) }),
      );
      assert.equal(matched(), 0);
      clock.t += 5 * MINUTE;
      const due = await Promise.all(Array.from({ length: 10 }, () => c.touch({ session })));
      assert.deepEqual(
        due,
        Array(10).fill({ user: alice, id: idOf(session), expiresAt: at(7 * MINUTE + DAY) }),
      );
      assert.equal(matched(), 1);
    } finally {
      await spy.close();
    }
  }));

Deno.test("rotate() racing delete() never resurrects a session", () =>
  withConcept(async ({ c }) => {
    for (let i = 0; i < 20; i++) {
      const old = await newSession(c);
      const [rotated, deleted] = await Promise.all([
        c.rotate({ session: old }),
        c.delete({ session: old }),
      ]);
      assert.deepEqual(await c._getUser({ session: old }), [DENIED_USER]);
      if ("session" in rotated) {
        assert.deepEqual(deleted, { error: "Cannot delete session: no such session" });
        assert.deepEqual(await c._getUser({ session: rotated.session }), [{ user: alice }]);
        ok(await c.delete({ session: rotated.session }));
      } else {
        assert.deepEqual(rotated, { error: "Cannot rotate session: no such session" });
        assert.deepEqual(deleted, {});
      }
      assert.deepEqual(await c._getSessions({ user: alice }), []);
    }
  }));

Deno.test("rotate() racing rotate(): exactly one new token works", () =>
  withConcept(async ({ c }) => {
    const old = await newSession(c);
    const results = await Promise.all([c.rotate({ session: old }), c.rotate({ session: old })]);
    const winners = results.filter((r) => "session" in r) as { session: string }[];
    assert.equal(winners.length, 1);
    assert.deepEqual(results.filter((r) => "error" in r), [
      { error: "Cannot rotate session: no such session" },
    ]);
    assert.deepEqual(await c._getUser({ session: winners[0].session }), [{ user: alice }]);
    assert.equal((await c._getSessions({ user: alice })).length, 1);
  }));

Deno.test("injection: junk in place of a token, user or id is an error, never a match", () =>
  withConcept(async ({ c, db }) => {
    const session = await newSession(c);
    const id = idOf(session);
    const operators = [
      { $ne: null },
      { $gt: "" },
      { $exists: true },
      { $regex: ".*" },
      { $in: [session, id] },
      { $where: "true" },
    ];
    const nonStrings = [undefined, null, 0, 1, true, {}, [], [session], new Date(), ...operators];
    const junkTokens = [
      ...nonStrings,
      "",
      id,
      `${id}.`,
      `.${secretOf(session)}`,
      session + "=",
      ` ${session}`,
      session.replace(".", "$"),
      `${id}.${"$".repeat(43)}`,
      "x".repeat(100_000),
    ];
    const junkUsers = [...nonStrings, "", "u".repeat(129), "u".repeat(100_000)];
    const junkInputs = [null, undefined, 5, "str", [session], [{ session }]];

    for (const t of junkTokens) {
      const input = { session: t as string };
      assert.ok("error" in await c.delete(input));
      assert.ok("error" in await c.touch(input));
      assert.ok("error" in await c.rotate(input));
      assert.ok("error" in await c.deleteOthers(input));
      assert.deepEqual(await c._getUser(input), [DENIED_USER]);
      assert.deepEqual(await c._getSession(input), [DENIED_SESSION]);
    }
    for (const u of junkUsers) {
      const user = u as ID;
      assert.ok("error" in await c.create({ user }));
      assert.ok("error" in await c.revoke({ user, id }));
      assert.ok("error" in await c.deleteAllForUser({ user }));
      const listed = await c._getSessions({ user });
      assert.equal(listed.length, 1);
      assert.ok("error" in listed[0]);
    }
    for (const junkId of junkTokens.filter((t) => t !== id)) {
      assert.ok("error" in await c.revoke({ user: alice, id: junkId as string }));
    }
    for (const input of junkInputs) {
      const any = input as never;
      for (const r of [c.create(any), c.delete(any), c.touch(any), c.rotate(any), c.revoke(any)]) {
        assert.ok("error" in await r);
      }
      assert.ok("error" in await c.deleteAllForUser(any));
      assert.ok("error" in await c.deleteOthers(any));
      for (const q of [c._getUser(any), c._getSession(any), c._getSessions(any)]) {
        const rows = await q;
        assert.equal(rows.length, 1);
        assert.ok("error" in rows[0]);
      }
    }
    // Nothing was created, changed or removed.
    assert.equal(await db.collection("Sessioning.sessions").countDocuments(), 1);
    assert.deepEqual(await c._getSession({ session }), [{
      id,
      user: alice,
      createdAt: at(0),
      lastSeenAt: at(0),
      expiresAt: at(DAY),
    }]);
  }));

Deno.test("store: the raw collection holds no token and no secret", () =>
  withConcept(async ({ c, db, clock, events }) => {
    const issued: string[] = [];
    for (let i = 0; i < 5; i++) {
      issued.push(await newSession(c, i % 2 ? alice : bob, { userAgent: "ua", ip: "::1" }));
    }
    clock.t += 10 * MINUTE;
    ok(await c.touch({ session: issued[0] }));
    issued.push(ok(await c.rotate({ session: issued[1] })).session);
    ok(await c.delete({ session: issued[2] }));
    const docs = await db.collection("Sessioning.sessions").find().toArray();
    assert.equal(docs.length, 4);
    const raw = JSON.stringify(docs);
    const logged = JSON.stringify(events);
    for (const token of issued) {
      assert.equal(raw.includes(token), false);
      assert.equal(raw.includes(secretOf(token)), false);
      assert.equal(logged.includes(secretOf(token)), false);
    }
    const fields = [
      "_id",
      "absoluteExpiresAt",
      "authenticatedAt",
      "createdAt",
      "expiresAt",
      "hash",
      "ip",
      "lastSeenAt",
      "user",
      "userAgent",
    ];
    for (const d of docs) {
      assert.deepEqual(Object.keys(d).sort(), fields);
      assert.equal(typeof d._id, "string");
      assert.match(d.hash, /^[0-9a-f]{64}$/);
      // Neither a stored value nor the id with the hash is a usable token.
      for (const v of Object.values(d)) {
        if (typeof v === "string") assert.doesNotMatch(v, /\.[A-Za-z0-9_-]{43}$/);
      }
      assert.deepEqual(await c._getUser({ session: `${d._id}.${d.hash.slice(0, 43)}` }), [
        DENIED_USER,
      ]);
    }
  }));

Deno.test("store: indexes on user and a TTL index on expiresAt exist after the first action", () =>
  withConcept(async ({ c, db, other }) => {
    await newSession(c);
    await newSession(other({})); // a second instance creates them again, harmlessly
    const indexes = await db.collection("Sessioning.sessions").listIndexes().toArray();
    const byName = Object.fromEntries(indexes.map((i) => [i.name, i]));
    assert.deepEqual(byName["user_1"].key, { user: 1 });
    assert.deepEqual(byName["expiresAt_ttl"].key, { expiresAt: 1 });
    assert.equal(byName["expiresAt_ttl"].expireAfterSeconds, 0);
    assert.equal(indexes.length, 3); // with _id_
  }));

Deno.test("events: an observer that throws does not change an action's outcome", () =>
  withConcept(async ({ other }) => {
    const c = other({
      onEvent: () => {
        throw new Error("observer failed");
      },
    });
    const session = await newSession(c);
    assert.deepEqual(await c._getUser({ session }), [{ user: alice }]);
    assert.deepEqual(await c.delete({ session }), {});
  }));

Deno.test("constructor: inconsistent options are refused", () =>
  withConcept(async ({ other }) => {
    assert.throws(() => other({ idleTtlMs: 2 * DAY, absoluteTtlMs: DAY }), RangeError);
    assert.throws(() => other({ idleTtlMs: 0 }), RangeError);
    assert.throws(() => other({ touchIntervalMs: -1 }), RangeError);
    assert.throws(() => other({ absoluteTtlMs: 1.5 }), RangeError);
    await Promise.resolve();
  }));

// ---------------------------------------------------------------------------------------------
// begin / create with an epoch: a login that began before an ending cannot start a session.

const ENDED = {
  error: "Cannot create session: the user's sessions were ended after this login began",
};

Deno.test("begin() then create(): refused once the user's sessions were ended in between", () =>
  withConcept(async ({ c, db }) => {
    const { epoch } = await c.begin({});
    assert.equal(epoch, 0);
    // A login of alice began (epoch 0); meanwhile she logs out everywhere.
    const before = await newSession(c, alice);
    assert.deepEqual(await c.deleteAllForUser({ user: alice }), { count: 1 });
    assert.deepEqual(await c.create({ user: alice, epoch }), ENDED);
    assert.deepEqual(await c._getSessions({ user: alice }), []);
    assert.deepEqual(await c._getUser({ session: before }), [DENIED_USER]);
    // Another user's login from the same epoch is not affected.
    const theirs = await newSession(c, bob, { epoch });
    assert.deepEqual(await c._getUser({ session: theirs }), [{ user: bob }]);
    // A login that begins after the ending starts a session.
    const later = await c.begin({});
    assert.deepEqual(later, { epoch: 1 });
    const s = await newSession(c, alice, later);
    assert.deepEqual(await c._getUser({ session: s }), [{ user: alice }]);
    // What the store holds: the epoch counter and alice's ending, nothing secret.
    assert.deepEqual(await db.collection("Sessioning.epoch").find({}).toArray(), [
      { _id: "epoch", value: 1 },
    ]);
    assert.deepEqual(await db.collection("Sessioning.users").find({}).toArray(), [
      { _id: alice, endedAt: 1 },
    ]);
  }));

Deno.test("deleteOthers() ends logins in flight too, and keeps the session it was given", () =>
  withConcept(async ({ c }) => {
    const kept = await newSession(c, alice);
    const { epoch } = await c.begin({});
    assert.deepEqual(await c.deleteOthers({ session: kept }), { count: 0 });
    assert.deepEqual(await c.create({ user: alice, epoch }), ENDED);
    assert.deepEqual(await c._getUser({ session: kept }), [{ user: alice }]);
    // Each ending raises the epoch; endedAt only goes up.
    await c.deleteAllForUser({ user: bob });
    assert.deepEqual(await c.begin({}), { epoch: 2 });
    assert.deepEqual(await c.create({ user: alice, epoch: 1 }).then((r) => "session" in r), true);
  }));

Deno.test("create() without an epoch does not check it (a registration)", () =>
  withConcept(async ({ c }) => {
    await c.deleteAllForUser({ user: alice });
    const s = await newSession(c, alice);
    assert.deepEqual(await c._getUser({ session: s }), [{ user: alice }]);
  }));

Deno.test("create() 50 from an epoch racing deleteAllForUser(): none survives", () =>
  withConcept(async ({ c, other }) => {
    // Two app nodes: the logins (all begun before the ending) on one, the ending on the other.
    const node2 = other({});
    const { epoch } = await c.begin({});
    const results: Array<{ session: string } | { error: string }> = [];
    const logins = async (n: number) => {
      for (let i = 0; i < n; i++) results.push(await c.create({ user: alice, epoch }));
    };
    // Some creates run before the ending, some while it runs, most after it.
    await Promise.all([logins(25), node2.deleteAllForUser({ user: alice }), logins(25)]);
    const tokens = results.flatMap((r) => "session" in r ? [r.session] : []);
    for (const t of tokens) assert.deepEqual(await c._getUser({ session: t }), [DENIED_USER]);
    assert.deepEqual(await c._getSessions({ user: alice }), []);
    const refused = results.filter((r) => "error" in r);
    assert.ok(refused.length > 0);
    assert.ok(refused.every((r) => JSON.stringify(r) === JSON.stringify(ENDED)));
  }));

Deno.test("create() refuses an epoch that is not a whole number", () =>
  withConcept(async ({ c, db }) => {
    for (const epoch of [-1, 1.5, NaN, "0", null, { $gt: 0 }, [0]]) {
      assert.deepEqual(await c.create({ user: alice, epoch: epoch as number }), {
        error: "Cannot create session: epoch must be a whole number from begin",
      }, String(epoch));
    }
    assert.equal(await db.collection("Sessioning.sessions").countDocuments(), 0);
  }));

Deno.test("deleteOthers() and deleteAllForUser() tell why in their events (default revoked, forced)", () =>
  withConcept(async ({ c, events }) => {
    const reasons = () => events.flatMap((e) => e.type === "revoked" ? [e.reason] : []);
    const keep = await newSession(c);
    await newSession(c);
    assert.deepEqual(await c.deleteOthers({ session: keep }), { count: 1 });
    await newSession(c);
    assert.deepEqual(await c.deleteOthers({ session: keep, reason: "forced" }), { count: 1 });
    assert.deepEqual(await c.deleteAllForUser({ user: alice }), { count: 1 });
    await newSession(c);
    assert.deepEqual(await c.deleteAllForUser({ user: alice, reason: "revoked" }), { count: 1 });
    assert.deepEqual(reasons(), ["revoked", "forced", "forced", "revoked"]);
    const other = await newSession(c);
    assert.deepEqual(
      await c.deleteOthers({ session: other, reason: "bored" as never }),
      { error: "Cannot delete other sessions: reason must be revoked or forced" },
    );
    assert.deepEqual(
      await c.deleteAllForUser({ user: alice, reason: { $ne: null } as never }),
      { error: "Cannot delete sessions: reason must be revoked or forced" },
    );
    assert.deepEqual(await c._getUser({ session: other }), [{ user: alice }]);
  }));

Deno.test("_getUser() tells each check's result in a validated event", () =>
  withConcept(async ({ c, clock, events }) => {
    const live = await newSession(c);
    const expiring = await newSession(c);
    clock.t += 23 * HOUR;
    ok(await c.touch({ session: live }));
    clock.t += 2 * HOUR;
    events.length = 0;
    for (const session of [live, UNKNOWN, wrongSecret(live), expiring, "junk", expiring]) {
      await c._getUser({ session });
    }
    const checks = events.flatMap((e) => e.type === "validated" ? [e] : []);
    assert.deepEqual(checks.map((e) => e.result), [
      "ok",
      "unknown",
      "bad_secret",
      "expired",
      "malformed",
      // The expired session was removed by the check that found it.
      "unknown",
    ]);
    for (const e of checks) {
      assert.ok(e.seconds >= 0 && Number.isFinite(e.seconds));
      assert.deepEqual(e.at, at(25 * HOUR));
    }
  }));

Deno.test("_getUser() removes an expired session and tells its expiry once, across instances", () =>
  withConcept(async ({ c, db, clock, events, other }) => {
    const session = await newSession(c);
    clock.t += DAY;
    const second = other({});
    assert.deepEqual(await c._getUser({ session }), [DENIED_USER]);
    assert.deepEqual(await second._getUser({ session }), [DENIED_USER]);
    assert.deepEqual(await c._getUser({ session }), [DENIED_USER]);
    assert.deepEqual(events.filter((e) => e.type === "expired"), [
      { type: "expired", id: idOf(session), user: alice, at: at(DAY) },
    ]);
    assert.equal(await db.collection("Sessioning.sessions").countDocuments({}), 0);
  }));

Deno.test("_getUser() many at once: each gets its own user; an end on another node is seen by the next", () =>
  withConcept(async ({ c, other }) => {
    const users = Array.from({ length: 30 }, (_, i) => `user:${i}` as ID);
    const tokens = await Promise.all(users.map((u) => newSession(c, u)));
    const elsewhere = other({});
    const checks = tokens.map((session) => c._getUser({ session }));
    // Ended on another instance while those reads are in flight or waiting to be sent.
    assert.deepEqual(await elsewhere.delete({ session: tokens[7] }), {});
    assert.equal(ok(await elsewhere.deleteAllForUser({ user: users[12] })).count, 1);
    // Asked after the ends completed: refused, whatever was in flight.
    const later = [
      c._getUser({ session: tokens[7] }),
      c._getUser({ session: tokens[12] }),
      c._getUser({ session: tokens[8] }),
      c._getUser({ session: wrongSecret(tokens[9]) }),
    ];
    const seen = await Promise.all(checks);
    for (const [i, result] of seen.entries()) {
      // Asked before the ends: either answer is right for 7 and 12; every other is its user's.
      if (i !== 7 && i !== 12) assert.deepEqual(result, [{ user: users[i] }]);
    }
    assert.deepEqual(await Promise.all(later), [
      [DENIED_USER],
      [DENIED_USER],
      [{ user: users[8] }],
      [DENIED_USER],
    ]);
  }));

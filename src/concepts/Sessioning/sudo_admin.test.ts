/**
 * Tests of Sessioning's administrator and sudo parts: listing every user's sessions with a cursor,
 * counting them, ending one by public id, and the password check time (`authenticatedAt`) that
 * `create` sets, `rotate` keeps and `reauthenticate` refreshes. A file of its own beside
 * SessioningConcept.test.ts; each test has a database of its own.
 */
import assert from "node:assert/strict";
import type { Db, MongoClient } from "mongodb";
import { testDb } from "../../../tests/support/test_db.ts";
import type { ID } from "../../utils/types.ts";
import SessioningConcept, { type SessionEvent } from "./SessioningConcept.ts";

const MINUTE = 60_000;
const T0 = Date.UTC(2100, 0, 1);
const alice = "user:alice" as ID;
const bob = "user:bob" as ID;

interface Ctx {
  c: SessioningConcept;
  db: Db;
  clock: { t: number };
  events: SessionEvent[];
}

async function withConcept(fn: (ctx: Ctx) => Promise<void>, sudoTtlMs = 10 * MINUTE) {
  const [db, client]: [Db, MongoClient] = await testDb();
  try {
    const clock = { t: T0 };
    const events: SessionEvent[] = [];
    const c = new SessioningConcept(db, {
      now: () => new Date(clock.t),
      onEvent: (e) => events.push(e),
      sudoTtlMs,
    });
    await fn({ c, db, clock, events });
  } finally {
    await client.close();
  }
}

function ok<T extends object>(result: T | { error: string }): T {
  if ("error" in result) assert.fail(`unexpected error: ${result.error}`);
  return result as T;
}

const idOf = (token: string) => token.split(".")[0];

/** Sessions of alternating users, one a minute from T0, as [token, user]; the clock moves on. */
async function sessions(c: SessioningConcept, clock: { t: number }, n: number) {
  const made: Array<{ token: string; user: ID }> = [];
  for (let i = 0; i < n; i++) {
    const user = i % 2 === 0 ? alice : bob;
    made.push({
      token: ok(await c.create({ user, userAgent: `agent ${i}`, ip: "10.0.0.1" })).session,
      user,
    });
    clock.t += MINUTE;
  }
  return made;
}

Deno.test("_listSessions() pages through every user's live sessions newest first, never a hash", () =>
  withConcept(async ({ c, clock }) => {
    const made = await sessions(c, clock, 5);
    const newestFirst = made.map((m) => idOf(m.token)).reverse();
    const first = await c._listSessions({ limit: 2 });
    assert.deepEqual(first.map((r) => "id" in r && r.id), newestFirst.slice(0, 2));
    const row = first[0];
    assert.ok(!("error" in row));
    assert.deepEqual(Object.keys(row).sort(), [
      "createdAt",
      "cursor",
      "expiresAt",
      "id",
      "ip",
      "lastSeenAt",
      "user",
      "userAgent",
    ]);
    assert.equal(row.user, alice);
    assert.equal(row.userAgent, "agent 4");
    const second = await c._listSessions({
      limit: 2,
      before: (first[1] as { cursor: string }).cursor,
    });
    assert.deepEqual(second.map((r) => "id" in r && r.id), newestFirst.slice(2, 4));
    const third = await c._listSessions({
      limit: 2,
      before: (second[1] as { cursor: string }).cursor,
    });
    assert.deepEqual(third.map((r) => "id" in r && r.id), newestFirst.slice(4));
  }));

Deno.test("_listSessions() keeps ties on createdAt apart by id, and filters by user", () =>
  withConcept(async ({ c }) => {
    // Four sessions at the same instant: the cursor must still visit each exactly once.
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(idOf(ok(await c.create({ user: alice })).session));
    ok(await c.create({ user: bob }));
    const seen: string[] = [];
    let before: string | undefined;
    for (;;) {
      const page = await c._listSessions({ limit: 2, before, user: alice });
      if (page.length === 0) break;
      for (const r of page) {
        assert.ok(!("error" in r));
        assert.equal(r.user, alice);
        seen.push(r.id);
        before = r.cursor;
      }
    }
    assert.deepEqual(seen, [...ids].sort());
  }));

Deno.test("_listSessions() leaves out expired and ended sessions", () =>
  withConcept(async ({ c, clock }) => {
    const [a, b] = await sessions(c, clock, 2);
    ok(await c.delete({ session: a.token }));
    assert.deepEqual((await c._listSessions({ limit: 10 })).map((r) => "id" in r && r.id), [
      idOf(b.token),
    ]);
    clock.t += 25 * 60 * MINUTE; // past the idle TTL (24 h)
    assert.deepEqual(await c._listSessions({ limit: 10 }), []);
  }));

Deno.test("_listSessions() refuses a bad limit, cursor or user instead of querying with it", () =>
  withConcept(async ({ c }) => {
    ok(await c.create({ user: alice }));
    for (
      const input of [
        { limit: 0 },
        { limit: 1001 },
        { limit: 1.5 },
        { limit: "10" },
        { limit: 10, before: { $gt: "" } },
        { limit: 10, before: "123" },
        { limit: 10, before: "123.not a public id!" },
        { limit: 10, user: { $ne: null } },
        { limit: 10, user: "" },
      ]
    ) {
      const result = await c._listSessions(input as never);
      assert.equal(result.length, 1, JSON.stringify(input));
      assert.match((result[0] as { error: string }).error, /^Cannot list sessions: /);
    }
  }));

Deno.test("_countSessions() counts live sessions of everyone or of one user", () =>
  withConcept(async ({ c, clock }) => {
    assert.deepEqual(await c._countSessions({}), [{ count: 0 }]);
    const made = await sessions(c, clock, 3);
    assert.deepEqual(await c._countSessions({}), [{ count: 3 }]);
    assert.deepEqual(await c._countSessions({ user: alice }), [{ count: 2 }]);
    ok(await c.revokeById({ id: idOf(made[0].token) }));
    assert.deepEqual(await c._countSessions({ user: alice }), [{ count: 1 }]);
    assert.deepEqual(await c._countSessions({ user: { $ne: null } } as never), [{
      error: "Cannot count sessions: user must be a non-empty string of at most 128 characters",
    }]);
  }));

Deno.test("revokeById() ends any user's session by its public id and names the user", () =>
  withConcept(async ({ c, clock, events }) => {
    const [a, b] = await sessions(c, clock, 2);
    assert.deepEqual(await c.revokeById({ id: idOf(b.token) }), { user: bob });
    assert.deepEqual(await c._getUser({ session: b.token }), [{
      error: "Cannot get user: invalid or expired session",
    }]);
    assert.deepEqual(await c._getUser({ session: a.token }), [{ user: alice }]);
    assert.deepEqual(events.filter((e) => e.type === "revoked"), [
      { type: "revoked", id: idOf(b.token), user: bob, at: new Date(clock.t), reason: "forced" },
    ]);
    const gone = { error: "Cannot revoke session: no such session" };
    assert.deepEqual(await c.revokeById({ id: idOf(b.token) }), gone);
    assert.deepEqual(await c.revokeById({ id: { $ne: null } } as never), gone);
    assert.deepEqual(await c.revokeById({ id: a.token }), gone);
  }));

Deno.test("reauthenticate() refreshes the password check time, which rotate keeps (sudo)", () =>
  withConcept(async ({ c, clock }) => {
    const token = ok(await c.create({ user: alice })).session;
    const id = idOf(token);
    assert.deepEqual(await c._getSudo({ id }), [{
      authenticatedAt: new Date(T0),
      until: new Date(T0 + 10 * MINUTE),
      recent: true,
    }]);
    clock.t = T0 + 10 * MINUTE;
    assert.deepEqual(await c._getSudo({ id }), [{
      authenticatedAt: new Date(T0),
      until: new Date(T0 + 10 * MINUTE),
      recent: false,
    }]);
    // Rotation (a password change) gives a new token but keeps the session's check time.
    const rotated = ok(await c.rotate({ session: token })).session;
    assert.deepEqual(await c._getSudo({ id }), [{
      authenticatedAt: new Date(T0),
      until: new Date(T0 + 10 * MINUTE),
      recent: false,
    }]);
    // The old token cannot reauthenticate; the new one can.
    assert.deepEqual(await c.reauthenticate({ session: token }), {
      error: "Cannot reauthenticate session: no such session",
    });
    clock.t = T0 + 12 * MINUTE;
    assert.deepEqual(await c.reauthenticate({ session: rotated }), {
      id,
      authenticatedAt: new Date(T0 + 12 * MINUTE),
    });
    assert.deepEqual(await c._getSudo({ id }), [{
      authenticatedAt: new Date(T0 + 12 * MINUTE),
      until: new Date(T0 + 22 * MINUTE),
      recent: true,
    }]);
  }));

Deno.test("reauthenticate() is per session: another session of the user stays as it was", () =>
  withConcept(async ({ c, clock }) => {
    const one = ok(await c.create({ user: alice })).session;
    const two = ok(await c.create({ user: alice })).session;
    clock.t = T0 + 11 * MINUTE;
    ok(await c.reauthenticate({ session: one }));
    assert.equal(
      (await c._getSudo({ id: idOf(one) }) as Array<{ recent: boolean }>)[0].recent,
      true,
    );
    assert.equal(
      (await c._getSudo({ id: idOf(two) }) as Array<{ recent: boolean }>)[0].recent,
      false,
    );
  }, 10 * MINUTE));

Deno.test("_getSudo() is empty for no live session and an error for a malformed id", () =>
  withConcept(async ({ c }) => {
    const token = ok(await c.create({ user: alice })).session;
    ok(await c.delete({ session: token }));
    assert.deepEqual(await c._getSudo({ id: idOf(token) }), []);
    assert.deepEqual(await c._getSudo({ id: { $ne: null } } as never), [{
      error: "Cannot get sudo state: id must be a session's public id",
    }]);
  }));

Deno.test("constructor() refuses a sudo TTL that is not a positive whole number of ms", async () => {
  const [db, client] = await testDb();
  try {
    assert.throws(() => new SessioningConcept(db, { sudoTtlMs: 0 }), RangeError);
    assert.throws(() => new SessioningConcept(db, { sudoTtlMs: 1.5 }), RangeError);
  } finally {
    await client.close();
  }
});

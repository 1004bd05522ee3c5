/**
 * Tests of the AuditLog concept: its principle as a trace (recorded entries are listed newest
 * first and handed to the observer), the refusal of secret-named details, and junk inputs.
 */
import assert from "node:assert/strict";
import type { Db } from "mongodb";
import { testDb } from "../../../tests/support/test_db.ts";
import type { ID } from "../../utils/types.ts";
import AuditLogConcept, { type AuditEntry, Errors } from "./AuditLogConcept.ts";

const T0 = Date.UTC(2100, 0, 1);
const admin = "user:admin" as ID;

async function withConcept(
  fn: (c: AuditLogConcept, clock: { t: number }, seen: AuditEntry[], db: Db) => Promise<void>,
) {
  const [db, client] = await testDb();
  try {
    const clock = { t: T0 };
    const seen: AuditEntry[] = [];
    const c = new AuditLogConcept(db, { now: () => clock.t, onRecord: (e) => seen.push(e) });
    await fn(c, clock, seen, db);
  } finally {
    await client.close();
  }
}

function ok<T extends object>(result: T | { error: string }): T {
  if ("error" in result) assert.fail(`unexpected error: ${result.error}`);
  return result as T;
}

Deno.test("principle: each recorded action is kept with who and when, newest listed first", () =>
  withConcept(async (c, clock, seen) => {
    const first = ok(await c.record({ actor: admin, action: "admin.sessions.list" })).entry;
    clock.t = T0 + 1000;
    const second = ok(
      await c.record({
        actor: admin,
        action: "admin.users.logout",
        target: "user:bob",
        details: { username: "bob", count: 2 },
      }),
    ).entry;
    const expected: AuditEntry[] = [
      {
        id: second,
        at: new Date(T0 + 1000),
        actor: admin,
        action: "admin.users.logout",
        target: "user:bob",
        details: { username: "bob", count: 2 },
      },
      { id: first, at: new Date(T0), actor: admin, action: "admin.sessions.list" },
    ];
    assert.deepEqual(await c._recent({ limit: 10 }), expected);
    assert.deepEqual(await c._recent({ limit: 1 }), expected.slice(0, 1));
    assert.deepEqual(seen, [...expected].reverse());
  }));

Deno.test("record() refuses details under a key that names a secret, and records nothing", () =>
  withConcept(async (c, _clock, seen, db) => {
    for (const key of ["password", "newPassword", "sessionToken", "token", "secret", "hash"]) {
      assert.deepEqual(
        await c.record({ actor: admin, action: "admin.x", details: { [key]: "x" } }),
        { error: Errors.RECORD_DETAILS },
      );
    }
    assert.deepEqual(seen, []);
    assert.equal(await db.collection("AuditLog.entries").countDocuments(), 0);
  }));

Deno.test("record() and _recent() refuse junk inputs", () =>
  withConcept(async (c) => {
    assert.deepEqual(await c.record({ actor: { $ne: null }, action: "a" } as never), {
      error: Errors.RECORD_ACTOR,
    });
    assert.deepEqual(await c.record({ actor: admin, action: "Drop Table" }), {
      error: Errors.RECORD_ACTION,
    });
    assert.deepEqual(await c.record({ actor: admin, action: "a", target: "" }), {
      error: Errors.RECORD_TARGET,
    });
    assert.deepEqual(
      await c.record({ actor: admin, action: "a", details: { nested: { a: 1 } } } as never),
      { error: Errors.RECORD_DETAILS },
    );
    assert.deepEqual(
      await c.record({ actor: admin, action: "a", details: { long: "x".repeat(257) } }),
      { error: Errors.RECORD_DETAILS },
    );
    for (const limit of [0, 1001, 1.5, "3", { $gt: 0 }]) {
      assert.deepEqual(await c._recent({ limit } as never), [{ error: Errors.LIST_LIMIT }]);
    }
  }));

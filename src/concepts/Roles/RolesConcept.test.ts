/**
 * Tests of the Roles concept: its principle as a trace, grant/revoke requires and effects seen
 * through the queries, idempotent and racing grants, and junk inputs refused before any query.
 */
import assert from "node:assert/strict";
import type { Db } from "mongodb";
import { testDb } from "../../../tests/support/test_db.ts";
import type { ID } from "../../utils/types.ts";
import RolesConcept, { Errors } from "./RolesConcept.ts";

const T0 = Date.UTC(2100, 0, 1);
const alice = "user:alice" as ID;
const bob = "user:bob" as ID;

async function withConcept(fn: (c: RolesConcept, clock: { t: number }, db: Db) => Promise<void>) {
  const [db, client] = await testDb();
  try {
    const clock = { t: T0 };
    await fn(new RolesConcept(db, { now: () => clock.t }), clock, db);
  } finally {
    await client.close();
  }
}

Deno.test("principle: a user granted a role holds it until it is revoked", () =>
  withConcept(async (c) => {
    assert.deepEqual(await c._hasRole({ user: alice, role: "admin" }), [{ hasRole: false }]);
    assert.deepEqual(await c.grant({ user: alice, role: "admin" }), { granted: true });
    assert.deepEqual(await c._hasRole({ user: alice, role: "admin" }), [{ hasRole: true }]);
    // Another user, and another role, are not affected.
    assert.deepEqual(await c._hasRole({ user: bob, role: "admin" }), [{ hasRole: false }]);
    assert.deepEqual(await c._hasRole({ user: alice, role: "auditor" }), [{ hasRole: false }]);
    assert.deepEqual(await c.revoke({ user: alice, role: "admin" }), {});
    assert.deepEqual(await c._hasRole({ user: alice, role: "admin" }), [{ hasRole: false }]);
  }));

Deno.test("grant() is idempotent: a second grant changes nothing and says so", () =>
  withConcept(async (c, clock) => {
    assert.deepEqual(await c.grant({ user: alice, role: "admin" }), { granted: true });
    clock.t = T0 + 1000;
    assert.deepEqual(await c.grant({ user: alice, role: "admin" }), { granted: false });
    assert.deepEqual(await c._getHolders({ role: "admin" }), [
      { user: alice, grantedAt: new Date(T0) },
    ]);
  }));

Deno.test("grant() racing grants of one role to one user make one grant", () =>
  withConcept(async (c) => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () => c.grant({ user: alice, role: "admin" })),
    );
    assert.equal(results.filter((r) => "granted" in r && r.granted).length, 1);
    assert.equal(results.filter((r) => "granted" in r && !r.granted).length, 7);
    assert.equal((await c._getHolders({ role: "admin" })).length, 1);
  }));

Deno.test("revoke() of a role the user does not hold is an error", () =>
  withConcept(async (c) => {
    assert.deepEqual(await c.revoke({ user: alice, role: "admin" }), {
      error: Errors.REVOKE_NOT_HELD,
    });
    await c.grant({ user: bob, role: "admin" });
    assert.deepEqual(await c.revoke({ user: alice, role: "admin" }), {
      error: Errors.REVOKE_NOT_HELD,
    });
    assert.deepEqual(await c._hasRole({ user: bob, role: "admin" }), [{ hasRole: true }]);
  }));

Deno.test("_getHolders() lists a role's holders by grant time, and no one else", () =>
  withConcept(async (c, clock) => {
    assert.deepEqual(await c._getHolders({ role: "admin" }), []);
    await c.grant({ user: bob, role: "admin" });
    clock.t = T0 + 5;
    await c.grant({ user: alice, role: "admin" });
    await c.grant({ user: alice, role: "auditor" });
    assert.deepEqual(await c._getHolders({ role: "admin" }), [
      { user: bob, grantedAt: new Date(T0) },
      { user: alice, grantedAt: new Date(T0 + 5) },
    ]);
  }));

Deno.test("grant(), revoke() and the queries refuse junk before it reaches a query", () =>
  withConcept(async (c, _clock, db) => {
    const junkUsers = [{ $ne: null }, "", "x".repeat(129), 42, undefined];
    for (const user of junkUsers) {
      assert.deepEqual(await c.grant({ user, role: "admin" } as never), {
        error: Errors.GRANT_USER,
      });
      assert.deepEqual(await c.revoke({ user, role: "admin" } as never), {
        error: Errors.REVOKE_USER,
      });
      assert.deepEqual(await c._hasRole({ user, role: "admin" } as never), [{
        error: Errors.HAS_ROLE_INVALID,
      }]);
    }
    for (const role of [{ $gt: "" }, "", "Admin", "a:b", "x".repeat(33), "1admin"]) {
      assert.deepEqual(await c.grant({ user: alice, role } as never), {
        error: Errors.GRANT_ROLE,
      });
      assert.deepEqual(await c.revoke({ user: alice, role } as never), {
        error: Errors.REVOKE_ROLE,
      });
      assert.deepEqual(await c._getHolders({ role } as never), [{ error: Errors.LIST_INVALID }]);
    }
    assert.deepEqual(await c.grant(null as never), { error: Errors.GRANT_USER });
    assert.equal(await db.collection("Roles.grants").countDocuments(), 0);
  }));

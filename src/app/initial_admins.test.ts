/**
 * ADMIN_USERNAMES at start: listed users that exist become administrators, unlisted holders lose
 * the role, names not registered yet are reported and granted at the first start after they are.
 */
import assert from "node:assert/strict";
import { testDb } from "../../tests/support/test_db.ts";
import { ConfigError } from "../config.ts";
import { createConcepts } from "./concepts.ts";
import { applyInitialAdmins } from "./initial_admins.ts";

const WEAK = { memoryCost: 256, timeCost: 1, parallelism: 1 };
const PASSWORD = "correct horse battery";

Deno.test("applyInitialAdmins() grants the listed users, revokes the unlisted, waits for the unregistered", async () => {
  const [db, client] = await testDb();
  try {
    const concepts = createConcepts(db, { passwordAuthentication: { argon2: WEAK } });
    const { PasswordAuthentication: P, Roles } = concepts;
    await P.register({ user: "u-alice", username: "alice", password: PASSWORD } as never);
    await P.register({ user: "u-bob", username: "bob", password: PASSWORD } as never);
    await Roles.grant({ user: "u-bob" as never, role: "admin" });

    // "Carol" has no account yet: reported, not granted; bob is no longer listed.
    assert.deepEqual(await applyInitialAdmins(concepts, ["Alice", "Carol"]), {
      admins: ["u-alice"],
      missing: ["carol"],
      revoked: ["u-bob"],
    });
    assert.deepEqual(await Roles._hasRole({ user: "u-alice" as never, role: "admin" }), [{
      hasRole: true,
    }]);
    assert.deepEqual(await Roles._hasRole({ user: "u-bob" as never, role: "admin" }), [{
      hasRole: false,
    }]);

    // Carol registers: registering alone gives no role; the next start grants it.
    await P.register({ user: "u-carol", username: "carol", password: PASSWORD } as never);
    assert.deepEqual(await Roles._hasRole({ user: "u-carol" as never, role: "admin" }), [{
      hasRole: false,
    }]);
    assert.deepEqual(await applyInitialAdmins(concepts, ["Alice", "Carol"]), {
      admins: ["u-alice", "u-carol"],
      missing: [],
      revoked: [],
    });
    await assert.rejects(() => applyInitialAdmins(concepts, ["no spaces allowed"]), ConfigError);
  } finally {
    await client.close();
  }
});

/**
 * The administrators' API end to end (HTTP app, real engine, syncs and concepts, a database of
 * its own): 401 without a session, 403 for a non-administrator, sudo mode (a password check at
 * most SUDO_TTL ago, per session, kept across rotation, refreshed by /api/auth/reauthenticate,
 * which is throttled), listing every user's sessions with paging and a username filter, the
 * count, ending one session and a forced logout, and the audit log of each action.
 */
import assert from "node:assert/strict";
import RolesConcept from "../src/concepts/Roles/RolesConcept.ts";
import type { ID } from "../src/utils/types.ts";
import { asCookie, cookieOf, type Harness, PASSWORD, withApi } from "./auth_harness.ts";

const MINUTE = 60_000;
const ADMIN_ROUTES: Array<[string, Record<string, unknown>]> = [
  ["/api/admin/sessions", {}],
  ["/api/admin/sessions/count", {}],
  ["/api/admin/sessions/end", { id: "AAAAAAAAAAAAAAAAAAAAAA" }],
  ["/api/admin/users/logout", { username: "alice" }],
];
const UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

async function register(h: Harness, username: string): Promise<{ user: ID; token: string }> {
  const reg = await h.call("POST", "/api/auth/register", { username, password: PASSWORD }, {
    "user-agent": UA,
  });
  assert.equal(reg.status, 201, JSON.stringify(reg.json));
  return { user: (reg.json as { user: ID }).user, token: cookieOf(reg.headers)! };
}

async function login(h: Harness, username: string): Promise<string> {
  const res = await h.call("POST", "/api/auth/login", { username, password: PASSWORD });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return cookieOf(res.headers)!;
}

/** An administrator (granted as ADMIN_USERNAMES would be) with a fresh session. */
async function admin(h: Harness, username = "root") {
  const made = await register(h, username);
  await new RolesConcept(h.db).grant({ user: made.user, role: "admin" });
  return made;
}

const me = (h: Harness, token: string) => h.call("GET", "/api/auth/me", undefined, asCookie(token));

Deno.test("admin API: 401 without a session, 403 for a user who is not an administrator", async () => {
  await withApi(async (h) => {
    const alice = await register(h, "alice");
    for (const [path, body] of ADMIN_ROUTES) {
      const anonymous = await h.call("POST", path, body);
      assert.equal(anonymous.status, 401, path);
      const plain = await h.call("POST", path, body, asCookie(alice.token));
      assert.equal(plain.status, 403, path);
      assert.deepEqual(plain.json, {
        error: "Cannot use administrator route: not an administrator",
      });
    }
    // Nothing was ended by the refused calls.
    assert.equal((await me(h, alice.token)).status, 200);
  });
});

Deno.test("admin API: list newest first without tokens, count, end one, forced logout, audit", async () => {
  await withApi(async (h) => {
    const root = await admin(h);
    h.now.ms += 1000;
    const alice = await register(h, "alice");
    h.now.ms += 1000;
    const alice2 = await login(h, "alice");
    h.now.ms += 1000;
    const bob = await register(h, "bob");

    const list = await h.call("GET", "/api/admin/sessions", undefined, asCookie(root.token));
    assert.equal(list.status, 200, JSON.stringify(list.json));
    const { sessions, next } = list.json as {
      sessions: Array<Record<string, unknown>>;
      next: string | null;
    };
    assert.equal(next, null);
    assert.deepEqual(sessions.map((s) => s.username), ["bob", "alice", "alice", "root"]);
    assert.deepEqual(sessions.map((s) => s.id), [
      bob.token.split(".")[0],
      alice2.split(".")[0],
      alice.token.split(".")[0],
      root.token.split(".")[0],
    ]);
    assert.deepEqual(Object.keys(sessions[0]).sort(), [
      "createdAt",
      "device",
      "expiresAt",
      "id",
      "ip",
      "lastSeenAt",
      "user",
      "userAgent",
      "username",
    ]);
    assert.equal(sessions[0].device, "Chrome 120 on Linux");
    assert.equal(sessions[0].ip, "192.0.2.1");
    assert.equal(sessions[0].user, bob.user);
    const text = JSON.stringify(list.json);
    for (const t of [root.token, alice.token, alice2, bob.token]) {
      assert.ok(!text.includes(t.split(".")[1]), "a secret in the listing");
    }
    assert.ok(!/hash/i.test(text));

    const count = await h.call("GET", "/api/admin/sessions/count", undefined, asCookie(root.token));
    assert.deepEqual([count.status, count.json], [200, { count: 4 }]);
    const aliceCount = await h.call(
      "POST",
      "/api/admin/sessions/count",
      { username: "ALICE" },
      asCookie(root.token),
    );
    assert.deepEqual([aliceCount.status, aliceCount.json], [200, { count: 2 }]);

    // End bob's one session by its public id: bob's next request is a 401.
    const ended = await h.call("POST", "/api/admin/sessions/end", {
      id: bob.token.split(".")[0],
    }, asCookie(root.token));
    assert.deepEqual([ended.status, ended.json], [200, { user: bob.user }]);
    assert.equal((await me(h, bob.token)).status, 401);
    const again = await h.call("POST", "/api/admin/sessions/end", {
      id: bob.token.split(".")[0],
    }, asCookie(root.token));
    assert.deepEqual([again.status, again.json], [404, {
      error: "Cannot revoke session: no such session",
    }]);

    // Forced logout of alice: both of her sessions end; root's and nobody else's stay.
    const forced = await h.call(
      "POST",
      "/api/admin/users/logout",
      { username: "alice" },
      asCookie(root.token),
    );
    assert.deepEqual([forced.status, forced.json], [200, { user: alice.user, count: 2 }]);
    assert.equal((await me(h, alice.token)).status, 401);
    assert.equal((await me(h, alice2)).status, 401);
    assert.equal((await me(h, root.token)).status, 200);
    const unknown = await h.call(
      "POST",
      "/api/admin/users/logout",
      { username: "nobody" },
      asCookie(root.token),
    );
    assert.deepEqual([unknown.status, unknown.json], [404, {
      error: "Cannot log out user: no such user",
    }]);

    // The audit log: who, what, to whom; never a token or password.
    const entries = await h.db.collection("AuditLog.entries").find({}).sort({ at: 1, _id: 1 })
      .toArray();
    assert.deepEqual(entries.map((e) => [e.actor, e.action, e.target ?? null]), [
      [root.user, "admin.sessions.list", null],
      [root.user, "admin.sessions.count", null],
      [root.user, "admin.sessions.count", null],
      [root.user, "admin.sessions.end", bob.token.split(".")[0]],
      [root.user, "admin.users.logout", alice.user],
    ]);
    assert.deepEqual(entries[2].details, { user: alice.user });
    assert.deepEqual(entries[4].details, { count: 2 });
    const audit = JSON.stringify(entries);
    assert.ok(!audit.includes(PASSWORD));
    for (const t of [root.token, alice.token, alice2, bob.token]) {
      assert.ok(!audit.includes(t.split(".")[1]), "a secret in the audit log");
    }
  });
});

Deno.test("admin API: pages with a cursor, filters by username, refuses bad input", async () => {
  await withApi(async (h) => {
    const root = await admin(h);
    await register(h, "alice");
    for (let i = 0; i < 4; i++) {
      h.now.ms += 1000;
      await login(h, "alice");
    }
    const seen: string[] = [];
    let before: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const body: Record<string, unknown> = { limit: 2, username: "alice" };
      if (before) body.before = before;
      const res = await h.call("POST", "/api/admin/sessions", body, asCookie(root.token));
      assert.equal(res.status, 200, JSON.stringify(res.json));
      const page = res.json as { sessions: Array<{ id: string; username: string }>; next: string };
      assert.ok(page.sessions.every((s) => s.username === "alice"));
      seen.push(...page.sessions.map((s) => s.id));
      before = page.next;
      if (!before) break;
    }
    assert.equal(seen.length, 5);
    assert.equal(new Set(seen).size, 5);
    for (
      const [body, status] of [
        [{ limit: 0 }, 400],
        [{ limit: 101 }, 400],
        [{ limit: { $gt: 0 } }, 400],
        [{ before: { $ne: null } }, 400],
        [{ before: "garbage" }, 400],
        [{ username: { $ne: null } }, 400],
        [{ username: "nobody" }, 404],
      ] as const
    ) {
      const res = await h.call("POST", "/api/admin/sessions", body, asCookie(root.token));
      assert.equal(res.status, status, JSON.stringify(body));
      assert.match((res.json as { error: string }).error, /^Cannot list sessions: /);
    }
  });
});

Deno.test("reauthenticate() sudo mode: after SUDO_TTL admin routes need the password again", async () => {
  await withApi(async (h) => {
    const root = await admin(h);
    const ok = await h.call("GET", "/api/admin/sessions/count", undefined, asCookie(root.token));
    assert.equal(ok.status, 200);

    h.now.ms += 10 * MINUTE + 1;
    const stale = await h.call("GET", "/api/admin/sessions/count", undefined, asCookie(root.token));
    assert.equal(stale.status, 403);
    assert.deepEqual(stale.json, {
      error:
        "Cannot use administrator route: re-enter your password first (POST /api/auth/reauthenticate)",
      reauthenticate: true,
    });

    const wrong = await h.call(
      "POST",
      "/api/auth/reauthenticate",
      { password: "not it at all" },
      asCookie(root.token),
    );
    assert.deepEqual([wrong.status, wrong.json], [401, {
      error: "Cannot reauthenticate: incorrect password",
    }]);
    const noSession = await h.call("POST", "/api/auth/reauthenticate", { password: PASSWORD });
    assert.equal(noSession.status, 401);

    const re = await h.call(
      "POST",
      "/api/auth/reauthenticate",
      { password: PASSWORD },
      asCookie(root.token),
    );
    assert.equal(re.status, 200, JSON.stringify(re.json));
    assert.deepEqual(re.json, {
      authenticatedAt: new Date(h.now.ms).toISOString(),
      sudoUntil: new Date(h.now.ms + 10 * MINUTE).toISOString(),
    });
    const fresh = await h.call("GET", "/api/admin/sessions/count", undefined, asCookie(root.token));
    assert.equal(fresh.status, 200);

    // Per session: the same administrator's other session is still stale.
    const other = await login(h, "root");
    h.now.ms += 11 * MINUTE;
    await h.call("POST", "/api/auth/reauthenticate", { password: PASSWORD }, asCookie(root.token));
    assert.equal(
      (await h.call("GET", "/api/admin/sessions/count", undefined, asCookie(other))).status,
      403,
    );

    // Kept across rotation: a password change gives a new token, the check time stays.
    const changed = await h.call("POST", "/api/auth/password", {
      currentPassword: PASSWORD,
      newPassword: PASSWORD,
    }, asCookie(root.token));
    assert.equal(changed.status, 200, JSON.stringify(changed.json));
    const rotated = cookieOf(changed.headers)!;
    assert.notEqual(rotated, root.token);
    assert.equal(
      (await h.call("GET", "/api/admin/sessions/count", undefined, asCookie(rotated))).status,
      200,
    );
    h.now.ms += 10 * MINUTE + 1;
    assert.equal(
      (await h.call("GET", "/api/admin/sessions/count", undefined, asCookie(rotated))).status,
      403,
    );
  });
});

Deno.test("reauthenticate() is throttled like login, under the username's and IP's keys", async () => {
  await withApi(async (h) => {
    const root = await admin(h);
    const answers = [];
    for (let i = 0; i < 4; i++) {
      answers.push(
        (await h.call(
          "POST",
          "/api/auth/reauthenticate",
          { password: `wrong ${i} guess` },
          asCookie(root.token),
        )).status,
      );
    }
    assert.deepEqual(answers, [401, 401, 401, 429]);
    // The right password does not get through while throttled, nor does a login.
    const right = await h.call(
      "POST",
      "/api/auth/reauthenticate",
      { password: PASSWORD },
      asCookie(root.token),
    );
    assert.equal(right.status, 429);
    assert.ok(Number(right.headers.get("retry-after")) > 0);
    assert.equal(
      (await h.call("POST", "/api/auth/login", { username: "root", password: PASSWORD })).status,
      429,
    );
    assert.equal(h.verifications() >= 3, true);
  }, { limit: 3 });
});

Deno.test("GET /api/auth/roles says whether the session's user is an administrator, and audits nothing", async () => {
  await withApi(async (h) => {
    const alice = await register(h, "alice");
    const root = await admin(h);
    const roles = (token: string) => h.call("GET", "/api/auth/roles", undefined, asCookie(token));
    assert.deepEqual(await roles(alice.token).then((r) => [r.status, r.json]), [200, {
      admin: false,
    }]);
    assert.deepEqual(await roles(root.token).then((r) => [r.status, r.json]), [200, {
      admin: true,
    }]);
    assert.equal((await h.call("GET", "/api/auth/roles")).status, 401);
    assert.equal(await h.db.collection("AuditLog.entries").countDocuments(), 0);
  });
});

/**
 * The /api/auth API end to end: the HTTP app on the real engine, syncs and concepts, against the
 * embedded database, through `app.request()` (and the cookie jar done by hand, as a browser
 * would); see auth_harness.ts. Throttling and device cookies: login_throttle.test.ts; races of
 * logins with a password change or a logout-all: credential_race.test.ts.
 */
import { deviceName } from "../src/utils/user_agent.ts";
import assert from "node:assert/strict";
import {
  asBearer,
  asCookie,
  cookieOf,
  deviceOf,
  PASSWORD,
  withApi,
  withDevice,
} from "./auth_harness.ts";

Deno.test("POST /api/auth/* principle: register, me, me again, logout, me refused", async () => {
  await withApi(async ({ call, logs }) => {
    const reg = await call("POST", "/api/auth/register", { username: "Alice", password: PASSWORD });
    assert.equal(reg.status, 201);
    const user = (reg.json as { user: string }).user;
    assert.deepEqual(reg.json, { user });
    const token = cookieOf(reg.headers);
    assert.ok(token, "register sets the session cookie");
    assert.match(
      reg.headers.getSetCookie()[0],
      /^__Host-session=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Lax$|^__Host-session=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    );
    for (let i = 0; i < 2; i++) {
      const me = await call("GET", "/api/auth/me", undefined, asCookie(token));
      assert.equal(me.status, 200);
      assert.deepEqual(me.json, { user, username: "alice" });
    }
    const out = await call("POST", "/api/auth/logout", {}, asCookie(token));
    assert.equal(out.status, 200);
    assert.deepEqual(out.json, {});
    assert.ok(out.headers.getSetCookie().some((c) => /^__Host-session=;.*Max-Age=0/.test(c)));
    const refused = await call("GET", "/api/auth/me", undefined, asCookie(token));
    assert.equal(refused.status, 401);
    assert.deepEqual(refused.json, {
      error: "Cannot authenticate request: invalid or expired session",
    });
    const joined = logs.join("\n");
    // The captured output is the real thing: access lines and the engine's TRACE of every action.
    assert.ok(joined.includes('"path":"/api/auth/register"'));
    assert.ok(joined.includes("PasswordAuthentication.register"));
    assert.ok(!joined.includes(PASSWORD), "a password reached the logs");
    assert.ok(!joined.includes(token.split(".")[1]), "a token secret reached the logs");
  });
});

Deno.test("GET /api/auth/me for a live session whose user has no account answers 200 with the user alone", async () => {
  await withApi(async ({ call, db }) => {
    // Sessioning serves any user id; an app composing another way of signing in may hold
    // sessions of users this service has no account for. Here: an account removed behind its back.
    const reg = await call("POST", "/api/auth/register", { username: "ghost", password: PASSWORD });
    assert.equal(reg.status, 201);
    const user = (reg.json as { user: string }).user;
    const users = db.collection<{ _id: string }>("PasswordAuthentication.users");
    const removed = await users.deleteOne({ _id: user });
    assert.equal(removed.deletedCount, 1);
    const me = await call("GET", "/api/auth/me", undefined, asCookie(cookieOf(reg.headers)!));
    assert.equal(me.status, 200);
    assert.deepEqual(me.json, { user });
  });
});

Deno.test("POST /api/auth/register refuses invalid input with 400 and a taken name with 409", async () => {
  await withApi(async ({ call }) => {
    assert.equal(
      (await call("POST", "/api/auth/register", { username: "bob", password: PASSWORD })).status,
      201,
    );
    const taken = await call("POST", "/api/auth/register", { username: "BOB", password: PASSWORD });
    assert.equal(taken.status, 409);
    assert.deepEqual(taken.json, { error: "Cannot register: username taken" });
    for (
      const body of [
        { username: "bob2", password: "short" },
        { username: "b", password: PASSWORD },
        { username: { $ne: null }, password: PASSWORD },
        { username: "carol", password: { $gt: "" } },
        { password: PASSWORD },
        {},
      ]
    ) {
      const r = await call("POST", "/api/auth/register", body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(typeof (r.json as { error: unknown }).error, "string");
    }
  });
});

Deno.test("POST /api/auth/login gives the same answer for an unknown name and a wrong password", async () => {
  await withApi(async ({ call }) => {
    await call("POST", "/api/auth/register", { username: "dave", password: PASSWORD });
    const unknown = await call("POST", "/api/auth/login", {
      username: "nobody",
      password: PASSWORD,
    });
    const wrong = await call("POST", "/api/auth/login", {
      username: "dave",
      password: "wrong pass 1",
    });
    assert.equal(unknown.status, 401);
    assert.equal(wrong.status, 401);
    assert.deepEqual(unknown.json, wrong.json);
    assert.deepEqual(wrong.json, { error: "Cannot authenticate: invalid username or password" });
    for (
      const body of [
        { username: { $ne: null }, password: { $ne: null } },
        { username: "dave", password: { $gt: "" } },
        { username: ["dave"], password: PASSWORD },
        {},
      ]
    ) {
      const r = await call("POST", "/api/auth/login", body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(cookieOf(r.headers), undefined);
    }
  });
});

Deno.test("POST /api/auth/login ends a session presented with it (fixation defence)", async () => {
  await withApi(async ({ call }) => {
    const reg = await call("POST", "/api/auth/register", { username: "erin", password: PASSWORD });
    const old = cookieOf(reg.headers)!;
    const login = await call(
      "POST",
      "/api/auth/login",
      { username: "erin", password: PASSWORD },
      asCookie(old),
    );
    assert.equal(login.status, 200);
    const fresh = cookieOf(login.headers)!;
    assert.notEqual(fresh, old);
    assert.equal((await call("GET", "/api/auth/me", undefined, asCookie(old))).status, 401);
    assert.equal((await call("GET", "/api/auth/me", undefined, asCookie(fresh))).status, 200);
  });
});

Deno.test("POST /api/auth/login throttles the 11th attempt, right password included; others unaffected", async () => {
  await withApi(async ({ call, now }) => {
    await call("POST", "/api/auth/register", { username: "frank", password: PASSWORD });
    await call("POST", "/api/auth/register", { username: "grace", password: PASSWORD });
    for (let i = 0; i < 10; i++) {
      const r = await call("POST", "/api/auth/login", {
        username: "frank",
        password: "wrong pass " + i,
      });
      assert.equal(r.status, 401, `attempt ${i + 1}`);
    }
    const eleventh = await call("POST", "/api/auth/login", {
      username: "frank",
      password: PASSWORD,
    });
    assert.equal(eleventh.status, 429);
    const retry = Number(eleventh.headers.get("retry-after"));
    assert.ok(retry > 0 && retry <= 600, `Retry-After ${retry}`);
    assert.equal(cookieOf(eleventh.headers), undefined);
    // Another username from another IP logs in.
    const other = await call(
      "POST",
      "/api/auth/login",
      { username: "grace", password: PASSWORD },
      { "x-test-ip": "198.51.100.7" },
    );
    assert.equal(other.status, 200);
    // After the window, frank logs in again.
    now.ms += 600_000;
    const later = await call("POST", "/api/auth/login", { username: "frank", password: PASSWORD }, {
      "x-test-ip": "203.0.113.9",
    });
    assert.equal(later.status, 200);
  });
});

Deno.test("POST /api/auth/* revocation is immediate: revoke, logout-others, logout-all, password", async () => {
  await withApi(async ({ call }) => {
    const reg = await call("POST", "/api/auth/register", { username: "heidi", password: PASSWORD });
    const a = cookieOf(reg.headers)!;
    const login = async () =>
      cookieOf(
        (await call("POST", "/api/auth/login", { username: "heidi", password: PASSWORD })).headers,
      )!;
    const me = async (t: string) =>
      (await call("GET", "/api/auth/me", undefined, asCookie(t))).status;

    // sessions lists both, marks the current one; revoke ends the other by id.
    const b = await login();
    const list = await call("GET", "/api/auth/sessions", undefined, asCookie(a));
    assert.equal(list.status, 200);
    const sessions = (list.json as {
      sessions: { id: string; current: boolean; userAgent: string | null; device: string }[];
    }).sessions;
    assert.equal(sessions.length, 2);
    // Each has a friendly device name made from its user agent.
    for (const s of sessions) assert.equal(s.device, deviceName(s.userAgent ?? undefined));
    assert.deepEqual(sessions.map((s) => s.current).sort(), [false, true]);
    assert.ok(sessions.every((s) => !JSON.stringify(s).includes(b.split(".")[1])));
    const bId = b.split(".")[0];
    assert.equal(
      (await call("POST", "/api/auth/sessions/revoke", { id: bId }, asCookie(a))).status,
      200,
    );
    assert.equal(await me(b), 401);
    assert.equal(
      (await call("POST", "/api/auth/sessions/revoke", { id: bId }, asCookie(a))).status,
      404,
    );
    assert.equal(
      (await call("POST", "/api/auth/sessions/revoke", { id: { $ne: null } }, asCookie(a))).status,
      404,
    );

    // logout-others keeps this one.
    const c = await login();
    const d = await login();
    const others = await call("POST", "/api/auth/logout-others", {}, asCookie(a));
    assert.deepEqual([others.status, others.json], [200, { count: 2 }]);
    assert.deepEqual([await me(a), await me(c), await me(d)], [200, 401, 401]);

    // password: the others end, this one is rotated.
    const e = await login();
    const bad = await call("POST", "/api/auth/password", {
      currentPassword: "wrong pass x",
      newPassword: "new password 1",
    }, asCookie(a));
    assert.equal(bad.status, 401);
    const weak = await call("POST", "/api/auth/password", {
      currentPassword: PASSWORD,
      newPassword: "short",
    }, asCookie(a));
    assert.equal(weak.status, 400);
    const changed = await call("POST", "/api/auth/password", {
      currentPassword: PASSWORD,
      newPassword: "new password 1",
    }, asCookie(a));
    assert.equal(changed.status, 200);
    const rotated = cookieOf(changed.headers)!;
    assert.ok(rotated && rotated !== a);
    assert.deepEqual([await me(a), await me(e), await me(rotated)], [401, 401, 200]);

    // logout-all ends every session, this one included.
    const f = cookieOf(
      (await call("POST", "/api/auth/login", { username: "heidi", password: "new password 1" }))
        .headers,
    )!;
    const all = await call("POST", "/api/auth/logout-all", {}, asCookie(rotated));
    assert.deepEqual([all.status, all.json], [200, { count: 2 }]);
    assert.deepEqual([await me(rotated), await me(f)], [401, 401]);
  });
});

Deno.test("POST /api/auth/login with transport bearer returns the token in JSON, never a cookie", async () => {
  await withApi(async ({ call }) => {
    await call("POST", "/api/auth/register", { username: "ivan", password: PASSWORD });
    const login = await call("POST", "/api/auth/login", {
      username: "ivan",
      password: PASSWORD,
      transport: "bearer",
    });
    assert.equal(login.status, 200);
    const { session, user } = login.json as { session: string; user: string };
    assert.match(session, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(login.headers.getSetCookie(), []);
    const me = await call("POST", "/api/auth/me", {}, asBearer(session));
    assert.deepEqual([me.status, me.json], [200, { user, username: "ivan" }]);
    const out = await call("POST", "/api/auth/logout", {}, asBearer(session));
    assert.equal(out.status, 200);
    assert.equal((await call("POST", "/api/auth/me", {}, asBearer(session))).status, 401);
  });
});

Deno.test("POST /api/auth/* routes that need a session answer 401 to none, junk and injection", async () => {
  await withApi(async ({ call }) => {
    const routes = [
      "/api/auth/logout",
      "/api/auth/me",
      "/api/auth/sessions",
      "/api/auth/sessions/revoke",
      "/api/auth/logout-others",
      "/api/auth/logout-all",
      "/api/auth/password",
    ];
    for (const route of routes) {
      for (
        const [body, headers] of [
          [{}, {}],
          [{ session: { $ne: null } }, {}],
          [{ session: "x.y" }, {}],
          [{}, asBearer("not-a-token")],
          [{}, asCookie("abc.def")],
        ] as [unknown, Record<string, string>][]
      ) {
        const r = await call("POST", route, body, headers);
        assert.equal(r.status, 401, `${route} ${JSON.stringify(body)} ${JSON.stringify(headers)}`);
      }
    }
  });
});

Deno.test("POST /api/auth/* with an Authorization header uses it alone: junk is 401, never the cookie", async () => {
  await withApi(async ({ call }) => {
    const reg = await call("POST", "/api/auth/register", { username: "judy", password: PASSWORD });
    const a = cookieOf(reg.headers)!;
    const b = cookieOf(
      (await call("POST", "/api/auth/login", { username: "judy", password: PASSWORD })).headers,
    )!;
    const me = async (t: string) =>
      (await call("GET", "/api/auth/me", undefined, asCookie(t))).status;
    const junk = ["Bearer", "Bearer ", "Bearer a b", "Basic anVkeTpwdw==", "", "x".repeat(600)];
    for (const authorization of [...junk, `Bearer ${"x".repeat(600)}`]) {
      // A cross-site page: the victim's cookie rides along; the header is junk.
      const crossSite = await call("POST", "/api/auth/logout-others", {}, {
        ...asCookie(a),
        authorization,
        origin: "https://evil.example",
      });
      assert.ok([401, 403].includes(crossSite.status), `${authorization}: ${crossSite.status}`);
      // Same-site, the same: the cookie is not looked at once the header is there.
      for (const path of ["/api/auth/me", "/api/Sessioning/_getUser"]) {
        const r = await call("POST", path, {}, { ...asCookie(a), authorization });
        assert.equal(r.status, 401, `${path} ${authorization}`);
      }
      const got = await call("GET", "/api/auth/me", undefined, { ...asCookie(a), authorization });
      assert.equal(got.status, 401);
      // Nor the body's session field.
      const body = await call("POST", "/api/auth/me", { session: a }, { authorization });
      assert.equal(body.status, 401);
    }
    // No effect: both sessions live on.
    assert.deepEqual([await me(a), await me(b)], [200, 200]);
    // A well-formed bearer header is used (and a cookie next to it ignored).
    const withBoth = await call("GET", "/api/auth/me", undefined, {
      ...asCookie(a),
      ...asBearer(b),
    });
    assert.equal(withBoth.status, 200);
    const junkBearer = await call("POST", "/api/auth/logout-others", {}, {
      ...asCookie(a),
      ...asBearer("not-a-token"),
      origin: "https://evil.example",
    });
    assert.equal(junkBearer.status, 401);
    assert.deepEqual([await me(a), await me(b)], [200, 200]);
  });
});

Deno.test("POST /api/auth/login gives a browser a long-lived device cookie, hashed at rest", async () => {
  await withApi(async ({ call, db, logs }) => {
    const reg = await call("POST", "/api/auth/register", { username: "kim", password: PASSWORD });
    const login = await call("POST", "/api/auth/login", { username: "kim", password: PASSWORD });
    for (const r of [reg, login]) {
      const set = r.headers.getSetCookie().find((c) => c.startsWith("__Host-device="));
      assert.match(
        set ?? "",
        /^__Host-device=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Strict$/,
      );
      const age = Number(/Max-Age=(\d+)/.exec(set!)![1]);
      assert.ok(age > 30 * 86_400 && age <= 400 * 86_400, `Max-Age ${age}`);
      assert.deepEqual(Object.keys(r.json as object), ["user"]);
    }
    const device = deviceOf(login.headers)!;
    const docs = await db.collection("DeviceTrust.devices").find({}).toArray();
    assert.equal(docs.length, 2);
    assert.ok(!JSON.stringify(docs).includes(device.split(".")[1]));
    // Logging in again from that browser renews the same device with a new secret.
    const again = await call(
      "POST",
      "/api/auth/login",
      { username: "kim", password: PASSWORD },
      withDevice(device),
    );
    const renewed = deviceOf(again.headers)!;
    assert.equal(renewed.split(".")[0], device.split(".")[0]);
    assert.notEqual(renewed, device);
    assert.equal(await db.collection("DeviceTrust.devices").countDocuments(), 2);
    // A bearer client gets the device token in JSON and sets no cookie.
    const bearer = await call("POST", "/api/auth/login", {
      username: "kim",
      password: PASSWORD,
      transport: "bearer",
    });
    const json = bearer.json as Record<string, string>;
    assert.deepEqual(Object.keys(json).sort(), [
      "deviceExpiresAt",
      "deviceToken",
      "session",
      "user",
    ]);
    assert.match(json.deviceToken, /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    assert.ok(Date.parse(json.deviceExpiresAt) > Date.parse("2027-01-01"));
    assert.deepEqual(bearer.headers.getSetCookie(), []);
    // No device secret reaches the logs (the engine's TRACE of every action included).
    const joined = logs.join("\n");
    assert.ok(joined.includes("DeviceTrust.issue"));
    for (const t of [device, renewed, json.deviceToken]) {
      assert.ok(!joined.includes(t.split(".")[1]), "a device secret reached the logs");
    }
  });
});

Deno.test("POST /api/auth/login with SESSION_COOKIE_SECURE=false sets a device cookie without Secure", async () => {
  await withApi(async ({ call }) => {
    const reg = await call("POST", "/api/auth/register", { username: "lee", password: PASSWORD });
    const set = reg.headers.getSetCookie();
    assert.ok(
      set.some((c) => /^session=[^;]+; (Max-Age=\d+; )?Path=\/; HttpOnly; SameSite=Lax$/.test(c)),
    );
    const device = set.find((c) => c.startsWith("device="));
    assert.match(device ?? "", /^device=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Strict$/);
  }, { cookieSecure: false });
});

Deno.test("POST /api/Sessioning/_getUser renews the session like every authenticated route", async () => {
  await withApi(async (h) => {
    const reg = await h.call("POST", "/api/auth/register", {
      username: "renewal",
      password: PASSWORD,
    });
    const token = cookieOf(reg.headers)!;
    const sessions = h.db.collection<{ _id: string; lastSeenAt: Date; expiresAt: Date }>(
      "Sessioning.sessions",
    );
    const id = token.split(".")[0];
    const before = (await sessions.findOne({ _id: id }))!;
    // Past the touch interval (5 minutes by default): the next validation writes the renewal.
    h.now.ms += 6 * 60_000;
    const got = await h.call("POST", "/api/Sessioning/_getUser", {}, asCookie(token));
    assert.equal(got.status, 200);
    assert.deepEqual(got.json, [{ user: (reg.json as { user: string }).user }]);
    const after = (await sessions.findOne({ _id: id }))!;
    assert.equal(after.lastSeenAt.getTime(), h.now.ms);
    assert.ok(after.expiresAt.getTime() > before.expiresAt.getTime());
  });
});

Deno.test("GET /api/auth/me reads the session and the username, then only the session", async () => {
  await withApi(async (h) => {
    const reg = await h.call("POST", "/api/auth/register", {
      username: "counted",
      password: PASSWORD,
    });
    const token = cookieOf(reg.headers)!;
    h.commands.length = 0;
    const me = await h.call("GET", "/api/auth/me", undefined, asCookie(token));
    assert.equal(me.status, 200);
    assert.deepEqual(h.commands, [
      "find Sessioning.sessions",
      "find PasswordAuthentication.users",
    ]);
    // The username never changes: the next /me reads the session alone.
    h.commands.length = 0;
    const again = await h.call("GET", "/api/auth/me", undefined, asCookie(token));
    assert.equal(again.status, 200);
    assert.equal((again.json as { username?: string }).username, "counted");
    assert.deepEqual(h.commands, ["find Sessioning.sessions"]);
  }, { spy: true });
});

import assert from "node:assert/strict";
import {
  fakeRequesting,
  OTHER_TOKEN,
  postJson,
  testApp,
  TOKEN,
  TOKEN_ID,
} from "../../tests/support/http_app.ts";
import { withServed } from "../../tests/support/served.ts";

const COOKIE = `__Host-session=${TOKEN}`;

Deno.test("createApp() answers /healthz 200 with the store kind", async () => {
  const { app } = testApp({ store: "mongodb" });
  await withServed(app.fetch, async (base) => {
    const res = await fetch(base + "/healthz");
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ok: true, store: "mongodb" });
    assert.equal(res.headers.get("cache-control"), "no-store");
  });
});

Deno.test("createApp() answers /healthz 503 while the store cannot be reached", async () => {
  const down = testApp({ health: () => Promise.resolve(false) });
  const res = await down.app.request("/healthz");
  assert.equal(res.status, 503);
  assert.deepEqual(await res.json(), {
    ok: false,
    store: "embedded",
    error: "Cannot reach store: no answer to ping",
  });
  const failing = testApp({ health: () => Promise.reject(new Error(`connect refused ${TOKEN}`)) });
  const res2 = await failing.app.request("/healthz");
  assert.equal(res2.status, 503);
  assert.deepEqual(await res2.json(), {
    ok: false,
    store: "embedded",
    error: "Cannot reach store: ping failed",
  });
  assert.equal(JSON.stringify(failing.logs).includes(TOKEN), false);
});

Deno.test("createApp() answers unknown routes 404 and wrong methods 405, as JSON", async () => {
  const { app, requesting } = testApp();
  const notFound = await app.request("/nope");
  assert.equal(notFound.status, 404);
  assert.deepEqual(await notFound.json(), { error: "Cannot find route: no such path" });

  const getApi = await app.request("/api/auth/login");
  assert.equal(getApi.status, 405);
  assert.equal(getApi.headers.get("allow"), "POST");
  assert.deepEqual(await getApi.json(), { error: "Cannot GET this path: method not allowed" });

  const putMe = await app.request("/api/auth/me", { method: "PUT" });
  assert.equal(putMe.status, 405);
  assert.equal(putMe.headers.get("allow"), "GET, HEAD, POST");

  const postHealth = await app.request("/healthz", { method: "POST" });
  assert.equal(postHealth.status, 405);
  assert.deepEqual(requesting.calls, []);
});

Deno.test("createApp() turns POST /api/<path> into Requesting.request with the body's fields", async () => {
  const { app, requesting } = testApp();
  const res = await app.request(
    "/api/auth/login",
    postJson({ username: "ada", password: "pw", n: 1 }),
    { remoteAddr: { hostname: "203.0.113.9", port: 5555, transport: "tcp" } },
  );
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { echo: "/auth/login" });
  assert.deepEqual(requesting.calls, [
    { username: "ada", password: "pw", n: 1, ip: "203.0.113.9", path: "/auth/login" },
  ]);
});

Deno.test("createApp() lets the cookie token win over the body's session, and drops a body path, ip and userAgent", async () => {
  const { app, requesting } = testApp();
  const res = await app.request(
    "/api/ping",
    postJson(
      { session: OTHER_TOKEN, path: "/admin", ip: "1.2.3.4", userAgent: "forged", a: "b" },
      { cookie: COOKIE, "user-agent": "agent/1.0" },
    ),
  );
  assert.equal(res.status, 200);
  assert.deepEqual(requesting.calls, [
    { a: "b", session: TOKEN, userAgent: "agent/1.0", path: "/ping" },
  ]);
});

Deno.test("createApp() passes a body session on when no header or cookie carries one", async () => {
  const { app, requesting } = testApp();
  await app.request("/api/ping", postJson({ session: OTHER_TOKEN }));
  await app.request("/api/ping", postJson({ session: { $ne: null } }));
  assert.deepEqual(requesting.calls, [{ session: OTHER_TOKEN, path: "/ping" }, { path: "/ping" }]);
});

Deno.test("createApp() marks bearer requests with transport: bearer and ignores other transports", async () => {
  const { app, requesting } = testApp();
  await app.request(
    "/api/ping",
    postJson({}, { authorization: `Bearer ${TOKEN}`, cookie: COOKIE }),
  );
  await app.request("/api/ping", postJson({ transport: "bearer" }));
  await app.request("/api/ping", postJson({ transport: "carrier-pigeon" }));
  assert.deepEqual(requesting.calls, [
    { session: TOKEN, transport: "bearer", path: "/ping" },
    { transport: "bearer", path: "/ping" },
    { path: "/ping" },
  ]);
});

Deno.test("createApp() maps GET /api/auth/me and /api/auth/sessions like a POST with an empty body", async () => {
  const { app, requesting } = testApp();
  const me = await app.request("/api/auth/me?x=1", { headers: { cookie: COOKIE } });
  assert.equal(me.status, 200);
  const sessions = await app.request("/api/auth/sessions", {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  assert.equal(sessions.status, 200);
  assert.deepEqual(requesting.calls, [
    { session: TOKEN, path: "/auth/me" },
    { session: TOKEN, transport: "bearer", path: "/auth/sessions" },
  ]);
});

Deno.test("createApp() answers 400 to malformed JSON and to bodies that are not objects", async () => {
  const { app, requesting } = testApp();
  const cases: Array<[string, string]> = [
    ["{", "Cannot read body: malformed JSON"],
    ["", "Cannot read body: malformed JSON"],
    ["[1,2]", "Cannot read body: expected a JSON object"],
    ['"text"', "Cannot read body: expected a JSON object"],
    ["null", "Cannot read body: expected a JSON object"],
  ];
  for (const [body, error] of cases) {
    const res = await app.request("/api/ping", postJson(body));
    assert.equal(res.status, 400, body);
    assert.deepEqual(await res.json(), { error });
  }
  const badUtf8 = await app.request("/api/ping", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: new Uint8Array([0x7b, 0xff, 0x7d]),
  });
  assert.equal(badUtf8.status, 400);
  assert.deepEqual(await badUtf8.json(), { error: "Cannot read body: not valid UTF-8" });
  assert.deepEqual(requesting.calls, []);
});

Deno.test("createApp() answers 415 to a POST that is not application/json", async () => {
  const { app, requesting } = testApp();
  for (const type of ["text/plain", "application/x-www-form-urlencoded", undefined]) {
    const headers: Record<string, string> = type ? { "content-type": type } : {};
    const res = await app.request("/api/ping", { method: "POST", headers, body: "{}" });
    assert.equal(res.status, 415, String(type));
    assert.deepEqual(await res.json(), {
      error: "Cannot read body: Content-Type must be application/json",
    });
  }
  const charset = await app.request("/api/ping", {
    method: "POST",
    headers: { "content-type": "application/json; charset=utf-8" },
    body: "{}",
  });
  assert.equal(charset.status, 200);
  assert.equal(requesting.calls.length, 1);
});

Deno.test("createApp() answers 413 to a body over 64 KiB, however its length is declared", async () => {
  const { app, requesting } = testApp();
  const big = JSON.stringify({ pad: "x".repeat(64 * 1024) });
  const expected = { error: "Cannot read body: larger than 65536 bytes" };

  const declared = await app.request("/api/ping", postJson(big));
  assert.equal(declared.status, 413);
  assert.deepEqual(await declared.json(), expected);

  const chunk = new TextEncoder().encode(" ".repeat(16 * 1024));
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent++ < 8) controller.enqueue(chunk);
      else controller.close();
    },
  });
  const streamed = await app.request("/api/ping", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: stream,
  });
  assert.equal(streamed.status, 413);
  assert.deepEqual(await streamed.json(), expected);

  const understated = await app.request("/api/ping", postJson(big, { "content-length": "10" }));
  assert.equal(understated.status, 413);
  assert.deepEqual(await understated.json(), expected);

  const fits = JSON.stringify({ pad: "x".repeat(64 * 1024 - 20) });
  assert.equal((await app.request("/api/ping", postJson(fits))).status, 200);
  assert.equal(requesting.calls.length, 1);
});

Deno.test("createApp() chooses the status from the error kind and the route, and never sends kind or clearSession", async () => {
  // Each answer is given to the route in front of it (paths of the route table).
  const answers: Array<[string, Record<string, unknown>, number, unknown]> = [
    ["/ping", { error: "Cannot do it: no" }, 400, { error: "Cannot do it: no" }],
    ["/auth/me", { error: "Cannot do it: not logged in", kind: "unauthenticated" }, 401, {
      error: "Cannot do it: not logged in",
    }],
    ["/auth/sessions/revoke", { error: "Cannot revoke: no", kind: "not_found" }, 404, {
      error: "Cannot revoke: no",
    }],
    ["/auth/register", { user: "u1" }, 201, { user: "u1" }],
    ["/auth/login", { error: "Cannot log in: wait", kind: "throttled" }, 429, {
      error: "Cannot log in: wait",
    }],
    ["/auth/logout", { error: "Cannot do it: odd", kind: "no such kind" }, 400, {
      error: "Cannot do it: odd",
    }],
    ["/auth/logout-all", { count: 2, clearSession: true }, 200, { count: 2 }],
    ["/auth/password", { error: "Cannot answer request: timed out", kind: "timeout" }, 504, {
      error: "Cannot answer request: timed out",
    }],
    ["/auth/logout-others", { error: "Cannot answer: store", kind: "store_unavailable" }, 503, {
      error: "Cannot answer: store",
    }],
  ];
  const byPath = new Map(answers.map(([path, answer]) => [path, answer]));
  const requesting = fakeRequesting((inputs) => byPath.get(inputs.path as string));
  const { app } = testApp({ Requesting: requesting });
  for (const [path, , status, body] of answers) {
    const res = await app.request(`/api${path}`, postJson({}));
    assert.deepEqual([path, res.status, await res.json()], [path, status, body]);
  }
});

Deno.test("createApp() writes a response's session as a cookie for cookie clients, never in JSON", async () => {
  const requesting = fakeRequesting(() => ({ user: "u1", session: TOKEN }));
  const { app, logs } = testApp({ Requesting: requesting });
  const res = await app.request("/api/auth/login", postJson({ username: "ada", password: "pw" }));
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { user: "u1" });
  assert.deepEqual(res.headers.getSetCookie(), [
    `__Host-session=${TOKEN}; Path=/; HttpOnly; Secure; SameSite=Lax`,
  ]);
  assert.equal(logs[0].session, TOKEN_ID);
});

Deno.test("createApp() gives bearer clients the session in JSON and no cookie", async () => {
  const requesting = fakeRequesting(() => ({ user: "u1", session: OTHER_TOKEN }));
  const { app } = testApp({ Requesting: requesting });
  const login = await app.request(
    "/api/auth/login",
    postJson({ username: "ada", password: "pw", transport: "bearer" }),
  );
  assert.deepEqual(await login.json(), { user: "u1", session: OTHER_TOKEN });
  assert.deepEqual(login.headers.getSetCookie(), []);

  const rotated = await app.request(
    "/api/auth/password",
    postJson({}, { authorization: `Bearer ${TOKEN}` }),
  );
  assert.deepEqual(await rotated.json(), { user: "u1", session: OTHER_TOKEN });
  assert.deepEqual(rotated.headers.getSetCookie(), []);
});

Deno.test("createApp() clears the cookie when a response says clearSession", async () => {
  const requesting = fakeRequesting(() => ({ clearSession: true }));
  const { app } = testApp({ Requesting: requesting });
  const res = await app.request("/api/auth/logout", postJson({}, { cookie: COOKIE }));
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {});
  assert.deepEqual(res.headers.getSetCookie(), [
    "__Host-session=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax",
  ]);
  const bearer = await app.request(
    "/api/auth/logout",
    postJson({}, { authorization: `Bearer ${TOKEN}` }),
  );
  assert.deepEqual(bearer.headers.getSetCookie(), []);
});

Deno.test("createApp() uses the dev cookie `session` without Secure when cookieSecure is false", async () => {
  const requesting = fakeRequesting(() => ({ session: TOKEN }));
  const { app } = testApp({ Requesting: requesting, config: { cookieSecure: false } });
  const res = await app.request("/api/auth/login", postJson({}));
  assert.deepEqual(res.headers.getSetCookie(), [
    `session=${TOKEN}; Path=/; HttpOnly; SameSite=Lax`,
  ]);
  await app.request("/api/ping", postJson({}, { cookie: `session=${OTHER_TOKEN}` }));
  await app.request("/api/ping", postJson({}, { cookie: `__Host-session=${OTHER_TOKEN}` }));
  assert.deepEqual(requesting.calls.slice(1), [
    { session: OTHER_TOKEN, path: "/ping" },
    { path: "/ping" },
  ]);
});

Deno.test("createApp() sets Max-Age from sessionCookieMaxAgeSec, capped at 400 days", async () => {
  const requesting = fakeRequesting(() => ({ session: TOKEN }));
  const week = testApp({ Requesting: requesting, config: { sessionCookieMaxAgeSec: 604800 } });
  const res = await week.app.request("/api/auth/login", postJson({}));
  assert.deepEqual(res.headers.getSetCookie(), [
    `__Host-session=${TOKEN}; Max-Age=604800; Path=/; HttpOnly; Secure; SameSite=Lax`,
  ]);
  const long = testApp({ Requesting: requesting, config: { sessionCookieMaxAgeSec: 1e9 } });
  const res2 = await long.app.request("/api/auth/login", postJson({}));
  assert.deepEqual(res2.headers.getSetCookie(), [
    `__Host-session=${TOKEN}; Max-Age=34560000; Path=/; HttpOnly; Secure; SameSite=Lax`,
  ]);
});

Deno.test("createApp() answers an unexpected exception 500 with a correlation id it also logs", async () => {
  const requesting = fakeRequesting(() => {
    throw new Error(`store fault while reading ${TOKEN}`);
  });
  const { app, logs } = testApp({ Requesting: requesting });
  const res = await app.request("/api/ping", postJson({}, { cookie: COOKIE }));
  assert.equal(res.status, 500);
  const body = await res.json();
  assert.deepEqual(Object.keys(body), ["error", "correlationId"]);
  assert.equal(body.error, "Internal error");
  assert.equal(typeof body.correlationId, "string");
  assert.equal(logs.length, 1);
  assert.equal(logs[0].correlationId, body.correlationId);
  assert.equal(logs[0].error, `Error: store fault while reading ${TOKEN_ID}.[redacted]`);
  assert.equal(JSON.stringify(logs).includes(TOKEN), false);
});

Deno.test("createApp() logs the engine's correlation id of an internal-error response", async () => {
  const requesting = fakeRequesting(() => ({
    error: "Internal error",
    correlationId: "engine-42",
    kind: "internal",
  }));
  const { app, logs } = testApp({ Requesting: requesting });
  const res = await app.request("/api/ping", postJson({}));
  assert.equal(res.status, 500);
  assert.deepEqual(await res.json(), { error: "Internal error", correlationId: "engine-42" });
  assert.equal(logs[0].correlationId, "engine-42");
});

Deno.test("createApp() answers 404 itself for a path Requesting could not take", async () => {
  const { app, requesting } = testApp();
  const res = await app.request("/api/a%20b", postJson({}));
  assert.equal(res.status, 404);
  assert.deepEqual(await res.json(), { error: "Cannot find route: no such path" });
  assert.deepEqual(requesting.calls, []);
});

Deno.test("the served app sends security headers everywhere and no-store on /api", async () => {
  const { app } = testApp();
  await withServed(app.fetch, async (base) => {
    for (
      const [path, init] of [["/api/ping", postJson({})], ["/nope", {}], ["/api/y", {}]] as const
    ) {
      const res = await fetch(base + path, init);
      await res.body?.cancel();
      assert.equal(res.headers.get("x-content-type-options"), "nosniff", path);
      assert.equal(res.headers.get("x-frame-options"), "DENY", path);
      assert.equal(res.headers.get("referrer-policy"), "no-referrer", path);
      assert.equal(
        res.headers.get("content-security-policy"),
        "default-src 'none'; frame-ancestors 'none'",
        path,
      );
      assert.equal(
        res.headers.get("strict-transport-security"),
        "max-age=15552000; includeSubDomains",
        path,
      );
      assert.equal(res.headers.get("cross-origin-resource-policy"), "same-origin", path);
      assert.equal(res.headers.get("cache-control"), path === "/nope" ? null : "no-store", path);
    }
    // The pages get their own policy and the document headers.
    const page = await fetch(base + "/login");
    await page.body?.cancel();
    assert.match(page.headers.get("content-security-policy") ?? "", /script-src 'self'/);
    assert.equal(page.headers.get("cross-origin-opener-policy"), "same-origin");
    assert.equal(page.headers.get("x-frame-options"), "DENY");
    // The server's own answers too (a body over the limit, before the app sees it).
    const big = await fetch(base + "/api/ping", postJson({ pad: "x".repeat(70 * 1024) }));
    await big.body?.cancel();
    assert.equal(big.status, 413);
    assert.equal(big.headers.get("x-content-type-options"), "nosniff");
    assert.equal(big.headers.get("cache-control"), "no-store");
  });
});

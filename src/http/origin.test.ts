import assert from "node:assert/strict";
import { postJson, testApp, TOKEN } from "../../tests/support/http_app.ts";

const COOKIE = `__Host-session=${TOKEN}`;
const CSRF_ORIGIN = { error: "Cannot accept request: origin not allowed" };

Deno.test("csrfGuard() refuses a cross-origin cookie POST with 403 before Requesting sees it", async () => {
  const { app, requesting } = testApp();
  const res = await app.request(
    "/api/auth/logout",
    postJson({}, { cookie: COOKIE, origin: "https://evil.example" }),
  );
  assert.equal(res.status, 403);
  assert.deepEqual(await res.json(), CSRF_ORIGIN);
  const nullOrigin = await app.request(
    "/api/ping",
    postJson({}, { cookie: COOKIE, origin: "null" }),
  );
  assert.equal(nullOrigin.status, 403);
  const sessioning = await app.request(
    "/api/Sessioning/delete",
    postJson({}, { cookie: COOKIE, origin: "https://evil.example" }),
  );
  assert.equal(sessioning.status, 403);
  assert.deepEqual(requesting.calls, []);
});

Deno.test("csrfGuard() refuses a cross-origin POST without credentials too (login CSRF)", async () => {
  const { app, requesting } = testApp();
  const res = await app.request(
    "/api/auth/login",
    postJson({ username: "mallory", password: "pw" }, { origin: "https://evil.example" }),
  );
  assert.equal(res.status, 403);
  assert.deepEqual(requesting.calls, []);
});

Deno.test("csrfGuard() allows same-origin POSTs, even without APP_ORIGIN", async () => {
  const { app, requesting } = testApp();
  const res = await app.request(
    "http://localhost/api/ping",
    postJson({}, { cookie: COOKIE, origin: "http://localhost" }),
  );
  assert.equal(res.status, 200);
  const wrongPort = await app.request(
    "http://localhost/api/ping",
    postJson({}, { cookie: COOKIE, origin: "http://localhost:8080" }),
  );
  assert.equal(wrongPort.status, 403);
  assert.equal(requesting.calls.length, 1);
});

Deno.test("csrfGuard() allows exactly the APP_ORIGIN origins", async () => {
  const { app } = testApp({
    config: { appOrigins: ["https://app.example.com", "https://admin.example.com"] },
  });
  const statuses = [];
  for (const origin of ["https://app.example.com", "https://admin.example.com", "https://x.com"]) {
    const res = await app.request(
      "/api/ping",
      postJson({}, { cookie: COOKIE, origin, "sec-fetch-site": "cross-site" }),
    );
    statuses.push(res.status);
  }
  assert.deepEqual(statuses, [200, 200, 403]);
});

Deno.test("csrfGuard() falls back to Sec-Fetch-Site without Origin, and allows clients sending neither", async () => {
  const { app } = testApp();
  const statuses = [];
  for (const site of ["cross-site", "same-origin", "same-site", "none", undefined]) {
    const headers: Record<string, string> = { cookie: COOKIE };
    if (site) headers["sec-fetch-site"] = site;
    statuses.push((await app.request("/api/ping", postJson({}, headers))).status);
  }
  assert.deepEqual(statuses, [403, 200, 200, 200, 200]);
  const res = await app.request("/api/ping", postJson({}, { "sec-fetch-site": "cross-site" }));
  assert.deepEqual(await res.json(), { error: "Cannot accept request: cross-site request" });
});

Deno.test("csrfGuard() exempts bearer-authenticated requests", async () => {
  const { app, requesting } = testApp();
  const res = await app.request(
    "/api/ping",
    postJson({}, { authorization: `Bearer ${TOKEN}`, origin: "https://evil.example" }),
  );
  assert.equal(res.status, 200);
  assert.equal(requesting.calls.length, 1);
});

Deno.test("csrfGuard() takes the own origin from X-Forwarded-Proto/-Host only behind a trusted proxy", async () => {
  const headers = {
    cookie: COOKIE,
    origin: "https://api.example.com",
    "x-forwarded-proto": "https",
    "x-forwarded-host": "api.example.com",
  };
  const direct = testApp();
  assert.equal(
    (await direct.app.request("http://10.0.0.5/api/ping", postJson({}, headers))).status,
    403,
  );
  const proxied = testApp({ config: { trustProxy: true } });
  assert.equal(
    (await proxied.app.request("http://10.0.0.5/api/ping", postJson({}, headers))).status,
    200,
  );
});

Deno.test("corsFor() keeps CORS closed without APP_ORIGIN", async () => {
  const { app } = testApp();
  const res = await app.request("/api/ping", postJson({}, { origin: "http://localhost" }));
  assert.equal(res.headers.get("access-control-allow-origin"), null);
  assert.equal(res.headers.get("access-control-allow-credentials"), null);
  const preflight = await app.request("/api/ping", {
    method: "OPTIONS",
    headers: {
      origin: "https://app.example.com",
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type",
    },
  });
  assert.equal(preflight.status, 405);
  assert.equal(preflight.headers.get("access-control-allow-origin"), null);
  assert.equal(preflight.headers.get("access-control-allow-methods"), null);
});

Deno.test("corsFor() allows exactly the APP_ORIGIN origins, with credentials", async () => {
  const { app } = testApp({ config: { appOrigins: ["https://app.example.com"] } });
  const preflight = await app.request("/api/auth/login", {
    method: "OPTIONS",
    headers: {
      origin: "https://app.example.com",
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type",
    },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("access-control-allow-origin"), "https://app.example.com");
  assert.equal(preflight.headers.get("access-control-allow-credentials"), "true");
  assert.equal(preflight.headers.get("access-control-allow-methods"), "GET,POST");
  assert.equal(
    preflight.headers.get("access-control-allow-headers"),
    "Content-Type,Authorization",
  );

  const allowed = await app.request(
    "/api/ping",
    postJson({}, { origin: "https://app.example.com" }),
  );
  assert.equal(allowed.status, 200);
  assert.equal(allowed.headers.get("access-control-allow-origin"), "https://app.example.com");

  const other = await app.request("/api/auth/login", {
    method: "OPTIONS",
    headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
  });
  assert.equal(other.headers.get("access-control-allow-origin"), null);

  const health = await app.request("/healthz", { headers: { origin: "https://app.example.com" } });
  assert.equal(health.headers.get("access-control-allow-origin"), null);
});

import assert from "node:assert/strict";
import { postJson, testApp } from "../../tests/support/http_app.ts";

const SOCKET = { remoteAddr: { hostname: "198.51.100.7", port: 40000, transport: "tcp" } };

Deno.test("clientIp() is the socket address and ignores X-Forwarded-For by default", async () => {
  const { app, requesting } = testApp();
  await app.request("/api/ping", postJson({}, { "x-forwarded-for": "10.9.9.9" }), SOCKET);
  assert.deepEqual(requesting.calls, [{ ip: "198.51.100.7", path: "/ping" }]);
});

Deno.test("clientIp() takes the last X-Forwarded-For address behind a trusted proxy", async () => {
  const { app, requesting } = testApp({ config: { trustProxy: true } });
  await app.request(
    "/api/ping",
    postJson({}, { "x-forwarded-for": "6.6.6.6, 203.0.113.5" }),
    SOCKET,
  );
  await app.request("/api/ping", postJson({}, { "x-forwarded-for": "2001:db8::1" }), SOCKET);
  await app.request("/api/ping", postJson({}, { "x-forwarded-for": "<script>" }), SOCKET);
  await app.request("/api/ping", postJson({}), SOCKET);
  assert.deepEqual(requesting.calls.map((c) => c.ip), [
    "203.0.113.5",
    "2001:db8::1",
    "198.51.100.7",
    "198.51.100.7",
  ]);
});

Deno.test("userAgent() is cut to 256 characters and loses control characters", async () => {
  const { app, requesting } = testApp();
  await app.request("/api/ping", postJson({}, { "user-agent": "a\tb" + "x".repeat(400) }));
  assert.equal(requesting.calls[0].userAgent, "ab" + "x".repeat(254));
});

import assert from "node:assert/strict";
import { accessLog, writeJsonLine } from "./access_log.ts";
import { flushLogLines, logTime } from "../utils/log.ts";
import {
  fakeRequesting,
  postJson,
  testApp,
  TOKEN,
  TOKEN_ID,
} from "../../tests/support/http_app.ts";
import type { AccessLogEntry } from "./types.ts";

Deno.test("accessLog() writes one entry per request with exactly its fields", async () => {
  const { app, logs } = testApp();
  await app.request("/api/auth/me?token=abc", { headers: { cookie: `__Host-session=${TOKEN}` } });
  await app.request("/nope");
  assert.equal(logs.length, 2);
  const [me, nope] = logs;
  assert.deepEqual(Object.keys(me), [
    "time",
    "method",
    "path",
    "status",
    "durationMs",
    "correlationId",
    "session",
  ]);
  assert.match(me.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(typeof me.durationMs, "number");
  assert.match(me.correlationId, /^[0-9a-f-]{36}$/);
  assert.deepEqual(
    { method: me.method, path: me.path, status: me.status, session: me.session },
    { method: "GET", path: "/api/auth/me", status: 200, session: TOKEN_ID },
  );
  assert.deepEqual(
    { method: nope.method, path: nope.path, status: nope.status, session: nope.session },
    { method: "GET", path: "/nope", status: 404, session: undefined },
  );
  assert.notEqual(me.correlationId, nope.correlationId);
});

Deno.test("accessLog() never logs a token, a cookie, a password or any body", async () => {
  const password = "correct horse battery staple";
  const requesting = fakeRequesting((inputs) => ({
    session: TOKEN,
    echo: inputs.username,
  }));
  const { app, logs } = testApp({ Requesting: requesting });
  await app.request(
    "/api/auth/login",
    postJson({ username: "ada-the-user", password }, { cookie: `__Host-session=${TOKEN}` }),
  );
  await app.request("/api/ping", postJson({ password }, { authorization: `Bearer ${TOKEN}` }));
  await app.request(`/api/${TOKEN}`, postJson({ password }));
  await app.request("/api/Sessioning/_getUser", postJson({ session: TOKEN, password }));
  await app.request("/api/ping", postJson(`{"password": "${password}"`));
  assert.equal(logs.length, 5);
  const text = JSON.stringify(logs);
  for (const secret of [TOKEN, TOKEN.split(".")[1], password, "ada-the-user", "__Host-session"]) {
    assert.equal(text.includes(secret), false, secret);
  }
  assert.equal(logs[2].path, `/api/${TOKEN_ID}.[redacted]`);
});

Deno.test("accessLog() survives a logger that throws", async () => {
  const { app } = testApp({
    log: () => {
      throw new Error("disk full");
    },
  });
  const res = await app.request("/healthz");
  assert.equal(res.status, 200);
});

Deno.test("writeJsonLine() prints the entry as one JSON line", () => {
  flushLogLines();
  const written: Uint8Array[] = [];
  const original = Deno.stdout.writeSync;
  Deno.stdout.writeSync = (bytes: Uint8Array) => {
    written.push(bytes.slice());
    return bytes.length;
  };
  try {
    const entry: AccessLogEntry = {
      time: "2025-01-01T00:00:00.000Z",
      method: "GET",
      path: "/healthz",
      status: 200,
      durationMs: 1.5,
      correlationId: "c1",
    };
    writeJsonLine(entry);
    assert.deepEqual(written, [], "lines wait for the end of the task");
    flushLogLines();
  } finally {
    Deno.stdout.writeSync = original;
  }
  assert.equal(
    written.map((b) => new TextDecoder().decode(b)).join(""),
    '{"level":"info","msg":"http","time":"2025-01-01T00:00:00.000Z","method":"GET","path":"/healthz","status":200,"durationMs":1.5,"correlationId":"c1"}\n',
  );
  assert.equal(typeof accessLog(), "function");
});

Deno.test("logTime() is now as toISOString() gives it, made afresh each millisecond", async () => {
  for (let i = 0; i < 5; i++) {
    const before = Date.now();
    const text = logTime();
    const after = Date.now();
    const at = Date.parse(text);
    assert.match(text, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(before <= at && at <= after, `${text} outside [${before}, ${after}]`);
    await new Promise((r) => setTimeout(r, 3));
  }
});

import assert from "node:assert/strict";
import { ConfigError, loadConfig, parseDuration } from "./config.ts";

Deno.test("loadConfig() gives the documented defaults for an empty environment", () => {
  const c = loadConfig({});
  assert.equal(c.port, 8000);
  assert.equal(c.host, "127.0.0.1");
  assert.equal(c.mongodbUrl, undefined);
  assert.equal(c.dbName, "sessions");
  assert.equal(c.dataDir, ".data");
  assert.equal(c.embeddedTtlMonitorIntervalMs, 60_000);
  assert.deepEqual(c.session, {
    absoluteTtlMs: 7 * 86_400_000,
    idleTtlMs: 86_400_000,
    touchIntervalMs: 300_000,
    sudoTtlMs: 600_000,
  });
  assert.deepEqual(c.adminUsernames, []);
  assert.deepEqual(c.requesting, {
    timeoutMs: 10_000,
    saveResponses: false,
    savedTtlMs: 86_400_000,
  });
  assert.deepEqual(c.http, { cookieSecure: true, appOrigins: [], trustProxy: false });
  assert.deepEqual(c.login, { maxFailures: 10, windowMs: 600_000, hashConcurrency: undefined });
  assert.equal(c.syncLogging, "off");
});

Deno.test("loadConfig() reads every variable it documents", () => {
  const c = loadConfig({
    PORT: "9001",
    HOST: "0.0.0.0",
    MONGODB_URL: "mongodb://db.internal:27017/?replicaSet=rs0",
    DB_NAME: "prod",
    DATA_DIR: "/var/lib/sessions",
    EMBEDDED_TTL_MONITOR_INTERVAL: "5s",
    SESSION_ABSOLUTE_TTL: "12h",
    SESSION_IDLE_TTL: "30m",
    SESSION_TOUCH_INTERVAL: "1m",
    REQUESTING_TIMEOUT: "2500",
    REQUESTING_SAVE_RESPONSES: "true",
    REQUESTING_SAVED_TTL: "2d",
    SESSION_COOKIE_SECURE: "false",
    APP_ORIGIN: "https://app.example.com, http://localhost:5173",
    TRUST_PROXY: "yes",
    LOGIN_MAX_FAILURES: "5",
    LOGIN_WINDOW: "15m",
    PASSWORD_HASH_CONCURRENCY: "3",
    SYNC_LOGGING: "TRACE",
    SUDO_TTL: "5m",
    ADMIN_USERNAMES: " alice, Bob ,alice,,",
  });
  assert.equal(c.port, 9001);
  assert.equal(c.host, "0.0.0.0");
  assert.equal(c.mongodbUrl, "mongodb://db.internal:27017/?replicaSet=rs0");
  assert.equal(c.dbName, "prod");
  assert.equal(c.dataDir, "/var/lib/sessions");
  assert.equal(c.embeddedTtlMonitorIntervalMs, 5000);
  assert.deepEqual(c.session, {
    absoluteTtlMs: 43_200_000,
    idleTtlMs: 1_800_000,
    touchIntervalMs: 60_000,
    sudoTtlMs: 300_000,
  });
  assert.deepEqual(c.adminUsernames, ["alice", "Bob"]);
  assert.deepEqual(c.requesting, {
    timeoutMs: 2500,
    saveResponses: true,
    savedTtlMs: 172_800_000,
  });
  assert.deepEqual(c.http, {
    cookieSecure: false,
    appOrigins: ["https://app.example.com", "http://localhost:5173"],
    trustProxy: true,
  });
  assert.deepEqual(c.login, { maxFailures: 5, windowMs: 900_000, hashConcurrency: 3 });
  assert.equal(c.syncLogging, "trace");
});

Deno.test("loadConfig() names the variable of a bad setting", () => {
  const bad: [Record<string, string>, string][] = [
    [{ PORT: "eighty" }, "PORT"],
    [{ PORT: "70000" }, "PORT"],
    [{ MONGODB_URL: "http://localhost" }, "MONGODB_URL"],
    [{ DB_NAME: "a.b" }, "DB_NAME"],
    [{ SESSION_IDLE_TTL: "soon" }, "SESSION_IDLE_TTL"],
    [{ SESSION_IDLE_TTL: "8d" }, "SESSION_IDLE_TTL"],
    [{ SESSION_TOUCH_INTERVAL: "2d" }, "SESSION_TOUCH_INTERVAL"],
    [{ REQUESTING_TIMEOUT: "0" }, "REQUESTING_TIMEOUT"],
    [{ REQUESTING_SAVE_RESPONSES: "maybe" }, "REQUESTING_SAVE_RESPONSES"],
    [{ APP_ORIGIN: "https://app.example.com/path" }, "APP_ORIGIN"],
    [{ APP_ORIGIN: "not a url" }, "APP_ORIGIN"],
    [{ LOGIN_MAX_FAILURES: "0" }, "LOGIN_MAX_FAILURES"],
    [{ PASSWORD_HASH_CONCURRENCY: "0" }, "PASSWORD_HASH_CONCURRENCY"],
    [{ SYNC_LOGGING: "loud" }, "SYNC_LOGGING"],
  ];
  for (const [env, variable] of bad) {
    assert.throws(
      () => loadConfig(env),
      (e: unknown) =>
        e instanceof ConfigError && e.variable === variable &&
        e.message.startsWith(`Cannot start: ${variable} `),
      JSON.stringify(env),
    );
  }
});

Deno.test("parseDuration() accepts milliseconds and units", () => {
  assert.equal(parseDuration("X", "1500"), 1500);
  assert.equal(parseDuration("X", "250ms"), 250);
  assert.equal(parseDuration("X", "1.5s"), 1500);
  assert.equal(parseDuration("X", "10m"), 600_000);
  assert.equal(parseDuration("X", "7d"), 604_800_000);
  assert.throws(() => parseDuration("X", "-5s"), ConfigError);
  assert.throws(() => parseDuration("X", "5 weeks"), ConfigError);
});

Deno.test("loadConfig() reads the HTTP connection limits, the store deadline and TLS files", async () => {
  const defaults = loadConfig({});
  assert.deepEqual(defaults.server, {
    headersTimeoutMs: 10_000,
    idleTimeoutMs: 60_000,
    bodyTimeoutMs: 10_000,
    sendTimeoutMs: 10_000,
    maxConnections: 1024,
  });
  assert.equal(defaults.storeTimeoutMs, 2000);
  assert.equal(defaults.tls, undefined);
  const c = loadConfig({
    HTTP_HEADERS_TIMEOUT: "5s",
    HTTP_IDLE_TIMEOUT: "2m",
    HTTP_BODY_TIMEOUT: "3s",
    HTTP_SEND_TIMEOUT: "4s",
    HTTP_MAX_CONNECTIONS: "200",
    REQUESTING_TIMEOUT: "3s",
    STORE_TIMEOUT: "1s",
  });
  assert.deepEqual(c.server, {
    headersTimeoutMs: 5000,
    idleTimeoutMs: 120_000,
    bodyTimeoutMs: 3000,
    sendTimeoutMs: 4000,
    maxConnections: 200,
  });
  assert.equal(c.storeTimeoutMs, 1000);
  assert.equal(loadConfig({ REQUESTING_TIMEOUT: "1s" }).storeTimeoutMs, 500);
  const refused: Array<[Record<string, string>, RegExp]> = [
    [{ HTTP_MAX_CONNECTIONS: "0" }, /^Cannot start: HTTP_MAX_CONNECTIONS must be between/],
    [{ HTTP_HEADERS_TIMEOUT: "soon" }, /^Cannot start: HTTP_HEADERS_TIMEOUT must be a duration/],
    [{ STORE_TIMEOUT: "10s" }, /^Cannot start: STORE_TIMEOUT must be shorter than REQUESTING/],
    [{ TLS_CERT_FILE: "/nonexistent.pem" }, /^Cannot start: TLS_KEY_FILE must be set together/],
    [
      { TLS_CERT_FILE: "/nonexistent.pem", TLS_KEY_FILE: "/nonexistent.pem" },
      /^Cannot start: TLS_CERT_FILE names a file that cannot be read/,
    ],
  ];
  for (const [env, message] of refused) {
    assert.throws(
      () => loadConfig(env),
      (e) => e instanceof ConfigError && message.test(e.message),
    );
  }
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/not.pem`, "hello");
    assert.throws(
      () => loadConfig({ TLS_CERT_FILE: `${dir}/not.pem`, TLS_KEY_FILE: `${dir}/not.pem` }),
      /TLS_CERT_FILE must name a PEM file/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadConfig() refuses a bad SUDO_TTL or ADMIN_USERNAMES, naming the variable", () => {
  assert.throws(() => loadConfig({ SUDO_TTL: "soon" }), /^Error: Cannot start: SUDO_TTL /);
  assert.throws(
    () => loadConfig({ ADMIN_USERNAMES: "alice,bo\u0000b" }),
    /^Error: Cannot start: ADMIN_USERNAMES has an invalid username/,
  );
});

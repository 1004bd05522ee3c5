/**
 * Tests of the metrics (src/observability/): the session counters move exactly as the actions
 * they count (through the real syncs, HTTP app and concepts, with an injected clock), the session
 * log lines come from the same events, the exposition parses as the Prometheus text format, the
 * metrics listener wants its token (401) and the service port never serves metrics (404), a
 * scrape reads the store at most once per cache period (one count and one serverStatus,
 * counted with a driver spy), and two service processes on one store report the same
 * `sessions_active`.
 */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { MongoClient } from "mongodb";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { loadConfig } from "../src/config.ts";
import { startService } from "../src/app/service.ts";
import { ServiceMetrics } from "../src/observability/metrics.ts";
import { metricsHandler } from "../src/observability/endpoint.ts";
import { driverMetrics, mongoStoreReader } from "../src/observability/store_metrics.ts";
import type { LogEntry } from "../src/utils/log.ts";
import { asBearer, withApi } from "./auth_harness.ts";
import { startServiceProcess } from "./service_process.ts";
import { freePort, startStoreProcess } from "./store_process.ts";
import { serverUrl, testDb } from "./support/test_db.ts";

const HOUR = 3_600_000;
const PASSWORD = "correct horse battery";

type Samples = Map<string, number> & { families: Set<string> };

/**
 * The exposition's samples by `name{label="value",...}` (labels sorted), after checking that it
 * parses as the Prometheus text format (parse-prometheus-text-format throws otherwise).
 */
function parse(text: string): Samples {
  const families = parsePrometheusTextFormat(text) as Array<{ name: string }>;
  const samples = new Map<string, number>() as Samples;
  samples.families = new Set(families.map((f) => f.name));
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels = [...(m[2] ?? "").matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)]
      .map(([, k, v]) => [k, v]);
    samples.set(key(m[1], Object.fromEntries(labels)), Number(m[3]));
  }
  return samples;
}

function key(name: string, labels: Record<string, string>): string {
  const inner = Object.entries(labels).sort().map(([k, v]) => `${k}="${v}"`).join(",");
  return `${name}{${inner}}`;
}

/** The value of one sample (labels matched exactly), or undefined. */
function sample(
  samples: Samples,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return samples.get(key(name, labels));
}

/**
 * The service's app on the real engine, syncs and concepts (withApi, auth_harness.ts), with
 * metrics, a log of the session events, and a clock; `call` POSTs JSON, with a bearer token.
 */
async function withObservedApi(
  fn: (ctx: {
    call: (
      path: string,
      body?: unknown,
      token?: string,
    ) => Promise<{ status: number; json: Record<string, unknown> }>;
    now: { ms: number };
    metrics: ServiceMetrics;
    sessionLog: LogEntry[];
  }) => Promise<void>,
) {
  const sessionLog: LogEntry[] = [];
  const metrics = new ServiceMetrics({ process: false });
  try {
    await withApi((h) =>
      fn({
        now: h.now,
        metrics,
        sessionLog,
        async call(path, body = {}, token) {
          const res = await h.call("POST", path, body, token ? asBearer(token) : {});
          return { status: res.status, json: res.json as Record<string, unknown> };
        },
      }), {
      onSessionEvent: (e) => {
        metrics.observe(e);
        if (e.type !== "validated") {
          sessionLog.push({
            time: e.at.toISOString(),
            level: "info",
            msg: `session ${e.type}`,
            ...("reason" in e ? { reason: e.reason } : {}),
          });
        }
      },
      observe: (r) => metrics.httpRequest(r.route, r.method, r.status, r.seconds, r.kind),
    });
  } finally {
    metrics.close();
  }
}

Deno.test("metrics: session counters move exactly as the actions they count, as the log does", () =>
  withObservedApi(async ({ call, now, metrics, sessionLog }) => {
    const login = async () => {
      const r = await call("/api/auth/login", {
        username: "alice",
        password: PASSWORD,
        transport: "bearer",
      });
      assert.equal(r.status, 200);
      return r.json.session as string;
    };
    const reg = await call("/api/auth/register", {
      username: "alice",
      password: PASSWORD,
      transport: "bearer",
    });
    assert.equal(reg.status, 201);
    const first = reg.json.session as string;
    // A refused registration starts a session for the account it would make and ends it
    // (src/syncs/auth.sync.ts, RegisterError): created and logout move by one each.
    assert.equal(
      (await call("/api/auth/register", { username: "alice", password: PASSWORD }))
        .status,
      409,
    );
    now.ms += 23 * HOUR;
    const [s2, s3, s4, s5, s6] = [
      await login(),
      await login(),
      await login(),
      await login(),
      await login(),
    ];
    assert.equal(
      (await call("/api/auth/login", { username: "alice", password: "wrong password!" })).status,
      401,
    );
    now.ms += 2 * HOUR; // `first` has idled out (24 h); the others are 2 h old
    assert.equal((await call("/api/auth/me", {}, first)).status, 401); // expired: 1
    assert.equal((await call("/api/auth/me", {}, first)).status, 401); // now unknown
    assert.equal((await call("/api/auth/logout", {}, s2)).status, 200); // logout: 1
    const revoke = await call("/api/auth/sessions/revoke", { id: s3.split(".")[0] }, s4);
    assert.equal(revoke.status, 200); // revoked: 1
    const change = await call("/api/auth/password", {
      currentPassword: PASSWORD,
      newPassword: "another long password",
    }, s4);
    assert.equal(change.status, 200); // forced: 2 (s5, s6), rotated: 1 (s4)
    for (const s of [s5, s6]) assert.equal((await call("/api/auth/me", {}, s)).status, 401);

    const m = parse(await metrics.text());
    assert.equal(sample(m, "sessions_created_total"), 7);
    const ended = Object.fromEntries(
      ["logout", "expired", "revoked", "forced", "rotated"].map((
        reason,
      ) => [reason, sample(m, "sessions_ended_total", { reason })]),
    );
    assert.deepEqual(ended, { logout: 2, expired: 1, revoked: 1, forced: 2, rotated: 1 });
    assert.equal(sample(m, "logins_total", { result: "ok" }), 5);
    assert.equal(sample(m, "logins_total", { result: "bad_credentials" }), 1);
    assert.equal(sample(m, "logins_total", { result: "throttled" }), 0);
    assert.equal(sample(m, "registrations_total", { result: "ok" }), 1);
    assert.equal(sample(m, "registrations_total", { result: "taken" }), 1);
    assert.equal(sample(m, "session_validations_total", { result: "expired" }), 1);
    assert.equal(sample(m, "session_validations_total", { result: "unknown" }), 3);
    assert.equal(
      sample(m, "session_validation_duration_seconds_count"),
      ["ok", "unknown", "bad_secret", "expired", "malformed"]
        .map((result) => sample(m, "session_validations_total", { result })!)
        .reduce((a, b) => a + b),
    );
    // The log lines come from the same events: the same counts, with the same reasons.
    const lines = (msg: string, reason?: string) =>
      sessionLog.filter((e) => e.msg === msg && (reason === undefined || e.reason === reason))
        .length;
    assert.equal(lines("session created"), 7);
    assert.equal(lines("session deleted"), 2);
    assert.equal(lines("session expired"), 1);
    assert.equal(lines("session revoked", "revoked"), 1);
    assert.equal(lines("session revoked", "forced"), 2);
    assert.equal(lines("session rotated"), 1);
    // Routes are named from the route table, never by raw path.
    assert.equal(
      sample(m, "http_request_duration_seconds_count", {
        route: "login",
        method: "POST",
        status: "200",
      }),
      5,
    );
  }));

Deno.test("metrics: logins_total counts throttled answers", () =>
  withObservedApi(async ({ call, metrics }) => {
    for (let i = 0; i < 12; i++) {
      await call("/api/auth/login", { username: "nobody", password: "wrong password!" });
    }
    const m = parse(await metrics.text());
    const bad = sample(m, "logins_total", { result: "bad_credentials" })!;
    const throttled = sample(m, "logins_total", { result: "throttled" })!;
    assert.equal(bad + throttled, 12);
    assert.ok(throttled >= 2, `throttled ${throttled}`);
    assert.equal(
      sample(m, "http_request_duration_seconds_count", {
        route: "login",
        method: "POST",
        status: "429",
      }),
      throttled,
    );
  }));

Deno.test("http metrics: a path outside the route table is unmatched, never its raw path", () =>
  withObservedApi(async ({ call, metrics }) => {
    assert.equal((await call("/api/no/such/route/x7")).status, 404);
    const text = await metrics.text();
    assert.equal(text.includes("x7"), false);
    assert.equal(
      sample(parse(text), "http_request_duration_seconds_count", {
        route: "unmatched",
        method: "POST",
        status: "404",
      }),
      1,
    );
  }));

Deno.test("scrape: reads the store once per cache period (one count, one serverStatus)", async () => {
  const [db, client] = await testDb();
  const spy = new MongoClient(serverUrl(client), { monitorCommands: true });
  const commands: string[] = [];
  spy.on("commandStarted", (e) => {
    if (e.commandName !== "endSessions") commands.push(e.commandName);
  });
  const clock = { ms: 0 };
  const metrics = new ServiceMetrics({
    store: mongoStoreReader(spy.db(db.databaseName)),
    storeCacheMs: 15_000,
    now: () => Date.now() + clock.ms,
    process: false,
  });
  try {
    const sessions = db.collection("Sessioning.sessions");
    await sessions.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
    const future = new Date(Date.now() + HOUR);
    await sessions.insertMany([
      { _id: "a" as never, expiresAt: future },
      { _id: "b" as never, expiresAt: future },
      { _id: "c" as never, expiresAt: new Date(Date.now() - HOUR) },
    ]);
    await spy.connect();
    commands.length = 0;
    const first = parse(await metrics.text());
    assert.equal(sample(first, "sessions_active"), 2);
    assert.deepEqual(commands.sort(), ["aggregate", "serverStatus"]);
    // Within the cache period: no store command at all, the same figure.
    await sessions.insertOne({ _id: "d" as never, expiresAt: future });
    commands.length = 0;
    assert.equal(sample(parse(await metrics.text()), "sessions_active"), 2);
    assert.deepEqual(commands, []);
    // Past it: read again, once, by several scrapes at the same time.
    clock.ms += 15_000;
    const scrapes = await Promise.all([metrics.text(), metrics.text(), metrics.text()]);
    for (const s of scrapes) assert.equal(sample(parse(s), "sessions_active"), 3);
    assert.deepEqual(commands.sort(), ["aggregate", "serverStatus"]);
  } finally {
    metrics.close();
    await spy.close();
    await client.close();
  }
});

Deno.test("scrape: a failed store read keeps the last figure and counts a store error", async () => {
  let fail = false;
  const clock = { ms: 0 };
  const metrics = new ServiceMetrics({
    store: {
      countLiveSessions: () => fail ? Promise.reject(new Error("down")) : Promise.resolve(7),
      ttl: () => Promise.resolve({ deletedDocuments: 4, passes: 9 }),
    },
    now: () => clock.ms,
    process: false,
  });
  try {
    let m = parse(await metrics.text());
    assert.equal(sample(m, "sessions_active"), 7);
    assert.equal(sample(m, "store_ttl_deleted_documents_total"), 4);
    assert.equal(sample(m, "store_ttl_passes_total"), 9);
    fail = true;
    clock.ms += 15_000;
    m = parse(await metrics.text());
    assert.equal(sample(m, "sessions_active"), 7);
    // The error is counted by the scrape that met it, and shown by the next at the latest.
    m = parse(await metrics.text());
    assert.equal(sample(m, "store_errors_total", { operation: "scrape" }), 1);
  } finally {
    metrics.close();
  }
});

Deno.test("store_errors_total: a connection lost when the store dies counts as a connection error", async () => {
  const dbpath = await Deno.makeTempDir({ prefix: "metrics-conn-" });
  const store = await startStoreProcess({ dbpath });
  const client = new MongoClient(store.url, {
    serverSelectionTimeoutMS: 500,
    socketTimeoutMS: 1000,
    monitorCommands: false,
  });
  const metrics = new ServiceMetrics({
    store: {
      countLiveSessions: () => Promise.resolve(0),
      ttl: () => Promise.resolve({ deletedDocuments: 0, passes: 0 }),
    },
    process: false,
  });
  driverMetrics(metrics.registry, client, (op) => metrics.storeError(op));
  try {
    const docs = client.db("t").collection("c");
    await docs.findOne({});
    let m = parse(await metrics.text());
    assert.equal(sample(m, "store_errors_total", { operation: "connection" }), undefined);
    await store.stop("SIGKILL");
    await assert.rejects(docs.findOne({}));
    m = parse(await metrics.text());
    assert.ok((sample(m, "store_errors_total", { operation: "connection" }) ?? 0) >= 1);
  } finally {
    await client.close().catch(() => {});
    metrics.close();
    await Deno.remove(dbpath, { recursive: true }).catch(() => {});
  }
});

Deno.test("driverMetrics(): pool connections open and checked out follow the driver's events", async () => {
  const events = new EventEmitter();
  const metrics = new ServiceMetrics({ process: false });
  driverMetrics(metrics.registry, events as unknown as MongoClient, (op) => metrics.storeError(op));
  const conn = (id: number) => ({ address: "127.0.0.1:27017", connectionId: id });
  const gauges = async () => {
    const m = parse(await metrics.text());
    return [sample(m, "mongodb_pool_connections"), sample(m, "mongodb_pool_checked_out")];
  };
  try {
    assert.deepEqual(await gauges(), [0, 0]);
    events.emit("connectionCreated", conn(1));
    events.emit("connectionCheckedOut", conn(1));
    events.emit("connectionCheckedOut", conn(2)); // first seen checked out: open too
    assert.deepEqual(await gauges(), [2, 2]);
    events.emit("connectionCheckedIn", conn(1));
    events.emit("connectionCheckedIn", conn(1)); // twice: still not out
    events.emit("connectionCheckedIn", conn(3)); // never seen: nothing
    assert.deepEqual(await gauges(), [2, 1]);
    events.emit("connectionCheckedOut", conn(1));
    assert.deepEqual(await gauges(), [2, 2]);
    events.emit("connectionClosed", { ...conn(2), reason: "poolClosed" });
    assert.deepEqual(await gauges(), [1, 1]);
    events.emit("connectionCheckedIn", conn(1));
    assert.deepEqual(await gauges(), [1, 0]);
  } finally {
    metrics.close();
  }
});

Deno.test("metricsHandler() wants the bearer token (401), and answers /metrics only (404)", async () => {
  const metrics = new ServiceMetrics({ process: false });
  const token = "t0ken-for-the-metrics-listener";
  const handle = metricsHandler(metrics, token);
  const get = (path: string, headers: Record<string, string> = {}) =>
    handle(new Request(`http://127.0.0.1${path}`, { headers }));
  try {
    const none = await get("/metrics");
    assert.equal(none.status, 401);
    assert.equal(none.headers.get("www-authenticate"), 'Bearer realm="metrics"');
    await none.body?.cancel();
    const wrong = await get("/metrics", { authorization: `Bearer ${token}x` });
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
    const other = await get("/", { authorization: `Bearer ${token}` });
    assert.equal(other.status, 404);
    await other.body?.cancel();
    const ok = await get("/metrics", { authorization: `Bearer ${token}` });
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    assert.ok(parse(await ok.text()).families.has("sessions_created_total"));
  } finally {
    metrics.close();
  }
});

Deno.test("startService() serves metrics on METRICS_PORT only: 404 on the service port", async () => {
  const dataDir = await Deno.makeTempDir();
  const service = await startService(
    loadConfig({
      PORT: "0",
      DATA_DIR: dataDir,
      METRICS_PORT: "0",
      METRICS_TOKEN: "a-long-enough-metrics-token",
      SESSION_COOKIE_SECURE: "false",
    }),
    () => {},
  );
  try {
    assert.ok(service.metricsUrl);
    const onService = await fetch(`${service.url}/metrics`);
    assert.equal(onService.status, 404);
    await onService.body?.cancel();
    const noToken = await fetch(service.metricsUrl);
    assert.equal(noToken.status, 401);
    await noToken.body?.cancel();
    const scraped = await fetch(service.metricsUrl, {
      headers: { authorization: "Bearer a-long-enough-metrics-token" },
    });
    assert.equal(scraped.status, 200);
    const m = parse(await scraped.text());
    for (
      const name of [
        "sessions_active",
        "engine_flows",
        "requesting_pending_requests",
        "mongodb_pool_connections",
        "process_resident_memory_bytes",
        "event_loop_lag_seconds",
        "http_request_duration_seconds",
      ]
    ) assert.ok(m.families.has(name), name);
    assert.equal(sample(m, "sessions_active"), 0);
    assert.equal(
      sample(m, "http_request_duration_seconds_count", {
        route: "unmatched",
        method: "GET",
        status: "404",
      }),
      1,
    );
  } finally {
    await service.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("loadConfig() refuses metrics off loopback without METRICS_TOKEN, and a short token", () => {
  assert.throws(
    () => loadConfig({ METRICS_PORT: "9464", METRICS_HOST: "0.0.0.0" }),
    /Cannot start: METRICS_TOKEN must be set when METRICS_HOST is not loopback/,
  );
  assert.throws(
    () => loadConfig({ METRICS_PORT: "9464", METRICS_TOKEN: "short" }),
    /Cannot start: METRICS_TOKEN must be 16-256 printable characters/,
  );
  assert.throws(() => loadConfig({ METRICS_PORT: "x" }), /METRICS_PORT/);
  assert.deepEqual(loadConfig({}).metrics, {
    host: "127.0.0.1",
    port: undefined,
    token: undefined,
  });
});

Deno.test("sessions_active: two service processes on one store report the same count", async () => {
  const dbpath = await Deno.makeTempDir({ prefix: "metrics-store-" });
  const store = await startStoreProcess({ dbpath });
  const ports = [freePort(), freePort()];
  const nodes = await Promise.all(ports.map((port) =>
    startServiceProcess({
      env: { MONGODB_URL: store.url, METRICS_PORT: String(port) },
    })
  ));
  try {
    // Four sessions through node 0, three through node 1; one of node 0's ends on node 1.
    const tokens: string[] = [];
    for (const [i, n] of [[0, 4], [1, 3]]) {
      for (let k = 0; k < n; k++) {
        const res = await fetch(`${nodes[i].url}/api/auth/register`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            username: `user${i}_${k}`,
            password: PASSWORD,
            transport: "bearer",
          }),
        });
        assert.equal(res.status, 201);
        tokens.push((await res.json()).session);
      }
    }
    const out = await fetch(`${nodes[1].url}/api/auth/logout`, {
      method: "POST",
      headers: { authorization: `Bearer ${tokens[0]}`, "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(out.status, 200);
    await out.body?.cancel();
    const scraped = await Promise.all(ports.map(async (port) => {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(res.status, 200);
      return parse(await res.text());
    }));
    assert.deepEqual(scraped.map((m) => sample(m, "sessions_active")), [6, 6]);
    // Each node counts what it did: the sum is what happened, once.
    assert.deepEqual(scraped.map((m) => sample(m, "sessions_created_total")), [4, 3]);
    assert.deepEqual(
      scraped.map((m) => sample(m, "sessions_ended_total", { reason: "logout" })),
      [0, 1],
    );
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await store.stop();
    await Deno.remove(dbpath, { recursive: true });
  }
});

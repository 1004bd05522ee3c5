/**
 * The composition root: `startService(config)` builds, in this order, the database (embedded or
 * `MONGODB_URL`), the concepts and their engine, the syncs, the HTTP app and its server, and
 * returns a handle (tests start it on port 0). Nothing else wires anything.
 */
import type { Db } from "mongodb";
import type { Config } from "../config.ts";
import { Logging } from "../engine/mod.ts";
import {
  argon2HasherWith,
  type PasswordHasher,
} from "../concepts/PasswordAuthentication/hashing.ts";
import { answerHeadersFor } from "../http/security_headers.ts";
import { createApp, type HealthCheck } from "../http/app.ts";
import { MAX_BODY_BYTES } from "../http/body.ts";
import { serveHttp } from "../http/server.ts";
import { syncs } from "../syncs/mod.ts";
import { jsonLineSink, type LogEntry, Logger, type LogSink } from "../utils/log.ts";
import type { SessionEvent } from "../concepts/Sessioning/SessioningConcept.ts";
import { createConcepts } from "./concepts.ts";
import { getDb } from "./database.ts";
import { ServiceMetrics } from "../observability/metrics.ts";
import { serveMetrics } from "../observability/endpoint.ts";
import { driverMetrics, mongoStoreReader } from "../observability/store_metrics.ts";
import type { HttpServer } from "../http/server.ts";
import { applyInitialAdmins } from "./initial_admins.ts";

export interface Service {
  /** The address the HTTP server listens on. */
  url: string;
  /** The metrics listener's address (`.../metrics`), when METRICS_PORT is set. */
  metricsUrl?: string;
  store: "embedded" | "mongodb";
  /** Stops the HTTP server, then closes the database (and an embedded server with it). */
  close(): Promise<void>;
}

const SYNC_LOGGING = { off: Logging.OFF, trace: Logging.TRACE, verbose: Logging.VERBOSE };

/** A promise that rejects with `message` after `ms`, racing `work`. */
async function within<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
    work.catch(() => {});
  }
}

/**
 * Readiness: the store answers a ping and takes a small write (to `Health.probe`), each within
 * `ms`; otherwise the reason, without the driver's words.
 */
function readiness(db: Db, ms: number): HealthCheck {
  const probe = db.collection<{ _id: string; at: Date }>("Health.probe");
  return async () => {
    try {
      await within(db.command({ ping: 1 }), ms, "ping timed out");
    } catch {
      return { reason: "Cannot reach store: no answer to ping" };
    }
    try {
      await within(
        probe.updateOne({ _id: "readiness" }, { $set: { at: new Date() } }, { upsert: true }),
        ms,
        "write timed out",
      );
    } catch {
      return { reason: "Cannot write to store: write failed" };
    }
    return true;
  };
}

/** What a benchmark or a test may put in place of the service's own parts. */
export interface ServiceParts {
  /**
   * The password hasher (default: Argon2id, at most `config.login.hashConcurrency` at once).
   * `deno task bench login` swaps it to tell a login's own work from the hashing's.
   */
  hasher?: PasswordHasher;
}

/** Starts the service; `log` receives its structured lines (default: JSON lines on stdout). */
export async function startService(
  config: Config,
  log: LogSink = jsonLineSink,
  parts: ServiceParts = {},
): Promise<Service> {
  const conn = await getDb({
    mongodbUrl: config.mongodbUrl,
    dbName: config.dbName,
    dataDir: config.dataDir,
    ttlMonitorIntervalMs: config.embeddedTtlMonitorIntervalMs,
    // The embedded store's events (accept failures, refused connections, journal faults).
    logger: new Logger(log),
    clientOptions: {
      // Every operation has a deadline below REQUESTING_TIMEOUT, and an unreachable store is
      // noticed within a second: requests answer 503 rather than hang. (This driver ignores
      // timeoutMS; a socket without an answer for STORE_TIMEOUT is closed instead.)
      socketTimeoutMS: config.storeTimeoutMs,
      waitQueueTimeoutMS: config.storeTimeoutMs,
      serverSelectionTimeoutMS: Math.min(1000, config.storeTimeoutMs),
      connectTimeoutMS: Math.min(1000, config.storeTimeoutMs),
      heartbeatFrequencyMS: 1000,
      // No command monitoring: it makes two events per command and decodes every reply whole for
      // them (~19 us a command, README "Observability"). Store errors are counted from the
      // pool's and the monitor's events and from the answers (src/observability/).
      monitorCommands: false,
    },
  });
  const [db, client] = conn;
  let metrics: ServiceMetrics | undefined;
  let metricsServer: HttpServer | undefined;
  try {
    // Created before the concepts so the Sessioning events reach it from the first one.
    let observeSession: (event: SessionEvent) => void = () => {};
    const concepts = createConcepts(db, {
      engine: { logging: SYNC_LOGGING[config.syncLogging], logger: new Logger(log) },
      requesting: { ...config.requesting, storeTimeoutMs: config.storeTimeoutMs },
      sessioning: {
        ...config.session,
        // Session events carry the public id only, never the token: safe to log. The same
        // events drive the session counters (one source).
        onEvent: (event) => observeSession(event),
      },
      rateLimiting: { limit: config.login.maxFailures, windowMs: config.login.windowMs },
      // Argon2id runs on threads of its own: bounded, so a login flood cannot starve the event
      // loop (and with it the store's connections) of CPU.
      passwordAuthentication: {
        hasher: parts.hasher ?? argon2HasherWith(config.login.hashConcurrency),
      },
      // Administrators' actions: who, what, to whom and when (ids only, never a token).
      auditLog: {
        onRecord: (entry) =>
          log({ time: entry.at.toISOString(), level: "info", msg: "audit", ...entry }),
      },
    });
    concepts.Engine.register(syncs);
    const sessionMetrics = new ServiceMetrics({
      store: mongoStoreReader(db),
      engineStats: () => concepts.Engine.stats(),
      pendingRequests: () => concepts.Requesting.pendingCount,
    });
    metrics = sessionMetrics;
    driverMetrics(sessionMetrics.registry, client, (op) => sessionMetrics.storeError(op));
    observeSession = (event) => {
      sessionMetrics.observe(event);
      logSessionEvent(log, event);
    };
    const admins = await applyInitialAdmins(concepts, config.adminUsernames);
    log({
      time: new Date().toISOString(),
      level: admins.missing.length > 0 ? "warn" : "info",
      msg: "administrators applied",
      admins: admins.admins,
      revoked: admins.revoked,
      // Listed names with no account yet: they become administrators at the first start after
      // they register.
      notRegistered: admins.missing,
    });
    const app = createApp({
      Requesting: concepts.Requesting,
      Sessioning: concepts.Sessioning,
      health: readiness(db, 900),
      store: conn.store,
      log: (entry) => log({ level: "info", msg: "http", ...entry }),
      observe: (r) => sessionMetrics.httpRequest(r.route, r.method, r.status, r.seconds, r.kind),
      config: {
        ...config.http,
        sessionCookieMaxAgeSec: Math.floor(config.session.absoluteTtlMs / 1000),
      },
    });
    const server = serveHttp({
      hostname: config.host,
      port: config.port,
      ...config.server,
      tls: config.tls,
      // The transport's cap on a body; the app answers 413 past the same limit.
      maxBodyBytes: MAX_BODY_BYTES,
      handler: app.fetch,
      // The security headers (and no-store) on every answer, the server's own included.
      answerHeaders: answerHeadersFor,
      log: (event) => log({ time: new Date().toISOString(), ...event }),
    });
    if (config.metrics.port !== undefined) {
      metricsServer = serveMetrics({
        hostname: config.metrics.host,
        port: config.metrics.port,
        token: config.metrics.token,
        metrics: sessionMetrics,
        limits: config.server,
        log: (event) => log({ time: new Date().toISOString(), component: "metrics", ...event }),
      });
    }
    return {
      url: `${config.tls ? "https" : "http"}://${hostPort(server.addr)}`,
      metricsUrl: metricsServer && `http://${hostPort(metricsServer.addr)}/metrics`,
      store: conn.store,
      async close() {
        await server.shutdown();
        await metricsServer?.shutdown();
        sessionMetrics.close();
        await client.close();
      },
    };
  } catch (e) {
    await metricsServer?.shutdown();
    metrics?.close();
    await client.close();
    throw e;
  }
}

/** `host:port` of an address, an IPv6 host in brackets. */
function hostPort(addr: Deno.NetAddr): string {
  return `${addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname}:${addr.port}`;
}

/** Ended sessions with their reason, creations and refusals: one log line each (not checks). */
function logSessionEvent(log: LogSink, event: SessionEvent): void {
  if (event.type === "validated") return;
  const line: LogEntry = {
    time: event.at.toISOString(),
    level: "info",
    msg: `session ${event.type}`,
    sessionId: event.id,
  };
  if (event.type === "revoked" || event.type === "rejected") line.reason = event.reason;
  log(line);
}

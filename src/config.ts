/**
 * The service's configuration: read from the environment once, validated, and passed down as
 * options. Nothing else in the service reads `Deno.env`. A bad setting stops the start with a
 * `ConfigError` that names the variable.
 *
 * Durations accept a whole number of milliseconds (`600000`) or a number with a unit: `ms`, `s`,
 * `m`, `h`, `d` (`10m`, `24h`, `7d`).
 */

export class ConfigError extends Error {
  constructor(readonly variable: string, reason: string) {
    super(`Cannot start: ${variable} ${reason}`);
  }
}

export interface Config {
  port: number;
  /** Where to listen; 127.0.0.1 unless HOST says otherwise. */
  host: string;
  mongodbUrl?: string;
  dbName: string;
  dataDir: string;
  embeddedTtlMonitorIntervalMs: number;
  session: {
    absoluteTtlMs: number;
    idleTtlMs: number;
    touchIntervalMs: number;
    /** Admin actions need a password check at most this long ago (SUDO_TTL). */
    sudoTtlMs: number;
  };
  /** Usernames made administrators at start (ADMIN_USERNAMES). */
  adminUsernames: string[];
  /** The deadline of one store operation (the driver's socket timeout); below REQUESTING_TIMEOUT. */
  storeTimeoutMs: number;
  requesting: {
    timeoutMs: number;
    saveResponses: boolean;
    savedTtlMs: number;
  };
  /** PEM certificate and key read from TLS_CERT_FILE and TLS_KEY_FILE: HTTPS when set. */
  tls?: { cert: string; key: string };
  /** Connection limits of the HTTP server (src/http/server.ts). */
  server: {
    headersTimeoutMs: number;
    idleTimeoutMs: number;
    bodyTimeoutMs: number;
    sendTimeoutMs: number;
    maxConnections: number;
  };
  http: {
    cookieSecure: boolean;
    appOrigins: string[];
    trustProxy: boolean;
  };
  login: {
    maxFailures: number;
    windowMs: number;
    /** Argon2id hashings and verifications at once (PASSWORD_HASH_CONCURRENCY); default: CPUs. */
    hashConcurrency?: number;
  };
  /** The sync engine's log level. */
  syncLogging: "off" | "trace" | "verbose";
  /**
   * The metrics listener (`GET /metrics`): off unless METRICS_PORT is set; on METRICS_HOST
   * (127.0.0.1 by default); with METRICS_TOKEN, a bearer token is required (it must be set when
   * METRICS_HOST is not a loopback address).
   */
  metrics: { port?: number; host: string; token?: string };
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `"600000"`, `"10m"`, `"24h"`, `"7d"` into milliseconds; throws `ConfigError`. */
export function parseDuration(variable: string, text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) {
    throw new ConfigError(variable, `must be a duration like 600000, 30s, 10m, 24h or 7d`);
  }
  const ms = Math.round(Number(m[1]) * UNITS[m[2] ?? "ms"]);
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw new ConfigError(variable, "must be a positive duration");
  }
  return ms;
}

function parseBool(variable: string, text: string): boolean {
  const t = text.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(t)) return true;
  if (["0", "false", "no", "off"].includes(t)) return false;
  throw new ConfigError(variable, "must be true or false");
}

function parseInteger(variable: string, text: string, min: number, max: number): number {
  if (!/^\s*\d+\s*$/.test(text)) throw new ConfigError(variable, "must be a whole number");
  const n = Number(text);
  if (n < min || n > max) throw new ConfigError(variable, `must be between ${min} and ${max}`);
  return n;
}

/** The text of a PEM file named by `variable`; throws `ConfigError` when unreadable. */
function readPem(variable: string, path: string): string {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    throw new ConfigError(variable, `names a file that cannot be read (${(e as Error).name})`);
  }
  if (!text.includes("-----BEGIN ")) throw new ConfigError(variable, "must name a PEM file");
  return text;
}

function parseOrigins(variable: string, text: string): string[] {
  const origins = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const o of origins) {
    let url: URL;
    try {
      url = new URL(o);
    } catch {
      throw new ConfigError(variable, `has an invalid origin: ${o}`);
    }
    if (url.origin !== o || !/^https?:$/.test(url.protocol)) {
      throw new ConfigError(
        variable,
        `entries must be bare origins like https://app.example.com, not ${o}`,
      );
    }
  }
  return origins;
}

/**
 * A comma-separated list of usernames, trimmed, without repeats. Each is 1-256 printable
 * characters without a comma; the service checks each against the username rules at start.
 */
function parseUsernames(variable: string, text: string): string[] {
  const names = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const name of names) {
    // deno-lint-ignore no-control-regex
    if (name.length > 256 || /[\u0000-\u001f\u007f]/.test(name)) {
      throw new ConfigError(
        variable,
        `has an invalid username: ${JSON.stringify(name.slice(0, 40))}`,
      );
    }
  }
  return [...new Set(names)];
}

/**
 * Builds the configuration from `env` (a plain record, so tests pass their own). Unset or empty
 * variables take their defaults.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === "" ? undefined : v;
  };
  const duration = (name: string, fallback: number) => {
    const v = get(name);
    return v === undefined ? fallback : parseDuration(name, v);
  };
  const bool = (name: string, fallback: boolean) => {
    const v = get(name);
    return v === undefined ? fallback : parseBool(name, v);
  };

  const mongodbUrl = get("MONGODB_URL");
  if (mongodbUrl && !/^mongodb(\+srv)?:\/\//.test(mongodbUrl)) {
    throw new ConfigError("MONGODB_URL", "must start with mongodb:// or mongodb+srv://");
  }
  const dbName = get("DB_NAME") ?? "sessions";
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(dbName)) {
    throw new ConfigError("DB_NAME", "must be 1-63 letters, digits, _ or -");
  }
  const syncLogging = (get("SYNC_LOGGING") ?? "off").toLowerCase();
  if (syncLogging !== "off" && syncLogging !== "trace" && syncLogging !== "verbose") {
    throw new ConfigError("SYNC_LOGGING", "must be off, trace or verbose");
  }

  const session = {
    absoluteTtlMs: duration("SESSION_ABSOLUTE_TTL", 7 * UNITS.d),
    idleTtlMs: duration("SESSION_IDLE_TTL", 24 * UNITS.h),
    touchIntervalMs: duration("SESSION_TOUCH_INTERVAL", 5 * UNITS.m),
    sudoTtlMs: duration("SUDO_TTL", 10 * UNITS.m),
  };
  if (session.idleTtlMs > session.absoluteTtlMs) {
    throw new ConfigError("SESSION_IDLE_TTL", "must not be longer than SESSION_ABSOLUTE_TTL");
  }
  if (session.touchIntervalMs >= session.idleTtlMs) {
    throw new ConfigError("SESSION_TOUCH_INTERVAL", "must be shorter than SESSION_IDLE_TTL");
  }

  const requestingTimeoutMs = duration("REQUESTING_TIMEOUT", 10_000);
  const storeTimeoutMs = duration("STORE_TIMEOUT", Math.min(2000, requestingTimeoutMs / 2));
  if (storeTimeoutMs >= requestingTimeoutMs) {
    throw new ConfigError("STORE_TIMEOUT", "must be shorter than REQUESTING_TIMEOUT");
  }

  const certFile = get("TLS_CERT_FILE");
  const keyFile = get("TLS_KEY_FILE");
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConfigError(
      certFile === undefined ? "TLS_CERT_FILE" : "TLS_KEY_FILE",
      "must be set together with " + (certFile === undefined ? "TLS_KEY_FILE" : "TLS_CERT_FILE"),
    );
  }
  const tls = certFile && keyFile
    ? { cert: readPem("TLS_CERT_FILE", certFile), key: readPem("TLS_KEY_FILE", keyFile) }
    : undefined;

  const metricsPort = get("METRICS_PORT");
  const metrics = {
    port: metricsPort === undefined
      ? undefined
      : parseInteger("METRICS_PORT", metricsPort, 0, 65535),
    host: get("METRICS_HOST") ?? "127.0.0.1",
    token: get("METRICS_TOKEN"),
  };
  if (metrics.token !== undefined && !/^[\x21-\x7e]{16,256}$/.test(metrics.token)) {
    throw new ConfigError("METRICS_TOKEN", "must be 16-256 printable characters without spaces");
  }
  if (
    metrics.port !== undefined && metrics.token === undefined &&
    !/^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(metrics.host)
  ) {
    throw new ConfigError("METRICS_TOKEN", "must be set when METRICS_HOST is not loopback");
  }

  const port = get("PORT");
  return {
    port: port === undefined ? 8000 : parseInteger("PORT", port, 0, 65535),
    host: get("HOST") ?? "127.0.0.1",
    mongodbUrl,
    dbName,
    dataDir: get("DATA_DIR") ?? ".data",
    embeddedTtlMonitorIntervalMs: duration("EMBEDDED_TTL_MONITOR_INTERVAL", 60_000),
    session,
    storeTimeoutMs,
    tls,
    requesting: {
      timeoutMs: requestingTimeoutMs,
      saveResponses: bool("REQUESTING_SAVE_RESPONSES", false),
      savedTtlMs: duration("REQUESTING_SAVED_TTL", UNITS.d),
    },
    server: {
      headersTimeoutMs: duration("HTTP_HEADERS_TIMEOUT", 10_000),
      idleTimeoutMs: duration("HTTP_IDLE_TIMEOUT", 60_000),
      bodyTimeoutMs: duration("HTTP_BODY_TIMEOUT", 10_000),
      sendTimeoutMs: duration("HTTP_SEND_TIMEOUT", 10_000),
      maxConnections: (() => {
        const v = get("HTTP_MAX_CONNECTIONS");
        return v === undefined ? 1024 : parseInteger("HTTP_MAX_CONNECTIONS", v, 1, 1_000_000);
      })(),
    },
    http: {
      cookieSecure: bool("SESSION_COOKIE_SECURE", true),
      appOrigins: parseOrigins("APP_ORIGIN", get("APP_ORIGIN") ?? ""),
      trustProxy: bool("TRUST_PROXY", false),
    },
    login: {
      maxFailures: (() => {
        const v = get("LOGIN_MAX_FAILURES");
        return v === undefined ? 10 : parseInteger("LOGIN_MAX_FAILURES", v, 1, 1_000_000);
      })(),
      windowMs: duration("LOGIN_WINDOW", 10 * UNITS.m),
      hashConcurrency: (() => {
        const v = get("PASSWORD_HASH_CONCURRENCY");
        return v === undefined ? undefined : parseInteger("PASSWORD_HASH_CONCURRENCY", v, 1, 256);
      })(),
    },
    syncLogging,
    metrics,
    adminUsernames: parseUsernames("ADMIN_USERNAMES", get("ADMIN_USERNAMES") ?? ""),
  };
}

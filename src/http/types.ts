/**
 * What the HTTP boundary needs from the rest of the service, as narrow interfaces: the
 * instrumented Requesting and Sessioning concepts, a store health check, the settings, and an
 * access logger. `createApp` (app.ts) takes these as its dependencies, so tests pass the real
 * concepts or small fakes.
 */
import type { Context, Env } from "hono";
import type { RequestFigures } from "./request_metrics.ts";

/** The Requesting concept as the boundary uses it (through the engine's instrumentation). */
export interface RequestingPort {
  /** Starts a request; resolves once the syncs it triggered have run. */
  request(input: { path: string } & Record<string, unknown>): Promise<Record<string, unknown>>;
  /** The response to a request, once one has been given. */
  _awaitResponse(input: { request: string }): Promise<Array<Record<string, unknown>>>;
}

/** The Sessioning concept as the boundary uses it (through the engine's instrumentation). */
export interface SessioningPort {
  /** Validates and renews a session: its user, public id and expiry, or `{ error }`. */
  touch(input: { session: string }): Promise<Record<string, unknown>>;
  delete(input: { session: string }): Promise<Record<string, unknown>>;
}

/**
 * The readiness check: `true` when the store answers reads and takes writes, `false` when the
 * ping got no answer, or a client-safe reason (`Cannot write to store: ...`).
 */
export type HealthCheck = () => Promise<boolean | { reason: string }>;

/** Where the store came from, as `/healthz` reports it. */
export type StoreKind = "embedded" | "mongodb";

export interface HttpConfig {
  /**
   * true: the cookie is `__Host-session` with `Secure`. false (SESSION_COOKIE_SECURE=false, for
   * plain-HTTP localhost development only): the cookie is `session`, without `Secure`.
   */
  cookieSecure: boolean;
  /** Browser origins allowed to call the API with cookies (CSRF) and to read answers (CORS). */
  appOrigins: string[];
  /** Honour X-Forwarded-For / X-Forwarded-Proto / X-Forwarded-Host (behind a reverse proxy). */
  trustProxy: boolean;
  /**
   * Max-Age of the session cookie in seconds (main passes the session's absolute lifetime).
   * Absent: a browser-session cookie without Max-Age. Capped at 400 days, as browsers do.
   */
  sessionCookieMaxAgeSec?: number;
}

/** One access-log line. Never a body, a token, a cookie or a query string. */
export interface AccessLogEntry {
  time: string;
  method: string;
  /** The URL path only, without the query string. */
  path: string;
  status: number;
  durationMs: number;
  /** The public id (the part before the dot) of the session in play, when known. */
  session?: string;
  correlationId: string;
  /** Why the request failed unexpectedly (500), with anything shaped like a token removed. */
  error?: string;
}

export interface AppDeps {
  Requesting: RequestingPort;
  Sessioning: SessioningPort;
  /** Whether the store answers reads and writes (main passes a ping and a write, with deadlines). */
  health: HealthCheck;
  store: StoreKind;
  config: HttpConfig;
  /** Receives one entry per request; default: a JSON line on stdout. */
  log?: (entry: AccessLogEntry) => void;
  /** Receives each answered request's route name, status and duration (the metrics). */
  observe?: (figures: RequestFigures) => void;
}

/** What `Deno.serve` passes as the second argument of `fetch` (hono's `c.env`). */
export interface ServeInfo {
  remoteAddr?: { hostname?: string; port?: number; transport?: string };
}

/** The Hono environment of the app: per-request values shared by the middleware. */
export interface AppEnv extends Env {
  Bindings: ServeInfo;
  Variables: {
    /** A random id for this request, in the access log and in 500 answers. */
    correlationId: string;
    /** The public id of the session in play, for the access log. */
    sessionId?: string;
    /** The (redacted) reason of an unexpected failure, for the access log. */
    failure?: string;
    /** The error kind of a Requesting answer, for the metrics (`bad_credentials`, ...). */
    errorKind?: string;
    /** Whether `c.header` (or a cookie helper) put a header on the answer being made. */
    headersSet?: boolean;
    /** Hono's own `c.header` of this context, called by the tracking one (`trackHeaders`). */
    honoHeader?: Context["header"];
  };
}

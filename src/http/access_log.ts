/**
 * One structured access-log line per request: time, method, path (no query string; anything
 * shaped like a token cut to its public id), status,
 * duration in milliseconds, the public id of the session in play when known, and the request's
 * correlation id. Never a body, a token, a cookie or a header value. The writer is injectable;
 * the default hands the line to the shared logger's sink (src/utils/log.ts: one JSON object per
 * line on stdout) with `level: "info"` and `msg: "http"`. It does not go through `Logger`, whose
 * redaction would blank the `session` field: nothing secret is put into an entry to begin with.
 */
import type { Context, MiddlewareHandler } from "hono";
import { jsonLineSink, logTime } from "../utils/log.ts";
import { newCorrelationId, redact } from "./errors.ts";
import type { AccessLogEntry, AppEnv } from "./types.ts";

/** The default writer: one JSON line on stdout, through the shared log sink. */
export function writeJsonLine(entry: AccessLogEntry): void {
  jsonLineSink({ level: "info", msg: "http", ...entry });
}

/** Gives the request a correlation id and logs it once answered. */
export function accessLog(
  log: (entry: AccessLogEntry) => void = writeJsonLine,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = startAccess(c);
    try {
      await next();
    } finally {
      logAccess(c, started, log);
    }
  };
}

/** Gives the request its correlation id; returns the start time `logAccess` takes. */
export function startAccess(c: Context<AppEnv>): number {
  c.set("correlationId", newCorrelationId());
  return performance.now();
}

/** Writes the request's entry (what `log` throws is ignored). */
export function logAccess(
  c: Context<AppEnv>,
  started: number,
  log: (entry: AccessLogEntry) => void,
): void {
  const entry: AccessLogEntry = {
    time: logTime(),
    method: c.req.method,
    path: redact(c.req.path),
    status: c.res.status,
    durationMs: Math.round((performance.now() - started) * 1000) / 1000,
    correlationId: c.get("correlationId"),
  };
  const session = c.get("sessionId");
  if (session) entry.session = session;
  const failure = c.get("failure");
  if (failure) entry.error = failure;
  try {
    log(entry);
  } catch {
    // A failing logger must not change the answer.
  }
}

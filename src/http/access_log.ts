/**
 * One structured access-log line per request: time, method, path (no query string; anything
 * shaped like a token cut to its public id), status,
 * duration in milliseconds, the public id of the session in play when known, and the request's
 * correlation id. Never a body, a token, a cookie or a header value. The writer is injectable;
 * the default prints one JSON object per line on stdout.
 */
import type { MiddlewareHandler } from "hono";
import { newCorrelationId, redact } from "./errors.ts";
import type { AccessLogEntry, AppEnv } from "./types.ts";

/** The default writer: one JSON line on stdout. */
export function writeJsonLine(entry: AccessLogEntry): void {
  console.log(JSON.stringify(entry));
}

/** Gives the request a correlation id and logs it once answered. */
export function accessLog(
  log: (entry: AccessLogEntry) => void = writeJsonLine,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    c.set("correlationId", newCorrelationId());
    try {
      await next();
    } finally {
      const entry: AccessLogEntry = {
        time: new Date().toISOString(),
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
  };
}

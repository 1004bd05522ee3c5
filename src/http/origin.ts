/**
 * Cross-origin rules: CSRF refusal for state-changing requests, and CORS.
 *
 * CSRF (every POST, unless it carries an `Authorization: Bearer` header, which a cross-site page
 * cannot add without a CORS preflight we would refuse):
 * - with an `Origin` header: allowed when it is one of `appOrigins` or the request's own origin
 *   (scheme and host of the request URL; behind a trusted proxy, X-Forwarded-Proto/-Host);
 *   anything else, `null` included, is refused 403;
 * - without `Origin` (browsers send one on every POST, so this is rare): refused when
 *   `Sec-Fetch-Site: cross-site`, allowed otherwise;
 * - with neither header: allowed, since only non-browser clients (curl, servers, mobile apps)
 *   send neither, and they cannot be made to carry a victim's cookie.
 * The rule applies to cookie-authenticated POSTs (the classic CSRF) and also to POSTs with no
 * credentials at all, so a cross-site page cannot log a victim into an attacker's account
 * (login CSRF) either.
 *
 * CORS: closed (no Access-Control-* headers, preflights fail) unless `appOrigins` is set; then
 * exactly those origins may call `/api/*` with credentials.
 */
import type { Context, MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { HttpError } from "./errors.ts";
import { hasBearerHeader } from "./credentials.ts";
import type { AppEnv, HttpConfig } from "./types.ts";

function firstForwarded(value: string | undefined): string | undefined {
  const first = value?.split(",", 1)[0].trim();
  return first ? first : undefined;
}

/** The origin this request was sent to, as the browser sees it. */
export function selfOrigin(c: Context<AppEnv>, config: HttpConfig): string {
  const url = new URL(c.req.url);
  if (config.trustProxy) {
    const proto = firstForwarded(c.req.header("x-forwarded-proto"));
    const host = firstForwarded(c.req.header("x-forwarded-host"));
    if (proto || host) {
      try {
        return new URL(`${proto ?? url.protocol.replace(":", "")}://${host ?? url.host}`).origin;
      } catch {
        // A malformed forwarded header: fall back to the request URL.
      }
    }
  }
  return url.origin;
}

/** Why this request must be refused as cross-site, or undefined when it may proceed. */
export function csrfViolation(c: Context<AppEnv>, config: HttpConfig): string | undefined {
  if (c.req.method === "GET" || c.req.method === "HEAD" || c.req.method === "OPTIONS") {
    return undefined;
  }
  if (hasBearerHeader(c)) return undefined;
  const origin = c.req.header("origin");
  if (origin !== undefined) {
    if (config.appOrigins.includes(origin) || origin === selfOrigin(c, config)) return undefined;
    return "origin not allowed";
  }
  if (c.req.header("sec-fetch-site")?.trim().toLowerCase() === "cross-site") {
    return "cross-site request";
  }
  return undefined;
}

/** Refuses cross-site state-changing requests with 403. */
export function csrfGuard(config: HttpConfig): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const reason = csrfViolation(c, config);
    if (reason) throw new HttpError(403, `Cannot accept request: ${reason}`);
    await next();
  };
}

/** CORS for `appOrigins` with credentials; undefined (CORS closed) when there are none. */
export function corsFor(config: HttpConfig): MiddlewareHandler | undefined {
  if (config.appOrigins.length === 0) return undefined;
  return cors({
    origin: [...config.appOrigins],
    credentials: true,
    allowMethods: ["GET", "POST"],
    allowHeaders: ["Content-Type", "Authorization"],
    maxAge: 600,
  });
}

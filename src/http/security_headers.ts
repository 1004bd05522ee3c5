/**
 * Security headers on every response (`hono/secure-headers`, tightened for a JSON API: nothing may
 * be loaded, framed or embedded), and `Cache-Control: no-store` on everything under `/api` and on
 * `/healthz`, so no answer that depends on a session is ever cached.
 */
import type { MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";

/** The security headers middleware. */
export function securityHeaders(): MiddlewareHandler {
  return secureHeaders({
    contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    xFrameOptions: "DENY",
  });
}

/** Marks every response as not to be stored by any cache. */
export function noStore(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
  };
}

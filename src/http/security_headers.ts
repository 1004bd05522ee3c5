/**
 * Security headers on every response (`hono/secure-headers`). The JSON API and everything else
 * get a policy under which nothing may be loaded, framed or embedded. The pages (the paths of
 * pages/routes.ts, HTML documents) get their own: their scripts, styles, images and API calls
 * from this origin only, no inline script or style, no framing, no `<base>`, forms posting only
 * here. `Cache-Control: no-store` goes on everything under `/api` and on the health routes, so
 * no answer that depends on a session is ever cached.
 */
import type { Context, MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";
import { isPagePath } from "./pages/routes.ts";

type ContentSecurityPolicyOptions = NonNullable<
  NonNullable<Parameters<typeof secureHeaders>[0]>["contentSecurityPolicy"]
>;

/** The API's policy: nothing may be loaded or framed. */
const API_CSP: ContentSecurityPolicyOptions = {
  defaultSrc: ["'none'"],
  frameAncestors: ["'none'"],
};

/** The pages' policy: their own files and API only; no inline script or style. */
export const PAGE_CSP: ContentSecurityPolicyOptions = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'"],
  connectSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
};

/** The security headers middleware: the pages' policy on page paths, the API's elsewhere. */
export function securityHeaders(): MiddlewareHandler {
  const api = secureHeaders({ contentSecurityPolicy: API_CSP, xFrameOptions: "DENY" });
  const page = secureHeaders({
    contentSecurityPolicy: PAGE_CSP,
    xFrameOptions: "DENY",
    permissionsPolicy: { camera: [], microphone: [], geolocation: [], payment: [] },
  });
  return (c, next) => (isPagePath(c.req.path) ? page : api)(c, next);
}

/** Marks every response as not to be stored by any cache. */
export function noStore(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    setFinalHeader(c, "Cache-Control", "no-store");
  };
}

/**
 * Sets a header on the answer once the handler made it: on the Response's own headers when they
 * can change (`c.header` would copy the whole Response first, which costs more than the rest
 * of a small request's answer), else through `c.header`.
 */
export function setFinalHeader(c: Context, name: string, value: string): void {
  try {
    c.res.headers.set(name, value);
  } catch {
    c.header(name, value); // immutable headers (a Response from fetch or Response.redirect)
  }
}

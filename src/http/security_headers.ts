/**
 * Security headers on every response, as constant lists set once the answer is made.
 *
 * - The JSON API and everything else that is not a page: the headers OWASP's REST Security Cheat
 *   Sheet names for API responses (a policy under which nothing may be loaded or framed, no
 *   MIME sniffing, HSTS, `X-Frame-Options: DENY`), plus `Referrer-Policy: no-referrer` and
 *   `Cross-Origin-Resource-Policy: same-origin` (no other origin may embed an answer). The
 *   document-only headers (opener policy, agent cluster, DNS prefetch, download options, XSS
 *   auditor) are left to the pages: a JSON answer is never a document.
 * - The pages (the paths of pages/routes.ts, HTML documents): their scripts, styles, images and
 *   API calls from this origin only, no inline script or style, no framing, no `<base>`, forms
 *   posting only here, no camera, microphone, geolocation or payment, and the document headers.
 *
 * `Cache-Control: no-store` goes on everything under `/api` and on the health routes (see
 * app.ts), so no answer that depends on a session is ever cached.
 *
 * Constant lists rather than `hono/secure-headers`, which rebuilt its list on every request and
 * cost a few per cent of a small request's CPU; the values are the ones it produced for these
 * options.
 */
import type { Context, MiddlewareHandler } from "hono";
import { isPagePath } from "./pages/routes.ts";

type HeaderList = ReadonlyArray<readonly [string, string]>;

/** A Content-Security-Policy value from its directives. */
function csp(directives: Record<string, string>): string {
  return Object.entries(directives).map(([name, value]) => `${name} ${value}`).join("; ");
}

/** The pages' Content-Security-Policy directives. */
export const PAGE_CSP: Readonly<Record<string, string>> = {
  "default-src": "'none'",
  "script-src": "'self'",
  "style-src": "'self'",
  "img-src": "'self'",
  "connect-src": "'self'",
  "form-action": "'self'",
  "frame-ancestors": "'none'",
  "base-uri": "'none'",
};

const COMMON: HeaderList = [
  ["cross-origin-resource-policy", "same-origin"],
  ["referrer-policy", "no-referrer"],
  ["strict-transport-security", "max-age=15552000; includeSubDomains"],
  ["x-content-type-options", "nosniff"],
  ["x-frame-options", "DENY"],
];

/** The headers of every answer that is not a page. */
export const API_SECURITY_HEADERS: HeaderList = [
  ["content-security-policy", csp({ "default-src": "'none'", "frame-ancestors": "'none'" })],
  ...COMMON,
];

/** The headers of the pages. */
export const PAGE_SECURITY_HEADERS: HeaderList = [
  ["content-security-policy", csp(PAGE_CSP)],
  ...COMMON,
  ["cross-origin-opener-policy", "same-origin"],
  ["origin-agent-cluster", "?1"],
  ["permissions-policy", "camera=(), microphone=(), geolocation=(), payment=()"],
  ["x-dns-prefetch-control", "off"],
  ["x-download-options", "noopen"],
  ["x-permitted-cross-domain-policies", "none"],
  ["x-xss-protection", "0"],
];

/** Sets the security headers of `c`'s path on its answer. */
export function applySecurityHeaders(c: Context): void {
  const list = isPagePath(c.req.path) ? PAGE_SECURITY_HEADERS : API_SECURITY_HEADERS;
  for (const [name, value] of list) setFinalHeader(c, name, value);
}

/** The security headers as a middleware (the app sets them in its one middleware, app.ts). */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    applySecurityHeaders(c);
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

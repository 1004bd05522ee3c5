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
 * `Cache-Control: no-store` goes on everything under `/api` and on the health routes, so no answer
 * that depends on a session is ever cached.
 *
 * The HTTP server puts these headers on every answer it sends (`answerHeadersFor` is its
 * `answerHeaders`, src/app/service.ts), its own 400/413/431/503 answers included; the Hono app
 * does not set them, so an answer made in process (`app.fetch`, tests) has none. Constant lists
 * rendered once rather than `hono/secure-headers` setting each header on each Response: that cost
 * several per cent of a small request's CPU. The values are the ones it produced.
 */
import { type Route, routes } from "../syncs/routes.ts";
import { isPagePath } from "./pages/routes.ts";
import type { HeaderList } from "./server.ts";

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

/** The headers of an answer under `/api` or on a health route: the API's, and no-store. */
export const NO_STORE_SECURITY_HEADERS: HeaderList = [
  ...API_SECURITY_HEADERS,
  ["cache-control", "no-store"],
];

const NO_STORE_PATHS = new Set(
  (Object.values(routes) as Route[]).filter((r) => r.handler === "health").map((r) => r.path),
);

/**
 * The headers of every answer to a request for `path` (the server puts them on, its own answers
 * included: src/http/server.ts `answerHeaders`): the pages', else the API's, with no-store under
 * `/api` and on the health routes.
 */
export function answerHeadersFor(path: string): HeaderList {
  if (isPagePath(path)) return PAGE_SECURITY_HEADERS;
  return path.startsWith("/api/") || NO_STORE_PATHS.has(path)
    ? NO_STORE_SECURITY_HEADERS
    : API_SECURITY_HEADERS;
}

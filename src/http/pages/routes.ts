/**
 * The pages' paths: one table, read by the module that serves them (mod.ts) and by the security
 * headers (security_headers.ts), which give exactly these paths the pages' CSP. A new page is one
 * more row here, one more HTML file under `static/` and its script under `static/assets/`.
 */

/** Page path -> its HTML file under `static/`. */
export const PAGES: Readonly<Record<string, string>> = Object.freeze({
  "/": "account.html",
  "/login": "login.html",
  "/signup": "signup.html",
  "/admin": "admin.html",
});

/** Where the pages' scripts, styles and images are served from (files under `static/assets/`). */
export const ASSETS_PREFIX = "/assets/";

/** Whether `path` is one of the pages (an HTML document, not an asset or an API route). */
export function isPagePath(path: string): boolean {
  return Object.hasOwn(PAGES, path);
}

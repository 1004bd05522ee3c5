/**
 * The web pages for people, served as static files: HTML documents at the paths of `PAGES`
 * (routes.ts), and their scripts, styles and images at `/assets/<name>`. No build step and
 * nothing fetched from elsewhere at run time: the files under `static/` are read once when the
 * app is built, and served from memory.
 *
 * - Only the files that exist at start are served; a name is looked up in a map, never joined
 *   into a path, so nothing else on the disk can be reached.
 * - `Cache-Control: no-cache` with a strong `ETag` (SHA-256 of the file): browsers keep a copy
 *   and revalidate it on each use, getting 304 while it is unchanged. File names carry no
 *   content hash, so longer caching could pair a new page with an old script after an upgrade.
 * - The pages hold no user data: everything about the user comes from the JSON API, with the
 *   session cookie, so the documents themselves are the same for everyone.
 * - Their CSP (`script-src 'self'`, no inline script or style) is set by security_headers.ts.
 */
import type { Context, Hono } from "hono";
import { createHash } from "node:crypto";
import { ASSETS_PREFIX, PAGES } from "./routes.ts";
import type { AppEnv } from "../types.ts";

export { isPagePath, PAGES } from "./routes.ts";

interface StaticFile {
  body: Uint8Array<ArrayBuffer>;
  type: string;
  etag: string;
}

const STATIC = new URL("./static/", import.meta.url);
const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

function typeOf(name: string): string | undefined {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? undefined : TYPES[name.slice(dot)];
}

function load(url: URL, type: string): StaticFile {
  const body = Deno.readFileSync(url) as Uint8Array<ArrayBuffer>;
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
  return { body, type, etag };
}

/** Every served asset, by name: the files of `static/assets/` with a known type. */
function loadAssets(): Map<string, StaticFile> {
  const assets = new Map<string, StaticFile>();
  const dir = new URL("assets/", STATIC);
  for (const entry of Deno.readDirSync(dir)) {
    const type = typeOf(entry.name);
    if (!entry.isFile || !type || !ASSET_NAME.test(entry.name)) continue;
    assets.set(entry.name, load(new URL(entry.name, dir), type));
  }
  return assets;
}

function ifNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || t === etag || t === `W/${etag}`;
  });
}

function serve(c: Context<AppEnv>, file: StaticFile): Response {
  c.header("Cache-Control", "no-cache");
  c.header("ETag", file.etag);
  if (ifNoneMatch(c.req.header("if-none-match"), file.etag)) return c.body(null, 304);
  c.header("Content-Type", file.type);
  return c.body(file.body, 200);
}

/** Adds the pages' routes (GET and HEAD) to the app. */
export function mountPages(app: Hono<AppEnv>): void {
  for (const [path, name] of Object.entries(PAGES)) {
    const page = load(new URL(name, STATIC), TYPES[".html"]);
    app.get(path, (c) => serve(c, page));
  }
  const assets = loadAssets();
  app.get(`${ASSETS_PREFIX}:name`, (c, next) => {
    const file = assets.get(c.req.param("name"));
    return file ? serve(c, file) : next();
  });
}

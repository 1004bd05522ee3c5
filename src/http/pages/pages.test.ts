import assert from "node:assert/strict";
import { Hono } from "hono";
import { mountPages, PAGES } from "./mod.ts";
import { withServed } from "../../../tests/support/served.ts";
import type { AppEnv } from "../types.ts";
import {
  activeSessions,
  failureMessage,
  formatDateTime,
  humanWait,
  relativeTime,
  retryAfterSeconds,
} from "./static/assets/text.js";

/** The pages as app.ts mounts them, with a JSON 404 (the server adds the security headers). */
function pagesApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  mountPages(app);
  app.notFound((c) => c.json({ error: "Cannot find route: no such path" }, 404));
  return app;
}

const STATIC = new URL("./static/", import.meta.url);

function directives(csp: string | null): Map<string, string> {
  return new Map(
    (csp ?? "").split(";").map((d) => d.trim()).filter(Boolean).map((d) => {
      const [name, ...values] = d.split(/\s+/);
      return [name, values.join(" ")];
    }),
  );
}

Deno.test("mountPages() serves each page's HTML file with the pages' CSP and no-cache", async () => {
  await withServed(pagesApp().fetch, async (base) => {
    for (const [path, file] of Object.entries(PAGES)) {
      const res = await fetch(base + path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
      assert.equal(res.headers.get("cache-control"), "no-cache");
      assert.equal(await res.text(), await Deno.readTextFile(new URL(file, STATIC)));
      assert.deepEqual(
        directives(res.headers.get("content-security-policy")),
        new Map([
          ["default-src", "'none'"],
          ["script-src", "'self'"],
          ["style-src", "'self'"],
          ["img-src", "'self'"],
          ["connect-src", "'self'"],
          ["form-action", "'self'"],
          ["frame-ancestors", "'none'"],
          ["base-uri", "'none'"],
        ]),
      );
      assert.equal(res.headers.get("x-frame-options"), "DENY");
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      assert.equal(res.headers.get("cross-origin-opener-policy"), "same-origin");
    }
  });
});

Deno.test("mountPages() serves assets with their types, the API's CSP, and an ETag answered by 304", async () => {
  await withServed(pagesApp().fetch, async (base) => {
    const app = { request: (path: string, init?: RequestInit) => fetch(base + path, init) };
    const types: Record<string, string> = {
      "style.css": "text/css; charset=utf-8",
      "account.js": "text/javascript; charset=utf-8",
      "icon.svg": "image/svg+xml",
    };
    for (const [name, type] of Object.entries(types)) {
      const res = await app.request(`/assets/${name}`);
      assert.equal(res.status, 200, name);
      assert.equal(res.headers.get("content-type"), type);
      assert.equal(res.headers.get("cache-control"), "no-cache");
      assert.equal(
        res.headers.get("content-security-policy"),
        "default-src 'none'; frame-ancestors 'none'",
      );
      const body = new Uint8Array(await res.arrayBuffer());
      assert.deepEqual(body, await Deno.readFile(new URL(`assets/${name}`, STATIC)));
      const etag = res.headers.get("etag");
      assert.match(etag ?? "", /^"[A-Za-z0-9_-]{27}"$/);

      const again = await app.request(`/assets/${name}`, { headers: { "if-none-match": etag! } });
      assert.equal(again.status, 304);
      assert.equal(again.headers.get("etag"), etag);
      assert.equal(await again.text(), "");
      const changed = await app.request(`/assets/${name}`, {
        headers: { "if-none-match": '"old"' },
      });
      assert.equal(changed.status, 200);
      await changed.body?.cancel();
    }
  });
});

Deno.test("mountPages() answers HEAD without a body", async () => {
  const res = await pagesApp().request("/login", { method: "HEAD" });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(await res.text(), "");
});

Deno.test("mountPages() serves nothing but the files of static/assets/ and the page paths", async () => {
  await withServed(pagesApp().fetch, async (base) => {
    const app = { request: (path: string, init?: RequestInit) => fetch(base + path, init) };
    for (
      const path of [
        "/assets/",
        "/assets/nope.js",
        "/assets/..%2Flogin.html",
        "/assets/%2e%2e/mod.ts",
        "/assets/../mod.ts",
        "/login.html",
        "/account.html",
        "/static/login.html",
        "/mod.ts",
        "/login/",
        "/signup/x",
      ]
    ) {
      const res = await app.request(path);
      assert.equal(res.status, 404, path);
      assert.deepEqual(await res.json(), { error: "Cannot find route: no such path" }, path);
      assert.equal(
        res.headers.get("content-security-policy"),
        "default-src 'none'; frame-ancestors 'none'",
      );
    }
    const post = await app.request("/login", { method: "POST" });
    assert.equal(post.status, 404);
    await post.body?.cancel();
  });
});

Deno.test("the pages hold no inline script or style, and load only their own files", async () => {
  for (const file of Object.values(PAGES)) {
    const html = await Deno.readTextFile(new URL(file, STATIC));
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, `${file}: inline script`);
    assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i, `${file}: inline style or handler`);
    for (const [, url] of html.matchAll(/\b(?:src|href)="([^"]*)"/g)) {
      assert.match(url, /^(\/|#)/, `${file}: ${url} is not on this origin`);
    }
  }
});

Deno.test("humanWait() says a wait as people do, rounding up", () => {
  assert.equal(humanWait(1), "1 second");
  assert.equal(humanWait(0.2), "1 second");
  assert.equal(humanWait(45), "45 seconds");
  assert.equal(humanWait(60), "about 1 minute");
  assert.equal(humanWait(61), "about 2 minutes");
  assert.equal(humanWait(599), "about 10 minutes");
  assert.equal(humanWait(3600), "about 1 hour");
  assert.equal(humanWait(3660), "about 1 hour and 1 minute");
  assert.equal(humanWait(7500), "about 2 hours and 5 minutes");
  assert.equal(humanWait(Number.NaN), "1 second");
});

Deno.test("retryAfterSeconds() reads seconds or an HTTP date", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  assert.equal(retryAfterSeconds("120", now), 120);
  assert.equal(retryAfterSeconds(" 7 ", now), 7);
  assert.equal(retryAfterSeconds("Thu, 01 Jan 2026 00:02:00 GMT", now), 120);
  assert.equal(retryAfterSeconds("Wed, 31 Dec 2025 00:00:00 GMT", now), 0);
  assert.equal(retryAfterSeconds(null, now), undefined);
  assert.equal(retryAfterSeconds("", now), undefined);
  assert.equal(retryAfterSeconds("soon", now), undefined);
});

Deno.test("failureMessage() shows the API's error, with the wait when there is one", () => {
  assert.equal(
    failureMessage({
      status: 401,
      data: { error: "Cannot authenticate: invalid username or password" },
    }),
    "Cannot authenticate: invalid username or password.",
  );
  assert.equal(
    failureMessage({
      status: 429,
      data: { error: "Cannot log in: too many failed attempts, try again later" },
      retryAfter: 300,
    }),
    "Cannot log in: too many failed attempts, try again later. You can try again in about 5 minutes.",
  );
  assert.equal(
    failureMessage({ status: 0, data: null }),
    "Cannot reach the service: check your connection and try again.",
  );
  assert.equal(
    failureMessage({ status: 502, data: null }),
    "Something went wrong (HTTP 502). Please try again.",
  );
});

Deno.test("activeSessions() counts sessions in words, one without a plural", () => {
  assert.equal(activeSessions(0), "0 active sessions");
  assert.equal(activeSessions(1), "1 active session");
  assert.equal(activeSessions(2), "2 active sessions");
});

Deno.test("formatDateTime() and relativeTime() say when, in the reader's words", () => {
  assert.equal(formatDateTime("2026-11-30T14:03:00Z", "en-GB", "UTC"), "30 Nov 2026, 14:03");
  assert.equal(formatDateTime("not a date", "en-GB", "UTC"), "unknown");
  const now = Date.parse("2026-11-30T14:03:00Z");
  assert.equal(relativeTime("2026-11-30T14:02:30Z", now, "en"), "just now");
  assert.equal(relativeTime("2026-11-30T13:58:00Z", now, "en"), "5 minutes ago");
  assert.equal(relativeTime("2026-11-30T11:03:00Z", now, "en"), "3 hours ago");
  assert.equal(relativeTime("2026-12-07T14:03:00Z", now, "en"), "in 7 days");
  assert.equal(relativeTime("2026-11-29T14:03:00Z", now, "en"), "yesterday");
});

/**
 * Browser test helpers: Debian's Chromium driven by playwright-core, the service as a child
 * process (plain HTTP in the dev cookie mode, or HTTPS with a certificate made here), and the
 * steps a person takes on the pages, and axe-core's accessibility check.
 *
 * The browser is `CHROMIUM_PATH` (default /usr/bin/chromium). Without it, `browserTest` fails
 * under CI (`CI=true`, where .ci/run installs it) and is ignored elsewhere, with the reason printed.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import axe from "axe-core";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { startServiceProcess } from "../service_process.ts";
import type { ServiceProcess } from "../service_process.ts";
import { selfSignedCert } from "../support/tls.ts";

export type { Browser, BrowserContext, Locator, Page };

export const CHROMIUM_PATH = Deno.env.get("CHROMIUM_PATH") || "/usr/bin/chromium";

/** Headless, as root (no sandbox), and quiet: no network of its own beyond the pages. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--headless",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** User agents of the test's devices, so each context has its own device name. */
export const UA = {
  linuxChrome:
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
  windowsFirefox:
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
  iPhoneSafari:
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
  macEdge:
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
} as const;

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };

/** Why the browser cannot be used, or undefined when it can. */
export function browserMissing(): string | undefined {
  try {
    const info = Deno.statSync(CHROMIUM_PATH);
    return info.isFile ? undefined : `${CHROMIUM_PATH} is not a file`;
  } catch {
    return `no browser at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`;
  }
}

const underCi = (Deno.env.get("CI") ?? "").toLowerCase() === "true";

/**
 * A Deno test that needs the browser: run when it is there, failed under CI when it is not,
 * ignored (with the reason printed) otherwise.
 */
export function browserTest(name: string, fn: (t: Deno.TestContext) => Promise<void>): void {
  const missing = browserMissing();
  if (missing && !underCi) {
    console.warn(`Ignoring browser test "${name}": ${missing}`);
    Deno.test({ name, ignore: true, fn: () => {} });
    return;
  }
  Deno.test({
    name,
    // playwright-core keeps its connection's timers and pipes for the browser's whole life.
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async (t) => {
      if (missing) throw new Error(`Cannot run browser test under CI: ${missing}`);
      await fn(t);
    },
  });
}

/**
 * playwright-core, imported once. On load it asks whether it runs under WSL by testing for
 * `/proc/sys/fs/binfmt_misc/WSLInterop`, a path Deno lets only `--allow-all` look at; under
 * `deno task test`'s narrower permissions that test throws. While the module loads, that one
 * refused look-up answers "no such file" (this is not WSL), and nothing else is changed.
 */
let playwright: Promise<typeof import("playwright-core")> | undefined;

function loadPlaywright(): Promise<typeof import("playwright-core")> {
  playwright ??= (async () => {
    const existsSync = fs.existsSync;
    fs.existsSync = (path: fs.PathLike) => {
      try {
        return existsSync(path);
      } catch (e) {
        if (String(path).startsWith("/proc/sys/fs/binfmt_misc/")) return false;
        throw e;
      }
    };
    try {
      return await import("playwright-core");
    } finally {
      fs.existsSync = existsSync;
    }
  })();
  return playwright;
}

/** Starts Chromium. */
export async function launchBrowser(): Promise<Browser> {
  const { chromium } = await loadPlaywright();
  return await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
}

export interface PageService extends ServiceProcess {
  /** Whether cookies are the secure `__Host-` ones (served over HTTPS). */
  secure: boolean;
}

/**
 * The service as a child process. `https: true` serves HTTPS with a fresh self-signed
 * certificate and the default secure cookies; otherwise plain HTTP with
 * SESSION_COOKIE_SECURE=false.
 */
export async function startPageService(
  options: { https?: boolean; env?: Record<string, string> } = {},
): Promise<PageService> {
  if (!options.https) {
    const service = await startServiceProcess({
      env: { SESSION_COOKIE_SECURE: "false", ...options.env },
    });
    return { ...service, secure: false };
  }
  const dir = await Deno.makeTempDir({ prefix: "pages-tls-" });
  try {
    const { cert, key } = await selfSignedCert(dir);
    const service = await startServiceProcess({
      env: {
        SESSION_COOKIE_SECURE: "true",
        TLS_CERT_FILE: cert,
        TLS_KEY_FILE: key,
        ...options.env,
      },
    });
    assert.match(service.url, /^https:\/\//);
    return {
      ...service,
      secure: true,
      stop: async () => {
        await service.stop();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      },
    };
  } catch (e) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  }
}

/**
 * Problems a page reported: uncaught errors and console errors (a CSP violation is one). The
 * browser's note of each 4xx answer (401 while logged out, 409, 429, ...) is not one: the page
 * shows those to the person.
 */
export function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    const text = m.text();
    if (/the server responded with a status of 4\d\d/.test(text)) return;
    problems.push(`console error: ${text}`);
  });
  return problems;
}

/**
 * A browser context with its own cookies and user agent (HTTPS errors ignored, for the test's
 * self-signed certificate). Waits give up after 10 s, so a broken page fails soon.
 */
export async function newDevice(
  browser: Browser,
  userAgent: string,
  viewport: { width: number; height: number } = DESKTOP,
): Promise<BrowserContext> {
  const context = await browser.newContext({
    userAgent,
    viewport,
    ignoreHTTPSErrors: true,
    locale: "en-GB",
  });
  context.setDefaultTimeout(10_000);
  return context;
}

/** Registers on the sign-up page and waits for the sessions page. */
export async function signUp(page: Page, base: string, username: string, password: string) {
  await page.goto(`${base}/signup`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByLabel("Repeat password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(`${base}/`);
  await page.locator("li.session").first().waitFor();
}

/** Logs in on the login page and waits for the sessions page. */
export async function logIn(page: Page, base: string, username: string, password: string) {
  await page.goto(`${base}/login`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(`${base}/`);
  await page.locator("li.session").first().waitFor();
}

/** The device names of the sessions page's list, in order, and which one is "This device". */
export async function listedSessions(
  page: Page,
): Promise<Array<{ device: string; current: boolean }>> {
  await page.locator("#sessions:not([aria-busy])").waitFor();
  return await page.locator("li.session").evaluateAll((items) =>
    items.map((li) => ({
      device: li.querySelector(".device")?.textContent ?? "",
      current: li.classList.contains("current"),
    }))
  );
}

/** The sessions the API lists for this page's cookie (what the page should show). */
export async function apiSessions(
  page: Page,
): Promise<Array<{ id: string; userAgent: string | null; device: string; current: boolean }>> {
  return await page.evaluate(async () => {
    const res = await fetch("/api/auth/sessions", { credentials: "same-origin" });
    if (!res.ok) throw new Error(`GET /api/auth/sessions answered ${res.status}`);
    return (await res.json()).sessions;
  });
}

/**
 * Waits for `done` (what an action shows when it is done) on the administrator's page, answering
 * its password prompt (sudo mode) with `password` first if the prompt comes instead.
 */
export async function whenDone(page: Page, done: Locator, password: string): Promise<void> {
  const prompt = page.locator("#sudo:not([hidden])");
  await done.or(prompt).first().waitFor();
  if (await prompt.isVisible()) {
    await page.getByLabel("Your password").fill(password);
    await page.getByRole("button", { name: "Confirm password" }).click();
  }
  await done.waitFor();
}

/** The rules axe checks: WCAG 2.x A/AA and axe's best practices. */
const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"];

/**
 * Fails on serious or critical axe violations of the page as it is now; prints the lesser ones.
 * axe is injected through the driver (`page.evaluate`), which the page's CSP does not govern.
 */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  if (!(await page.evaluate("typeof window.axe === 'object'"))) await page.evaluate(axe.source);
  const violations = await page.evaluate(
    `axe.run(document, { runOnly: { type: "tag", values: ${JSON.stringify(AXE_TAGS)} } })
      .then((r) => r.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")),
      })))`,
  ) as Array<{ id: string; impact: string | null; help: string; nodes: string[] }>;
  const serious = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  for (const v of violations.filter((v) => !serious.includes(v))) {
    console.log(`axe (${what}): ${v.impact} ${v.id}: ${v.help} ${v.nodes}`);
  }
  assert.deepEqual(serious, [], what);
}

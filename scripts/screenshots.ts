/**
 * `deno task screenshots`: PNG screenshots of every page, phone- and desktop-sized, written to
 * docs/screenshots/ (shown in the README's "Web page" and "Administration" sections). Starts the
 * service (plain HTTP, dev cookies, a temporary data folder) and Debian's Chromium
 * (CHROMIUM_PATH), makes a user with sessions on three devices, and photographs each page as that
 * user sees it; then the administrator's page, as an administrator named in ADMIN_USERNAMES (which
 * applies to users that exist at start, so the service is started a second time on the same data).
 */
import {
  browserMissing,
  DESKTOP,
  launchBrowser,
  logIn,
  newDevice,
  PHONE,
  signUp,
  startPageService,
  UA,
  whenDone,
} from "../tests/browser/harness.ts";
import type { Browser, Page, PageService } from "../tests/browser/harness.ts";

const OUT = new URL("../docs/screenshots/", import.meta.url);
const USER = "alice";
const ADMIN = "admin";
const PASSWORD = "correct horse battery";
/** Short, so the administrator's password prompt can be photographed without a long wait. */
const SUDO_TTL_MS = 5000;
/** Other people with sessions, for the administrator's list. */
const OTHERS: ReadonlyArray<[string, string]> = [
  ["bob", UA.linuxChrome],
  ["carol", UA.iPhoneSafari],
  ["dave", UA.windowsFirefox],
];

/** Few, so the throttled login page is reached quickly. */
const MAX_FAILURES = 3;

const SIZES = { phone: PHONE, desktop: DESKTOP } as const;
type Size = keyof typeof SIZES;

async function shoot(page: Page, name: string): Promise<void> {
  const file = new URL(`${name}.png`, OUT);
  // Fonts and images settled, no caret, no animation: the same page gives the same picture.
  await page.evaluate("document.fonts.ready");
  await page.screenshot({ path: file.pathname, fullPage: true, animations: "disabled" });
  console.log(`wrote docs/screenshots/${name}.png`);
}

/** A fresh page of a device of the given size and user agent. */
async function devicePage(browser: Browser, userAgent: string, size: Size): Promise<Page> {
  const context = await newDevice(browser, userAgent, SIZES[size]);
  return await context.newPage();
}

/** The administrator's page: the list with a forced logout done, and the password prompt. */
async function shootAdmin(browser: Browser, base: string): Promise<void> {
  for (const size of Object.keys(SIZES) as Size[]) {
    const page = await devicePage(browser, size === "phone" ? UA.iPhoneSafari : UA.macEdge, size);
    await logIn(page, base, ADMIN, PASSWORD);
    await page.goto(`${base}/admin`);
    await whenDone(page, page.locator("#sessions tr >> nth=0"), PASSWORD);
    await page.mouse.move(0, 0);
    await shoot(page, `admin-${size}`);
    await page.context().close();
  }
  // Sudo mode lapsed: the next action asks for the password first.
  const page = await devicePage(browser, UA.macEdge, "desktop");
  await logIn(page, base, ADMIN, PASSWORD);
  await page.goto(`${base}/admin`);
  await whenDone(page, page.locator("#sessions tr >> nth=0"), PASSWORD);
  await page.getByLabel("Username to log out").fill("dave");
  // Polls the API until this session's password check is older than SUDO_TTL.
  for (;;) {
    const status = await page.evaluate(async () =>
      (await fetch("/api/admin/sessions/count", { credentials: "same-origin" })).status
    );
    if (status === 403) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  await page.getByRole("button", { name: "Log out everywhere" }).click();
  await page.locator("#sudo:not([hidden])").waitFor();
  await page.mouse.move(0, 0);
  await shoot(page, "admin-sudo-desktop");
  await page.context().close();
}

/** The service on `dataDir`, with the script's settings. */
function start(dataDir: string): Promise<PageService> {
  return startPageService({
    env: {
      DATA_DIR: dataDir,
      LOGIN_MAX_FAILURES: String(MAX_FAILURES),
      ADMIN_USERNAMES: ADMIN,
      SUDO_TTL: `${SUDO_TTL_MS}ms`,
    },
  });
}

async function main(): Promise<void> {
  const missing = browserMissing();
  if (missing) {
    console.error(`Cannot take screenshots: ${missing}`);
    Deno.exit(1);
  }
  await Deno.mkdir(OUT, { recursive: true });
  const dataDir = await Deno.makeTempDir({ prefix: "screenshots-" });
  const browser = await launchBrowser();
  let service: PageService | undefined;
  try {
    // The administrator registers on a first start; the second start makes them one.
    service = await start(dataDir);
    const first = await devicePage(browser, UA.linuxChrome, "desktop");
    await signUp(first, service.url, ADMIN, PASSWORD);
    await first.context().close();
    await service.stop();
    service = await start(dataDir);
    const base = service.url;

    // The account first, from a Windows laptop, so every later list has another device in it.
    const laptop = await devicePage(browser, UA.windowsFirefox, "desktop");
    await signUp(laptop, base, USER, PASSWORD);
    for (const [user, userAgent] of OTHERS) {
      await signUp(await devicePage(browser, userAgent, "desktop"), base, user, PASSWORD);
    }

    const devices: Record<Size, string> = { phone: UA.iPhoneSafari, desktop: UA.macEdge };
    for (const size of Object.keys(SIZES) as Size[]) {
      const page = await devicePage(browser, devices[size], size);
      await page.goto(`${base}/login`);
      await page.locator("#login-form").waitFor();
      await shoot(page, `login-${size}`);

      await page.goto(`${base}/signup`);
      await page.locator("#signup-form").waitFor();
      await shoot(page, `signup-${size}`);

      await logIn(page, base, USER, PASSWORD);
      await page.locator("li.session").nth(1).waitFor();
      await page.mouse.move(0, 0);
      await shoot(page, `sessions-${size}`);
      await page.emulateMedia({ colorScheme: "dark" });
      await shoot(page, `sessions-${size}-dark`);
    }

    await shootAdmin(browser, base);

    // The throttling message, as a person who keeps getting the password wrong sees it.
    const wrong = await devicePage(browser, UA.linuxChrome, "desktop");
    await wrong.goto(`${base}/login`);
    for (let i = 0; i <= MAX_FAILURES; i++) {
      await wrong.getByLabel("Username").fill(USER);
      await wrong.getByLabel("Password").fill(`not the password ${i}`);
      await wrong.getByRole("button", { name: "Log in" }).click();
      await wrong.locator("#error:not([hidden])").waitFor();
    }
    await wrong.locator("#error").filter({ hasText: "You can try again in" }).waitFor();
    await shoot(wrong, "login-throttled-desktop");
  } finally {
    await browser.close();
    await service?.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();

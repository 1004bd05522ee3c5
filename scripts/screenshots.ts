/**
 * `deno task screenshots`: PNG screenshots of every page, phone- and desktop-sized, written to
 * docs/screenshots/ (shown in the README's "Web page" section). Starts the service (plain HTTP,
 * dev cookies, its own temporary data folder) and Debian's Chromium (CHROMIUM_PATH), makes a user
 * with sessions on three devices, and photographs each page as that user sees it.
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
} from "../tests/browser/harness.ts";
import type { Browser, Page } from "../tests/browser/harness.ts";

const OUT = new URL("../docs/screenshots/", import.meta.url);
const USER = "alice";
const PASSWORD = "correct horse battery";

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

async function main(): Promise<void> {
  const missing = browserMissing();
  if (missing) {
    console.error(`Cannot take screenshots: ${missing}`);
    Deno.exit(1);
  }
  await Deno.mkdir(OUT, { recursive: true });
  const service = await startPageService({ env: { LOGIN_MAX_FAILURES: String(MAX_FAILURES) } });
  const browser = await launchBrowser();
  try {
    const base = service.url;
    // The account first, from a Windows laptop, so every later list has another device in it.
    const laptop = await devicePage(browser, UA.windowsFirefox, "desktop");
    await signUp(laptop, base, USER, PASSWORD);

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
    await service.stop();
  }
}

if (import.meta.main) await main();

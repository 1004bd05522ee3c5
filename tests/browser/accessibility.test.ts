/**
 * An axe-core scan of every page, as a person sees it (with its messages showing), in a light
 * desktop-sized window and a dark phone-sized one: no serious or critical violation of WCAG 2.x
 * A/AA or axe's best practices (expectAccessible, harness.ts). axe is injected through the driver,
 * which the page's CSP does not govern; a `<script>` added to the page would be refused by it.
 */
import assert from "node:assert/strict";
import {
  browserTest,
  DESKTOP,
  expectAccessible,
  launchBrowser,
  logIn,
  newDevice,
  PHONE,
  signUp,
  startPageService,
  UA,
  watchProblems,
} from "./harness.ts";
import type { Browser } from "./harness.ts";

const PASSWORD = "correct horse battery";
async function scanEveryPage(
  browser: Browser,
  base: string,
  look: { size: { width: number; height: number }; dark: boolean; user: string },
): Promise<string[]> {
  const what = `${look.dark ? "dark" : "light"} ${look.size.width}px`;
  const context = await newDevice(browser, UA.linuxChrome, look.size);
  const page = await context.newPage();
  await page.emulateMedia({ colorScheme: look.dark ? "dark" : "light" });
  const problems = watchProblems(page);
  try {
    // The sign-up page, with its message that the passwords differ.
    await page.goto(`${base}/signup`);
    await page.getByLabel("Username").fill(look.user);
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByLabel("Repeat password").fill("something else");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.locator("#error:not([hidden])").waitFor();
    await expectAccessible(page, `sign-up page, ${what}`);

    // The sessions page, with two sessions and a message.
    await signUp(page, base, look.user, PASSWORD);
    const other = await (await newDevice(browser, UA.iPhoneSafari)).newPage();
    await logIn(other, base, look.user, PASSWORD);
    await other.context().close();
    await page.getByRole("button", { name: "Refresh" }).click();
    await page.locator("#status:not([hidden])").waitFor();
    await page.locator("li.session").nth(1).waitFor();
    await expectAccessible(page, `sessions page, ${what}`);

    // The login page, with its notice, and then with an error.
    await page.getByRole("button", { name: "Log out" }).click();
    await page.locator("#notice:not([hidden])").waitFor();
    await expectAccessible(page, `login page with a notice, ${what}`);
    await page.getByLabel("Username").fill(look.user);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.locator("#error:not([hidden])").waitFor();
    await expectAccessible(page, `login page with an error, ${what}`);
    return problems;
  } finally {
    await context.close();
  }
}

browserTest(
  "pages: axe finds no serious or critical violation, light desktop and dark phone",
  async () => {
    const service = await startPageService();
    const browser = await launchBrowser();
    try {
      const problems = [
        ...await scanEveryPage(browser, service.url, { size: DESKTOP, dark: false, user: "light" }),
        ...await scanEveryPage(browser, service.url, { size: PHONE, dark: true, user: "dark" }),
      ];
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      await service.stop();
    }
  },
);

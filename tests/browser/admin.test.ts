/**
 * The administrator's page (/admin) in Chromium, against the service as a child process with
 * ADMIN_USERNAMES and a short SUDO_TTL: forced logout of a user signed in elsewhere, the
 * "Administrators only" message for a non-administrator (and the API's 403), the login page
 * without a session, sudo mode's password prompt once SUDO_TTL has passed, and axe scans.
 *
 * ADMIN_USERNAMES applies to users that exist at start, so the users register on a first run of
 * the service and the test restarts it on the same data folder.
 */
import assert from "node:assert/strict";
import { deviceName } from "../../src/utils/user_agent.ts";
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
  whenDone,
} from "./harness.ts";
import type { Browser, Page, PageService } from "./harness.ts";

const PASSWORD = "correct horse battery";
const ADMIN = "root";
/** Short, so the test sees sudo mode lapse; long enough for an action right after a login. */
const SUDO_TTL_MS = 5000;

/** The service with the test's settings, on `dataDir`. */
function start(dataDir: string): Promise<PageService> {
  return startPageService({
    env: { DATA_DIR: dataDir, ADMIN_USERNAMES: ADMIN, SUDO_TTL: `${SUDO_TTL_MS}ms` },
  });
}

/** What an administrator route answers this page's session: status and body. */
async function adminApi(page: Page, path: string): Promise<{ status: number; body: unknown }> {
  return await page.evaluate(async (path) => {
    const res = await fetch(path, { credentials: "same-origin", cache: "no-store" });
    return { status: res.status, body: await res.json() };
  }, path);
}

/** The admin page's table: user and device of each row. */
async function listedRows(page: Page): Promise<Array<{ user: string; device: string }>> {
  await page.locator("#sessions:not([aria-busy])").waitFor({ state: "attached" });
  return await page.locator("#sessions tr").evaluateAll((rows) =>
    rows.map((tr) => ({
      user: tr.querySelector("td.user")?.textContent ?? "",
      device: tr.querySelector("td:nth-child(2)")?.textContent ?? "",
    }))
  );
}

/** A signed-in page of a new device (browser context). */
async function signedIn(
  browser: Browser,
  base: string,
  user: string,
  userAgent: string,
  size = DESKTOP,
): Promise<Page> {
  const page = await (await newDevice(browser, userAgent, size)).newPage();
  await logIn(page, base, user, PASSWORD);
  return page;
}

browserTest(
  "admin page: forced logout, 403 for others, login without a session, sudo prompt, axe",
  async (t) => {
    const dataDir = await Deno.makeTempDir({ prefix: "admin-pages-" });
    let service: PageService | undefined;
    const browser = await launchBrowser();
    const problems: string[][] = [];
    try {
      // First run: the users register (an administrator is made at the next start).
      service = await start(dataDir);
      for (const user of [ADMIN, "bob", "carol"]) {
        const context = await newDevice(browser, UA.linuxChrome);
        await signUp(await context.newPage(), service.url, user, PASSWORD);
        await context.close();
      }
      await service.stop();
      service = await start(dataDir);
      assert.match(service.output(), /"msg":"administrators applied","admins":\["[^"]+"\]/);
      const base = service.url;

      const bob = await signedIn(browser, base, "bob", UA.iPhoneSafari);
      problems.push(watchProblems(bob));

      await t.step(
        "a non-administrator sees 'Administrators only', and the API says 403",
        async () => {
          assert.equal(await bob.locator("#admin-link").isVisible(), false);
          const [answer] = await Promise.all([
            bob.waitForResponse((r) => new URL(r.url()).pathname === "/api/admin/sessions"),
            bob.goto(`${base}/admin`),
          ]);
          assert.equal(answer.status(), 403);
          await bob.locator("#forbidden:not([hidden])").waitFor();
          assert.equal(await bob.locator("#forbidden-title").textContent(), "Administrators only");
          assert.equal(
            await bob.locator("#forbidden-detail").textContent(),
            "Cannot use administrator route: not an administrator.",
          );
          assert.equal(await bob.locator("#admin").isVisible(), false);
          assert.equal(await bob.locator("#force").isVisible(), false);
          assert.equal(await bob.evaluate("document.activeElement.id"), "forbidden-title");
          for (const path of ["/api/admin/sessions", "/api/admin/sessions/count"]) {
            const res = await adminApi(bob, path);
            assert.equal(res.status, 403, path);
            assert.equal((res.body as { reauthenticate?: boolean }).reauthenticate, undefined);
          }
          await expectAccessible(bob, "admin page, not an administrator");
          await bob.goto(`${base}/`);
          await bob.locator("li.session").first().waitFor();
        },
      );

      await t.step("without a session, /admin leads to the login page", async () => {
        const stranger = await (await newDevice(browser, UA.windowsFirefox)).newPage();
        problems.push(watchProblems(stranger));
        await stranger.goto(`${base}/admin`);
        await stranger.locator("#login-form").waitFor();
        assert.equal(new URL(stranger.url()).pathname, "/login");
        assert.equal((await adminApi(stranger, "/api/admin/sessions/count")).status, 401);
        await stranger.context().close();
      });

      const carol = await signedIn(browser, base, "carol", UA.windowsFirefox);
      problems.push(watchProblems(carol));
      const admin = await signedIn(browser, base, ADMIN, UA.macEdge);
      problems.push(watchProblems(admin));

      await t.step(
        "an administrator forces bob's logout; bob's next page is the login",
        async () => {
          await admin.locator("#admin-link:not([hidden])").click();
          await admin.waitForURL(`${base}/admin`);
          await whenDone(
            admin,
            admin.locator("#count").filter({ hasText: "active sessions in all" }),
            PASSWORD,
          );
          const rows = await listedRows(admin);
          assert.ok(rows.some((r) => r.user === "bob" && r.device === deviceName(UA.iPhoneSafari)));
          assert.ok(rows.some((r) => r.user === "carol"));
          assert.match(
            await admin.locator("#count").textContent() ?? "",
            new RegExp(`^${rows.length} active sessions in all$`),
          );

          await admin.getByLabel("Username", { exact: true }).fill("bob");
          await admin.getByRole("button", { name: "Show their sessions" }).click();
          await whenDone(
            admin,
            admin.locator("#status").filter({ hasText: "sessions of bob" }),
            PASSWORD,
          );
          await admin.locator("#count").filter({ hasText: "of bob" }).waitFor();
          assert.ok((await listedRows(admin)).every((r) => r.user === "bob"));

          await admin.getByLabel("Username to log out").fill("bob");
          await admin.getByRole("button", { name: "Log out everywhere" }).click();
          await whenDone(
            admin,
            admin.locator("#status").filter({
              hasText: /^Logged out bob everywhere: \d+ sessions? ended\.$/,
            }),
            PASSWORD,
          );
          await admin.locator("#count").filter({ hasText: "0 active sessions of bob" }).waitFor();
          assert.deepEqual(await listedRows(admin), []);
          assert.equal(await admin.locator("#empty").textContent(), "bob has no active session.");

          await bob.goto(`${base}/`);
          await bob.locator("#login-form").waitFor();
          assert.equal(new URL(bob.url()).pathname, "/login");
          await bob.context().close();

          await admin.getByRole("button", { name: "Show all" }).click();
          await whenDone(
            admin,
            admin.locator("#status").filter({ hasText: "of every user" }),
            PASSWORD,
          );
          await expectAccessible(admin, "admin page with sessions, light desktop");
        },
      );

      await t.step("after SUDO_TTL an action asks for the password, then is done", async () => {
        // Wait (by polling the API) until this session's password check is too old.
        const deadline = Date.now() + SUDO_TTL_MS + 10_000;
        for (;;) {
          const res = await adminApi(admin, "/api/admin/sessions/count");
          if (res.status === 403) {
            assert.equal((res.body as { reauthenticate?: boolean }).reauthenticate, true);
            break;
          }
          assert.equal(res.status, 200);
          assert.ok(Date.now() < deadline, "sudo mode did not lapse");
          await new Promise((r) => setTimeout(r, 200));
        }
        // carol's session on the device signed in above (her sign-up's session is another).
        const endCarol = admin.getByRole("button", {
          name: `End the session of carol on ${deviceName(UA.windowsFirefox)}`,
        });
        await endCarol.click();
        await admin.locator("#sudo:not([hidden])").waitFor();
        assert.equal(await admin.evaluate("document.activeElement.id"), "sudo-password");
        await expectAccessible(admin, "admin page asking for the password");

        // A wrong password: the API's message, the prompt stays.
        await admin.keyboard.type("not the password");
        await admin.keyboard.press("Enter");
        await admin.locator("#sudo-error:not([hidden])").waitFor();
        assert.match(await admin.locator("#sudo-error").textContent() ?? "", /^Cannot /);
        assert.equal(await endCarol.count(), 1);

        // The right one, from the keyboard: the session ends.
        assert.equal(await admin.evaluate("document.activeElement.id"), "sudo-password");
        await admin.keyboard.type(PASSWORD);
        await admin.keyboard.press("Enter");
        const ended = `Ended the session of carol on ${deviceName(UA.windowsFirefox)}.`;
        await admin.locator("#status").filter({ hasText: ended }).waitFor();
        assert.equal(await admin.locator("#sudo").isVisible(), false);
        assert.equal(await endCarol.count(), 0);
        assert.equal((await adminApi(admin, "/api/admin/sessions/count")).status, 200);

        await carol.goto(`${base}/`);
        await carol.locator("#login-form").waitFor();
        assert.equal(new URL(carol.url()).pathname, "/login");
        await carol.context().close();
      });

      await t.step("axe: the admin page on a phone, dark", async () => {
        const phone = await signedIn(browser, base, ADMIN, UA.iPhoneSafari, PHONE);
        problems.push(watchProblems(phone));
        await phone.emulateMedia({ colorScheme: "dark" });
        await phone.goto(`${base}/admin`);
        await phone.locator("#sessions tr").first().waitFor();
        await expectAccessible(phone, "admin page, dark phone");
        await phone.context().close();
      });

      assert.deepEqual(problems.flat(), []);
    } finally {
      await browser.close();
      await service?.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);

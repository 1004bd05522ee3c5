/**
 * The pages in Chromium against the service over HTTPS with the default secure cookies: sign up,
 * a second device, ending one session, a password change, ending the others and all, log out;
 * and the cookies as the browser keeps them (`__Host-`, HttpOnly, Secure, SameSite).
 */
import assert from "node:assert/strict";
import { deviceName } from "../../src/utils/user_agent.ts";
import {
  apiSessions,
  browserTest,
  launchBrowser,
  listedSessions,
  logIn,
  newDevice,
  signUp,
  startPageService,
  UA,
  watchProblems,
} from "./harness.ts";
import type { Page } from "./harness.ts";

const USER = "alice";
const PASSWORD = "correct horse battery";
const NEW_PASSWORD = "a new long passphrase";

/** What the list should call a device: the API's `device`, made by deviceName() from its UA. */
async function expectedName(page: Page, userAgent: string): Promise<string> {
  const entry = (await apiSessions(page)).find((s) => s.userAgent === userAgent);
  assert.ok(entry, `the API lists no session with user agent ${userAgent}`);
  assert.equal(entry.device, deviceName(userAgent));
  return entry.device;
}

/** After a navigation to `/`, the page that is shown: the sessions page or the login page. */
async function landing(page: Page, base: string): Promise<string> {
  await page.goto(`${base}/`);
  // The sessions page either loads its list or, without a session, replaces itself by /login.
  const onLogin = page.locator("#login-form");
  const onSessions = page.locator("#sessions:not([aria-busy])");
  await onLogin.or(onSessions).first().waitFor();
  return new URL(page.url()).pathname;
}

browserTest(
  "pages over HTTPS: two devices, ending one, password change, ending others and all, log out",
  async (t) => {
    const service = await startPageService({ https: true });
    const browser = await launchBrowser();
    try {
      const base = service.url;
      const a = await newDevice(browser, UA.linuxChrome);
      const b = await newDevice(browser, UA.windowsFirefox);
      const pageA = await a.newPage();
      const pageB = await b.newPage();
      const problems = [...[pageA, pageB].map(watchProblems)];

      await t.step("register in A: one session, this device, secure cookies", async () => {
        await signUp(pageA, base, USER, PASSWORD);
        assert.equal(await pageA.locator("#who").textContent(), USER);
        assert.deepEqual(await listedSessions(pageA), [
          { device: await expectedName(pageA, UA.linuxChrome), current: true },
        ]);
        assert.equal(await pageA.locator("#count").textContent(), "1 active session");
        assert.ok(await pageA.locator("#end-others").isDisabled());

        const cookies = await a.cookies(base);
        const session = cookies.find((c) => c.name === "__Host-session");
        assert.ok(session, `no __Host-session cookie: ${cookies.map((c) => c.name).join(", ")}`);
        assert.deepEqual(
          { httpOnly: session.httpOnly, secure: session.secure, sameSite: session.sameSite },
          { httpOnly: true, secure: true, sameSite: "Lax" },
        );
        assert.equal(session.path, "/");
        const device = cookies.find((c) => c.name === "__Host-device");
        assert.ok(device, "no __Host-device cookie");
        assert.deepEqual(
          { httpOnly: device.httpOnly, secure: device.secure, sameSite: device.sameSite },
          { httpOnly: true, secure: true, sameSite: "Strict" },
        );
        assert.equal(cookies.some((c) => c.name === "session" || c.name === "device"), false);
        // HttpOnly: the page's own script cannot read either cookie.
        assert.equal(await pageA.evaluate("document.cookie"), "");
      });

      await t.step(
        "log in as the same user in B: A's list shows two, with B's device name",
        async () => {
          await logIn(pageB, base, USER, PASSWORD);
          await pageA.getByRole("button", { name: "Refresh" }).click();
          await pageA.locator("li.session").nth(1).waitFor();
          assert.deepEqual(await listedSessions(pageA), [
            { device: await expectedName(pageA, UA.linuxChrome), current: true },
            { device: await expectedName(pageA, UA.windowsFirefox), current: false },
          ]);
          assert.equal(await pageA.locator("#count").textContent(), "2 active sessions");
          // B sees the same two sessions, with its own marked.
          assert.deepEqual(
            (await listedSessions(pageB)).map((s) => s.current),
            [true, false],
          );
        },
      );

      await t.step("A ends B: B's next navigation lands on the login page", async () => {
        const bName = await expectedName(pageA, UA.windowsFirefox);
        const row = pageA.locator("li.session").filter({ hasText: bName });
        await row.getByRole("button", { name: `End session on ${bName}` }).click();
        await pageA.locator("li.session").nth(1).waitFor({ state: "detached" });
        assert.equal(
          await pageA.locator("#status").textContent(),
          `Ended the session on ${bName}.`,
        );
        assert.equal((await listedSessions(pageA)).length, 1);
        assert.equal(await landing(pageB, base), "/login");
        assert.equal(await landing(pageA, base), "/");
      });

      await t.step("change password in A: B is logged out, A stays in", async () => {
        await logIn(pageB, base, USER, PASSWORD);
        await pageA.reload();
        await pageA.locator("li.session").nth(1).waitFor();
        const before = (await a.cookies(base)).find((c) => c.name === "__Host-session")?.value;

        await pageA.getByLabel("Current password").fill(PASSWORD);
        await pageA.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
        await pageA.getByLabel("Repeat new password").fill(NEW_PASSWORD);
        await pageA.getByRole("button", { name: "Change password" }).click();
        await pageA.locator("#status").filter({ hasText: "Password changed." }).waitFor();
        assert.equal(
          await pageA.locator("#status").textContent(),
          "Password changed. Your other session was logged out.",
        );
        assert.deepEqual(await listedSessions(pageA), [
          { device: await expectedName(pageA, UA.linuxChrome), current: true },
        ]);
        // The session was rotated: a new cookie, which keeps A logged in.
        const after = (await a.cookies(base)).find((c) => c.name === "__Host-session")?.value;
        assert.ok(after && before && after !== before, "the session cookie was not rotated");
        assert.equal(await landing(pageB, base), "/login");
        assert.equal(await landing(pageA, base), "/");
      });

      await t.step("a wrong current password is shown, and A stays in", async () => {
        await pageA.getByLabel("Current password").fill("not the password");
        await pageA.getByLabel("New password", { exact: true }).fill("whatever it may be");
        await pageA.getByLabel("Repeat new password").fill("whatever it may be");
        await pageA.getByRole("button", { name: "Change password" }).click();
        await pageA.locator("#password-error:not([hidden])").waitFor();
        assert.match(
          (await pageA.locator("#password-error").textContent()) ?? "",
          /^Cannot change password: incorrect current password/,
        );
        assert.equal(new URL(pageA.url()).pathname, "/");
      });

      await t.step("end all others: every other device is logged out", async () => {
        const c = await newDevice(browser, UA.iPhoneSafari);
        const pageC = await c.newPage();
        problems.push(watchProblems(pageC));
        await logIn(pageB, base, USER, NEW_PASSWORD);
        await logIn(pageC, base, USER, NEW_PASSWORD);
        await pageA.reload();
        await pageA.locator("li.session").nth(2).waitFor();
        await pageA.getByRole("button", { name: "End all other sessions" }).click();
        await pageA.locator("#status").filter({ hasText: "Ended 2 other sessions." }).waitFor();
        assert.equal((await listedSessions(pageA)).length, 1);
        assert.ok(await pageA.locator("#end-others").isDisabled());
        assert.equal(await landing(pageB, base), "/login");
        assert.equal(await landing(pageC, base), "/login");
        await c.close();
      });

      await t.step("end all: B logged in again, both land on the login page", async () => {
        await logIn(pageB, base, USER, NEW_PASSWORD);
        await pageA.reload();
        await pageA.locator("li.session").nth(1).waitFor();
        await pageA.getByRole("button", { name: "End all sessions, this one too" }).click();
        await pageA.waitForURL((url) => url.pathname === "/login");
        assert.equal(
          await pageA.locator("#notice").textContent(),
          "You have logged out of every session.",
        );
        assert.equal(await landing(pageB, base), "/login");
        assert.equal(await landing(pageA, base), "/login");
      });

      await t.step("log out: the cookie is cleared and / leads to the login page", async () => {
        await logIn(pageA, base, USER, NEW_PASSWORD);
        await pageA.getByRole("button", { name: "Log out" }).click();
        await pageA.waitForURL((url) => url.pathname === "/login");
        assert.equal(await pageA.locator("#notice").textContent(), "You have logged out.");
        assert.equal((await a.cookies(base)).some((c) => c.name === "__Host-session"), false);
        assert.equal(await landing(pageA, base), "/login");
      });

      assert.deepEqual(problems.flat(), []);
    } finally {
      await browser.close();
      await service.stop();
    }
  },
);

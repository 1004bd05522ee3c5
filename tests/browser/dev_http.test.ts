/**
 * The pages in Chromium on plain-HTTP localhost with SESSION_COOKIE_SECURE=false: the dev cookies,
 * sign-up and login errors as the API words them, keyboard-only use, the CSP blocking injected
 * inline script, and the throttling message with its wait after too many wrong passwords.
 */
import assert from "node:assert/strict";
import type { Response } from "playwright-core";
import { humanWait } from "../../src/http/pages/static/assets/text.js";
import {
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

const MAX_FAILURES = 3;
const PASSWORD = "correct horse battery";

/** Submits the login form and returns the API's answer. */
async function submitLogin(page: Page, username: string, password: string): Promise<Response> {
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  const [response] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === "/api/auth/login"),
    page.getByRole("button", { name: "Log in" }).click(),
  ]);
  return response;
}

browserTest(
  "pages over plain HTTP (dev cookies): cookies, errors, keyboard, CSP, throttling",
  async (t) => {
    const service = await startPageService({
      env: { LOGIN_MAX_FAILURES: String(MAX_FAILURES), LOGIN_WINDOW: "1h" },
    });
    const browser = await launchBrowser();
    try {
      const base = service.url;
      assert.match(base, /^http:\/\//);
      const owner = await newDevice(browser, UA.linuxChrome);
      const page = await owner.newPage();
      const problems = [watchProblems(page)];

      await t.step("without a session, / leads to the login page", async () => {
        await page.goto(`${base}/`);
        await page.locator("#login-form").waitFor();
        assert.equal(new URL(page.url()).pathname, "/login");
      });

      await t.step(
        "sign up: dev cookies `session` and `device`, HttpOnly, not Secure",
        async () => {
          await signUp(page, base, "bob", PASSWORD);
          const cookies = await owner.cookies(base);
          const session = cookies.find((c) => c.name === "session");
          assert.ok(session, `no session cookie: ${cookies.map((c) => c.name).join(", ")}`);
          assert.deepEqual(
            { httpOnly: session.httpOnly, secure: session.secure, sameSite: session.sameSite },
            { httpOnly: true, secure: false, sameSite: "Lax" },
          );
          const device = cookies.find((c) => c.name === "device");
          assert.ok(device, "no device cookie");
          assert.deepEqual(
            { httpOnly: device.httpOnly, secure: device.secure, sameSite: device.sameSite },
            { httpOnly: true, secure: false, sameSite: "Strict" },
          );
          assert.equal(cookies.some((c) => c.name.startsWith("__Host-")), false);
          assert.equal(await page.evaluate("document.cookie"), "");
          assert.equal(await page.evaluate("localStorage.length + sessionStorage.length"), 0);
        },
      );

      await t.step(
        "sign-up errors: a taken name (from the API), two different passwords",
        async () => {
          const other = await (await newDevice(browser, UA.windowsFirefox)).newPage();
          problems.push(watchProblems(other));
          await other.goto(`${base}/signup`);
          await other.getByLabel("Username").fill("BOB");
          await other.getByLabel("Password", { exact: true }).fill(PASSWORD);
          await other.getByLabel("Repeat password").fill(`${PASSWORD}!`);
          let registers = 0;
          other.on("request", (r) => {
            if (new URL(r.url()).pathname === "/api/auth/register") registers++;
          });
          await other.getByRole("button", { name: "Create account" }).click();
          await other.locator("#error:not([hidden])").waitFor();
          assert.equal(
            await other.locator("#error").textContent(),
            "The two passwords differ: type the same password twice.",
          );
          assert.equal(
            await other.getByLabel("Repeat password").getAttribute("aria-invalid"),
            "true",
          );
          assert.equal(registers, 0);

          await other.getByLabel("Repeat password").fill(PASSWORD);
          const [answer] = await Promise.all([
            other.waitForResponse((r) => new URL(r.url()).pathname === "/api/auth/register"),
            other.getByRole("button", { name: "Create account" }).click(),
          ]);
          assert.equal(answer.status(), 409);
          await other.locator("#error").filter({ hasText: "taken" }).waitFor();
          assert.equal(
            await other.locator("#error").textContent(),
            "Cannot register: username taken.",
          );
          assert.equal(new URL(other.url()).pathname, "/signup");
          await other.context().close();
        },
      );

      await t.step("keyboard only: log out, log in, end a session", async () => {
        await page.getByRole("button", { name: "Log out" }).focus();
        await page.keyboard.press("Enter");
        await page.locator("#notice").filter({ hasText: "You have logged out." }).waitFor();
        assert.equal(new URL(page.url()).pathname, "/login");

        await page.keyboard.press("Tab"); // the skip link
        assert.equal(await page.evaluate("document.activeElement.textContent"), "Skip to the form");
        await page.keyboard.press("Tab"); // the brand link
        await page.keyboard.press("Tab");
        assert.equal(await page.evaluate("document.activeElement.id"), "username");
        await page.keyboard.type("bob");
        await page.keyboard.press("Tab");
        assert.equal(await page.evaluate("document.activeElement.id"), "password");
        await page.keyboard.type(PASSWORD);
        await page.keyboard.press("Enter");
        await page.waitForURL(`${base}/`);
        await page.locator("li.session").first().waitFor();

        const second = await (await newDevice(browser, UA.iPhoneSafari)).newPage();
        problems.push(watchProblems(second));
        await logIn(second, base, "bob", PASSWORD);
        await page.getByRole("button", { name: "Refresh" }).press("Enter");
        await page.locator("li.session").nth(1).waitFor();
        const end = page.locator("li.session:not(.current) button.end");
        await end.focus();
        await page.keyboard.press("Enter");
        await page.locator("li.session").nth(1).waitFor({ state: "detached" });
        // Focus moved to the heading rather than being lost with the removed button.
        assert.equal(await page.evaluate("document.activeElement.id"), "title");
        assert.deepEqual((await listedSessions(page)).map((s) => s.current), [true]);
        await second.context().close();
      });

      await t.step("the pages' CSP: headers, and injected inline script does not run", async () => {
        const probe = await (await newDevice(browser, UA.linuxChrome)).newPage();
        for (const path of ["/login", "/signup", "/"]) {
          const response = await probe.goto(`${base}${path}`);
          assert.ok(response);
          const csp = response.headers()["content-security-policy"];
          assert.match(csp, /(^|; )script-src 'self'(;|$)/, path);
          assert.match(csp, /(^|; )style-src 'self'(;|$)/, path);
          assert.match(csp, /(^|; )default-src 'none'(;|$)/, path);
          assert.match(csp, /(^|; )frame-ancestors 'none'(;|$)/, path);
          assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, path);
          assert.equal(response.headers()["cache-control"], "no-cache", path);
        }
        await probe.locator("#login-form").waitFor();
        const violations: string[] = [];
        probe.on("console", (m) => {
          if (/Content Security Policy/.test(m.text())) violations.push(m.text());
        });
        await probe.addScriptTag({ content: "window.injected = true;" }).catch(() => {});
        await probe.evaluate(
          "(() => { const s = document.createElement('script'); s.textContent = 'window.injected = true'; document.body.append(s); })()",
        );
        assert.equal(await probe.evaluate("window.injected === undefined"), true);
        assert.ok(violations.length > 0, "no CSP violation was reported for the inline script");
        await probe.context().close();
      });

      await t.step(
        "wrong passwords: the API's message, then the throttling message with its wait",
        async () => {
          const guesser = await (await newDevice(browser, UA.windowsFirefox)).newPage();
          problems.push(watchProblems(guesser));
          await guesser.goto(`${base}/login`);
          await guesser.locator("#login-form").waitFor();
          let throttled: Response | undefined;
          for (let i = 0; i <= MAX_FAILURES && !throttled; i++) {
            const response = await submitLogin(guesser, "bob", `wrong password ${i}`);
            await guesser.locator("#error:not([hidden])").waitFor();
            if (response.status() === 429) {
              throttled = response;
              break;
            }
            assert.equal(response.status(), 401);
            assert.equal(
              await guesser.locator("#error").textContent(),
              "Cannot authenticate: invalid username or password.",
            );
          }
          assert.ok(throttled, `no 429 after ${MAX_FAILURES + 1} wrong passwords`);
          const retryAfter = Number(throttled.headers()["retry-after"]);
          assert.ok(retryAfter > 0, "no Retry-After on the 429");
          const shown = await guesser.locator("#error").textContent();
          assert.equal(
            shown,
            `Cannot log in: too many failed attempts, try again later. You can try again in ${
              humanWait(retryAfter)
            }.`,
          );
          // The right password is refused too while throttled, with the same message.
          const right = await submitLogin(guesser, "bob", PASSWORD);
          assert.equal(right.status(), 429);
          await guesser.locator("#error").filter({ hasText: "too many failed attempts" }).waitFor();
          assert.equal(new URL(guesser.url()).pathname, "/login");
          await guesser.context().close();
        },
      );

      await t.step("the owner's browser, known by its device cookie, still logs in", async () => {
        await page.getByRole("button", { name: "Log out" }).click();
        await page.locator("#login-form").waitFor();
        const response = await submitLogin(page, "bob", PASSWORD);
        assert.equal(response.status(), 200);
        await page.waitForURL(`${base}/`);
        assert.equal((await listedSessions(page)).length, 1);
      });

      assert.deepEqual(problems.flat(), []);
    } finally {
      await browser.close();
      await service.stop();
    }
  },
);

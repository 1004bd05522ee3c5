/**
 * A credential change ends every session made with the old credential, logins in flight
 * included. Fifty logins with the old password race a password change, and a logout-all: every
 * login has verified the old password and is held there (by the test's hasher, no sleeping)
 * before it creates its session; the change (or logout-all) runs to completion; then the logins
 * go on. This is the interleaving that left sessions alive before (a login past its password
 * check creating its session after the change ended the others), made certain rather than left
 * to timing. No session made by those logins survives, and the new password works. Without
 * Sessioning's epoch check in `create`, all 50 survive and both tests fail.
 */
import assert from "node:assert/strict";
import { type Answer, asBearer, burst, PASSWORD, statuses, withApi } from "./auth_harness.ts";

const NEW_PASSWORD = "a brand new passphrase";
const INTERRUPTED = {
  error: "Cannot log in: the account's sessions were ended during this login, try again",
};
const N = 50;

/** A hasher hook that holds each successful verification of `PASSWORD` until released. */
function holdingVerify(n: number) {
  let holding = true;
  let held = 0;
  const allHeld = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  return {
    verify: async (
      phc: string,
      password: string,
      real: (p: string, w: string) => Promise<boolean>,
    ) => {
      const ok = await real(phc, password);
      if (holding && ok && password === PASSWORD) {
        if (++held === n) allHeld.resolve();
        await release.promise;
      }
      return ok;
    },
    /** Resolves once `n` logins have verified and are held. */
    allHeld: allHeld.promise,
    /** Lets the held logins go on; later verifications are not held. */
    release() {
      holding = false;
      release.resolve();
    },
    /** Later verifications are not held (the change's own check of the current password). */
    stopHolding() {
      holding = false;
    },
  };
}

type Call = (
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<Answer>;

/** The logins' tokens (from 200 answers) that still answer `/me` 200. */
async function survivors(call: Call, answers: Answer[]): Promise<string[]> {
  const out: string[] = [];
  for (const a of answers) {
    if (a.status !== 200) continue;
    const token = (a.json as { session: string }).session;
    if ((await call("GET", "/api/auth/me", undefined, asBearer(token))).status === 200) {
      out.push(token);
    }
  }
  return out;
}

const bearerLogin = (password: string) => ({ username: "racer", password, transport: "bearer" });

Deno.test("POST /api/auth/password held against 50 logins that verified the old password: none keeps a session", async () => {
  const gate = holdingVerify(N);
  await withApi(async ({ call }) => {
    const reg = await call("POST", "/api/auth/register", bearerLogin(PASSWORD));
    const own = (reg.json as { session: string }).session;
    const logins = burst(N, () => call("POST", "/api/auth/login", bearerLogin(PASSWORD)));
    await gate.allHeld;
    gate.stopHolding();
    const change = await call(
      "POST",
      "/api/auth/password",
      { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
      asBearer(own),
    );
    assert.equal(change.status, 200);
    gate.release();
    const answers = await logins;
    assert.deepEqual(await survivors(call, answers), []);
    assert.deepEqual(statuses(answers), { 401: N });
    assert.ok(answers.every((a) => JSON.stringify(a.json) === JSON.stringify(INTERRUPTED)));
    // The changer's rotated session lives; the new password works, the old one does not.
    const rotated = (change.json as { session: string }).session;
    assert.equal((await call("GET", "/api/auth/me", undefined, asBearer(rotated))).status, 200);
    const fresh = await call("POST", "/api/auth/login", bearerLogin(NEW_PASSWORD));
    assert.equal(fresh.status, 200);
    assert.deepEqual(await survivors(call, [fresh]), [(fresh.json as { session: string }).session]);
    assert.equal((await call("POST", "/api/auth/login", bearerLogin(PASSWORD))).status, 401);
  }, { limit: 1000, verify: gate.verify });
});

Deno.test("POST /api/auth/logout-all held against 50 logins that verified before it: none keeps a session", async () => {
  const gate = holdingVerify(N);
  await withApi(async ({ call }) => {
    const reg = await call("POST", "/api/auth/register", bearerLogin(PASSWORD));
    const own = (reg.json as { session: string }).session;
    const logins = burst(N, () => call("POST", "/api/auth/login", bearerLogin(PASSWORD)));
    await gate.allHeld;
    const all = await call("POST", "/api/auth/logout-all", {}, asBearer(own));
    assert.deepEqual([all.status, all.json], [200, { count: 1 }]);
    gate.release();
    const answers = await logins;
    assert.deepEqual(await survivors(call, answers), []);
    assert.deepEqual(statuses(answers), { 401: N });
    // A login that begins after the logout-all works.
    const later = await call("POST", "/api/auth/login", bearerLogin(PASSWORD));
    assert.equal(later.status, 200);
    assert.equal((await survivors(call, [later])).length, 1);
  }, { limit: 1000, verify: gate.verify });
});

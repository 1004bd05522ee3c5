/**
 * Login throttling end to end: atomic (a slot is taken before a password is verified, so a burst
 * of parallel guesses gets no more verifications than the limit, counted at the hasher), and
 * OWASP's device cookies (the owner logs in from a browser that logged in before while strangers
 * have the username throttled; forged or foreign device tokens give no extra attempts; a device
 * that fails too often is locked alone). Also the store commands one login costs.
 */
import assert from "node:assert/strict";
import {
  type Answer,
  burst,
  deviceOf,
  PASSWORD,
  statuses,
  withApi,
  withDevice,
} from "./auth_harness.ts";

const THROTTLED = "Cannot log in: too many failed attempts, try again later";
const ip = (i: number) => ({ "x-test-ip": `198.51.100.${i % 250}` });
const login = (username: string, password: string) => ({ username, password });

Deno.test("POST /api/auth/login 60 parallel wrong passwords at one username: 10 verified, 50 refused", async () => {
  await withApi(async ({ call, verifications }) => {
    const reg = await call("POST", "/api/auth/register", login("mallory-target", PASSWORD));
    const device = deviceOf(reg.headers)!;
    const before = verifications();
    const answers = await burst(
      60,
      (i) => call("POST", "/api/auth/login", login("mallory-target", `wrong guess ${i}`), ip(i)),
    );
    assert.equal(verifications() - before, 10);
    assert.deepEqual(statuses(answers), { 401: 10, 429: 50 });
    const refused = answers.find((a) => a.status === 429)!;
    assert.deepEqual(refused.json, { error: THROTTLED, retryAfterMs: 600_000 });
    assert.equal(refused.headers.get("retry-after"), "600");
    // Still throttled for a stranger, the right password included, with nothing verified.
    const stranger = await call(
      "POST",
      "/api/auth/login",
      login("mallory-target", PASSWORD),
      ip(7),
    );
    assert.equal(stranger.status, 429);
    assert.equal(verifications() - before, 10);
    // The owner, from the browser that registered, is not.
    const owner = await call(
      "POST",
      "/api/auth/login",
      login("mallory-target", PASSWORD),
      { ...withDevice(device), ...ip(8) },
    );
    assert.equal(owner.status, 200);
  });
});

Deno.test("POST /api/auth/login 60 parallel at one IP with different usernames: 10 verified, 50 refused", async () => {
  await withApi(async ({ call, verifications }) => {
    await call("POST", "/api/auth/register", login("victim-0", PASSWORD));
    const before = verifications();
    const answers = await burst(
      60,
      (i) =>
        call("POST", "/api/auth/login", login(`victim-${i}`, `wrong guess ${i}`), {
          "x-test-ip": "203.0.113.66",
        }),
    );
    assert.equal(verifications() - before, 10);
    assert.deepEqual(statuses(answers), { 401: 10, 429: 50 });
    // Another address is not throttled; the usernames were tried at most once each.
    const other = await call("POST", "/api/auth/login", login("victim-0", PASSWORD), ip(9));
    assert.equal(other.status, 200);
  });
});

Deno.test("POST /api/auth/login successes give their slots back: 30 right passwords in parallel all pass", async () => {
  await withApi(async ({ call, verifications }) => {
    await call("POST", "/api/auth/register", login("busy", PASSWORD));
    // 9 failures leave one slot; parallel successes hold it one after another... or are refused:
    // what matters is that none is verified beyond the slots held at once.
    for (let i = 0; i < 9; i++) {
      assert.equal(
        (await call("POST", "/api/auth/login", login("busy", `nope ${i}`), ip(i))).status,
        401,
      );
    }
    const before = verifications();
    const answers = await burst(
      30,
      (i) => call("POST", "/api/auth/login", login("busy", PASSWORD), ip(i)),
    );
    const counts = statuses(answers);
    assert.equal(counts[200] + (counts[429] ?? 0), 30);
    assert.ok(counts[200] >= 1);
    assert.equal(verifications() - before, counts[200]);
    // Given back: the one free slot is free again, so one more failure is verified, then 429.
    assert.equal(
      (await call("POST", "/api/auth/login", login("busy", "nope 9"), ip(1))).status,
      401,
    );
    assert.equal(
      (await call("POST", "/api/auth/login", login("busy", PASSWORD), ip(2))).status,
      429,
    );
  });
});

Deno.test("POST /api/auth/login from the owner's device succeeds while the username is throttled for everyone else", async () => {
  await withApi(async ({ call, verifications }) => {
    // The owner logs in once from her laptop: it gets a device cookie.
    await call("POST", "/api/auth/register", login("olivia", PASSWORD));
    const first = await call("POST", "/api/auth/login", login("olivia", PASSWORD), ip(1));
    let laptop = deviceOf(first.headers)!;
    assert.ok(laptop);
    // Someone who knows the name guesses from elsewhere until the username is throttled.
    for (let i = 0; i < 10; i++) {
      const r = await call("POST", "/api/auth/login", login("olivia", `guess ${i}`), ip(100 + i));
      assert.equal(r.status, 401);
    }
    const before = verifications();
    for (const headers of [ip(120), ip(1)]) {
      const r = await call("POST", "/api/auth/login", login("olivia", PASSWORD), headers);
      assert.equal(r.status, 429, "a stranger, even with the right password");
    }
    assert.equal(verifications(), before);
    // The owner's laptop is throttled on its own: she logs in, and a typo costs only her device.
    const typo = await call("POST", "/api/auth/login", login("olivia", "typo"), withDevice(laptop));
    assert.equal(typo.status, 401);
    const owner = await call(
      "POST",
      "/api/auth/login",
      login("Olivia", PASSWORD),
      withDevice(laptop),
    );
    assert.equal(owner.status, 200);
    laptop = deviceOf(owner.headers)!;
    const me = await call("GET", "/api/auth/me", undefined, {
      cookie: `__Host-session=${
        /^__Host-session=([^;]+)/.exec(owner.headers.getSetCookie()[0])![1]
      }`,
    });
    assert.equal(me.status, 200);
    // And the username stays throttled for everyone else.
    const stranger = await call("POST", "/api/auth/login", login("olivia", PASSWORD), ip(121));
    assert.equal(stranger.status, 429);
  });
});

Deno.test("POST /api/auth/login with a forged, foreign or malformed device token gets no extra attempts", async () => {
  await withApi(async ({ call, verifications }) => {
    const alice = deviceOf(
      (await call("POST", "/api/auth/register", login("alice", PASSWORD))).headers,
    )!;
    const bob = deviceOf(
      (await call("POST", "/api/auth/register", login("bob", PASSWORD))).headers,
    )!;
    const [id, secret] = alice.split(".");
    const forged = [
      bob, // another user's device, presented for alice
      `${id}.${secret[0] === "A" ? "B" : "A"}${secret.slice(1)}`, // alice's id, wrong secret
      `${"Z".repeat(22)}.${"Q".repeat(43)}`, // an id that does not exist
      "not-a-device-token", // malformed
      `${alice}x`, // malformed
    ];
    // Ten wrong guesses at alice, each with one of the forged cookies: they count on her username.
    const before = verifications();
    for (let i = 0; i < 10; i++) {
      const r = await call(
        "POST",
        "/api/auth/login",
        login("alice", `guess ${i}`),
        { ...withDevice(forged[i % forged.length]), ...ip(i) },
      );
      assert.equal(r.status, 401);
    }
    assert.equal(verifications() - before, 10);
    // Now each of them, the right password included, is refused without a verification.
    for (const token of [...forged, undefined]) {
      const headers = token ? { ...withDevice(token), ...ip(50) } : ip(51);
      const r = await call("POST", "/api/auth/login", login("alice", PASSWORD), headers);
      assert.equal(r.status, 429, String(token));
    }
    assert.equal(verifications() - before, 10);
    // Alice's own valid device, presented for bob's username, is no device of bob's either.
    for (let i = 0; i < 10; i++) {
      await call("POST", "/api/auth/login", login("bob", `guess ${i}`), ip(60 + i));
    }
    const foreign = await call(
      "POST",
      "/api/auth/login",
      login("bob", PASSWORD),
      withDevice(alice),
    );
    assert.equal(foreign.status, 429);
    // While alice's device, for alice, still logs in.
    const owner = await call(
      "POST",
      "/api/auth/login",
      login("alice", PASSWORD),
      withDevice(alice),
    );
    assert.equal(owner.status, 200);
  });
});

Deno.test("POST /api/auth/login a device that fails too often is locked alone; the owner's other devices and the username are not", async () => {
  await withApi(async ({ call, verifications }) => {
    const reg = await call("POST", "/api/auth/register", login("dora", PASSWORD));
    const stolen = deviceOf(reg.headers)!; // say this laptop is stolen
    const phone = deviceOf(
      (await call("POST", "/api/auth/login", login("dora", PASSWORD), ip(2))).headers,
    )!;
    const before = verifications();
    // 60 parallel guesses through the stolen device: its own limit, 10 verified.
    const answers: Answer[] = await burst(
      60,
      (i) =>
        call("POST", "/api/auth/login", login("dora", `guess ${i}`), {
          ...withDevice(stolen),
          ...ip(i),
        }),
    );
    assert.equal(verifications() - before, 10);
    assert.deepEqual(statuses(answers), { 401: 10, 429: 50 });
    const locked = await call(
      "POST",
      "/api/auth/login",
      login("dora", PASSWORD),
      withDevice(stolen),
    );
    assert.equal(locked.status, 429);
    // The phone logs in; so does a new browser (the username's count was not touched).
    const fromPhone = await call(
      "POST",
      "/api/auth/login",
      login("dora", PASSWORD),
      withDevice(phone),
    );
    assert.equal(fromPhone.status, 200);
    const fresh = await call("POST", "/api/auth/login", login("dora", PASSWORD), ip(77));
    assert.equal(fresh.status, 200);
    // After the window the stolen device may try again.
  });
});

Deno.test("POST /api/auth/login bearer clients present the device token in the body, browsers in the cookie", async () => {
  await withApi(async ({ call }) => {
    await call("POST", "/api/auth/register", login("cli", PASSWORD));
    const app = await call("POST", "/api/auth/login", {
      ...login("cli", PASSWORD),
      transport: "bearer",
    });
    const { deviceToken } = app.json as { deviceToken: string };
    for (let i = 0; i < 10; i++) {
      await call("POST", "/api/auth/login", login("cli", `guess ${i}`), ip(i));
    }
    // A browser's body field is not a device route: throttled.
    const viaBody = await call("POST", "/api/auth/login", {
      ...login("cli", PASSWORD),
      deviceToken,
    });
    assert.equal(viaBody.status, 429);
    // Nor is a bearer client's cookie.
    const viaCookie = await call(
      "POST",
      "/api/auth/login",
      { ...login("cli", PASSWORD), transport: "bearer" },
      withDevice(deviceToken),
    );
    assert.equal(viaCookie.status, 429);
    // The bearer client with its token in the body logs in, and gets the renewed token back.
    const ok = await call("POST", "/api/auth/login", {
      ...login("cli", PASSWORD),
      transport: "bearer",
      deviceToken,
    });
    assert.equal(ok.status, 200);
    const renewed = (ok.json as { deviceToken: string }).deviceToken;
    assert.equal(renewed.split(".")[0], deviceToken.split(".")[0]);
    assert.notEqual(renewed, deviceToken);
  });
});

/** The store commands of one login, by kind. */
function tally(commands: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of commands) out[c] = (out[c] ?? 0) + 1;
  return out;
}

Deno.test("POST /api/auth/login costs one verification and a bounded number of store commands", async () => {
  await withApi(async ({ call, commands, verifications }) => {
    await call("POST", "/api/auth/register", login("counted", PASSWORD));
    // Warm up every concept's indexes (created once per instance).
    const warm = await call("POST", "/api/auth/login", login("counted", PASSWORD), ip(1));
    await call(
      "POST",
      "/api/auth/login",
      login("counted", "wrong one"),
      withDevice(deviceOf(warm.headers)!),
    );

    const measure = async (fn: () => Promise<Answer>, status: number) => {
      commands.length = 0;
      const v = verifications();
      const r = await fn();
      assert.equal(r.status, status);
      return {
        verifications: verifications() - v,
        commands: tally(commands),
        total: commands.length,
        r,
      };
    };
    // A new browser, right password.
    const fresh = await measure(
      () => call("POST", "/api/auth/login", login("counted", PASSWORD), ip(2)),
      200,
    );
    assert.equal(fresh.verifications, 1);
    assert.deepEqual(fresh.commands, {
      "findAndModify RateLimiting.windows": 2, // take: username and IP, in parallel
      "find Sessioning.epoch": 1, // begin
      "find PasswordAuthentication.users": 1, // authenticate
      "insert Sessioning.sessions": 1, // create
      "find Sessioning.users": 1, // create: the user's endedAt, after the insert
      "update RateLimiting.windows": 1, // giveBack, both keys in one update
      "insert DeviceTrust.devices": 1, // issue a new device
      "find DeviceTrust.devices": 1, // issue: the devices past the per-user cap
    });
    // A known device, right password.
    const device = deviceOf(fresh.r.headers)!;
    const known = await measure(
      () => call("POST", "/api/auth/login", login("counted", PASSWORD), withDevice(device)),
      200,
    );
    assert.equal(known.verifications, 1);
    assert.deepEqual(known.commands, {
      "find DeviceTrust.devices": 1, // recognise the device
      // authenticate (the username's user was read at an earlier login and is remembered)
      "find PasswordAuthentication.users": 1,
      "findAndModify RateLimiting.windows": 1, // take: the device's key
      "find Sessioning.epoch": 1,
      "insert Sessioning.sessions": 1,
      "find Sessioning.users": 1,
      "update RateLimiting.windows": 1, // giveBack
      "update DeviceTrust.devices": 1, // renew the device
    });
    // A wrong password: the slots stay taken.
    const wrong = await measure(
      () => call("POST", "/api/auth/login", login("counted", "wrong two"), ip(3)),
      401,
    );
    assert.equal(wrong.verifications, 1);
    assert.equal(wrong.total, 4);
    // Throttled: no verification, the slots taken and given back at once.
    for (let i = 0; i < 9; i++) {
      await call("POST", "/api/auth/login", login("counted", `w${i}`), ip(9));
    }
    const refused = await measure(
      () => call("POST", "/api/auth/login", login("counted", PASSWORD), ip(9)),
      429,
    );
    assert.equal(refused.verifications, 0);
    assert.deepEqual(refused.commands, {
      "findAndModify RateLimiting.windows": 2,
      "update RateLimiting.windows": 1,
    });
    console.log(JSON.stringify({
      newBrowser: fresh.total,
      knownDevice: known.total,
      wrongPassword: wrong.total,
      throttled: refused.total,
    }));
  }, { spy: true });
});

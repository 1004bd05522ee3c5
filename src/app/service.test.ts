/**
 * Two services wired in one process, on two databases: each engine binds its own concepts, so
 * neither sees the other's users or sessions, `where` clauses included.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../config.ts";
import type { PasswordHasher } from "../concepts/PasswordAuthentication/hashing.ts";
import { startService } from "./service.ts";

Deno.test("startService() twice in one process: neither service sees the other's sessions", async () => {
  const dirs = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  const [a, b] = await Promise.all(dirs.map((dir) =>
    startService(
      loadConfig({ PORT: "0", DATA_DIR: dir, SESSION_COOKIE_SECURE: "false" }),
      () => {},
    )
  ));
  const post = (base: string, path: string, body: unknown, cookie?: string) =>
    fetch(`${base}/api${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
      body: JSON.stringify(body),
    });
  const me = async (base: string, cookie: string) => {
    const res = await fetch(`${base}/api/auth/me`, { headers: { cookie } });
    return { status: res.status, body: await res.json() };
  };
  try {
    const registered = await post(a.url, "/auth/register", {
      username: "alice",
      password: "correct horse battery",
    });
    assert.equal(registered.status, 201);
    const { user } = await registered.json();
    const cookie = registered.headers.getSetCookie()[0].split(";")[0];
    // Interleave requests to both, so a binding that leaked across engines would show.
    const [onA, onB] = await Promise.all([me(a.url, cookie), me(b.url, cookie)]);
    assert.deepEqual(onA, { status: 200, body: { user, username: "alice" } });
    assert.equal(onB.status, 401);
    // B has no alice either: the same name registers there as a new user.
    const onBRegister = await post(b.url, "/auth/register", {
      username: "alice",
      password: "another password here",
    });
    assert.equal(onBRegister.status, 201);
    assert.notEqual((await onBRegister.json()).user, user);
  } finally {
    await Promise.all([a.close(), b.close()]);
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startService() with a hasher given in its parts: registering and logging in use that hasher", async () => {
  const dir = await Deno.makeTempDir();
  const calls: string[] = [];
  // A stand-in that is not Argon2: its PHC-shaped string carries the password reversed.
  const hasher: PasswordHasher = {
    hash: (password) => {
      calls.push("hash");
      return Promise.resolve(`$test$${[...password].reverse().join("")}`);
    },
    verify: (phc, password) => {
      calls.push("verify");
      return Promise.resolve(phc === `$test$${[...password].reverse().join("")}`);
    },
  };
  const service = await startService(
    loadConfig({ PORT: "0", DATA_DIR: dir, SESSION_COOKIE_SECURE: "false" }),
    () => {},
    { hasher },
  );
  const post = (path: string, body: unknown) =>
    fetch(`${service.url}/api${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  try {
    const credentials = { username: "bob", password: "correct horse battery" };
    const registered = await post("/auth/register", credentials);
    assert.equal(registered.status, 201);
    await registered.body?.cancel();
    assert.deepEqual(calls, ["hash"]);
    const ok = await post("/auth/login", credentials);
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    const wrong = await post("/auth/login", { ...credentials, password: "wrong horse battery" });
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
    // Each login verified with the given hasher. Its string is not Argon2id, so the successful
    // login upgraded it, by hashing again with the same hasher.
    assert.deepEqual(calls, ["hash", "verify", "hash", "verify"]);
  } finally {
    await service.close();
    await Deno.remove(dir, { recursive: true });
  }
});

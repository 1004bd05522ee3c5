/**
 * Two services wired in one process, on two databases: each engine binds its own concepts, so
 * neither sees the other's users or sessions, `where` clauses included.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../config.ts";
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

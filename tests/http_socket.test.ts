/**
 * The HTTP app over a real socket: `Deno.serve` on port 0 and `fetch`. Shows what `app.request()`
 * cannot: the client address comes from the socket, Set-Cookie survives the wire, and a body
 * streamed without Content-Length is cut off at the limit; and, end to end with the real engine,
 * Requesting, Sessioning and syncs, the `/api/ping` sample sync and an unhandled path.
 */
import assert from "node:assert/strict";
import { createApp } from "../src/http/app.ts";
import type { AccessLogEntry, AppDeps, RequestingPort } from "../src/http/app.ts";
import { createConcepts } from "../src/app/concepts.ts";
import { syncs } from "../src/syncs/mod.ts";
import { testDb } from "./support/test_db.ts";
import type { ID } from "../src/utils/types.ts";

const TOKEN = "AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

/** Serves `deps` on 127.0.0.1, an ephemeral port, for the duration of `body`. */
async function withServer(
  deps: AppDeps,
  body: (base: string) => Promise<void>,
): Promise<void> {
  const app = createApp(deps);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  try {
    await body(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

function echoRequesting(calls: Array<Record<string, unknown>>): RequestingPort {
  return {
    request(inputs) {
      calls.push(inputs);
      return Promise.resolve({ request: String(calls.length) });
    },
    _awaitResponse() {
      return Promise.resolve([{ response: { ok: true, session: TOKEN } }]);
    },
  };
}

Deno.test("Deno.serve(createApp()) answers over a real socket with the socket's address and a cookie", async () => {
  const calls: Array<Record<string, unknown>> = [];
  const logs: AccessLogEntry[] = [];
  const deps: AppDeps = {
    Requesting: echoRequesting(calls),
    Sessioning: {
      touch: () => Promise.resolve({ error: "Cannot touch session: no such session" }),
      delete: () => Promise.resolve({ error: "Cannot delete session: no such session" }),
    },
    health: () => Promise.resolve(true),
    store: "embedded",
    config: { cookieSecure: false, appOrigins: [], trustProxy: false },
    log: (e) => logs.push(e),
  };
  await withServer(deps, async (base) => {
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { ok: true, store: "embedded" });

    const login = await fetch(`${base}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": "6.6.6.6" },
      body: JSON.stringify({ username: "ada", password: "pw" }),
    });
    assert.equal(login.status, 200);
    assert.deepEqual(await login.json(), { ok: true });
    assert.deepEqual(login.headers.getSetCookie(), [
      `session=${TOKEN}; Path=/; HttpOnly; SameSite=Lax`,
    ]);
    assert.equal(calls[0].ip, "127.0.0.1");
    assert.equal(calls[0].path, "/auth/login");

    const chunk = new TextEncoder().encode(" ".repeat(16 * 1024));
    let sent = 0;
    const big = await fetch(`${base}/api/ping`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 8) controller.enqueue(chunk);
          else controller.close();
        },
      }),
    });
    assert.equal(big.status, 413);
    assert.deepEqual(await big.json(), { error: "Cannot read body: larger than 65536 bytes" });

    const unexposed = await fetch(`${base}/api/Sessioning/create`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user: "victim" }),
    });
    assert.equal(unexposed.status, 404);
    await unexposed.body?.cancel();
  });
  assert.deepEqual(logs.map((l) => [l.method, l.path, l.status]), [
    ["GET", "/healthz", 200],
    ["POST", "/api/auth/login", 200],
    ["POST", "/api/ping", 413],
    ["POST", "/api/Sessioning/create", 404],
  ]);
  assert.equal(calls.length, 1);
});

Deno.test("Deno.serve(createApp()) runs /api/ping through the real engine, Requesting and syncs", async () => {
  const [db, client] = await testDb();
  const logs: AccessLogEntry[] = [];
  try {
    const { Engine, Requesting, Sessioning } = createConcepts(db, {
      requesting: { timeoutMs: 60_000 },
    });
    Engine.register(syncs);
    const deps: AppDeps = {
      Requesting,
      Sessioning,
      health: () => Promise.resolve(true),
      store: "embedded",
      config: { cookieSecure: true, appOrigins: [], trustProxy: false },
      log: (e) => logs.push(e),
    };
    const created = await Sessioning.create({ user: "u1" as ID });
    assert.ok("session" in created);
    const cookie = `__Host-session=${created.session}`;
    await withServer(deps, async (base) => {
      const post = (path: string, headers: Record<string, string> = {}) =>
        fetch(`${base}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: "{}",
        });
      const ping = await post("/api/ping");
      assert.equal(ping.status, 200);
      assert.deepEqual(await ping.json(), { pong: true });

      // Not in the route table: the boundary answers 404 without asking Requesting.
      const nowhere = await post("/api/nowhere");
      assert.equal(nowhere.status, 404);
      assert.deepEqual(await nowhere.json(), { error: "Cannot find route: no such path" });

      const user = await post("/api/Sessioning/_getUser", { cookie });
      assert.equal(user.status, 200);
      assert.deepEqual(await user.json(), [{ user: "u1" }]);

      const logout = await post("/api/Sessioning/delete", { cookie });
      assert.equal(logout.status, 200);
      assert.deepEqual(logout.headers.getSetCookie(), [
        "__Host-session=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax",
      ]);
      await logout.body?.cancel();

      const after = await post("/api/Sessioning/_getUser", { cookie });
      assert.equal(after.status, 401);
      await after.body?.cancel();
    });
    assert.equal(Requesting.pendingCount, 0);
    assert.deepEqual(logs.map((l) => [l.path, l.status]), [
      ["/api/ping", 200],
      ["/api/nowhere", 404],
      ["/api/Sessioning/_getUser", 200],
      ["/api/Sessioning/delete", 200],
      ["/api/Sessioning/_getUser", 401],
    ]);
    assert.equal(JSON.stringify(logs).includes(created.session), false);
  } finally {
    await client.close();
  }
});

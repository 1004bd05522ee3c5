/**
 * Several stateless service processes on one standalone store (`deno task db`), as the README's
 * several-processes deployment runs them: one node killed with SIGKILL mid-load costs the others
 * nothing, a session revoked through one node is refused by the others at their next request,
 * and a login throttle built up on one node holds on another.
 */
import assert from "node:assert/strict";
import { type ServiceProcess, startServiceProcess } from "./service_process.ts";
import { startStoreProcess } from "./store_process.ts";

const PASSWORD = "correct horse battery staple";
const MAX_FAILURES = 3;

async function post(
  node: ServiceProcess,
  path: string,
  body: unknown,
  cookie?: string,
): Promise<Response> {
  return await fetch(`${node.url}/api${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(body),
  });
}

/** Registers `username` through `node`; the session cookie it got. */
async function register(node: ServiceProcess, username: string): Promise<string> {
  const res = await post(node, "/auth/register", { username, password: PASSWORD });
  const text = await res.text();
  assert.equal(res.status, 201, text);
  return sessionCookie(res);
}

function sessionCookie(res: Response): string {
  const set = res.headers.getSetCookie().find((c) => /^(__Host-)?session=/.test(c));
  assert.ok(set, "no session cookie");
  return set.split(";")[0];
}

async function me(node: ServiceProcess, cookie: string): Promise<number> {
  const res = await fetch(`${node.url}/api/auth/me`, { headers: { cookie } });
  await res.body?.cancel();
  return res.status;
}

Deno.test("three nodes on one store: a SIGKILLed node costs the others nothing; revocation and throttling hold across nodes", async () => {
  const dbpath = await Deno.makeTempDir({ prefix: "multi-" });
  const store = await startStoreProcess({ dbpath });
  const nodes: ServiceProcess[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      nodes.push(
        await startServiceProcess({
          env: {
            MONGODB_URL: store.url,
            DB_NAME: "multi",
            LOGIN_MAX_FAILURES: String(MAX_FAILURES),
          },
        }),
      );
    }
    const [a, b, c] = nodes;

    // Load: two clients per node, each with its own session, asking /me in a loop.
    const clients = await Promise.all(
      [0, 1, 2, 3, 4, 5].map(async (i) => ({
        node: nodes[i % 3],
        cookie: await register(nodes[(i + 1) % 3], `load${i}`),
        statuses: [] as number[],
        refused: 0,
      })),
    );
    let running = true;
    const loops = clients.map(async (client) => {
      while (running) {
        try {
          client.statuses.push(await me(client.node, client.cookie));
        } catch {
          client.refused++; // the killed node
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    });
    await new Promise((r) => setTimeout(r, 700));
    await c.kill();
    await new Promise((r) => setTimeout(r, 1300));
    running = false;
    await Promise.all(loops);
    for (const client of clients) {
      if (client.node === c) continue;
      assert.ok(client.statuses.length > 5, "the load did not run");
      assert.deepEqual(
        [...new Set(client.statuses)],
        [200],
        "a live node answered something other than 200",
      );
    }
    assert.ok(clients.some((cl) => cl.node === c && cl.refused > 0), "the kill was not felt");

    // Revocation through one node is seen by the other at its next request.
    const cookie = await register(a, "revoked");
    assert.equal(await me(b, cookie), 200);
    const logout = await post(a, "/auth/logout", {}, cookie);
    assert.equal(logout.status, 200);
    await logout.body?.cancel();
    assert.equal(await me(b, cookie), 401);
    assert.equal(await me(a, cookie), 401);

    // A throttle built on one node holds on the other, right password included.
    await (await post(b, "/auth/register", { username: "target", password: PASSWORD })).body
      ?.cancel();
    for (let i = 0; i < MAX_FAILURES; i++) {
      const wrong = await post(a, "/auth/login", { username: "target", password: "wrong guess!" });
      assert.equal(wrong.status, 401);
      await wrong.body?.cancel();
    }
    const onB = await post(b, "/auth/login", { username: "target", password: PASSWORD });
    assert.equal(onB.status, 429);
    assert.ok(Number(onB.headers.get("retry-after")) > 0);
    await onB.body?.cancel();
  } finally {
    for (const node of nodes) await node.stop();
    await store.stop();
    await Deno.remove(dbpath, { recursive: true }).catch(() => {});
  }
});

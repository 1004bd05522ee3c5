/**
 * The service on a standalone store that is stopped mid-run and started again: requests answer
 * 503 quickly while it is away (not 500, not a 10 s 504), readiness says so within a second,
 * both recover within 5 s of its return without restarting the service, and nothing answered
 * 5xx takes effect later while everything answered 2xx did.
 */
import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { startServiceProcess } from "./service_process.ts";
import { startStoreProcess } from "./store_process.ts";

const PASSWORD = "correct horse battery staple";

interface Outcome {
  username: string;
  status: number;
  ms: number;
  phase: "before" | "down" | "after";
}

async function timed(url: string, init?: RequestInit): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
    await res.body?.cancel();
    return { status: res.status, ms: performance.now() - started };
  } catch {
    return { status: 0, ms: performance.now() - started };
  }
}

Deno.test("service on a stopped store answers 503 fast, recovers within 5 s, and no 5xx left a trace", async () => {
  const dbpath = await Deno.makeTempDir({ prefix: "outage-" });
  let store = await startStoreProcess({ dbpath });
  const service = await startServiceProcess({
    env: { MONGODB_URL: store.url, DB_NAME: "outage" },
  });
  let running = true;
  let phase: Outcome["phase"] = "before";
  const outcomes: Outcome[] = [];
  try {
    const register = (username: string) =>
      timed(`${service.url}/api/auth/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username, password: PASSWORD }),
      });
    // A session made before the outage, to ask /api/auth/me with while the store is away.
    const first = await fetch(`${service.url}/api/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "owner", password: PASSWORD }),
    });
    assert.equal(first.status, 201);
    const cookie = first.headers.get("set-cookie")!.split(";")[0];
    await first.body?.cancel();

    const worker = async (w: number) => {
      for (let i = 0; running; i++) {
        const username = `w${w}-${i}`;
        const at = phase;
        const { status, ms } = await register(username);
        outcomes.push({ username, status, ms, phase: at });
      }
    };
    const workers = [0, 1, 2].map(worker);
    const until = async (test: () => boolean, ms: number) => {
      const deadline = Date.now() + ms;
      while (!test() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return test();
    };
    assert.ok(await until(() => outcomes.filter((o) => o.status === 201).length >= 10, 20_000));

    await store.stop("SIGTERM");
    phase = "down";
    // Readiness and an authenticated API request both say 503, within about a second.
    const ready = await timed(`${service.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.ok(ready.ms < 1500, `readiness took ${ready.ms} ms`);
    const me = await timed(`${service.url}/api/auth/me`, { headers: { cookie } });
    assert.equal(me.status, 503);
    assert.ok(me.ms < 2500, `/me took ${me.ms} ms`);
    await new Promise((r) => setTimeout(r, 3000));

    store = await startStoreProcess({ dbpath, port: store.port });
    const backAt = Date.now();
    phase = "after";
    assert.ok(
      await until(() => outcomes.some((o) => o.phase === "after" && o.status === 201), 5000),
      "no registration succeeded within 5 s of the store's return",
    );
    assert.ok(Date.now() - backAt < 5000);
    assert.equal((await timed(`${service.url}/readyz`)).status, 200);
    running = false;
    await Promise.all(workers);

    // Down: only 503, each answered within about a second or two (never a 10 s 504, never 500).
    const down = outcomes.filter((o) => o.phase === "down");
    assert.ok(down.length > 0);
    for (const o of down) {
      assert.ok([201, 503].includes(o.status), `${o.username}: ${o.status} while down`);
      assert.ok(o.ms < 3000, `${o.username} took ${o.ms} ms while down`);
    }
    assert.ok(down.some((o) => o.status === 503));

    // Anything late would have landed by now.
    await new Promise((r) => setTimeout(r, 2500));
    const client = new MongoClient(store.url);
    try {
      const users = client.db("outage").collection("PasswordAuthentication.users");
      const names = new Set(
        (await users.find({}, { projection: { username: 1 } }).toArray()).map((u) => u.username),
      );
      for (const o of outcomes) {
        if (o.status === 201) {
          assert.ok(names.has(o.username), `${o.username} answered 201, absent`);
        } else if (o.status >= 500) {
          assert.ok(
            !names.has(o.username),
            `${o.username} answered ${o.status}, present\n${
              service.output().split("\n").filter((l) => l.includes("Cannot fire")).join("\n")
            }`,
          );
        }
      }
      const odd = outcomes.filter((o) => o.status !== 201 && o.status !== 503);
      assert.deepEqual(
        odd,
        [],
        `only 201 and 503\n${
          service.output().split("\n").filter((l) => l.includes("Cannot fire")).join("\n")
        }`,
      );
    } finally {
      await client.close();
    }
  } finally {
    running = false;
    await service.stop();
    await store.stop();
    await Deno.remove(dbpath, { recursive: true }).catch(() => {});
  }
});

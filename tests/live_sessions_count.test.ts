/**
 * The metrics' count of live sessions (`countDocuments({ expiresAt: { $gt: now } })` on
 * `Sessioning.sessions`, src/observability/store_metrics.ts) is answered by the embedded store
 * from the `expiresAt` index alone: no document is looked at, so a scrape never scans sessions.
 */
import assert from "node:assert/strict";
import { countMatching } from "../src/embedded_mongo/commands/count.ts";
import { type CollectionStore, openStore } from "../src/embedded_mongo/storage/mod.ts";

Deno.test("countMatching() of live sessions reads only the expiresAt index, never a document", async () => {
  const store = await openStore({});
  const real = store.createCollection("sessions", "Sessioning.sessions");
  // The indexes Sessioning creates.
  real.createIndexes([
    { name: "user_1", key: { user: 1 } },
    { name: "expiresAt_ttl", key: { expiresAt: 1 }, expireAfterSeconds: 0 },
  ]);
  const now = Date.UTC(2030, 0, 1);
  for (let i = 0; i < 2000; i++) {
    real.insert({
      _id: `s${i}`,
      user: `u${i % 50}`,
      hash: "0".repeat(64),
      expiresAt: new Date(now + (i - 500) * 60_000),
    });
  }
  const calls: string[] = [];
  const coll = new Proxy(real, {
    get(target, key) {
      const v = Reflect.get(target, key);
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        calls.push(String(key));
        return v.apply(target, args);
      };
    },
  }) as CollectionStore;
  assert.equal(countMatching(coll, { expiresAt: { $gt: new Date(now) } }), 1499);
  assert.deepEqual(calls, ["countRange"]);
  // A filter the index cannot answer alone does read documents (the check can tell).
  calls.length = 0;
  assert.equal(countMatching(coll, { expiresAt: { $gt: new Date(now) }, user: "u1" }), 30);
  assert.ok(calls.some((c) => c !== "countRange"), calls.join(","));
  await store.close();
});

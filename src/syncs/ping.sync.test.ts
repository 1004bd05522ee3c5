/**
 * The sample sync end to end on the concepts of the composition root: `/ping` is answered `{ pong: true }` through
 * Requesting, and the syncs record registers cleanly.
 */
import assert from "node:assert/strict";
import { createConcepts } from "../app/concepts.ts";
import { testDb } from "../../tests/support/test_db.ts";
import { syncs } from "./mod.ts";

Deno.test("Ping answers /ping with { pong: true } through Requesting", async () => {
  const [db, client] = await testDb();
  try {
    const { Engine, Requesting } = createConcepts(db);
    Engine.register(syncs);
    assert.ok(Object.keys(syncs).includes("Ping"));
    const started = await Requesting.request({ path: "/ping" });
    assert.ok("request" in started);
    assert.deepEqual(await Requesting._awaitResponse({ request: started.request }), [
      { response: { pong: true } },
    ]);
    assert.equal(Requesting.pendingCount, 0);
    assert.deepEqual(Engine.stats(), { flows: 0, records: 0, syncs: Object.keys(syncs).length });
  } finally {
    await client.close();
  }
});

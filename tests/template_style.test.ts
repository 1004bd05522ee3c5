/**
 * A sync file in the course template's style moves over with only its imports changed: the first
 * TypeScript block of design/syncs.md ("A sync") is taken from the page as it is, its two imports
 * are pointed at this repository's modules, and it is registered and run on the service's
 * concepts. Two engines each run it on their own concepts, so the stand-ins bind per engine.
 */
import assert from "node:assert/strict";
import { createConcepts } from "../src/app/concepts.ts";
import type { Sync } from "../src/engine/mod.ts";
import type { ID } from "../src/utils/types.ts";
import { testDb } from "./support/test_db.ts";

const DOC = new URL("../design/syncs.md", import.meta.url);
const SYNCS_DIR = new URL("../src/syncs/", import.meta.url);

/** The first ```ts block after "## A sync", with its imports made absolute (nothing else). */
async function templateSyncModule(): Promise<Record<string, Sync>> {
  const page = await Deno.readTextFile(DOC);
  const section = page.slice(page.indexOf("## A sync"));
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, "design/syncs.md has no sync example");
  const source = block.replace(
    /from "(\.{1,2}\/[^"]+)"/g,
    (_, spec: string) => `from "${new URL(spec, SYNCS_DIR).href}"`,
  );
  assert.notEqual(source, block, "the example's imports were not found");
  // Only import lines changed.
  const changed = source.split("\n").filter((line, i) => line !== block.split("\n")[i]);
  assert.ok(changed.every((line) => line.startsWith("import ")), changed.join("\n"));
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(file, source);
  try {
    return await import(`file://${file}`);
  } finally {
    await Deno.remove(file);
  }
}

Deno.test("the template-style sync of design/syncs.md runs with only its imports changed", async () => {
  const syncs = await templateSyncModule();
  assert.deepEqual(Object.keys(syncs).sort(), [
    "LoginError",
    "LoginRequest",
    "LoginResponse",
    "Me",
  ]);
  const dbs = [await testDb(), await testDb()];
  try {
    const services = dbs.map(([db]) => {
      const concepts = createConcepts(db, {
        passwordAuthentication: { argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 } },
      });
      concepts.Engine.register(syncs);
      return concepts;
    });
    const ask = async (c: (typeof services)[0], input: Record<string, unknown>) => {
      const started = await c.Requesting.request({ path: "/login", ...input });
      assert.ok("request" in started);
      const [{ response }] = await c.Requesting._awaitResponse({ request: started.request });
      return response;
    };
    const [a, b] = services;
    const registered = await a.PasswordAuthentication.register({
      username: "alice",
      password: "correct horse battery",
    });
    assert.ok("user" in registered);
    const user = registered.user as ID;
    // The login syncs run on A's concepts...
    assert.deepEqual(await ask(a, { username: "alice", password: "correct horse battery" }), {
      user,
    });
    assert.deepEqual(await ask(a, { username: "alice", password: "wrong password" }), {
      error: "Cannot authenticate: invalid username or password",
      kind: "bad_credentials",
    });
    // ...and B's engine runs the same syncs on B's concepts, where alice does not exist.
    assert.deepEqual(await ask(b, { username: "alice", password: "correct horse battery" }), {
      error: "Cannot authenticate: invalid username or password",
      kind: "bad_credentials",
    });
    // The where clause (a query through a stand-in) reads the right engine's Sessioning.
    const created = await a.Sessioning.create({ user });
    assert.ok("session" in created);
    const me = await a.Requesting.request({ path: "/me", session: created.session });
    assert.ok("request" in me);
    assert.deepEqual(await a.Requesting._awaitResponse({ request: me.request }), [
      { response: { user } },
    ]);
  } finally {
    for (const [, client] of dbs) await client.close();
  }
});

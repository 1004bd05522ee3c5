/** Tests of `StringMap`, the map for entries that come and go (one per request in flight). */
import assert from "node:assert/strict";
import { StringMap } from "./string_map.ts";

Deno.test("StringMap holds, replaces and removes entries, counting them", () => {
  const m = new StringMap<number>();
  assert.equal(m.size, 0);
  assert.equal(m.get("a"), undefined);
  assert.equal(m.has("a"), false);
  m.set("a", 1).set("b", 2).set("a", 3);
  assert.equal(m.size, 2);
  assert.equal(m.get("a"), 3);
  assert.equal(m.has("b"), true);
  assert.equal(m.delete("b"), true);
  assert.equal(m.delete("b"), false);
  assert.equal(m.size, 1);
  assert.deepEqual(m.entries(), [["a", 3]]);
  m.clear();
  assert.equal(m.size, 0);
  assert.deepEqual(m.values(), []);
});

Deno.test("StringMap takes any string as a key, those of Object.prototype included", () => {
  const m = new StringMap<string>();
  const keys = ["__proto__", "constructor", "toString", "hasOwnProperty", "", "0", "12"];
  for (const k of keys) assert.equal(m.has(k), false, k);
  for (const k of keys) m.set(k, `v${k}`);
  assert.equal(m.size, keys.length);
  for (const k of keys) assert.equal(m.get(k), `v${k}`, k);
  assert.deepEqual(new Set(m.values()), new Set(keys.map((k) => `v${k}`)));
  for (const k of keys) assert.equal(m.delete(k), true, k);
  assert.equal(m.size, 0);
  // Nothing leaked onto plain objects.
  assert.equal(Object.getPrototypeOf({}), Object.prototype);
  assert.equal(({} as Record<string, unknown>).toString, Object.prototype.toString);
});

Deno.test("StringMap under churn: a thousand entries come and go, the count stays exact", () => {
  const m = new StringMap<{ n: number }>();
  const live = new Map<string, { n: number }>();
  for (let i = 0; i < 10_000; i++) {
    const key = `k${(i * 7919) % 1000}`;
    if (live.has(key)) {
      assert.equal(m.delete(key), true);
      live.delete(key);
    } else {
      const v = { n: i };
      m.set(key, v);
      live.set(key, v);
    }
    assert.equal(m.size, live.size);
  }
  for (const [k, v] of live) assert.equal(m.get(k), v);
});

/**
 * Tests of storable(): keys escaped so that any JSON object the boundary accepts can be stored,
 * reversibly; secrets redacted; depth cut.
 */
import assert from "node:assert/strict";
import { escapeKey, storable } from "./storable.ts";

Deno.test("escapeKey() escapes NUL, dots, %, a leading $, _bsontype and __proto__, and nothing else", () => {
  const cases: Array<[string, string]> = [
    ["plain", "plain"],
    ["", ""],
    ["a\u0000b", "a%00b"],
    ["a.b.c", "a%2Eb%2Ec"],
    ["100%", "100%25"],
    ["%2E", "%252E"],
    ["$gt", "%24gt"],
    ["a$b", "a$b"],
    ["$$", "%24$"],
    ["_bsontype", "%5Fbsontype"],
    ["__proto__", "%5F_proto__"],
    ["_id", "_id"],
    ["ünïcødé", "ünïcødé"],
  ];
  for (const [key, escaped] of cases) assert.equal(escapeKey(key), escaped, JSON.stringify(key));
  // Distinct keys stay distinct.
  const keys = ["a.b", "a%2Eb", "$x", "%24x", "_bsontype", "%5Fbsontype", "\u0000", "%00"];
  assert.equal(new Set(keys.map(escapeKey)).size, keys.length);
});

Deno.test("storable() escapes keys at every depth, redacts secrets, and cuts past depth 8", () => {
  const parsed = JSON.parse(
    '{"a.b":{"$gt":1,"x\\u0000":[{"_bsontype":"Code"}]},"__proto__":{"k":2},"password":"pw"}',
  );
  assert.deepEqual(storable(parsed), {
    "a%2Eb": { "%24gt": 1, "x%00": [{ "%5Fbsontype": "Code" }] },
    "%5F_proto__": { k: 2 },
    password: "[redacted]",
  });
  let deep: unknown = 1;
  for (let i = 0; i < 10_000; i++) deep = { a: deep };
  let cut = storable(deep) as Record<string, unknown>;
  let depth = 0;
  while (typeof cut === "object") {
    cut = cut.a as Record<string, unknown>;
    depth++;
  }
  assert.equal(cut, "[...]");
  assert.ok(depth <= 9, `depth ${depth}`);
  const date = new Date(0);
  assert.deepEqual(storable({ at: date }), { at: date });
});

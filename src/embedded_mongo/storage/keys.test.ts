import assert from "node:assert/strict";
import { Binary, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, UUID } from "bson";
import { canonicalDecimal, encodeValue, indexKey } from "./keys.ts";

Deno.test("indexKey() gives 1, 1.0, Int32(1), Long(1) and Decimal128('1.00') one key", () => {
  const keys = [1, 1.0, new Int32(1), new Double(1), Long.fromNumber(1), new Decimal128("1.00")]
    .map(indexKey);
  for (const k of keys) assert.equal(k, 1);
  assert.equal(indexKey(-0), 0);
  assert.notEqual(indexKey(1), indexKey("1"));
  assert.notEqual(indexKey(1), indexKey(true));
});

Deno.test("indexKey() keeps large Longs exact and equal to the same Decimal128", () => {
  const big = Long.fromString("9007199254740993");
  assert.equal(indexKey(big), indexKey(new Decimal128("9007199254740993")));
  assert.notEqual(indexKey(big), indexKey(Long.fromString("9007199254740992")));
  assert.equal(indexKey(Long.fromString("9007199254740992")), 9007199254740992);
});

Deno.test("canonicalDecimal() writes one text per value", () => {
  assert.equal(canonicalDecimal("1.500"), "15E-1");
  assert.equal(canonicalDecimal("1E+2"), "100");
  assert.equal(canonicalDecimal("-0.00"), "0");
  assert.equal(canonicalDecimal("1.5e-7"), canonicalDecimal("0.00000015"));
});

Deno.test("indexKey() compares ObjectId by hex, Date by time, Binary by subtype and bytes", () => {
  const hex = "64b7f0c2a1b2c3d4e5f60718";
  assert.equal(indexKey(new ObjectId(hex)), indexKey(ObjectId.createFromHexString(hex)));
  assert.notEqual(indexKey(new ObjectId(hex)), indexKey(hex));
  assert.equal(indexKey(new Date(5)), indexKey(new Date(5)));
  assert.notEqual(indexKey(new Date(5)), indexKey(5));
  const bytes = new Uint8Array([1, 2, 3]);
  assert.equal(indexKey(new Binary(bytes, 0)), indexKey(new Binary(new Uint8Array([1, 2, 3]), 0)));
  assert.notEqual(indexKey(new Binary(bytes, 0)), indexKey(new Binary(bytes, 5)));
  const uuid = new UUID();
  assert.equal(indexKey(uuid), indexKey(new Binary(uuid.buffer.slice(), 4)));
  assert.notEqual(indexKey(new MinKey()), indexKey(new MaxKey()));
});

Deno.test("indexKey() compares objects by ordered fields and arrays elementwise", () => {
  assert.equal(indexKey({ a: 1, b: "x" }), indexKey({ a: Long.fromNumber(1), b: "x" }));
  assert.notEqual(indexKey({ a: 1, b: "x" }), indexKey({ b: "x", a: 1 }));
  assert.equal(indexKey({ a: { b: [1, 2] } }), indexKey({ a: { b: [1.0, new Int32(2)] } }));
  assert.notEqual(indexKey([1, 2]), indexKey([2, 1]));
  assert.notEqual(indexKey({ a: "1" }), indexKey({ a: 1 }));
});

Deno.test("indexKey() keeps strings apart from encoded values", () => {
  assert.equal(indexKey("abc"), "abc");
  assert.notEqual(indexKey(`\0${encodeValue(new Date(1))}`), indexKey(new Date(1)));
  assert.equal(indexKey(null), indexKey(undefined));
  assert.notEqual(indexKey(null), indexKey("null"));
});

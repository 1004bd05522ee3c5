import assert from "node:assert/strict";
import { Binary, BSON, Decimal128, type Document, Long, ObjectId, Timestamp, UUID } from "bson";
import { serializeReply } from "./reply.ts";

const docs = [
  { _id: "a", n: 1, at: new Date(5), nested: { list: [1, "x", null] } },
  { _id: new ObjectId("64b7f0c2a1b2c3d4e5f60718"), big: Long.fromString("9007199254740993") },
];

Deno.test("serializeReply() writes stored BSON bytes into a cursor batch as bson would write the documents", () => {
  for (const batch of ["firstBatch", "nextBatch"]) {
    const id = Long.fromNumber(123456789012);
    const raw = {
      cursor: { [batch]: docs.map((d) => BSON.serialize(d)), id, ns: "db.coll" },
      ok: 1,
    };
    const plain = { cursor: { [batch]: docs, id, ns: "db.coll" }, ok: 1 };
    assert.deepEqual(
      BSON.deserialize(serializeReply(raw), { promoteLongs: false }),
      BSON.deserialize(BSON.serialize(plain), { promoteLongs: false }),
    );
  }
});

Deno.test("serializeReply() writes a reply without stored bytes as bson does", () => {
  const reply = { n: 2, ok: 1, note: "é", when: new Date(1) };
  assert.deepEqual(Uint8Array.from(serializeReply(reply)), Uint8Array.from(BSON.serialize(reply)));
});

Deno.test("serializeReply() writes every kind of value byte for byte as bson does", () => {
  const values: Document = {
    s: "plain",
    u: "é ✓ 😀 mixed",
    empty: "",
    nul: "a\0b",
    i: 7,
    neg: -(2 ** 31),
    max: 2 ** 31 - 1,
    over: 2 ** 31,
    negZero: -0,
    frac: 1.5,
    nan: NaN,
    inf: -Infinity,
    big: 2 ** 60,
    t: true,
    f: false,
    n: null,
    skipped: undefined,
    date: new Date(1_700_000_000_123),
    before1970: new Date(-86_400_001),
    badDate: new Date(NaN),
    long: Long.fromString("-9007199254740993"),
    oid: new ObjectId("64b7f0c2a1b2c3d4e5f60718"),
    bin: new Binary(new Uint8Array([1, 2, 3]), 0),
    uuid: new UUID("0d7f2c4e-8a3b-4f6e-9c1d-2b5a7e9f0a1c"),
    dec: Decimal128.fromString("1.25"),
    ts: new Timestamp({ t: 5, i: 6 }),
    re: /ab+c/i,
    bigint: 5n,
    nested: { a: [1, undefined, null, { "é": [] }], "": {} },
    "ünïcode key": 1,
  };
  const reply = { cursor: { firstBatch: [values], id: Long.ZERO, ns: "db.c" }, ok: 1, ...values };
  assert.deepEqual(Uint8Array.from(serializeReply(reply)), Uint8Array.from(BSON.serialize(reply)));
  // With a stored document in the batch, the rest is written the same way.
  const withRaw = { ...reply, cursor: { ...reply.cursor, firstBatch: [BSON.serialize(values)] } };
  assert.deepEqual(
    Uint8Array.from(serializeReply(withRaw)),
    Uint8Array.from(BSON.serialize(reply)),
  );
});

Deno.test("serializeReply() leaves room for a header when asked", () => {
  const bytes = serializeReply({ ok: 1 }, 21);
  assert.deepEqual(Uint8Array.from(bytes.subarray(0, 21)), new Uint8Array(21));
  assert.deepEqual(Uint8Array.from(bytes.subarray(21)), Uint8Array.from(BSON.serialize({ ok: 1 })));
});

Deno.test("serializeReply() refuses a field name with a NUL, as bson does", () => {
  assert.throws(() => serializeReply({ ["a\0b"]: 1 }), /must not contain null bytes/);
});

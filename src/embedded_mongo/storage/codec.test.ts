import assert from "node:assert/strict";
import {
  Binary,
  BSON,
  Decimal128,
  type Document,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  UUID,
} from "bson";
import {
  Codec,
  FIELD_DATE,
  FIELD_MISSING,
  FIELD_NUMBER,
  FIELD_OTHER,
  FIELD_STRING,
} from "./codec.ts";
import { KeyHasher } from "./key_hash.ts";
import { MISSING } from "./keys.ts";

/** Plain bytes (bson hands out Buffers, which compare unequal to Uint8Arrays). */
function plain(b: Uint8Array): Uint8Array {
  return Uint8Array.from(b);
}

const session = {
  _id: "8x0mQjp0nauhJJ3Pz5eC6V",
  user: "K0JYrojXyDn36qRuiXn56V",
  hash: "090ca50fb4128c40fcc9b72048539bcbfdec1192b4a8433b565258cfe7e97acf",
  createdAt: new Date(1_700_000_000_000),
  expiresAt: new Date(1_700_086_400_000),
  userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0",
  ip: "203.0.113.7",
};

const DOCS: Document[] = [
  session,
  {
    _id: new ObjectId("64b7f0c2a1b2c3d4e5f60718"),
    a: [1, 2.5, { b: "x" }, []],
    long: Long.fromString("123456789012345678"),
    small: Long.fromNumber(5),
    dec: Decimal128.fromString("1.50"),
    bin: new Binary(new Uint8Array([1, 2, 3]), 0),
    uuid: new UUID("0e2e2e1b-5a0b-4b8e-9a0e-0c7b0c9f9f9f"),
    ts: new Timestamp({ t: 1, i: 2 }),
    int: new Int32(-7),
    double: new Double(3),
    negZero: -0,
    big: 2 ** 40,
    text: "é".repeat(40) + "\u{1F600}",
    nul: "\0starts with NUL",
    no: null,
    yes: true,
    nope: false,
    re: /ab+c/i,
    min: new MinKey(),
    max: new MaxKey(),
    upper: "DEADBEEFDEADBEEFDEADBEEF",
    hexOdd: "abcdefabcdefabcde",
  },
  {},
  { _id: 1, nested: { deeper: { deepest: [new Date(0)] } } },
];

Deno.test("encodeBson() and writeBson() give back the very BSON bytes, and decode() what bson reads", () => {
  const codec = new Codec();
  for (const doc of DOCS) {
    for (let round = 0; round < 3; round++) {
      const bson = BSON.serialize(doc);
      const compact = codec.encodeBson(bson).slice();
      assert.deepEqual(plain(codec.toBson(compact, 0, compact.length)), plain(bson));
      assert.equal(codec.bsonSize(compact, 0, compact.length), bson.length);
      const decoded = codec.decode(compact, 0, compact.length);
      assert.deepEqual(
        plain(BSON.serialize(decoded)),
        plain(BSON.serialize(BSON.deserialize(bson))),
      );
    }
  }
});

Deno.test("encodeBson() stores a session document in well under half its BSON size", () => {
  const codec = new Codec();
  const bson = BSON.serialize(session);
  codec.encodeBson(bson);
  const second = codec.encodeBson(BSON.serialize({ ...session, _id: "other" })).length;
  assert.ok(second * 2 < bson.length, `${second} of ${bson.length}`);
});

Deno.test("field() and fieldKey() read one field; string hashes match the keys' hashes", () => {
  const codec = new Codec();
  const doc = { ...session, n: 42, d: 1.5, nan: NaN, arr: [1] };
  codec.encodeBson(BSON.serialize(doc)); // the second time, the user agent is in the dictionary
  const c = codec.encodeBson(BSON.serialize(doc)).slice();
  const hasher = new KeyHasher();
  assert.equal(codec.field(c, 0, c.length, "ip"), "203.0.113.7");
  assert.equal(codec.field(c, 0, c.length, "nothing"), MISSING);
  for (const name of ["_id", "hash", "userAgent"]) {
    assert.equal(codec.fieldKey(c, 0, c.length, name), FIELD_STRING, name);
    assert.equal(codec.fieldKeyValue, hasher.hash(doc[name as "_id"]), name);
  }
  assert.equal(codec.fieldKey(c, 0, c.length, "expiresAt"), FIELD_DATE);
  assert.equal(codec.fieldKeyValue, session.expiresAt.getTime());
  assert.equal(codec.fieldKey(c, 0, c.length, "n"), FIELD_NUMBER);
  assert.equal(codec.fieldKeyValue, 42);
  assert.equal(codec.fieldKey(c, 0, c.length, "d"), FIELD_NUMBER);
  assert.equal(codec.fieldKey(c, 0, c.length, "nan"), FIELD_OTHER);
  assert.equal(codec.fieldKey(c, 0, c.length, "arr"), FIELD_OTHER);
  assert.equal(codec.fieldKey(c, 0, c.length, "gone"), FIELD_MISSING);
});

Deno.test("tables() and loadTables() let another codec read the same bytes", () => {
  const codec = new Codec();
  const compact = DOCS.map((d) => {
    codec.encodeBson(BSON.serialize(d));
    return codec.encodeBson(BSON.serialize(d)).slice();
  });
  const other = new Codec();
  other.loadTables(codec.tables());
  compact.forEach((c, i) => {
    assert.deepEqual(plain(other.toBson(c, 0, c.length)), plain(BSON.serialize(DOCS[i])));
  });
  assert.throws(() => other.loadTables(codec.tables()), /in use/);
});

Deno.test("encodeBson() keeps documents as plain BSON once a collection has 4096 shapes", () => {
  const codec = new Codec();
  const docs = Array.from({ length: 4200 }, (_, i) => ({ _id: i, [`f${i}`]: i, [`g${i}`]: "x" }));
  const stored = docs.map((d) => codec.encodeBson(BSON.serialize(d)).slice());
  assert.equal(codec.shapeCount, 4096);
  assert.equal(stored[4199][0], 0, "shape 0: plain BSON");
  stored.forEach((c, i) => {
    assert.deepEqual(codec.decode(c, 0, c.length), docs[i]);
    assert.equal(codec.field(c, 0, c.length, `g${i}`), "x");
  });
});

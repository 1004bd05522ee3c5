import assert from "node:assert/strict";
import { BSON, Long, ObjectId } from "bson";
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

Deno.test("serializeReply() leaves a reply without stored bytes to bson", () => {
  const reply = { n: 2, ok: 1, note: "é", when: new Date(1) };
  assert.deepEqual(Uint8Array.from(serializeReply(reply)), Uint8Array.from(BSON.serialize(reply)));
});

import assert from "node:assert/strict";
import { BSON } from "bson";
import { ProtocolError } from "../errors.ts";
import { crc32c } from "./crc32c.ts";
import {
  encodeLegacyReply,
  encodeMsgReply,
  FrameReader,
  MAX_MESSAGE_SIZE,
  parseMessage,
} from "./protocol.ts";

function msg(flags: number, sections: Uint8Array[], checksum = false): Uint8Array {
  const bodyLength = sections.reduce((s, p) => s + p.length, 0);
  const length = 20 + bodyLength + (checksum ? 4 : 0);
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  view.setInt32(0, length, true);
  view.setInt32(4, 42, true);
  view.setInt32(12, 2013, true);
  view.setUint32(16, flags, true);
  let pos = 20;
  for (const s of sections) {
    out.set(s, pos);
    pos += s.length;
  }
  if (checksum) view.setUint32(pos, crc32c(out.subarray(0, pos)), true);
  return out;
}

const kind0 = (doc: object) => new Uint8Array([0, ...BSON.serialize(doc)]);

function kind1(id: string, docs: object[]): Uint8Array {
  const idBytes = new TextEncoder().encode(id + "\0");
  const bodies = docs.flatMap((d) => [...BSON.serialize(d)]);
  const size = 4 + idBytes.length + bodies.length;
  const out = new Uint8Array(1 + size);
  out[0] = 1;
  new DataView(out.buffer).setInt32(1, size, true);
  out.set(idBytes, 5);
  out.set(bodies, 5 + idBytes.length);
  return out;
}

Deno.test("crc32c() matches the standard check value", () => {
  assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
});

Deno.test("parseMessage() merges kind-1 sequences into the command and reads the flags", () => {
  const frame = msg(2, [
    kind0({ insert: "c", $db: "d" }),
    kind1("documents", [{ a: 1 }, { a: 2 }]),
  ]);
  const req = parseMessage(frame);
  assert.equal(req.requestId, 42);
  assert.equal(req.moreToCome, true);
  assert.deepEqual(req.command, { insert: "c", $db: "d", documents: [{ a: 1 }, { a: 2 }] });
});

Deno.test("parseMessage() verifies a checksum and refuses a wrong one", () => {
  const good = msg(1, [kind0({ ping: 1, $db: "d" })], true);
  assert.deepEqual(parseMessage(good).command, { ping: 1, $db: "d" });
  good[good.length - 1] ^= 1;
  assert.throws(() => parseMessage(good), ProtocolError);
});

Deno.test("parseMessage() answers bad content with an error, and bad framing with ProtocolError", () => {
  const dup = parseMessage(
    msg(0, [kind0({ insert: "c", documents: [], $db: "d" }), kind1("documents", [{}])]),
  );
  assert.equal(dup.command, undefined);
  assert.equal(dup.error?.code, 40);
  const badBson = msg(0, [kind0({ ping: 1, $db: "d" })]);
  badBson[25] = 0x7f;
  assert.equal(parseMessage(badBson).error?.code, 22);
  assert.equal(
    parseMessage(msg(0, [new Uint8Array([1, 9, 0, 0, 0, 120, 0, 5, 0, 0])])).error?.code,
    22,
  );
  assert.throws(() => parseMessage(msg(1 << 5, [kind0({ ping: 1 })])), ProtocolError);
  assert.throws(() => parseMessage(msg(0, [new Uint8Array([7, 1, 2])])), ProtocolError);
  const badOp = msg(0, [kind0({ ping: 1 })]);
  new DataView(badOp.buffer).setInt32(12, 2002, true);
  assert.throws(() => parseMessage(badOp), ProtocolError);
});

Deno.test("parseMessage() reads a legacy OP_QUERY command and unwraps $query", () => {
  const ns = new TextEncoder().encode("admin.$cmd\0");
  const body = BSON.serialize({ $query: { isMaster: 1 } });
  const length = 20 + ns.length + 8 + body.length;
  const frame = new Uint8Array(length);
  const view = new DataView(frame.buffer);
  view.setInt32(0, length, true);
  view.setInt32(4, 7, true);
  view.setInt32(12, 2004, true);
  frame.set(ns, 20);
  frame.set(body, 20 + ns.length + 8);
  const req = parseMessage(frame);
  assert.equal(req.opCode, 2004);
  assert.deepEqual(req.command, { isMaster: 1, $db: "admin" });
});

Deno.test("encodeMsgReply() and encodeLegacyReply() frame a document", () => {
  const m = encodeMsgReply(5, 9, { ok: 1 });
  const mv = new DataView(m.buffer);
  assert.deepEqual([
    mv.getInt32(0, true),
    mv.getInt32(4, true),
    mv.getInt32(8, true),
    mv.getInt32(12, true),
  ], [m.length, 5, 9, 2013]);
  assert.deepEqual(BSON.deserialize(m.subarray(21)), { ok: 1 });
  const r = encodeLegacyReply(6, 10, { ok: 1 });
  const rv = new DataView(r.buffer);
  assert.deepEqual([rv.getInt32(12, true), rv.getInt32(32, true)], [1, 1]);
  assert.deepEqual(BSON.deserialize(r.subarray(36)), { ok: 1 });
});

Deno.test("encodeMsgReply() and encodeLegacyReply() reuse a given buffer, whatever it held", () => {
  const into = new Uint8Array(4096).fill(0xff);
  for (const encode of [encodeMsgReply, encodeLegacyReply]) {
    const fresh = encode(7, 3, { n: 1, ok: 1 });
    const reused = encode(7, 3, { n: 1, ok: 1 }, into);
    assert.equal(reused.buffer, into.buffer);
    assert.deepEqual(Uint8Array.from(reused), Uint8Array.from(fresh));
  }
  // Too small a buffer: a new one.
  const big = encodeMsgReply(1, 0, { a: "x".repeat(10_000) }, into);
  assert.notEqual(big.buffer, into.buffer);
  assert.equal(BSON.deserialize(big.subarray(21)).a.length, 10_000);
});

function source(chunks: Uint8Array[]) {
  return {
    read(p: Uint8Array): Promise<number | null> {
      const next = chunks.shift();
      if (!next) return Promise.resolve(null);
      const n = Math.min(p.length, next.length);
      p.set(next.subarray(0, n));
      if (n < next.length) chunks.unshift(next.subarray(n));
      return Promise.resolve(n);
    },
  };
}

Deno.test("FrameReader.next() reassembles frames split and joined across reads", async () => {
  const a = encodeMsgReply(1, 0, { a: "x".repeat(40_000) });
  const b = encodeMsgReply(2, 0, { b: 1 });
  const joined = new Uint8Array([...a, ...b]);
  const reader = new FrameReader(
    source([joined.subarray(0, 3), joined.subarray(3, 30_001), joined.subarray(30_001)]),
  );
  assert.deepEqual([...(await reader.next())!], [...a]);
  assert.deepEqual([...(await reader.next())!], [...b]);
  assert.equal(await reader.next(), null);
});

Deno.test("FrameReader.next() refuses bad lengths and a stream cut inside a frame", async () => {
  const small = new Uint8Array([4, 0, 0, 0]);
  await assert.rejects(() => new FrameReader(source([small])).next(), ProtocolError);
  const big = new Uint8Array(4);
  new DataView(big.buffer).setInt32(0, MAX_MESSAGE_SIZE + 1, true);
  await assert.rejects(() => new FrameReader(source([big])).next(), ProtocolError);
  const cut = encodeMsgReply(1, 0, { a: 1 }).subarray(0, 20);
  await assert.rejects(() => new FrameReader(source([cut])).next(), ProtocolError);
});

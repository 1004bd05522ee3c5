/**
 * Serializing a reply document. A cursor batch (`cursor.firstBatch` / `cursor.nextBatch`) may
 * hold stored documents as BSON bytes (`Uint8Array`, see `query/cursors.ts`): those are written
 * as they are, so a document read from the store is never built as an object on its way out.
 * Replies without them go to `BSON.serialize` unchanged.
 */
import { BSON, type Document, Long } from "bson";

/** The bytes of the stored documents in a reply's batch, or -1 when it holds none. */
function rawBytes(reply: Document): number {
  const cursor = reply.cursor as Document | undefined;
  const batch = cursor?.firstBatch ?? cursor?.nextBatch;
  if (!Array.isArray(batch)) return -1;
  let n = -1;
  for (const d of batch) if (d instanceof Uint8Array) n = Math.max(n, 0) + d.length;
  return n;
}

function isPlainObject(v: unknown): v is Document {
  return v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype;
}

const UTF8 = new TextEncoder();

/** A growing buffer with BSON's little pieces. */
class Writer {
  buf: Uint8Array;
  at = 0;

  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }

  room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.at + n, this.buf.length * 2));
    bigger.set(this.buf.subarray(0, this.at));
    this.buf = bigger;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.at++] = b;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }

  i32At(at: number, v: number): void {
    new DataView(this.buf.buffer).setInt32(at, v, true);
  }

  cstring(s: string): void {
    this.bytes(UTF8.encode(s));
    this.byte(0);
  }
}

function writeElement(w: Writer, name: string, v: unknown): void {
  if (v instanceof Uint8Array) {
    w.byte(0x03);
    w.cstring(name);
    w.bytes(v);
  } else if (Array.isArray(v)) {
    w.byte(0x04);
    w.cstring(name);
    writeDocument(w, v.map((x, i) => [String(i), x]));
  } else if (isPlainObject(v)) {
    w.byte(0x03);
    w.cstring(name);
    writeDocument(w, Object.entries(v));
  } else if (typeof v === "string") {
    w.byte(0x02);
    w.cstring(name);
    const b = UTF8.encode(v);
    w.room(4);
    w.i32At(w.at, b.length + 1);
    w.at += 4;
    w.bytes(b);
    w.byte(0);
  } else if (
    typeof v === "number" && Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31 &&
    !Object.is(v, -0)
  ) {
    w.byte(0x10);
    w.cstring(name);
    w.room(4);
    w.i32At(w.at, v);
    w.at += 4;
  } else if (v instanceof Long) {
    w.byte(0x12);
    w.cstring(name);
    w.room(8);
    w.i32At(w.at, v.low);
    w.i32At(w.at + 4, v.high);
    w.at += 8;
  } else {
    // Any other value is written by bson itself, as the only field of a document.
    const one = BSON.serialize({ [name]: v });
    w.bytes(one.subarray(4, one.length - 1));
  }
}

function writeDocument(w: Writer, entries: [string, unknown][]): void {
  const start = w.at;
  w.room(4);
  w.at += 4;
  for (const [k, v] of entries) writeElement(w, k, v);
  w.byte(0);
  w.i32At(start, w.at - start);
}

/** The BSON bytes of a reply (see the module comment). */
export function serializeReply(reply: Document): Uint8Array {
  const raw = rawBytes(reply);
  if (raw < 0) return BSON.serialize(reply);
  const w = new Writer(raw + 512);
  writeDocument(w, Object.entries(reply));
  return w.buf.subarray(0, w.at);
}

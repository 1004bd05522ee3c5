/**
 * Serializing a reply document, straight into the buffer that goes on the wire. A cursor batch
 * (`cursor.firstBatch` / `cursor.nextBatch`) may hold stored documents as BSON bytes
 * (`Uint8Array`, see `query/cursors.ts`): those are written as they are, so a document read from
 * the store is never built as an object on its way out.
 *
 * Why not `BSON.serialize`: it costs about 2 us even for `{ok: 1}` (it fills a 17 MiB scratch
 * buffer, then copies out), and the frame then needs another copy behind its header. Replies are
 * small and made of a few kinds of value, so `Writer` writes those kinds itself (the bytes are
 * exactly bson's: same type choices, `undefined` skipped in a document and null in an array) into
 * one buffer that leaves room for the frame's header; any other value (Binary, Decimal128,
 * Timestamp, RegExp, ...) is written by bson itself, as the only field of a document.
 */
import { BSON, type Document, Long, ObjectId } from "bson";

/**
 * The largest reply body written: what `BSON.serialize` can hold (its 17 MiB buffer); past it, an
 * error (the server answers `BSONObjectTooLarge` instead).
 */
export const MAX_REPLY_BYTES = 17 * 1024 * 1024;

const UTF8 = new TextEncoder();
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const TWO_32 = 4294967296;

function isPlainObject(v: object): v is Document {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A growing buffer with BSON's little pieces, little-endian. */
class Writer {
  buf: Uint8Array;
  /** Over `buf`, made on the first double written. */
  #view?: DataView;
  at: number;

  /** Writes into `into` when given (growing into a new buffer if it fills up). */
  constructor(size: number, at: number, into?: Uint8Array) {
    this.buf = into && into.length >= size ? into : new Uint8Array(size);
    this.at = at;
  }

  room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    if (this.at + n > MAX_REPLY_BYTES + 64) {
      throw new Error(`reply exceeds ${MAX_REPLY_BYTES} bytes`);
    }
    const bigger = new Uint8Array(Math.max(this.at + n, this.buf.length * 2));
    bigger.set(this.buf.subarray(0, this.at));
    this.buf = bigger;
    this.#view = undefined;
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

  /** Writes an int32 at `at` (room already made). */
  i32At(at: number, v: number): void {
    const b = this.buf;
    b[at] = v;
    b[at + 1] = v >> 8;
    b[at + 2] = v >> 16;
    b[at + 3] = v >> 24;
  }

  i32(v: number): void {
    this.room(4);
    this.i32At(this.at, v);
    this.at += 4;
  }

  f64(v: number): void {
    this.room(8);
    this.#view ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.#view.setFloat64(this.at, v, true);
    this.at += 8;
  }

  /** UTF-8 of `s`, no terminator; returns the byte count. ASCII is copied by hand. */
  utf8(s: string): number {
    const n = s.length;
    this.room(n * 3);
    const b = this.buf;
    const start = this.at;
    let at = start;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        at += UTF8.encodeInto(s.slice(i), b.subarray(at)).written;
        break;
      }
      b[at++] = c;
    }
    this.at = at;
    return at - start;
  }

  /** An element's type byte and name. */
  head(type: number, name: string): void {
    if (name.includes("\0")) throw new Error(`key ${name} must not contain null bytes`);
    this.byte(type);
    this.utf8(name);
    this.byte(0);
  }
}

/** Writes `v` by bson itself, as the only field of a one-field document. */
function writeByBson(w: Writer, name: string, v: unknown): void {
  const one = BSON.serialize({ [name]: v });
  w.bytes(one.subarray(4, one.length - 1));
}

function writeElement(w: Writer, name: string, v: unknown, inArray: boolean): void {
  switch (typeof v) {
    case "string": {
      w.head(0x02, name);
      w.room(4);
      const lengthAt = w.at;
      w.at += 4;
      const n = w.utf8(v);
      w.i32At(lengthAt, n + 1);
      w.byte(0);
      return;
    }
    case "number":
      if (Number.isSafeInteger(v) && v >= INT32_MIN && v <= INT32_MAX && !Object.is(v, -0)) {
        w.head(0x10, name);
        w.i32(v);
      } else {
        w.head(0x01, name);
        w.f64(v);
      }
      return;
    case "boolean":
      w.head(0x08, name);
      w.byte(v ? 1 : 0);
      return;
    case "undefined":
      if (inArray) w.head(0x0a, name); // bson skips it in a document, writes null in an array
      return;
    case "object":
      if (v === null) {
        w.head(0x0a, name);
        return;
      }
      if (Array.isArray(v)) {
        w.head(0x04, name);
        writeArray(w, v, false);
        return;
      }
      if (v instanceof Date) {
        const ms = v.getTime();
        if (Number.isNaN(ms)) break;
        const high = Math.floor(ms / TWO_32);
        w.head(0x09, name);
        w.i32(ms - high * TWO_32);
        w.i32(high);
        return;
      }
      if (v instanceof Long && v._bsontype === "Long") { // not a Timestamp, also a Long
        w.head(0x12, name);
        w.i32(v.low);
        w.i32(v.high);
        return;
      }
      if (v instanceof ObjectId) {
        w.head(0x07, name);
        w.bytes(v.id);
        return;
      }
      if (
        isPlainObject(v) && !("_bsontype" in v) &&
        typeof (v as { toBSON?: unknown }).toBSON !== "function"
      ) {
        w.head(0x03, name);
        writeDocument(w, v);
        return;
      }
  }
  writeByBson(w, name, v);
}

function writeDocument(w: Writer, doc: Document): void {
  const start = w.at;
  w.room(4);
  w.at += 4;
  for (const k in doc) {
    if (Object.hasOwn(doc, k)) writeElement(w, k, doc[k], false);
  }
  w.byte(0);
  w.i32At(start, w.at - start);
}

/** An array; with `rawDocs` (a cursor batch), a `Uint8Array` item is a stored document's BSON. */
function writeArray(w: Writer, items: unknown[], rawDocs: boolean): void {
  const start = w.at;
  w.room(4);
  w.at += 4;
  for (let i = 0; i < items.length; i++) {
    const v = items[i];
    if (rawDocs && v instanceof Uint8Array) {
      w.head(0x03, String(i));
      w.bytes(v);
    } else writeElement(w, String(i), v, true);
  }
  w.byte(0);
  w.i32At(start, w.at - start);
}

/** The bytes of the stored documents in a reply's batch, or 0 when it holds none. */
function rawBytes(batch: unknown[]): number {
  let n = 0;
  for (const d of batch) if (d instanceof Uint8Array) n += d.length;
  return n;
}

/**
 * The BSON bytes of a reply, after `reserve` bytes at the start left for a frame's header (zeros
 * in a new buffer, untouched in `into`), written into `into` when it has room (see the module
 * comment).
 */
export function serializeReply(reply: Document, reserve = 0, into?: Uint8Array): Uint8Array {
  const cursor = reply.cursor;
  const batch = cursor !== null && typeof cursor === "object"
    ? ((cursor as Document).firstBatch ?? (cursor as Document).nextBatch)
    : undefined;
  const raw = Array.isArray(batch) ? rawBytes(batch) : 0;
  const w = new Writer(reserve + raw + 256, reserve, into);
  if (raw === 0) writeDocument(w, reply);
  else {
    // The reply's own fields, then the cursor's, with the batch's stored documents as they are.
    const start = w.at;
    w.room(4);
    w.at += 4;
    for (const k in reply) {
      if (!Object.hasOwn(reply, k)) continue;
      if (k !== "cursor") {
        writeElement(w, k, reply[k], false);
        continue;
      }
      w.head(0x03, k);
      const cStart = w.at;
      w.room(4);
      w.at += 4;
      for (const ck in cursor as Document) {
        if (!Object.hasOwn(cursor, ck)) continue;
        const v = (cursor as Document)[ck];
        if (v === batch) {
          w.head(0x04, ck);
          writeArray(w, batch as unknown[], true);
        } else writeElement(w, ck, v, false);
      }
      w.byte(0);
      w.i32At(cStart, w.at - cStart);
    }
    w.byte(0);
    w.i32At(start, w.at - start);
  }
  return w.buf.subarray(0, w.at);
}

/**
 * The compact form in which a collection keeps its documents: BSON without the repeated field
 * names, lowercase hex strings packed two characters a byte, and long strings that repeat kept
 * once in a dictionary (`string_dict.ts`). Measured on session documents (22-character ids, a
 * 64-hex hash, four dates, a ~100-character user agent): 375 bytes of BSON become about 140.
 *
 *     varint shape id | per field: a tag byte and its value
 *
 * A shape is the list of a document's field names, kept once per collection (`shapes.ts`); shape
 * 0 means the plain BSON document follows (past the shapes' cap, or for a document that repeats a
 * field name). Values: doubles, int32, dates and ObjectIds as their BSON bytes, strings as a
 * varint length and UTF-8 (or a dictionary id), true/false/null as the tag alone, and anything
 * else (embedded documents, arrays, binaries, longs, decimals, ...) as its BSON type byte, a
 * varint length and its BSON value bytes.
 *
 * Everything goes through BSON bytes: `encodeBson` turns a BSON document into the compact form,
 * `bsonSize`/`writeBson` turn it back byte for byte, and `decode` builds the JS object that
 * `BSON.deserialize` would (same promotions; `Binary` normalized as the wire layer does), so a
 * document reads the same whichever way it is served. Shapes and dictionary entries are only
 * ever added, so a stored document (or a snapshot's capture) stays readable. A `Codec` is not
 * reentrant (it owns a scratch buffer) and is used synchronously.
 */
import { BSON, type Document, ObjectId } from "bson";
import { normalizeValue } from "../query/values.ts";
import { i32, putI32, valueEnd } from "./bson_walk.ts";
import { hashPackedHex, hashUtf8 } from "./key_hash.ts";
import { MISSING } from "./keys.ts";
import { type Shape, Shapes } from "./shapes.ts";
import { StringDict } from "./string_dict.ts";
import {
  copy,
  hexText,
  isHex,
  packHex,
  readVarint,
  unpackHex,
  utf8,
  varintEnd,
  writeVarint,
} from "./text.ts";

const T_DOUBLE = 1;
const T_STRING = 2;
const T_HEX = 3;
const T_INT32 = 4;
const T_DATE = 5;
const T_TRUE = 6;
const T_FALSE = 7;
const T_NULL = 8;
const T_OID = 9;
const T_OTHER = 10;
const T_DICT = 11;

/** What `Codec.fieldKey` found (see there). */
export const FIELD_MISSING = 0;
export const FIELD_STRING = 1;
export const FIELD_DATE = 2;
export const FIELD_NUMBER = 3;
export const FIELD_OTHER = 4;

/** Strings this long or longer are checked for packing as hex. */
const MIN_HEX = 16;

function skipValue(b: Uint8Array, p: number): number {
  const tag = b[p++];
  switch (tag) {
    case T_DOUBLE:
    case T_DATE:
      return p + 8;
    case T_STRING:
    case T_HEX:
      return varintEnd(b, p) + readVarint(b, p);
    case T_INT32:
      return p + 4;
    case T_TRUE:
    case T_FALSE:
    case T_NULL:
      return p;
    case T_OID:
      return p + 12;
    case T_OTHER:
      return varintEnd(b, p + 1) + readVarint(b, p + 1);
    case T_DICT:
      return varintEnd(b, p);
  }
  throw new Error(`Cannot read document: unknown tag ${tag}`);
}

/** The shapes and dictionary of one collection, and the conversions (see the module comment). */
export class Codec {
  readonly #shapes = new Shapes();
  readonly dict = new StringDict();
  #out = new Uint8Array(1024);
  /** Element records of the document being encoded: type, name start, name end, value start. */
  #elems = new Int32Array(64 * 4);
  readonly #f64 = new Float64Array(1);
  readonly #f64Bytes = new Uint8Array(this.#f64.buffer);
  /** Where `#decodeValue` left off. */
  #p = 0;
  /** Scratch for hex text. */
  #hex = new Uint16Array(128);

  get shapeCount(): number {
    return this.#shapes.size;
  }

  /** The shapes and dictionary entries so far (what a snapshot writes before the documents). */
  tables(): { shapes: string[][]; dict: Uint8Array[] } {
    return { shapes: this.#shapes.names(), dict: this.dict.entriesFrom(0) };
  }

  /** Takes the tables of a snapshot, in order, into an empty codec. */
  loadTables(tables: { shapes: string[][]; dict: Uint8Array[] }): void {
    if (this.#shapes.size > 0 || this.dict.size > 0) {
      throw new Error("Cannot load a codec's tables: the codec is in use");
    }
    for (const names of tables.shapes) this.#shapes.add(names);
    for (const entry of tables.dict) this.dict.add(entry);
  }

  #shape(id: number): Shape {
    return this.#shapes.get(id);
  }

  #room(need: number): Uint8Array {
    if (this.#out.length < need) {
      const bigger = new Uint8Array(Math.max(need, this.#out.length * 2));
      bigger.set(this.#out);
      this.#out = bigger;
    }
    return this.#out;
  }

  /** Records the elements of the BSON document at `b[start..]` in `#elems`; returns how many. */
  #scan(b: Uint8Array, start: number, end: number): number {
    let n = 0;
    let p = start + 4;
    while (p < end) {
      if ((n + 1) * 4 > this.#elems.length) {
        const bigger = new Int32Array(this.#elems.length * 2);
        bigger.set(this.#elems);
        this.#elems = bigger;
      }
      const e = this.#elems;
      const type = b[p];
      let q = p + 1;
      while (b[q] !== 0) q++;
      e[n * 4] = type;
      e[n * 4 + 1] = p + 1;
      e[n * 4 + 2] = q;
      e[n * 4 + 3] = q + 1;
      p = valueEnd(b, q + 1, type);
      n++;
    }
    if (p !== end) throw new Error("Cannot store document: its elements overrun it");
    return n;
  }

  /**
   * The compact form of the BSON document at `b[start..]`, in a scratch buffer (valid until the
   * next call): copy it before keeping it.
   */
  encodeBson(b: Uint8Array, start = 0): Uint8Array {
    const size = i32(b, start);
    const end = start + size - 1;
    if (size < 5 || start + size > b.length || b[end] !== 0) {
      throw new Error("Cannot store document: it is not a whole BSON document");
    }
    const n = this.#scan(b, start, end);
    const shape = this.#shapes.find(b, this.#elems, n);
    if (!shape) {
      const out = this.#room(size + 1);
      out[0] = 0;
      out.set(b.subarray(start, start + size), 1);
      return out.subarray(0, size + 1);
    }
    let out = this.#room(size + 8);
    let o = writeVarint(out, 0, shape.id);
    const e = this.#elems;
    for (let i = 0; i < n; i++) {
      const v = e[i * 4 + 3];
      const vEnd = i + 1 < n ? e[(i + 1) * 4 + 1] - 1 : end;
      if (o + (vEnd - v) + 16 > out.length) out = this.#room(o + (vEnd - v) + 16);
      o = this.#encodeValue(b, e[i * 4], v, vEnd, out, o);
    }
    return out.subarray(0, o);
  }

  #encodeString(b: Uint8Array, v: number, out: Uint8Array, o: number): number {
    const len = i32(b, v) - 1;
    const s = v + 4;
    if (len >= MIN_HEX && (len & 1) === 0 && isHex(b, s, s + len)) {
      out[o] = T_HEX;
      o = writeVarint(out, o + 1, len >> 1);
      return packHex(b, s, s + len, out, o);
    }
    const id = this.dict.idOf(b, s, s + len);
    if (id !== undefined) {
      out[o] = T_DICT;
      return writeVarint(out, o + 1, id);
    }
    out[o] = T_STRING;
    o = writeVarint(out, o + 1, len);
    copy(b, s, len, out, o);
    return o + len;
  }

  #encodeValue(b: Uint8Array, type: number, v: number, vEnd: number, out: Uint8Array, o: number) {
    switch (type) {
      case 0x01:
        out[o] = T_DOUBLE;
        copy(b, v, 8, out, o + 1);
        return o + 9;
      case 0x02:
        return this.#encodeString(b, v, out, o);
      case 0x07:
        out[o] = T_OID;
        copy(b, v, 12, out, o + 1);
        return o + 13;
      case 0x08:
        out[o] = b[v] ? T_TRUE : T_FALSE;
        return o + 1;
      case 0x09:
        out[o] = T_DATE;
        copy(b, v, 8, out, o + 1);
        return o + 9;
      case 0x0a:
        out[o] = T_NULL;
        return o + 1;
      case 0x10:
        out[o] = T_INT32;
        copy(b, v, 4, out, o + 1);
        return o + 5;
    }
    out[o] = T_OTHER;
    out[o + 1] = type;
    o = writeVarint(out, o + 2, vEnd - v);
    copy(b, v, vEnd - v, out, o);
    return o + (vEnd - v);
  }

  /** The size of the BSON value (without type and name) at `b[p]`; sets `#p` past it. */
  #valueBsonSize(b: Uint8Array, p: number): number {
    const tag = b[p];
    this.#p = skipValue(b, p);
    switch (tag) {
      case T_DOUBLE:
      case T_DATE:
        return 8;
      case T_STRING:
        return 5 + readVarint(b, p + 1);
      case T_HEX:
        return 5 + 2 * readVarint(b, p + 1);
      case T_DICT:
        return 5 + this.dict.bytes(readVarint(b, p + 1)).length;
      case T_INT32:
        return 4;
      case T_TRUE:
      case T_FALSE:
        return 1;
      case T_NULL:
        return 0;
      case T_OID:
        return 12;
      case T_OTHER:
        return readVarint(b, p + 2);
    }
    throw new Error(`Cannot read document: unknown tag ${tag}`);
  }

  /** The size in bytes of the BSON document that the compact form at `b[pos..end)` stands for. */
  bsonSize(b: Uint8Array, pos: number, end: number): number {
    const id = readVarint(b, pos);
    let p = varintEnd(b, pos);
    if (id === 0) return end - p;
    const shape = this.#shape(id);
    let size = 5 + shape.namesSize + shape.names.length;
    while (p < end) {
      size += this.#valueBsonSize(b, p);
      p = this.#p;
    }
    return size;
  }

  /** Writes the BSON value of the tag at `b[p]` into `out[o..]`; returns its BSON type. */
  #writeValue(b: Uint8Array, p: number, out: Uint8Array): number {
    let o = this.#p;
    const tag = b[p++];
    let type: number;
    switch (tag) {
      case T_DOUBLE:
      case T_DATE:
        copy(b, p, 8, out, o);
        o += 8;
        p += 8;
        type = tag === T_DOUBLE ? 0x01 : 0x09;
        break;
      case T_STRING:
      case T_DICT:
      case T_HEX:
        p = this.#writeString(tag, b, p, out, o);
        o = this.#p;
        type = 0x02;
        break;
      case T_INT32:
        copy(b, p, 4, out, o);
        o += 4;
        p += 4;
        type = 0x10;
        break;
      case T_TRUE:
      case T_FALSE:
        out[o++] = tag === T_TRUE ? 1 : 0;
        type = 0x08;
        break;
      case T_NULL:
        type = 0x0a;
        break;
      case T_OID:
        copy(b, p, 12, out, o);
        o += 12;
        p += 12;
        type = 0x07;
        break;
      case T_OTHER: {
        type = b[p];
        const len = readVarint(b, p + 1);
        p = varintEnd(b, p + 1);
        copy(b, p, len, out, o);
        o += len;
        p += len;
        break;
      }
      default:
        throw new Error(`Cannot read document: unknown tag ${tag}`);
    }
    this.#p = o;
    this.#nextTag = p;
    return type;
  }

  /**
   * Writes the BSON string value (length, UTF-8, NUL) of a string tag whose varint is at `b[p]`
   * into `out[o..]`; sets `#p` to where it ends and returns where reading stopped.
   */
  #writeString(tag: number, b: Uint8Array, p: number, out: Uint8Array, o: number): number {
    const n = readVarint(b, p);
    p = varintEnd(b, p);
    if (tag === T_HEX) {
      putI32(out, o, 2 * n + 1);
      o = unpackHex(b, p, p + n, out, o + 4);
      p += n;
    } else {
      const src = tag === T_DICT ? this.dict.bytes(n) : b;
      const from = tag === T_DICT ? 0 : p;
      const len = tag === T_DICT ? src.length : n;
      putI32(out, o, len + 1);
      copy(src, from, len, out, o + 4);
      o += 4 + len;
      if (tag === T_STRING) p += n;
    }
    out[o++] = 0;
    this.#p = o;
    return p;
  }

  /** Where `#writeValue` stopped reading. */
  #nextTag = 0;

  /** Writes the BSON document of the compact form at `b[pos..end)` into `out` at `o`. */
  writeBson(b: Uint8Array, pos: number, end: number, out: Uint8Array, o: number): number {
    const id = readVarint(b, pos);
    let p = varintEnd(b, pos);
    if (id === 0) {
      out.set(b.subarray(p, end), o);
      return o + end - p;
    }
    const shape = this.#shape(id);
    const start = o;
    o += 4;
    for (let i = 0; p < end; i++) {
      const typeAt = o;
      const name = shape.nameBytes[i];
      copy(name, 0, name.length, out, o + 1);
      o += name.length + 1;
      out[o++] = 0;
      this.#p = o;
      out[typeAt] = this.#writeValue(b, p, out);
      o = this.#p;
      p = this.#nextTag;
    }
    out[o++] = 0;
    putI32(out, start, o - start);
    return o;
  }

  /** The BSON bytes of the compact form at `b[pos..end)`, in a new buffer. */
  toBson(b: Uint8Array, pos: number, end: number): Uint8Array {
    const out = new Uint8Array(this.bsonSize(b, pos, end));
    this.writeBson(b, pos, end, out, 0);
    return out;
  }

  /** The document, as `BSON.deserialize` (then `normalizeValue`) would build it. */
  decode(b: Uint8Array, pos: number, end: number): Document {
    const id = readVarint(b, pos);
    this.#p = varintEnd(b, pos);
    if (id === 0) {
      const doc = BSON.deserialize(b.subarray(this.#p, end));
      normalizeValue(doc);
      return doc;
    }
    const names = this.#shape(id).names;
    const doc: Document = {};
    for (let i = 0; i < names.length; i++) {
      const v = this.#decodeValue(b);
      const name = names[i];
      if (name === "__proto__") {
        Object.defineProperty(doc, name, {
          value: v,
          writable: true,
          enumerable: true,
          configurable: true,
        });
      } else doc[name] = v;
    }
    return doc;
  }

  /** The value of top-level field `name`, or `MISSING`. */
  field(b: Uint8Array, pos: number, end: number, name: string): unknown {
    const id = readVarint(b, pos);
    let p = varintEnd(b, pos);
    if (id === 0) {
      const doc = this.decode(b, pos, end);
      return Object.hasOwn(doc, name) ? doc[name] : MISSING;
    }
    const at = this.#shape(id).position.get(name);
    if (at === undefined) return MISSING;
    for (let i = 0; i < at; i++) p = skipValue(b, p);
    this.#p = p;
    return this.#decodeValue(b);
  }

  /** Set by `fieldKey`: the string's hash, the date's milliseconds, or the number. */
  fieldKeyValue = 0;

  /**
   * What an index needs of top-level field `name`, without building it: `FIELD_MISSING`;
   * `FIELD_STRING` (a plain string, not starting with NUL: `fieldKeyValue` is its `key_hash.ts`
   * hash); `FIELD_DATE` (its milliseconds); `FIELD_NUMBER` (an int32, or a double that is not
   * NaN; -0 as 0); or `FIELD_OTHER` (anything else: decode it).
   */
  fieldKey(b: Uint8Array, pos: number, _end: number, name: string): number {
    const id = readVarint(b, pos);
    let p = varintEnd(b, pos);
    if (id === 0) return FIELD_OTHER;
    const at = this.#shape(id).position.get(name);
    if (at === undefined) return FIELD_MISSING;
    for (let i = 0; i < at; i++) p = skipValue(b, p);
    const tag = b[p++];
    switch (tag) {
      case T_STRING: {
        const len = readVarint(b, p);
        p = varintEnd(b, p);
        if (len > 0 && b[p] === 0) return FIELD_OTHER;
        this.fieldKeyValue = hashUtf8(b, p, p + len);
        return FIELD_STRING;
      }
      case T_HEX: {
        const len = readVarint(b, p);
        p = varintEnd(b, p);
        this.fieldKeyValue = hashPackedHex(b, p, p + len);
        return FIELD_STRING;
      }
      case T_DICT: {
        const entry = this.dict.bytes(readVarint(b, p));
        if (entry[0] === 0) return FIELD_OTHER;
        this.fieldKeyValue = hashUtf8(entry, 0, entry.length);
        return FIELD_STRING;
      }
      case T_DATE: {
        const lo = (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
        this.fieldKeyValue = i32(b, p + 4) * 4294967296 + lo;
        return Math.abs(this.fieldKeyValue) <= 8.64e15 ? FIELD_DATE : FIELD_OTHER;
      }
      case T_INT32:
        this.fieldKeyValue = i32(b, p);
        return FIELD_NUMBER;
      case T_DOUBLE: {
        this.#p = p - 1;
        const v = this.#decodeValue(b) as number;
        if (Number.isNaN(v)) return FIELD_OTHER;
        this.fieldKeyValue = v === 0 ? 0 : v;
        return FIELD_NUMBER;
      }
    }
    return FIELD_OTHER;
  }

  #decodeValue(b: Uint8Array): unknown {
    let p = this.#p;
    const tag = b[p++];
    switch (tag) {
      case T_DOUBLE: {
        const f = this.#f64Bytes;
        for (let i = 0; i < 8; i++) f[i] = b[p + i];
        this.#p = p + 8;
        return this.#f64[0];
      }
      case T_DATE: {
        const lo = (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
        this.#p = p + 8;
        return new Date(i32(b, p + 4) * 4294967296 + lo);
      }
      case T_STRING: {
        const len = readVarint(b, p);
        p = varintEnd(b, p);
        this.#p = p + len;
        return utf8(b, p, p + len);
      }
      case T_HEX: {
        const len = readVarint(b, p);
        p = varintEnd(b, p);
        this.#p = p + len;
        if (this.#hex.length < 2 * len) this.#hex = new Uint16Array(4 * len);
        return hexText(b, p, p + len, this.#hex);
      }
      case T_DICT:
        this.#p = varintEnd(b, p);
        return this.dict.text(readVarint(b, p));
      case T_INT32:
        this.#p = p + 4;
        return i32(b, p);
      case T_TRUE:
      case T_FALSE:
      case T_NULL:
        this.#p = p;
        return tag === T_NULL ? null : tag === T_TRUE;
      case T_OID:
        this.#p = p + 12;
        return new ObjectId(b.slice(p, p + 12));
      case T_OTHER:
        return this.#decodeOther(b, p);
    }
    throw new Error(`Cannot read document: unknown tag ${tag}`);
  }

  /** A value of any other BSON type, read by bson itself from a one-field document `{v}`. */
  #decodeOther(b: Uint8Array, p: number): unknown {
    const type = b[p];
    const len = readVarint(b, p + 1);
    p = varintEnd(b, p + 1);
    this.#p = p + len;
    const mini = new Uint8Array(len + 8);
    putI32(mini, 0, len + 8);
    mini[4] = type;
    mini[5] = 0x76;
    mini[6] = 0;
    mini.set(b.subarray(p, p + len), 7);
    const v = BSON.deserialize(mini).v;
    normalizeValue(v);
    return v;
  }
}

/**
 * BSON values the MongoDB way, where mingo's generic JS comparison falls short.
 *
 * - `normalizeValue` gives every plain `Binary` a prototype whose `toString()` is exact: mingo
 *   decides equality of class instances by `toString()`, and bson's `Binary#toString()` decodes
 *   the bytes as lossy UTF-8, so two different binaries could compare equal (bson deserializes
 *   subtype 4 as `UUID`, whose `toString()` is already exact). The subclass keeps `_bsontype`,
 *   so it serializes exactly like a `Binary`. (We do not patch `Binary.prototype` itself: the
 *   driver may run in the same process.)
 * - `compareValues` orders values in MongoDB's BSON type order (numbers of every kind compared
 *   by value, then strings, objects, arrays, binary, ObjectId, booleans, dates, timestamps,
 *   regexes); mingo orders unknown classes by type name. Used for `sort` in find, update and
 *   findAndModify; aggregation `$sort` stays with mingo.
 * - `cloneDocument` copies plain objects and arrays and shares BSON values (which we never
 *   mutate), as a store document must be copied before mingo's updater edits it.
 */
import { Binary, type Document } from "bson";

/** A `Binary` whose `toString()` (no argument) is `<subtype>:<hex>`, exact and unique. */
class BinaryValue extends Binary {
  override toString(encoding?: "hex" | "base64" | "utf8" | "utf-8"): string {
    if (encoding) return super.toString(encoding);
    return `${this.sub_type}:${super.toString("hex")}`;
  }
}
Object.defineProperty(BinaryValue, "name", { value: "Binary" });

function bsonType(v: unknown): string | undefined {
  return (v as { _bsontype?: string })._bsontype;
}

/** Fixes, in place, values that mingo would compare wrongly (see the module comment). */
export function normalizeValue(value: unknown): void {
  if (value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    for (const v of value) {
      if (v !== null && typeof v === "object") {
        if (Object.getPrototypeOf(v) === Binary.prototype) {
          Object.setPrototypeOf(v, BinaryValue.prototype);
        } else normalizeValue(v);
      }
    }
    return;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return;
  const obj = value as Record<string, unknown>;
  for (const k in obj) {
    const v = obj[k];
    if (v !== null && typeof v === "object") {
      if (Object.getPrototypeOf(v) === Binary.prototype) {
        Object.setPrototypeOf(v, BinaryValue.prototype);
      } else normalizeValue(v);
    }
  }
}

function isPlainObject(v: unknown): v is Document {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A copy of a document: new plain objects and arrays, shared leaves (Dates copied). */
export function cloneDocument<T>(value: T): T {
  if (Array.isArray(value)) return value.map(cloneDocument) as T;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (isPlainObject(value)) {
    const out: Document = {};
    for (const k of Object.keys(value)) out[k] = cloneDocument(value[k]);
    return out as T;
  }
  return value;
}

function typeRank(v: unknown): number {
  if (v === undefined || v === null) return 1;
  switch (typeof v) {
    case "number":
    case "bigint":
      return 2;
    case "string":
      return 3;
    case "boolean":
      return 8;
  }
  if (Array.isArray(v)) return 5;
  if (v instanceof Date) return 9;
  if (v instanceof RegExp) return 11;
  if (v instanceof Uint8Array) return 6;
  switch (bsonType(v)) {
    case "MinKey":
      return 0;
    case "Long":
    case "Int32":
    case "Double":
    case "Decimal128":
      return 2;
    case "BSONSymbol":
      return 3;
    case "Binary":
      return 6;
    case "ObjectId":
      return 7;
    case "Timestamp":
      return 10;
    case "BSONRegExp":
      return 11;
    case "MaxKey":
      return 13;
    case undefined:
      return 4;
  }
  return 12;
}

function toNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  const t = bsonType(v);
  if (t === "Decimal128") return parseFloat(String(v));
  return Number((v as { valueOf(): unknown }).valueOf?.() ?? NaN);
}

function cmp<T>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function binaryBytes(v: unknown): [number, Uint8Array] {
  if (v instanceof Uint8Array) return [0, v];
  const b = v as Binary;
  return [b.sub_type, b.buffer.subarray(0, b.position)];
}

/** Compares two BSON values in MongoDB's order: negative, zero or positive. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 2: {
      const x = toNumber(a);
      const y = toNumber(b);
      if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : -1;
      if (Number.isNaN(y)) return 1;
      return cmp(x, y);
    }
    case 3:
      return cmp(String(a), String(b));
    case 4: {
      const ka = Object.keys(a as Document);
      const kb = Object.keys(b as Document);
      for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
        const va = (a as Document)[ka[i]];
        const vb = (b as Document)[kb[i]];
        const byType = typeRank(va) - typeRank(vb);
        if (byType) return byType;
        const byName = cmp(ka[i], kb[i]);
        if (byName) return byName;
        const byValue = compareValues(va, vb);
        if (byValue) return byValue;
      }
      return ka.length - kb.length;
    }
    case 5: {
      const xa = a as unknown[];
      const xb = b as unknown[];
      for (let i = 0; i < Math.min(xa.length, xb.length); i++) {
        const c = compareValues(xa[i], xb[i]);
        if (c) return c;
      }
      return xa.length - xb.length;
    }
    case 6: {
      const [sa, ba] = binaryBytes(a);
      const [sb, bb] = binaryBytes(b);
      if (ba.length !== bb.length) return ba.length - bb.length;
      if (sa !== sb) return sa - sb;
      for (let i = 0; i < ba.length; i++) if (ba[i] !== bb[i]) return ba[i] - bb[i];
      return 0;
    }
    case 7:
      return cmp(String(a), String(b));
    case 8:
      return cmp(Number(a), Number(b));
    case 9:
      return cmp((a as Date).getTime(), (b as Date).getTime());
    case 10: {
      const ta = a as { t: number; i: number };
      const tb = b as { t: number; i: number };
      return cmp(ta.t, tb.t) || cmp(ta.i, tb.i);
    }
    case 11:
      return cmp(String(a), String(b));
  }
  return 0;
}

/** The values a dotted path reaches in a document, descending through arrays. */
function pathValues(doc: unknown, parts: string[], i: number, out: unknown[]): void {
  if (i === parts.length) {
    if (Array.isArray(doc)) {
      if (doc.length === 0) out.push(undefined);
      else out.push(...doc);
    } else out.push(doc);
    return;
  }
  if (Array.isArray(doc)) {
    const index = /^\d+$/.test(parts[i]) ? Number(parts[i]) : -1;
    if (index >= 0 && index < doc.length) pathValues(doc[index], parts, i + 1, out);
    else for (const el of doc) if (isPlainObject(el)) pathValues(el, parts, i, out);
    return;
  }
  if (isPlainObject(doc) && Object.hasOwn(doc, parts[i])) {
    pathValues(doc[parts[i]], parts, i + 1, out);
  } else if (i > 0 || !Array.isArray(doc)) out.push(undefined);
}

/** A comparator for a MongoDB sort specification (`{ a: 1, "b.c": -1 }`). */
export function sortComparator(sort: Document): (a: Document, b: Document) => number {
  const keys = Object.entries(sort).map(([path, dir]) => {
    const d = dir === -1 || dir === "-1" || dir === "desc" || dir === "descending" ? -1 : 1;
    return { parts: path.split("."), dir: d };
  });
  const keyOf = (doc: Document, parts: string[], dir: number): unknown => {
    const values: unknown[] = [];
    pathValues(doc, parts, 0, values);
    if (values.length === 1) return values[0];
    let best = values[0];
    for (const v of values) if (compareValues(v, best) * dir < 0) best = v;
    return best;
  };
  return (a, b) => {
    for (const { parts, dir } of keys) {
      const c = compareValues(keyOf(a, parts, dir), keyOf(b, parts, dir));
      if (c) return c * dir;
    }
    return 0;
  };
}

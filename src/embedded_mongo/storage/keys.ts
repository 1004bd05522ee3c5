/**
 * Canonical index keys: values that MongoDB considers equal get the same key, values it considers
 * different get different keys. Keys are used as `Map` keys, so equality lookups cost one hash.
 *
 * - Top-level keys (`indexKey`) keep the cheapest JS form: a string is its own key (no copy, so an
 *   index on a string field shares the document's memory), a number that a double holds exactly
 *   is that number (1, 1.0, `Int32(1)`, `Long(1)` and `Decimal128("1.00")` all become `1`),
 *   booleans stay booleans, null and missing become `null`. Everything else becomes a string
 *   that starts with `"\0"` followed by its encoding (strings that themselves start with `"\0"`
 *   are escaped as `"\0s" + value`).
 * - The encoding (`encodeValue`) is self-delimiting, so compound keys, arrays and objects are
 *   concatenations: numbers by value (`#<canonical decimal>;`), strings length-prefixed, ObjectId
 *   by hex, Date by time, Binary by subtype and bytes, objects by ordered fields, arrays by
 *   elements.
 *
 * One deliberate approximation: a Decimal128 whose shortest double rendering reads the same
 * (`Decimal128("0.1")` and `0.1`) gets the same key, where MongoDB compares them exactly. Lookups
 * may return supersets, so only a unique index notices (it is then slightly stricter).
 */
import type { Document } from "bson";

/** A key as stored in an index map. */
export type Key = string | number | boolean | null;

/** Marks an indexed path that is absent from a document (indexed as null unless sparse). */
export const MISSING: unique symbol = Symbol("missing");

function bsonType(v: object): string | undefined {
  return (v as { _bsontype?: string })._bsontype;
}

/** `[-]digits` (integers up to 40 digits) or `[-]digitsE<exp>`: one text per decimal value. */
export function canonicalDecimal(text: string): string {
  let s = text.trim();
  let neg = false;
  if (s[0] === "-") {
    neg = true;
    s = s.slice(1);
  } else if (s[0] === "+") s = s.slice(1);
  let exp = 0;
  const e = s.search(/[eE]/);
  if (e >= 0) {
    exp = parseInt(s.slice(e + 1), 10);
    s = s.slice(0, e);
  }
  const dot = s.indexOf(".");
  if (dot >= 0) {
    exp -= s.length - dot - 1;
    s = s.slice(0, dot) + s.slice(dot + 1);
  }
  let start = 0;
  while (start < s.length && s[start] === "0") start++;
  let end = s.length;
  while (end > start && s[end - 1] === "0") end--;
  exp += s.length - end;
  s = s.slice(start, end);
  if (s === "") return "0";
  const sign = neg ? "-" : "";
  if (exp >= 0 && s.length + exp <= 40) return sign + s + "0".repeat(exp);
  return `${sign}${s}E${exp}`;
}

/** A JS number when a double holds the value exactly, else its canonical decimal text. */
function numericKey(text: string): number | string {
  if (text === "NaN") return NaN;
  if (text === "Infinity" || text === "+Infinity") return Infinity;
  if (text === "-Infinity") return -Infinity;
  const canon = canonicalDecimal(text);
  const n = Number(text);
  if (Number.isFinite(n) && canonicalDecimal(String(n)) === canon) return n === 0 ? 0 : n;
  return canon;
}

/** The numeric key of a number-like value, or undefined when the value is not a number. */
function numberOf(v: unknown): number | string | undefined {
  if (typeof v === "number") return v === 0 ? 0 : v;
  if (typeof v === "bigint") return numericKey(v.toString());
  if (v === null || typeof v !== "object") return undefined;
  switch (bsonType(v)) {
    case "Int32":
    case "Double": {
      const n = Number((v as { valueOf(): number }).valueOf());
      return n === 0 ? 0 : n;
    }
    case "Long":
    case "Decimal128":
      return numericKey(String(v));
  }
  return undefined;
}

function numberText(n: number | string): string {
  if (typeof n === "string") return n;
  if (Number.isNaN(n)) return "NaN";
  return String(n);
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
  return out;
}

function str(s: string): string {
  return `s${s.length}:${s}`;
}

/** The self-delimiting encoding of any BSON value (see the module comment). */
export function encodeValue(v: unknown): string {
  if (v === null || v === undefined || v === MISSING) return "n";
  switch (typeof v) {
    case "string":
      return str(v);
    case "boolean":
      return v ? "t" : "f";
    case "number":
    case "bigint":
      return `#${numberText(numberOf(v)!)};`;
    case "object":
      break;
    default:
      return `?${str(String(v))}`;
  }
  const o = v as object;
  if (Array.isArray(o)) {
    let out = "[";
    for (const e of o) out += encodeValue(e);
    return out + "]";
  }
  if (o instanceof Date) return `d${o.getTime()};`;
  if (o instanceof RegExp) return `r${str(o.source)}${str([...o.flags].sort().join(""))}`;
  if (o instanceof Uint8Array) return `b0:${hex(o)};`;
  const type = bsonType(o);
  if (type !== undefined) {
    const num = numberOf(o);
    if (num !== undefined) return `#${numberText(num)};`;
    switch (type) {
      case "ObjectId":
        return `o${(o as { toHexString(): string }).toHexString()}`;
      case "Binary": {
        const b = o as { buffer: Uint8Array; position: number; sub_type: number };
        return `b${b.sub_type}:${hex(b.buffer.subarray(0, b.position))};`;
      }
      case "Timestamp": {
        const t = o as { t: number; i: number };
        return `T${t.t}:${t.i};`;
      }
      case "BSONRegExp": {
        const r = o as { pattern: string; options: string };
        return `r${str(r.pattern)}${str([...r.options].sort().join(""))}`;
      }
      case "MinKey":
        return "m";
      case "MaxKey":
        return "M";
      case "BSONSymbol":
        return str(String((o as { value: string }).value));
      case "Code": {
        const c = o as { code: string; scope?: Document | null };
        return `c${str(c.code)}${c.scope ? encodeValue(c.scope) : "n"}`;
      }
      case "DBRef": {
        const r = o as { collection: string; oid: unknown; db?: string };
        const d: Document = { $ref: r.collection, $id: r.oid };
        if (r.db) d.$db = r.db;
        return encodeValue(d);
      }
      default:
        return `?${str(type)}${str(String(o))}`;
    }
  }
  let out = "{";
  for (const k in o) {
    if (Object.hasOwn(o, k)) out += str(k) + encodeValue((o as Record<string, unknown>)[k]);
  }
  return out + "}";
}

/** The key of one value as a top-level (single-field) index map holds it. */
export function indexKey(v: unknown): Key {
  if (typeof v === "string") return v.charCodeAt(0) === 0 ? `\0s${v}` : v;
  if (v === null || v === undefined || v === MISSING) return null;
  if (typeof v === "boolean") return v;
  const num = numberOf(v);
  if (num !== undefined) return typeof num === "number" ? num : `\0#${num};`;
  if (typeof v === "object" && bsonType(v) === "BSONSymbol") {
    return indexKey(String((v as { value: string }).value));
  }
  return `\0${encodeValue(v)}`;
}

/** The part of a compound key that one value contributes (consistent with `indexKey`). */
export function keyPart(v: unknown): string {
  if (typeof v === "object" && v !== null && bsonType(v) === "BSONSymbol") {
    return str(String((v as { value: string }).value));
  }
  return encodeValue(v);
}

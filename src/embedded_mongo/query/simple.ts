/**
 * Simple filters, tested without mingo: a conjunction (top level, or under `$and`) of
 * comparisons of a top-level field with a scalar operand (string, number, boolean, Date,
 * ObjectId): `{f: v}`, `{f: {$eq|$ne|$gt|$gte|$lt|$lte: v}}`, `{f: {$in: [v, ...]}}`. That covers
 * the service's lookups (`{_id}`, `{_id, hash, lastSeenAt: {$lte}, expiresAt: {$gt}}`, ...),
 * which then cost one field read each instead of a mingo query built per request.
 *
 * A predicate answers `undefined` for a stored value it does not judge (an array, an embedded
 * document, a long or decimal object, ...): the caller then asks mingo for that document, so the
 * answer is always MongoDB's (as mingo gives it). Comparisons follow MongoDB's type bracketing:
 * `$gt` on a Date matches only Dates, on a number only numbers, on a string only strings.
 */
import { type Document, ObjectId } from "bson";
import { MISSING } from "../storage/keys.ts";

/** One top-level comparison. */
export interface Predicate {
  field: string;
  /** true or false, or undefined when the stored value needs mingo. */
  test(stored: unknown): boolean | undefined;
}

type Kind = "number" | "string" | "boolean" | "date" | "oid";

/** The kind of an operand we handle, or undefined. */
function operandKind(v: unknown): Kind | undefined {
  switch (typeof v) {
    case "number":
      return Number.isNaN(v) ? undefined : "number";
    case "string":
      return "string";
    case "boolean":
      return "boolean";
  }
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : "date";
  if (v instanceof ObjectId) return "oid";
  return undefined;
}

/** The kind of a stored value: a scalar kind, "absent" (missing or null), or undefined. */
function storedKind(v: unknown): Kind | "absent" | undefined {
  if (v === MISSING || v === null) return "absent";
  return operandKind(v);
}

function equal(kind: Kind, a: unknown, b: unknown): boolean {
  if (kind === "date") return (a as Date).getTime() === (b as Date).getTime();
  if (kind === "oid") return (a as ObjectId).equals(b as ObjectId);
  return a === b;
}

function compare(kind: Kind, a: unknown, b: unknown): number {
  if (kind === "date") return (a as Date).getTime() - (b as Date).getTime();
  const x = a as number | string;
  const y = b as number | string;
  return x < y ? -1 : x > y ? 1 : 0;
}

const ORDERED = new Set<Kind>(["number", "string", "date"]);

function comparison(field: string, op: string, v: unknown): Predicate | undefined {
  if (op === "$in") {
    if (!Array.isArray(v) || v.length === 0) return undefined;
    const kinds = v.map(operandKind);
    if (kinds.some((k) => k === undefined)) return undefined;
    return {
      field,
      test(s) {
        const sk = storedKind(s);
        if (sk === undefined) return undefined;
        return v.some((x, i) => kinds[i] === sk && equal(sk, s, x));
      },
    };
  }
  const kind = operandKind(v);
  if (!kind) return undefined;
  const eq = (s: unknown): boolean | undefined => {
    const sk = storedKind(s);
    if (sk === undefined) return undefined;
    return sk === kind && equal(kind, s, v);
  };
  if (op === "$eq") return { field, test: eq };
  if (op === "$ne") {
    return {
      field,
      test(s) {
        const r = eq(s);
        return r === undefined ? undefined : !r;
      },
    };
  }
  if (!ORDERED.has(kind)) return undefined;
  const accept = op === "$gt"
    ? (c: number) => c > 0
    : op === "$gte"
    ? (c: number) => c >= 0
    : op === "$lt"
    ? (c: number) => c < 0
    : op === "$lte"
    ? (c: number) => c <= 0
    : undefined;
  if (!accept) return undefined;
  return {
    field,
    test(s) {
      const sk = storedKind(s);
      if (sk === undefined) return undefined;
      return sk === kind && accept(compare(kind, s, v));
    },
  };
}

function isPlainObject(v: unknown): v is Document {
  return v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype;
}

function isFieldName(k: string): boolean {
  return k !== "" && k[0] !== "$" && !k.includes(".");
}

function collect(filter: Document, out: Predicate[]): boolean {
  for (const [k, v] of Object.entries(filter)) {
    if (k === "$and") {
      if (!Array.isArray(v) || v.length === 0) return false;
      for (const part of v) if (!isPlainObject(part) || !collect(part, out)) return false;
      continue;
    }
    if (!isFieldName(k)) return false;
    if (isPlainObject(v)) {
      const ops = Object.keys(v);
      if (ops.length === 0 || ops.some((op) => op[0] !== "$")) return false;
      for (const op of ops) {
        const p = comparison(k, op, v[op]);
        if (!p) return false;
        out.push(p);
      }
      continue;
    }
    const p = comparison(k, "$eq", v);
    if (!p) return false;
    out.push(p);
  }
  return true;
}

/**
 * The predicate of `{field: value}` when `value` is an operand a simple predicate compares
 * (string, number, boolean, Date, ObjectId), else undefined.
 */
export function equalityPredicate(field: string, value: unknown): Predicate | undefined {
  return comparison(field, "$eq", value);
}

/** The predicates of a simple filter (see the module comment), or undefined when it is not. */
export function simplePredicates(filter: Document): Predicate[] | undefined {
  const out: Predicate[] = [];
  return collect(filter, out) ? out : undefined;
}

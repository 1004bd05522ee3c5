/**
 * The query planner: which slots a filter's documents can be among, and counts answered from an
 * index alone. In order of preference:
 *
 * 1. `_id` equal to a scalar, or `$in` a list of them: point lookups in the `_id` map;
 * 2. a field equal to a scalar where an index starts with that field: a hash lookup (or the
 *    ordered part, for a number or a date);
 * 3. `$gt`/`$gte`/`$lt`/`$lte` (and `$eq`) on one field with Date operands, or with number
 *    operands, where a single-field index holds every such value: a walk of the ordered index;
 * 4. otherwise every document, in natural order.
 *
 * Only top-level conditions (and those under a top-level `$and`) are used. The candidates are a
 * superset of the matches: the caller still tests each with the compiled filter.
 * `indexedCount` answers `count` and `countDocuments` for a filter that is exactly one such
 * range (or equality) on an indexed number or date field, from the index, touching no document.
 */
import { type Document, ObjectId } from "bson";
import type { CollectionStore, Range } from "../storage/types.ts";

function isPlainObject(v: unknown): v is Document {
  return v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype;
}

/** A value an equality lookup can use (not null, which also matches missing fields). */
function lookupValue(v: unknown): boolean {
  if (v === null || v === undefined || v instanceof RegExp) return false;
  if (Array.isArray(v) || isPlainObject(v)) return false;
  return true;
}

/** The operand of a top-level equality (`{f: v}` or `{f: {$eq: v}}`), if usable for a lookup. */
function equality(value: unknown): { value: unknown } | undefined {
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === "$eq" && lookupValue(value.$eq)) {
      return { value: value.$eq };
    }
    return undefined;
  }
  return lookupValue(value) ? { value } : undefined;
}

/** The top-level conditions of a filter, `$and` parts included, as [field, condition] pairs. */
function conditions(filter: Document | undefined): [string, unknown][] {
  const out: [string, unknown][] = [];
  if (!filter || !isPlainObject(filter)) return out;
  for (const [k, v] of Object.entries(filter)) {
    if (k === "$and" && Array.isArray(v)) {
      for (const part of v) {
        if (isPlainObject(part)) out.push(...conditions(part));
      }
    } else if (k[0] !== "$") out.push([k, v]);
  }
  return out;
}

type RangeKind = "number" | "date";

/** A range over numbers or dates from an operator object, or undefined. */
export function rangeOf(value: unknown): { kind: RangeKind; range: Range } | undefined {
  if (!isPlainObject(value)) return undefined;
  const ops = Object.entries(value);
  if (ops.length === 0) return undefined;
  let kind: RangeKind | undefined;
  const range: Range = {};
  for (const [op, v] of ops) {
    let n: number;
    let k: RangeKind;
    if (v instanceof Date) {
      n = v.getTime();
      k = "date";
    } else if (typeof v === "number") {
      n = v;
      k = "number";
    } else return undefined;
    if (Number.isNaN(n) || (kind !== undefined && kind !== k)) return undefined;
    kind = k;
    if (op === "$gt" || op === "$gte" || op === "$eq") {
      const inclusive = op !== "$gt";
      if (range.lo === undefined || n > range.lo || (n === range.lo && !inclusive)) {
        range.lo = n;
        range.loInclusive = inclusive;
      }
    }
    if (op === "$lt" || op === "$lte" || op === "$eq") {
      const inclusive = op !== "$lt";
      if (range.hi === undefined || n < range.hi || (n === range.hi && !inclusive)) {
        range.hi = n;
        range.hiInclusive = inclusive;
      }
    }
    if (!["$gt", "$gte", "$lt", "$lte", "$eq"].includes(op)) return undefined;
  }
  return { kind: kind!, range };
}

function idSlots(coll: CollectionStore, value: unknown): number[] | undefined {
  const eq = equality(value);
  if (eq) {
    const slot = coll.slotOf(eq.value);
    return slot === undefined ? [] : [slot];
  }
  if (isPlainObject(value) && Object.keys(value).length === 1 && Array.isArray(value.$in)) {
    const ids = value.$in as unknown[];
    if (!ids.every((v) => lookupValue(v) || v instanceof ObjectId)) return undefined;
    const out = new Set<number>();
    for (const id of ids) {
      const slot = coll.slotOf(id);
      if (slot !== undefined) out.add(slot);
    }
    return [...out];
  }
  return undefined;
}

/**
 * Slots that may hold the documents matching `filter` (see the module comment); a superset of
 * the matches. Slots from an index are read as of now; a document deleted before its slot is
 * reached is skipped by the caller (`CollectionStore.has`).
 */
export function candidateSlots(
  coll: CollectionStore,
  filter: Document | undefined,
): Iterable<number> {
  const conds = conditions(filter);
  for (const [field, value] of conds) {
    if (field !== "_id") continue;
    const slots = idSlots(coll, value);
    if (slots) return slots;
  }
  for (const [field, value] of conds) {
    const eq = equality(value);
    if (!eq) continue;
    const slots = coll.lookupSlots(field, eq.value);
    if (slots) return slots;
  }
  for (const [field, value] of conds) {
    const r = rangeOf(value);
    if (!r) continue;
    const slots = coll.rangeSlots(field, r.kind, r.range);
    if (slots) return slots;
  }
  return coll.slots();
}

/**
 * How many documents match `filter`, counted in an index alone, when the filter is one range
 * (or equality) over numbers or dates on an indexed field; undefined otherwise.
 */
export function indexedCount(
  coll: CollectionStore,
  filter: Document | undefined,
): number | undefined {
  if (!filter || !isPlainObject(filter)) return undefined;
  const keys = Object.keys(filter);
  if (keys.length !== 1 || keys[0][0] === "$") return undefined;
  const r = rangeOf(filter[keys[0]]);
  if (!r) return undefined;
  return coll.countRange(keys[0], r.kind, r.range);
}

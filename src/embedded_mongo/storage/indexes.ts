/**
 * Secondary indexes, pointing at slots (`heap.ts`):
 *
 * - `SingleIndex` (one field): numbers a double holds exactly and valid Dates go to an ordered
 *   part (`SortedPairs`, one for numbers and one for dates, since MongoDB never compares the two),
 *   which serves equality, ranges, counts and the TTL monitor; every other value goes to a hash
 *   part keyed by the 32-bit hash of its `indexKey` (`key_hash.ts`): a lookup gets a superset
 *   (the caller filters again), a unique index compares the actual keys. A stored string, date
 *   or number is indexed from its bytes without being built (`DocSource.fieldKey`). Numbers that
 *   land in the hash part (NaN, a decimal a double cannot hold) and invalid Dates are counted,
 *   because a range answered from the ordered part alone would miss them.
 * - `CompoundIndex`: a hash from the first field's key to slots (`lookup` on the first field),
 *   plus, when unique, a hash from the whole compound key to its slot.
 *
 * Both compute a document's entries first (`entries`), check uniqueness (`checkUnique`), and
 * only then change (`add`/`remove`), so a refused write leaves no trace.
 */
import { Query } from "mingo/query";
import { Context } from "mingo/core";
import * as queryOps from "mingo/operators/query";
import { DuplicateKeyError, IndexError } from "../errors.ts";
import { type DocSource, valuesAt } from "./index_values.ts";
import { FIELD_DATE, FIELD_MISSING, FIELD_NUMBER, FIELD_STRING } from "./codec.ts";
import { KeyHasher } from "./key_hash.ts";
import { indexKey, type Key, keyPart, MISSING } from "./keys.ts";
import { type Range, SortedPairs } from "./sorted.ts";
import type { IndexSpec } from "./types.ts";

/** Query operators for partial filters; nothing that runs JavaScript. */
const PARTIAL_CONTEXT = Context.init({
  query: Object.fromEntries(
    Object.entries(queryOps).filter(([k]) => k.startsWith("$") && k !== "$where"),
    // deno-lint-ignore no-explicit-any
  ) as Record<string, any>,
});

/** Where an entry lives: the hash part, or the ordered numbers or dates. */
export const HASH = 0;
export const NUM = 1;
export const DATE = 2;

/** One entry a document contributes to an index. */
export interface Entry {
  kind: typeof HASH | typeof NUM | typeof DATE;
  /**
   * SingleIndex: the key's hash (HASH) or the number / milliseconds (NUM, DATE); CompoundIndex:
   * the first field's `indexKey`.
   */
  key: Key;
  /** The whole compound key (compound indexes only). */
  full?: string;
  /** The values (unique indexes, and whenever they were decoded), for duplicate checks. */
  values: unknown[];
  /** A number kept in the hash part (1), or an invalid Date (2). */
  irregular?: 1 | 2;
}

/** Slots of one hash key: one slot, a few in an array, or many in a set. */
type Slots = number | number[] | Set<number>;
const ARRAY_MAX = 32;

function addSlot<K>(map: Map<K, Slots>, key: K, slot: number): void {
  const cur = map.get(key);
  if (cur === undefined) map.set(key, slot);
  else if (typeof cur === "number") {
    if (cur !== slot) map.set(key, [cur, slot]);
  } else if (Array.isArray(cur)) {
    if (cur.includes(slot)) return;
    if (cur.length < ARRAY_MAX) cur.push(slot);
    else map.set(key, new Set([...cur, slot]));
  } else cur.add(slot);
}

function removeSlot<K>(map: Map<K, Slots>, key: K, slot: number): void {
  const cur = map.get(key);
  if (cur === undefined) return;
  if (typeof cur === "number") {
    if (cur === slot) map.delete(key);
    return;
  }
  if (Array.isArray(cur)) {
    const i = cur.indexOf(slot);
    if (i >= 0) cur.splice(i, 1);
    if (cur.length === 1) map.set(key, cur[0]);
    else if (cur.length === 0) map.delete(key);
    return;
  }
  cur.delete(slot);
  if (cur.size <= ARRAY_MAX / 2) map.set(key, [...cur]);
  if (cur.size <= 1) {
    if (cur.size === 0) map.delete(key);
    else map.set(key, cur.values().next().value!);
  }
}

function slotList(s: Slots | undefined): number[] {
  if (s === undefined) return [];
  if (typeof s === "number") return [s];
  return [...s];
}

function isNumericKey(k: Key): boolean {
  return typeof k === "number" || (typeof k === "string" && k.startsWith("\0#"));
}

function sameKey(a: Key, b: Key): boolean {
  return a === b || (typeof a === "number" && typeof b === "number" && a !== a && b !== b);
}

function sameEntry(a: Entry, b: Entry): boolean {
  return a.kind === b.kind && a.full === b.full &&
    (a.key === b.key || (Number.isNaN(a.key) && Number.isNaN(b.key)));
}

export function sameEntries(a: Entry[] | undefined, b: Entry[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameEntry(a[i], b[i])) return false;
  return true;
}

function partialQuery(spec: IndexSpec): Query | undefined {
  if (spec.partialFilterExpression === undefined) return undefined;
  try {
    return new Query(spec.partialFilterExpression, {
      context: PARTIAL_CONTEXT,
      scriptEnabled: false,
    });
  } catch (e) {
    throw new IndexError(
      67,
      `Cannot create index: bad partialFilterExpression: ${(e as Error).message}`,
      "CannotCreateIndex",
    );
  }
}

abstract class BaseIndex {
  readonly fields: string[];
  readonly paths: string[][];
  readonly unique: boolean;
  readonly sparse: boolean;
  readonly partial?: Query;

  constructor(readonly spec: IndexSpec) {
    this.fields = Object.keys(spec.key);
    this.paths = this.fields.map((f) => f.split("."));
    this.unique = !!spec.unique;
    this.sparse = !!spec.sparse;
    this.partial = partialQuery(spec);
  }

  /** The entries `src` contributes (deduplicated), or undefined when it is left out. */
  abstract entries(src: DocSource): Entry[] | undefined;
  abstract add(entries: Entry[], slot: number): void;
  abstract remove(entries: Entry[], slot: number): void;
  /** Whether another slot holds this entry's key (a unique index refuses it). */
  abstract taken(e: Entry, slot: number): boolean;
  /** Slots whose first field equals `value` (a superset), or undefined when it cannot say. */
  abstract lookup(value: unknown): number[] | undefined;

  protected included(src: DocSource): boolean {
    return !this.partial || this.partial.test(src.doc());
  }

  /** Throws `DuplicateKeyError` when a unique index already holds one of `entries` elsewhere. */
  checkUnique(ns: string, entries: Entry[] | undefined, slot: number): void {
    if (!this.unique || !entries) return;
    for (const e of entries) {
      if (!this.taken(e, slot)) continue;
      const keyValue: Record<string, unknown> = {};
      this.fields.forEach((f, i) => {
        const v = e.values[i];
        keyValue[f] = v === MISSING || v === undefined ? null : v;
      });
      throw new DuplicateKeyError(ns, this.spec.name, { ...this.spec.key }, keyValue);
    }
  }
}

export class SingleIndex extends BaseIndex {
  readonly #hash = new Map<number, Slots>();
  readonly #nums = new SortedPairs();
  readonly #dates = new SortedPairs();
  readonly #hasher = new KeyHasher();
  /** Numbers kept in the hash part, and invalid Dates. */
  #irregularNums = 0;
  #irregularDates = 0;
  /** Whether entries may be read from bytes (`DocSource.fieldKey`). */
  readonly #fromBytes: boolean;
  /** Set once a document contributed several entries. */
  multikey = false;

  /** `sourceOf(slot)`: the stored document in `slot`, for comparing keys in a unique index. */
  constructor(spec: IndexSpec, readonly sourceOf: (slot: number) => DocSource) {
    super(spec);
    this.#fromBytes = !this.unique && !this.partial && this.paths[0].length === 1;
  }

  entryOf(v: unknown): Entry {
    if (v instanceof Date) {
      const t = v.getTime();
      if (Number.isFinite(t)) return { kind: DATE, key: t, values: [v] };
      return { kind: HASH, key: this.#hasher.hash(indexKey(v)), values: [v], irregular: 2 };
    }
    const k = indexKey(v);
    if (typeof k === "number" && !Number.isNaN(k)) return { kind: NUM, key: k, values: [v] };
    const e: Entry = { kind: HASH, key: this.#hasher.hash(k), values: [v] };
    if (isNumericKey(k)) e.irregular = 1;
    return e;
  }

  /**
   * The entries of a top-level field read from bytes (undefined: left out), or null when the
   * value must be decoded.
   */
  #entryFromBytes(src: DocSource): Entry[] | undefined | null {
    const kind = src.fieldKey!(this.fields[0]);
    const key = src.fieldKeyValue!;
    switch (kind) {
      case FIELD_MISSING:
        return this.sparse ? undefined : [this.entryOf(MISSING)];
      case FIELD_STRING:
        return [{ kind: HASH, key, values: [] }];
      case FIELD_DATE:
        return [{ kind: DATE, key, values: [] }];
      case FIELD_NUMBER:
        return [{ kind: NUM, key, values: [] }];
    }
    return null;
  }

  entries(src: DocSource): Entry[] | undefined {
    if (this.#fromBytes && src.fieldKey) {
      const fast = this.#entryFromBytes(src);
      if (fast !== null) return fast;
    }
    if (!this.included(src)) return undefined;
    const values = valuesAt(src, this.paths[0]);
    if (values.length === 1) {
      if (values[0] === MISSING && this.sparse) return undefined;
      return [this.entryOf(values[0])];
    }
    if (this.sparse && values.every((v) => v === MISSING)) return undefined;
    const out: Entry[] = [];
    for (const v of values) {
      const e = this.entryOf(v);
      if (!out.some((o) => sameEntry(o, e) && this.#sameValue(o, e))) out.push(e);
    }
    return out;
  }

  /** Whether two entries of the same kind and key hold equal values (hashes may collide). */
  #sameValue(a: Entry, b: Entry): boolean {
    if (a.kind !== HASH) return true;
    return sameKey(indexKey(a.values[0]), indexKey(b.values[0]));
  }

  add(entries: Entry[], slot: number): void {
    if (entries.length > 1) this.multikey = true;
    for (const e of entries) {
      if (e.kind === NUM) this.#nums.add(e.key as number, slot);
      else if (e.kind === DATE) this.#dates.add(e.key as number, slot);
      else {
        addSlot(this.#hash, e.key as number, slot);
        if (e.irregular === 1) this.#irregularNums++;
        else if (e.irregular === 2) this.#irregularDates++;
      }
    }
  }

  remove(entries: Entry[], slot: number): void {
    for (const e of entries) {
      if (e.kind === NUM) this.#nums.delete(e.key as number, slot);
      else if (e.kind === DATE) this.#dates.delete(e.key as number, slot);
      else {
        removeSlot(this.#hash, e.key as number, slot);
        if (e.irregular === 1) this.#irregularNums--;
        else if (e.irregular === 2) this.#irregularDates--;
      }
    }
  }

  taken(e: Entry, slot: number): boolean {
    if (e.kind === NUM) return this.#nums.hasOther(e.key as number, slot);
    if (e.kind === DATE) return this.#dates.hasOther(e.key as number, slot);
    for (const other of slotList(this.#hash.get(e.key as number))) {
      if (other === slot) continue;
      const theirs = this.entries(this.sourceOf(other)) ?? [];
      if (theirs.some((t) => t.kind === HASH && t.key === e.key && this.#sameValue(t, e))) {
        return true;
      }
    }
    return false;
  }

  lookup(value: unknown): number[] | undefined {
    if (this.partial) return undefined;
    const e = this.entryOf(value);
    if (e.kind === HASH) {
      if (this.sparse && value === null) return undefined;
      return slotList(this.#hash.get(e.key as number));
    }
    const part = e.kind === NUM ? this.#nums : this.#dates;
    const k = e.key as number;
    return part.slots({ lo: k, loInclusive: true, hi: k, hiInclusive: true });
  }

  /**
   * The ordered part for ranges over numbers or dates, or undefined when it does not hold every
   * such value of the collection (partial index; numbers or dates kept in the hash part).
   */
  ordered(kind: "number" | "date"): SortedPairs | undefined {
    if (this.partial) return undefined;
    if (kind === "number") return this.#irregularNums === 0 ? this.#nums : undefined;
    return this.#irregularDates === 0 ? this.#dates : undefined;
  }

  /** The dates part, as the TTL monitor walks it (partial indexes included). */
  get dates(): SortedPairs {
    return this.#dates;
  }

  /** Slots with a key in `r` (numbers or dates), or undefined (see `ordered`). */
  range(kind: "number" | "date", r: Range): number[] | undefined {
    return this.ordered(kind)?.slots(r);
  }
}

export class CompoundIndex extends BaseIndex {
  readonly #byFirst = new Map<Key, Slots>();
  readonly #byFull?: Map<string, number>;

  constructor(spec: IndexSpec) {
    super(spec);
    if (this.unique) this.#byFull = new Map();
  }

  entries(src: DocSource): Entry[] | undefined {
    if (!this.included(src)) return undefined;
    const perField = this.paths.map((p) => valuesAt(src, p));
    if (this.sparse && perField.every((vs) => vs.every((v) => v === MISSING))) return undefined;
    const multi = perField.filter((vs) => vs.length > 1);
    if (multi.length > 1) {
      const names = this.fields.filter((_, i) => perField[i].length > 1);
      throw new IndexError(
        171,
        `cannot index parallel arrays [${names[0]}] [${names[1]}]`,
        "CannotIndexParallelArrays",
      );
    }
    // One field at most has several values: one combination per value.
    let combos: unknown[][] = [[]];
    for (const vs of perField) {
      const next: unknown[][] = [];
      for (const c of combos) for (const v of vs) next.push([...c, v]);
      combos = next;
    }
    const seen = new Set<string>();
    const out: Entry[] = [];
    for (const values of combos) {
      let full = "";
      for (const v of values) full += keyPart(v);
      if (seen.has(full)) continue;
      seen.add(full);
      out.push({ kind: HASH, key: indexKey(values[0]), full, values });
    }
    return out;
  }

  add(entries: Entry[], slot: number): void {
    for (const e of entries) {
      addSlot(this.#byFirst, e.key, slot);
      this.#byFull?.set(e.full!, slot);
    }
  }

  remove(entries: Entry[], slot: number): void {
    for (const e of entries) {
      removeSlot(this.#byFirst, e.key, slot);
      if (this.#byFull?.get(e.full!) === slot) this.#byFull.delete(e.full!);
    }
  }

  taken(e: Entry, slot: number): boolean {
    const owner = this.#byFull?.get(e.full!);
    return owner !== undefined && owner !== slot;
  }

  lookup(value: unknown): number[] | undefined {
    if (this.partial) return undefined;
    const key = indexKey(value);
    if (this.sparse && key === null) return undefined;
    return slotList(this.#byFirst.get(key));
  }
}

export type Index = SingleIndex | CompoundIndex;

/** An index for `spec`; `sourceOf(slot)` reads the stored document in a slot. */
export function makeIndex(spec: IndexSpec, sourceOf: (slot: number) => DocSource): Index {
  return Object.keys(spec.key).length === 1
    ? new SingleIndex(spec, sourceOf)
    : new CompoundIndex(spec);
}

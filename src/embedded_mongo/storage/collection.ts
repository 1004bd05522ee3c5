/**
 * One collection in memory: documents in natural order, and the secondary indexes kept as hash
 * maps from canonical key (`keys.ts`) to the `_id` keys of the documents holding it.
 *
 * - Documents live in one `Map` from `_id` key to document; a `Map` keeps insertion order, and
 *   `set` on an existing key keeps its place, which is exactly MongoDB's natural order.
 * - Ownership: the store keeps the very object it is given (no copy), and hands out the very
 *   objects it keeps. The contract is that callers never mutate either: the command layer passes
 *   fresh objects to `insert`/`replace`, and copies what it reads before changing it. A document
 *   is never changed in place by the store either: `replace` installs a new object.
 * - Every index keeps `byFirst` (key of its first field -> ids), which serves `lookup` in
 *   O(matches) for single and compound indexes; a unique compound index also keeps `byFull`
 *   (whole compound key -> id). A single id is stored as itself; a second one turns the entry
 *   into a `Set`.
 * - A write computes every index entry of the new document, checks every unique index, and only
 *   then changes anything: a `DuplicateKeyError` (or a parallel-arrays error) leaves no trace.
 * - Write-ahead: a mutation is checked first (unique indexes, `_id`), then reported to the
 *   `Journal` (persistence writes it to the journal file, or nothing in memory), and only then
 *   applied. A journal that cannot take the record throws, and the mutation leaves no trace.
 */
import type { Document } from "bson";
import { Query } from "mingo/query";
import { Context } from "mingo/core";
import * as queryOps from "mingo/operators/query";
import { DuplicateKeyError, IndexError, type IndexSpec } from "./types.ts";
import { encodeValue, indexKey, type Key, keyPart, MISSING } from "./keys.ts";

/**
 * Receives every mutation before it is applied, in order (see `persistence.ts`). A `record` that
 * throws stops the mutation: it is not applied.
 */
export interface Journal {
  record(op: Document): void;
}

export const NO_JOURNAL: Journal = { record() {} };

type Ids = Key | Set<Key>;

/** Query operators for partial filters; nothing that runs JavaScript. */
const PARTIAL_CONTEXT = Context.init({
  query: Object.fromEntries(
    Object.entries(queryOps).filter(([k]) => k.startsWith("$") && k !== "$where"),
    // deno-lint-ignore no-explicit-any
  ) as Record<string, any>,
});

interface Index {
  spec: IndexSpec;
  fields: string[];
  paths: string[][];
  unique: boolean;
  sparse: boolean;
  partial?: Query;
  byFirst: Map<Key, Ids>;
  byFull?: Map<string, Key>;
}

/** One entry a document contributes to an index. */
interface Entry {
  first: Key;
  /** The whole compound key (compound indexes only). */
  full?: string;
  /** The values, for a duplicate key error's `keyValue`. */
  values: unknown[];
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Every value at `path` (arrays expanded one level, as MongoDB's multikey indexes do). */
function collect(value: unknown, parts: string[], i: number, out: unknown[]): void {
  if (i === parts.length) {
    if (Array.isArray(value)) {
      if (value.length === 0) out.push(value);
      else for (const e of value) out.push(e);
    } else out.push(value);
    return;
  }
  if (Array.isArray(value)) {
    const part = parts[i];
    const before = out.length;
    if (/^\d+$/.test(part)) {
      const idx = Number(part);
      if (idx < value.length) collect(value[idx], parts, i + 1, out);
    }
    for (const e of value) if (isPlainObject(e)) collect(e, parts, i, out);
    if (out.length === before) out.push(MISSING);
    return;
  }
  if (!isPlainObject(value) || !Object.hasOwn(value, parts[i])) {
    out.push(MISSING);
    return;
  }
  const v = value[parts[i]];
  if (v === undefined) out.push(MISSING);
  else collect(v, parts, i + 1, out);
}

function valuesAt(doc: Document, parts: string[]): unknown[] {
  if (parts.length === 1) {
    const v = Object.hasOwn(doc, parts[0]) ? doc[parts[0]] : undefined;
    if (v === undefined) return [MISSING];
    if (!Array.isArray(v)) return [v];
  }
  const out: unknown[] = [];
  collect(doc, parts, 0, out);
  return out;
}

function addId(map: Map<Key, Ids>, key: Key, id: Key): void {
  const cur = map.get(key);
  if (cur === undefined) map.set(key, id);
  else if (cur instanceof Set) cur.add(id);
  else if (cur !== id) map.set(key, new Set([cur, id]));
}

function removeId(map: Map<Key, Ids>, key: Key, id: Key): void {
  const cur = map.get(key);
  if (cur === undefined) return;
  if (cur instanceof Set) {
    cur.delete(id);
    if (cur.size === 1) map.set(key, cur.values().next().value!);
    else if (cur.size === 0) map.delete(key);
  } else if (cur === id) map.delete(key);
}

function hasOtherId(ids: Ids | undefined, id: Key): boolean {
  if (ids === undefined) return false;
  if (ids instanceof Set) return ids.size > (ids.has(id) ? 1 : 0);
  return ids !== id;
}

function sameOptions(a: IndexSpec, b: IndexSpec): boolean {
  return !!a.unique === !!b.unique && !!a.sparse === !!b.sparse &&
    a.expireAfterSeconds === b.expireAfterSeconds &&
    (a.partialFilterExpression === undefined) === (b.partialFilterExpression === undefined) &&
    (a.partialFilterExpression === undefined ||
      encodeValue(a.partialFilterExpression) === encodeValue(b.partialFilterExpression));
}

function keyText(key: Record<string, unknown>): string {
  let out = "";
  for (const [k, v] of Object.entries(key)) out += `${k}\0${encodeValue(v)}\0`;
  return out;
}

/** A copy of a spec with only the fields the contract knows (what is journaled and listed). */
function cleanSpec(spec: IndexSpec): IndexSpec {
  const out: IndexSpec = { name: spec.name, key: { ...spec.key } };
  if (spec.unique) out.unique = true;
  if (spec.sparse) out.sparse = true;
  if (spec.expireAfterSeconds !== undefined) out.expireAfterSeconds = spec.expireAfterSeconds;
  if (spec.partialFilterExpression !== undefined) {
    out.partialFilterExpression = spec.partialFilterExpression;
  }
  return out;
}

function copySpec(spec: IndexSpec): IndexSpec {
  const out = cleanSpec(spec);
  if (out.partialFilterExpression) {
    out.partialFilterExpression = structuredClone(out.partialFilterExpression);
  }
  return out;
}

const ID_SPEC: IndexSpec = { name: "_id_", key: { _id: 1 } };

export class MemoryCollection {
  readonly #docs = new Map<Key, Document>();
  readonly #indexes: Index[] = [];
  #journal: Journal;

  constructor(
    readonly db: string,
    readonly name: string,
    readonly options: Document,
    journal: Journal = NO_JOURNAL,
  ) {
    this.#journal = journal;
  }

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  count(): number {
    return this.#docs.size;
  }

  all(): IterableIterator<Document> {
    return this.#docs.values();
  }

  getById(id: unknown): Document | undefined {
    return this.#docs.get(indexKey(id));
  }

  lookup(field: string, value: unknown): Document[] | undefined {
    if (field === "_id") {
      const d = this.#docs.get(indexKey(value));
      return d ? [d] : [];
    }
    const key = indexKey(value);
    for (const index of this.#indexes) {
      if (index.fields[0] !== field || index.partial) continue;
      if (index.sparse && key === null) continue;
      const ids = index.byFirst.get(key);
      if (ids === undefined) return [];
      if (!(ids instanceof Set)) {
        const d = this.#docs.get(ids);
        return d ? [d] : [];
      }
      const out: Document[] = [];
      for (const id of ids) {
        const d = this.#docs.get(id);
        if (d) out.push(d);
      }
      return out;
    }
    return undefined;
  }

  insert(doc: Document): void {
    const [id, entries] = this.#checkInsert(doc);
    this.#journal.record({ op: "i", db: this.db, c: this.name, d: doc });
    this.#insert(id, entries, doc);
  }

  /** Inserts without journaling (replaying the journal). */
  load(doc: Document): void {
    const [id, entries] = this.#checkInsert(doc);
    this.#insert(id, entries, doc);
  }

  /** The `_id` key and index entries of a document to insert; throws on any duplicate. */
  #checkInsert(doc: Document): [Key, (Entry[] | undefined)[]] {
    if (doc._id === undefined) throw new Error("Cannot insert: the document has no _id");
    const id = indexKey(doc._id);
    if (this.#docs.has(id)) {
      throw new DuplicateKeyError(this.ns, "_id_", { _id: 1 }, { _id: doc._id });
    }
    return [id, this.#entriesFor(doc, id)];
  }

  #insert(id: Key, entries: (Entry[] | undefined)[], doc: Document): void {
    for (let i = 0; i < this.#indexes.length; i++) {
      const e = entries[i];
      if (e) { for (const entry of e) this.#addEntry(this.#indexes[i], entry, id); }
    }
    this.#docs.set(id, doc);
  }

  replace(id: unknown, doc: Document): void {
    const [key, old, entries] = this.#checkReplace(id, doc);
    this.#journal.record({ op: "r", db: this.db, c: this.name, d: doc });
    this.#replace(key, old, entries, doc);
  }

  /** The key, current document and new index entries of a replacement; throws on any duplicate. */
  #checkReplace(id: unknown, doc: Document): [Key, Document, (Entry[] | undefined)[]] {
    const key = indexKey(id);
    const old = this.#docs.get(key);
    if (!old) throw new Error("Cannot replace document: no document with this _id");
    if (doc._id === undefined || indexKey(doc._id) !== key) {
      throw new Error("Cannot replace document: the new document's _id differs");
    }
    return [key, old, this.#entriesFor(doc, key)];
  }

  #replace(key: Key, old: Document, entries: (Entry[] | undefined)[], doc: Document): void {
    for (let i = 0; i < this.#indexes.length; i++) {
      const index = this.#indexes[i];
      const oldEntries = this.#entriesOf(index, old);
      const newEntries = entries[i];
      if (sameEntries(oldEntries, newEntries)) continue;
      if (oldEntries) { for (const e of oldEntries) this.#removeEntry(index, e, key); }
      if (newEntries) { for (const e of newEntries) this.#addEntry(index, e, key); }
    }
    this.#docs.set(key, doc);
  }

  delete(id: unknown): boolean {
    const key = indexKey(id);
    const doc = this.#docs.get(key);
    if (!doc) return false;
    this.#journal.record({ op: "d", db: this.db, c: this.name, id: doc._id });
    this.#delete(key);
    return true;
  }

  #delete(key: Key): Document | undefined {
    const doc = this.#docs.get(key);
    if (!doc) return undefined;
    for (const index of this.#indexes) {
      const entries = this.#entriesOf(index, doc);
      if (entries) { for (const e of entries) this.#removeEntry(index, e, key); }
    }
    this.#docs.delete(key);
    return doc;
  }

  listIndexes(): IndexSpec[] {
    return [copySpec(ID_SPEC), ...this.#indexes.map((i) => copySpec(i.spec))];
  }

  /** The TTL indexes: `[field, expireAfterSeconds]`. */
  ttlIndexes(): [string, number][] {
    const out: [string, number][] = [];
    for (const i of this.#indexes) {
      if (i.spec.expireAfterSeconds !== undefined && i.fields.length === 1) {
        out.push([i.fields[0], i.spec.expireAfterSeconds]);
      }
    }
    return out;
  }

  /**
   * Deletes (journaled) every document whose `field` is a Date, or an array holding Dates (the
   * earliest counts), with `date + expireAfterMs <= now`. Scans the collection: O(documents).
   */
  expire(field: string, expireAfterMs: number, now: number): number {
    const parts = field.split(".");
    const doomed: Key[] = [];
    for (const [id, doc] of this.#docs) {
      let earliest = Infinity;
      for (const v of valuesAt(doc, parts)) {
        if (v instanceof Date) {
          const t = v.getTime();
          if (t < earliest) earliest = t;
        }
      }
      if (earliest !== Infinity && earliest + expireAfterMs <= now) doomed.push(id);
    }
    let n = 0;
    for (const id of doomed) {
      const doc = this.#docs.get(id);
      if (!doc) continue;
      this.#journal.record({ op: "d", db: this.db, c: this.name, id: doc._id });
      this.#delete(id);
      n++;
    }
    return n;
  }

  createIndexes(specs: IndexSpec[]): number {
    const fresh = this.#buildIndexes(specs);
    if (fresh.length === 0) return 0;
    const added = fresh.map((i) => cleanSpec(i.spec));
    this.#journal.record({ op: "ci", db: this.db, c: this.name, specs: added });
    this.#indexes.push(...fresh);
    return added.length;
  }

  /** Creates indexes without journaling (replay). */
  loadIndexes(specs: IndexSpec[]): void {
    this.#indexes.push(...this.#buildIndexes(specs));
  }

  /** Builds the requested indexes that do not exist yet, without installing them. */
  #buildIndexes(specs: IndexSpec[]): Index[] {
    const fresh: Index[] = [];
    for (const raw of specs) {
      const spec = cleanSpec(raw);
      this.#validate(spec);
      const known = [ID_SPEC, ...this.#indexes.map((i) => i.spec), ...fresh.map((i) => i.spec)];
      const same = known.find((k) => k.name === spec.name);
      if (same) {
        if (keyText(same.key) === keyText(spec.key) && sameOptions(same, spec)) continue;
        throw new IndexError(
          86,
          `An existing index has the same name as the requested index but a different key or options: requested ${
            JSON.stringify(spec)
          }, existing ${JSON.stringify(same)}`,
          "IndexKeySpecsConflict",
        );
      }
      const sameKey = known.find((k) => keyText(k.key) === keyText(spec.key));
      if (sameKey) {
        throw new IndexError(
          85,
          sameOptions(sameKey, spec)
            ? `Index already exists with a different name: ${sameKey.name}`
            : `An index with the same key already exists with different options: ${sameKey.name}`,
          "IndexOptionsConflict",
        );
      }
      fresh.push(this.#makeIndex(spec));
    }
    // Build every new index before installing any: a duplicate leaves nothing behind.
    for (const index of fresh) {
      for (const [id, doc] of this.#docs) {
        const entries = this.#entriesOf(index, doc);
        if (!entries) continue;
        for (const e of entries) {
          if (index.unique) this.#checkUnique(index, e, id);
          this.#addEntry(index, e, id);
        }
      }
    }
    return fresh;
  }

  #validate(spec: IndexSpec): void {
    const fields = Object.keys(spec.key ?? {});
    if (typeof spec.name !== "string" || spec.name === "") {
      throw new IndexError(67, "Cannot create index: the index name is empty", "CannotCreateIndex");
    }
    if (fields.length === 0) {
      throw new IndexError(67, "Cannot create index: the key is empty", "CannotCreateIndex");
    }
    if (fields.some((f) => f === "" || f.startsWith("$") || f.split(".").includes(""))) {
      throw new IndexError(
        67,
        `Cannot create index: bad field name in ${JSON.stringify(spec.key)}`,
        "CannotCreateIndex",
      );
    }
    if (spec.expireAfterSeconds !== undefined && fields.length !== 1) {
      throw new IndexError(
        67,
        "Cannot create index: TTL indexes are single-field indexes, compound indexes do not support TTL",
        "CannotCreateIndex",
      );
    }
    if (spec.sparse && spec.partialFilterExpression) {
      throw new IndexError(
        67,
        "Cannot create index: cannot mix partialFilterExpression and sparse",
        "CannotCreateIndex",
      );
    }
    if (spec.unique && fields.length === 1 && fields[0] === "_id") {
      throw new IndexError(
        67,
        "Cannot create index: the field 'unique' is not valid for an _id index specification",
        "CannotCreateIndex",
      );
    }
  }

  #makeIndex(spec: IndexSpec): Index {
    const fields = Object.keys(spec.key);
    const index: Index = {
      spec,
      fields,
      paths: fields.map((f) => f.split(".")),
      unique: !!spec.unique,
      sparse: !!spec.sparse,
      byFirst: new Map(),
    };
    if (spec.partialFilterExpression) {
      try {
        index.partial = new Query(spec.partialFilterExpression, {
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
    if (index.unique && fields.length > 1) index.byFull = new Map();
    return index;
  }

  dropIndex(name: string): void {
    if (name === "_id_") {
      throw new IndexError(72, "cannot drop _id index", "InvalidOptions");
    }
    if (name === "*") {
      if (this.#indexes.length === 0) return;
      this.#journal.record({ op: "di", db: this.db, c: this.name, name });
      this.#indexes.length = 0;
    } else {
      const i = this.#indexes.findIndex((x) => x.spec.name === name);
      if (i < 0) {
        throw new IndexError(27, `index not found with name [${name}]`, "IndexNotFound");
      }
      this.#journal.record({ op: "di", db: this.db, c: this.name, name });
      this.#indexes.splice(i, 1);
    }
  }

  /** Drops without journaling (replay). */
  loadDropIndex(name: string): void {
    if (name === "*") this.#indexes.length = 0;
    else {
      const i = this.#indexes.findIndex((x) => x.spec.name === name);
      if (i >= 0) this.#indexes.splice(i, 1);
    }
  }

  /** Replaces and deletes without journaling (replay). */
  loadReplace(doc: Document): void {
    const [key, old, entries] = this.#checkReplace(doc._id, doc);
    this.#replace(key, old, entries, doc);
  }

  loadDelete(id: unknown): void {
    this.#delete(indexKey(id));
  }

  /** The index entries of `doc` for every index, all unique indexes checked; throws before any change. */
  #entriesFor(doc: Document, id: Key): (Entry[] | undefined)[] {
    const out: (Entry[] | undefined)[] = [];
    for (const index of this.#indexes) {
      const entries = this.#entriesOf(index, doc);
      if (entries && index.unique) {
        for (const e of entries) this.#checkUnique(index, e, id);
      }
      out.push(entries);
    }
    return out;
  }

  #checkUnique(index: Index, e: Entry, id: Key): void {
    const taken = index.byFull
      ? (() => {
        const owner = index.byFull!.get(e.full!);
        return owner !== undefined && owner !== id;
      })()
      : hasOtherId(index.byFirst.get(e.first), id);
    if (taken) {
      const keyValue: Document = {};
      index.fields.forEach((f, i) => {
        const v = e.values[i];
        keyValue[f] = v === MISSING || v === undefined ? null : v;
      });
      throw new DuplicateKeyError(this.ns, index.spec.name, { ...index.spec.key }, keyValue);
    }
  }

  #addEntry(index: Index, e: Entry, id: Key): void {
    addId(index.byFirst, e.first, id);
    if (index.byFull) index.byFull.set(e.full!, id);
  }

  #removeEntry(index: Index, e: Entry, id: Key): void {
    removeId(index.byFirst, e.first, id);
    if (index.byFull && index.byFull.get(e.full!) === id) index.byFull.delete(e.full!);
  }

  /** The entries `doc` contributes to `index` (deduplicated), or undefined when it is left out. */
  #entriesOf(index: Index, doc: Document): Entry[] | undefined {
    if (index.partial && !index.partial.test(doc)) return undefined;
    if (index.paths.length === 1) {
      const values = valuesAt(doc, index.paths[0]);
      if (values.length === 1) {
        const v = values[0];
        if (v === MISSING && index.sparse) return undefined;
        return [{ first: indexKey(v), values }];
      }
      if (index.sparse && values.every((v) => v === MISSING)) return undefined;
      const seen = new Set<Key>();
      const out: Entry[] = [];
      for (const v of values) {
        const k = indexKey(v);
        if (seen.has(k)) continue;
        seen.add(k);
        out.push({ first: k, values: [v] });
      }
      return out;
    }
    const perField = index.paths.map((p) => valuesAt(doc, p));
    if (index.sparse && perField.every((vs) => vs.every((v) => v === MISSING))) return undefined;
    const multi = perField.filter((vs) => vs.length > 1);
    if (multi.length > 1) {
      const names = index.fields.filter((_, i) => perField[i].length > 1);
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
      out.push({ first: indexKey(values[0]), full, values });
    }
    return out;
  }
}

function sameEntries(a: Entry[] | undefined, b: Entry[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i].first !== b[i].first && !(Number.isNaN(a[i].first) && Number.isNaN(b[i].first))) {
      return false;
    }
    if (a[i].full !== b[i].full) return false;
  }
  return true;
}

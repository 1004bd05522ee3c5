/**
 * One collection in memory: documents in their compact form (`codec.ts`) in a slab heap
 * (`heap.ts`), found by slot; `_id` in a hash table from canonical key (`keys.ts`) to slot
 * (`id_table.ts`); MongoDB's natural order (insertion order; a replaced document keeps its
 * place) as an ordered set of (sequence number, slot) pairs; and the secondary indexes
 * (`indexes.ts`), which point at slots.
 *
 * Every change is a `JournalOp` run by `execute`: it is checked first (unique indexes, `_id`,
 * parallel arrays) without changing anything, then handed to the catalog's journal (which writes
 * it ahead, or throws and stops it), and only then applied. Replaying the journal runs the very
 * same `execute` while the catalog's journal is the no-op one.
 *
 * Documents handed out (`decode`, `getById`, `all`) are fresh objects the caller owns.
 */
import { BSON, type Document } from "bson";
import { Codec, FIELD_MISSING, FIELD_STRING } from "./codec.ts";
import { DocHeap, type HeapCapture } from "./heap.ts";
import type { DocSource } from "./index_values.ts";
import { checkAgainst, cleanSpec, copySpec, ID_SPEC, validateSpec } from "./index_spec.ts";
import { type Entry, type Index, makeIndex, sameEntries, SingleIndex } from "./indexes.ts";
import { DuplicateKeyError, IndexError } from "../errors.ts";
import { indexKey, type Key } from "./keys.ts";
import type { JournalOp } from "./ops.ts";
import { type Range, SortedPairs } from "./sorted.ts";
import { IdTable } from "./id_table.ts";
import { KeyHasher } from "./key_hash.ts";
import type { IndexSpec } from "./types.ts";

/**
 * Receives every mutation before it is applied, in order (see `persistence.ts`). A `record` that
 * throws stops the mutation: it is not applied.
 */
export interface Journal {
  /** Writes the records of `ops` (one write for all); throws, and none counts, when it cannot. */
  record(...ops: JournalOp[]): void;
}

export const NO_JOURNAL: Journal = { record() {} };

/** Where a collection finds the journal of the moment (the catalog's). */
export interface JournalHolder {
  readonly journal: Journal;
}

/** A snapshot's view of a collection: its slabs and records at one instant, and its codec. */
export interface CollectionCapture {
  heap: HeapCapture;
  codec: Codec;
}

type CollectionOp = Extract<JournalOp, { op: "i" | "r" | "d" | "ci" | "di" }>;

function sameKey(a: Key, b: Key): boolean {
  return a === b || (typeof a === "number" && typeof b === "number" && a !== a && b !== b);
}

/** A document's compact bytes as index maintenance reads them (`DocSource`). */
class BytesSource implements DocSource {
  #doc?: Document;
  fieldKeyValue = 0;

  /** The document lies at `[pos, end)` of `bytes`. */
  constructor(
    readonly codec: Codec,
    readonly bytes: Uint8Array,
    readonly pos: number,
    readonly end: number,
  ) {}

  top(name: string): unknown {
    return this.codec.field(this.bytes, this.pos, this.end, name);
  }

  doc(): Document {
    return this.#doc ??= this.codec.decode(this.bytes, this.pos, this.end);
  }

  fieldKey(name: string): number {
    const kind = this.codec.fieldKey(this.bytes, this.pos, this.end, name);
    this.fieldKeyValue = this.codec.fieldKeyValue;
    return kind;
  }
}

export class MemoryCollection {
  readonly #heap = new DocHeap();
  readonly #codec = new Codec();
  readonly #ids = new IdTable();
  readonly #hasher = new KeyHasher();
  /** Natural order: (sequence number, slot); `#seqOf[slot]` is the slot's number, -1 if free. */
  readonly #order = new SortedPairs();
  #seqOf = new Float64Array(64).fill(-1);
  #nextSeq = 0;
  readonly #indexes: Index[] = [];
  readonly #holder: JournalHolder;

  constructor(
    readonly db: string,
    readonly name: string,
    readonly options: Document,
    holder: JournalHolder = { journal: NO_JOURNAL },
  ) {
    this.#holder = holder;
  }

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  count(): number {
    return this.#order.size;
  }

  // --- Reading by slot ---------------------------------------------------------------------

  /** Slots in natural order, lazily: a document added meanwhile is visited, one deleted is not. */
  *slots(): Generator<number> {
    const keys: number[] = [];
    const slots: number[] = [];
    let after = -1;
    for (;;) {
      this.#order.after(after, 256, keys, slots);
      if (slots.length === 0) return;
      for (let i = 0; i < slots.length; i++) {
        after = keys[i];
        if (this.#seqOf[slots[i]] === after) yield slots[i];
      }
    }
  }

  /** Whether `slot` holds a document now. */
  has(slot: number): boolean {
    return this.#heap.has(slot);
  }

  slotOf(id: unknown): number | undefined {
    const key = indexKey(id);
    return this.#ids.find(
      this.#hasher.hash(key),
      (slot) => sameKey(indexKey(this.field(slot, "_id")), key),
    );
  }

  #setSeq(slot: number, seq: number): void {
    if (slot >= this.#seqOf.length) {
      const bigger = new Float64Array(Math.max(slot + 1, this.#seqOf.length * 2)).fill(-1);
      bigger.set(this.#seqOf);
      this.#seqOf = bigger;
    }
    this.#seqOf[slot] = seq;
  }

  decode(slot: number): Document {
    const b = this.#heap.locate(slot);
    return this.#codec.decode(b, this.#heap.pos, this.#heap.end);
  }

  /** The value of a top-level field of the document in `slot`, or `MISSING`. */
  field(slot: number, name: string): unknown {
    const b = this.#heap.locate(slot);
    return this.#codec.field(b, this.#heap.pos, this.#heap.end, name);
  }

  bsonSize(slot: number): number {
    const b = this.#heap.locate(slot);
    return this.#codec.bsonSize(b, this.#heap.pos, this.#heap.end);
  }

  /** The document in `slot` as BSON bytes (a new buffer). */
  bson(slot: number): Uint8Array {
    const b = this.#heap.locate(slot);
    return this.#codec.toBson(b, this.#heap.pos, this.#heap.end);
  }

  /**
   * Slots whose `field` equals `value`, through the `_id` map or an index whose first key is
   * `field`, or `undefined` when none applies. May hold more (the caller filters again); never
   * misses a match.
   */
  lookupSlots(field: string, value: unknown): number[] | undefined {
    if (field === "_id") {
      const slot = this.slotOf(value);
      return slot === undefined ? [] : [slot];
    }
    for (const index of this.#indexes) {
      if (index.fields[0] !== field) continue;
      const found = index.lookup(value);
      if (found) return found;
    }
    return undefined;
  }

  /**
   * The single-field index on `field` whose ordered part holds every number (or date) of the
   * collection, or undefined.
   */
  #rangeIndex(field: string, kind: "number" | "date"): SingleIndex | undefined {
    for (const index of this.#indexes) {
      if (index instanceof SingleIndex && index.fields[0] === field && index.ordered(kind)) {
        return index;
      }
    }
    return undefined;
  }

  /** Slots whose `field` is a number (or date) in `range`, in key order; undefined: no index. */
  rangeSlots(field: string, kind: "number" | "date", range: Range): number[] | undefined {
    return this.#rangeIndex(field, kind)?.range(kind, range);
  }

  /**
   * How many documents have a number (or date) in `range` at `field`, counted in the index
   * alone; undefined when no index can say exactly (none, or one where a document holds
   * several values).
   */
  countRange(field: string, kind: "number" | "date", range: Range): number | undefined {
    const index = this.#rangeIndex(field, kind);
    if (!index || index.multikey) return undefined;
    return index.ordered(kind)!.count(range);
  }

  // --- Convenience reads (tests, tools) ------------------------------------------------------

  *all(): Generator<Document> {
    for (const slot of this.slots()) yield this.decode(slot);
  }

  getById(id: unknown): Document | undefined {
    const slot = this.slotOf(id);
    return slot === undefined ? undefined : this.decode(slot);
  }

  lookup(field: string, value: unknown): Document[] | undefined {
    return this.lookupSlots(field, value)?.map((s) => this.decode(s));
  }

  // --- Writing -----------------------------------------------------------------------------

  insert(doc: Document): void {
    this.execute({ op: "i", db: this.db, c: this.name, doc: BSON.serialize(doc) });
  }

  /** Replaces the document with this `_id` (which must exist); `doc._id` must equal `id`. */
  replace(id: unknown, doc: Document): void {
    if (doc._id === undefined || indexKey(doc._id) !== indexKey(id)) {
      throw new Error("Cannot replace document: the new document's _id differs");
    }
    this.execute({ op: "r", db: this.db, c: this.name, doc: BSON.serialize(doc) });
  }

  /** Removes the document with this `_id`; false when there was none. */
  delete(id: unknown): boolean {
    const slot = this.slotOf(id);
    if (slot === undefined) return false;
    this.execute({ op: "d", db: this.db, c: this.name, id: this.field(slot, "_id") });
    return true;
  }

  /** Creates indexes; an identical existing index is not an error. Returns how many were new. */
  createIndexes(specs: IndexSpec[]): number {
    const fresh = this.#freshSpecs(specs);
    if (fresh.length > 0) this.execute({ op: "ci", db: this.db, c: this.name, specs: fresh });
    return fresh.length;
  }

  /** Drops one index by name, or every index but `_id_` with `"*"`. */
  dropIndex(name: string): void {
    if (name === "_id_") throw new IndexError(72, "cannot drop _id index", "InvalidOptions");
    if (name === "*") {
      if (this.#indexes.length > 0) this.execute({ op: "di", db: this.db, c: this.name, name });
      return;
    }
    if (!this.#indexes.some((x) => x.spec.name === name)) {
      throw new IndexError(27, `index not found with name [${name}]`, "IndexNotFound");
    }
    this.execute({ op: "di", db: this.db, c: this.name, name });
  }

  /** Checks `op`, journals it, applies it: the one path of every change, live or replayed. */
  execute(op: CollectionOp): void {
    const apply = this.#prepare(op);
    this.#holder.journal.record(op);
    apply();
  }

  /** `execute` for deletes of the documents in distinct `slots`, journaled with one write. */
  #deleteAll(ops: Extract<CollectionOp, { op: "d" }>[], slots: number[]): void {
    const applies = ops.map((op, i) => this.#prepare(op, slots[i]));
    this.#holder.journal.record(...ops);
    for (const apply of applies) apply();
  }

  /**
   * Checks `op` against the current state and returns what applies it; changes nothing. A
   * delete may come with the slot of its document, when the caller found it already.
   */
  #prepare(op: CollectionOp, slot?: number): () => void {
    switch (op.op) {
      case "i":
        return this.#prepareInsert(op.doc);
      case "r":
        return this.#prepareReplace(op.doc);
      case "d": {
        const found = slot ?? this.slotOf(op.id);
        return found === undefined ? () => {} : () => this.#remove(found);
      }
      case "ci": {
        const fresh = this.#buildIndexes(this.#freshSpecs(op.specs));
        return () => this.#indexes.push(...fresh);
      }
      case "di":
        return () => {
          if (op.name === "*") this.#indexes.length = 0;
          else {
            const i = this.#indexes.findIndex((x) => x.spec.name === op.name);
            if (i >= 0) this.#indexes.splice(i, 1);
          }
        };
    }
  }

  /** A `DocSource` over compact bytes not yet stored (in the codec's scratch: use at once). */
  #compactSource(compact: Uint8Array): DocSource {
    return new BytesSource(this.#codec, compact, 0, compact.length);
  }

  #storedSource(slot: number): DocSource {
    const heap = this.#heap;
    const b = heap.locate(slot);
    return new BytesSource(this.#codec, b, heap.pos, heap.end);
  }

  /** The hash of the `_id` of `src` (`key_hash.ts`), read from its bytes when it is a string. */
  #idHash(src: DocSource): number {
    if (src.fieldKey!("_id") === FIELD_STRING) return src.fieldKeyValue!;
    return this.#hasher.hash(indexKey(src.top("_id")));
  }

  /** The slot holding the `_id` of `src`, if any. */
  #findId(h: number, src: DocSource): number | undefined {
    let key: Key | undefined;
    return this.#ids.find(h, (slot) => {
      key ??= indexKey(src.top("_id"));
      return sameKey(indexKey(this.field(slot, "_id")), key);
    });
  }

  /** The index entries of a document, every unique index checked (`self`: its slot, or -1). */
  #checked(src: DocSource, self: number): (Entry[] | undefined)[] {
    return this.#indexes.map((index) => {
      const e = index.entries(src);
      index.checkUnique(this.ns, e, self);
      return e;
    });
  }

  #prepareInsert(bson: Uint8Array): () => void {
    const compact = this.#codec.encodeBson(bson);
    const src = this.#compactSource(compact);
    if (src.fieldKey!("_id") === FIELD_MISSING) {
      throw new Error("Cannot insert: the document has no _id");
    }
    const h = this.#idHash(src);
    if (this.#findId(h, src) !== undefined) {
      throw new DuplicateKeyError(this.ns, "_id_", { _id: 1 }, { _id: src.top("_id") });
    }
    const entries = this.#checked(src, -1);
    const bytes = compact.slice();
    return () => {
      const slot = this.#heap.add(bytes);
      for (let i = 0; i < entries.length; i++) {
        if (entries[i]) this.#indexes[i].add(entries[i]!, slot);
      }
      this.#place(h, slot);
    };
  }

  /** Puts a new document's slot in the `_id` table (checked already) and at the end of the order. */
  #place(h: number, slot: number): void {
    this.#ids.insert(h, slot, () => false);
    this.#append(slot);
  }

  #append(slot: number): void {
    const seq = this.#nextSeq++;
    this.#setSeq(slot, seq);
    this.#order.add(seq, slot);
  }

  #prepareReplace(bson: Uint8Array): () => void {
    const compact = this.#codec.encodeBson(bson);
    const src = this.#compactSource(compact);
    const slot = src.fieldKey!("_id") === FIELD_MISSING
      ? undefined
      : this.#findId(this.#idHash(src), src);
    if (slot === undefined) throw new Error("Cannot replace document: no document with this _id");
    const entries = this.#checked(src, slot);
    const old = this.#storedSource(slot);
    const oldEntries = this.#indexes.map((index) => index.entries(old));
    const bytes = compact.slice();
    return () => {
      this.#indexes.forEach((index, i) => {
        const before = oldEntries[i];
        const after = entries[i];
        if (sameEntries(before, after)) return;
        if (before) index.remove(before, slot);
        if (after) index.add(after, slot);
      });
      this.#heap.set(slot, bytes);
    };
  }

  #remove(slot: number): void {
    const src = this.#storedSource(slot);
    for (const index of this.#indexes) {
      const e = index.entries(src);
      if (e) index.remove(e, slot);
    }
    this.#ids.remove(slot);
    this.#order.delete(this.#seqOf[slot], slot);
    this.#seqOf[slot] = -1;
    this.#heap.free(slot);
  }

  // --- Indexes -----------------------------------------------------------------------------

  listIndexes(): IndexSpec[] {
    return [copySpec(ID_SPEC), ...this.#indexes.map((i) => copySpec(i.spec))];
  }

  /** The TTL indexes: each with its `expireAfterSeconds`. */
  ttlIndexes(): { index: SingleIndex; seconds: number }[] {
    const out = [];
    for (const index of this.#indexes) {
      const seconds = index.spec.expireAfterSeconds;
      if (seconds !== undefined && index instanceof SingleIndex) out.push({ index, seconds });
    }
    return out;
  }

  /**
   * Deletes (journaled) documents of a TTL index whose date is at or before `cutoff` (ms),
   * oldest first, 64 to a journal write, calling `deleted` with each count, until none is left
   * (returns false) or `deadline` (a `performance.now()` time) passes (returns true).
   */
  expireSome(
    index: SingleIndex,
    cutoff: number,
    deadline: number,
    deleted: (n: number) => void,
  ): boolean {
    for (;;) {
      if (!this.#indexes.includes(index)) return false;
      const slots = [...new Set(index.dates.slots({ hi: cutoff, hiInclusive: true }, 64))];
      if (slots.length === 0) return false;
      const ops = slots.map((slot) => ({
        op: "d" as const,
        db: this.db,
        c: this.name,
        id: this.field(slot, "_id"),
      }));
      this.#deleteAll(ops, slots);
      deleted(ops.length);
      if (performance.now() >= deadline) return true;
    }
  }

  /** The specs of `specs` that are valid and not yet built (an identical one is skipped). */
  #freshSpecs(specs: IndexSpec[]): IndexSpec[] {
    const fresh: IndexSpec[] = [];
    for (const raw of specs) {
      const spec = cleanSpec(raw);
      validateSpec(spec);
      const known = [ID_SPEC, ...this.#indexes.map((i) => i.spec), ...fresh];
      if (!checkAgainst(spec, known)) fresh.push(spec);
    }
    return fresh;
  }

  /** Builds indexes over every document, without installing them (a duplicate leaves nothing). */
  #buildIndexes(specs: IndexSpec[]): Index[] {
    const built = specs.map((spec) => makeIndex(spec, (slot) => this.#storedSource(slot)));
    for (const index of built) {
      this.#order.forEach((_, slot) => {
        const e = index.entries(this.#storedSource(slot));
        if (!e) return;
        index.checkUnique(this.ns, e, slot);
        index.add(e, slot);
      });
    }
    return built;
  }

  /**
   * Restores documents from a snapshot: `records` (heap records, in natural order) becomes a
   * slab of its own, read with the codec tables given first (`loadCodecTables`). A snapshot is an
   * image of a consistent state, not a list of writes: its documents are adopted as they are,
   * and its indexes are then built over them by the `ci` record that follows, as
   * `createIndexes` builds them.
   */
  adopt(records: Uint8Array): number {
    const slots = this.#heap.adopt(records);
    for (const slot of slots) {
      const src = this.#storedSource(slot);
      let key: Key | undefined;
      const same = (other: number) =>
        sameKey(indexKey(this.field(other, "_id")), key ??= indexKey(src.top("_id")));
      if (this.#ids.insert(this.#idHash(src), slot, same) !== undefined) {
        throw new Error(`Cannot load documents: duplicate _id in ${this.ns}`);
      }
      for (const index of this.#indexes) {
        const e = index.entries(src);
        if (e) index.add(e, slot);
      }
      this.#append(slot);
    }
    return slots.length;
  }

  /** The codec's tables, for a snapshot; `loadCodecTables` takes them back. */
  codecTables(): { shapes: string[][]; dict: Uint8Array[] } {
    return this.#codec.tables();
  }

  loadCodecTables(tables: { shapes: string[][]; dict: Uint8Array[] }): void {
    this.#codec.loadTables(tables);
  }

  /** What a snapshot needs to write this collection as it is now. */
  capture(): CollectionCapture {
    const each = (visit: (slot: number) => void) => this.#order.forEach((_, slot) => visit(slot));
    return { heap: this.#heap.capture(this.count(), each), codec: this.#codec };
  }

  /** Bytes held by the documents (slabs, live and dead), for `listDatabases`. */
  get storageBytes(): number {
    return this.#heap.slabBytes;
  }
}

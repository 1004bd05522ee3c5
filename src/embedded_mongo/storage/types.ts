/**
 * The contract between the embedded server's command layer (`../commands/`) and its storage
 * engine (this folder). The command layer parses requests, plans and filters (with mingo), and
 * decides what to write; the storage engine holds the documents and indexes, enforces unique
 * indexes, and makes acknowledged writes durable.
 *
 * Documents come in as plain JS objects (as the `bson` package deserializes them) and are kept as
 * bytes; reading one gives a fresh object (built as `BSON.deserialize` would) or BSON bytes.
 */
import type { Document } from "bson";
import type { Range } from "./sorted.ts";

export type { Range };

/** An index as `createIndexes` and `listIndexes` describe it. `_id_` always exists. */
export interface IndexSpec {
  name: string;
  key: Record<string, number | string>;
  unique?: boolean;
  sparse?: boolean;
  /** A TTL index: documents whose (Date) field is older than this many seconds are removed. */
  expireAfterSeconds?: number;
  partialFilterExpression?: Document;
}

/**
 * One collection. Every mutation takes effect in memory synchronously, before it returns, so a
 * read-decide-write done in one synchronous stretch is atomic; a mutation that breaks a unique
 * index throws `DuplicateKeyError`, and one that cannot be journaled throws `JournalError`,
 * synchronously, and changes nothing. Its record reaches the OS before it returns; an fsync is
 * awaited separately with `Store.durable()`.
 *
 * Documents are found by slot (a small integer, valid while the document lives; a freed slot is
 * reused) and read on demand: decoded (`decode`, a fresh object the caller owns), as BSON bytes
 * (`bson`), or one top-level field at a time (`field`).
 */
export interface CollectionStore {
  readonly db: string;
  readonly name: string;
  readonly options: Document;
  count(): number;
  /** Slots in natural order (insertion order; a replaced document keeps its place), lazily. */
  slots(): IterableIterator<number>;
  /** Whether `slot` holds a document now. */
  has(slot: number): boolean;
  slotOf(id: unknown): number | undefined;
  decode(slot: number): Document;
  /** A top-level field of the document in `slot`, or the `MISSING` symbol of `keys.ts`. */
  field(slot: number, name: string): unknown;
  bson(slot: number): Uint8Array;
  bsonSize(slot: number): number;
  /**
   * Slots whose `field` equals `value`, through `_id` or an index whose first key is `field`, or
   * `undefined` when no index applies. May hold more (the caller filters again); never misses.
   */
  lookupSlots(field: string, value: unknown): number[] | undefined;
  /** Slots whose `field` is a number (or a date) in `range`, from an ordered index, in order. */
  rangeSlots(field: string, kind: "number" | "date", range: Range): number[] | undefined;
  /** How many documents `rangeSlots` would give, counted in the index alone, when it can say. */
  countRange(field: string, kind: "number" | "date", range: Range): number | undefined;
  /** All documents decoded, in natural order. */
  all(): IterableIterator<Document>;
  getById(id: unknown): Document | undefined;
  /** `lookupSlots`, decoded. */
  lookup(field: string, value: unknown): Document[] | undefined;
  insert(doc: Document): void;
  /** Replaces the document with this `_id` (which must exist); `doc._id` must equal `id`. */
  replace(id: unknown, doc: Document): void;
  /** Removes the document with this `_id`; false when there was none. */
  delete(id: unknown): boolean;
  listIndexes(): IndexSpec[];
  /** Creates indexes; an identical existing index is not an error. Returns how many were new. */
  createIndexes(specs: IndexSpec[]): number;
  /** Drops one index by name, or every index but `_id_` with `"*"`. */
  dropIndex(name: string): void;
}

/** What the TTL monitor has done, as `serverStatus().metrics.ttl` reports it. */
export interface TtlMetrics {
  /** Documents removed because they expired. */
  deletedDocuments: number;
  /** Passes of the monitor. */
  passes: number;
  /** The longest stretch (ms) a pass has run without yielding to the event loop. */
  longestSliceMs: number;
}

export interface Store {
  listDatabases(): { name: string; sizeOnDisk: number; empty: boolean }[];
  listCollections(db: string): { name: string; options: Document }[];
  getCollection(db: string, name: string): CollectionStore | undefined;
  /** Returns the collection, creating it (with its `_id_` index) when it does not exist. */
  createCollection(db: string, name: string, options?: Document): CollectionStore;
  dropCollection(db: string, name: string): boolean;
  dropDatabase(db: string): void;
  /**
   * Removes every document past its TTL index's expiry at `now`, walking each TTL index in
   * slices of a few milliseconds that yield to the event loop; resolves to how many it removed.
   * One pass at a time: a call made while a pass runs gets that pass's result. `sliceMs`
   * (default 5) bounds each stretch; 0 yields after every batch of 64 deletes.
   */
  expireTtl(now: Date, sliceMs?: number): Promise<number>;
  /** What the TTL monitor has done since the store opened. */
  ttlMetrics(): TtlMetrics;
  /** Resolves once every mutation made so far is durable (see the fsync policy). */
  durable(): Promise<void>;
  /** Whether writes are being accepted, and if not, why (for `serverStatus` and readiness). */
  status(): StoreStatus;
  close(): Promise<void>;
}

export interface StoreStatus {
  /** Whether the store keeps a data folder. */
  persistent: boolean;
  /** False while writes fail (the last write could not be journaled or fsynced). */
  writable: boolean;
  /** Why writes fail, e.g. `Cannot write the journal: No space left on device (os error 28)`. */
  error?: string;
  /** When writes started failing. */
  failingSince?: Date;
  /** Writes refused since the store opened. */
  failedWrites: number;
}

/** The part of `Deno.FsFile` the journal uses: the seam where tests inject a failing disk. */
export type JournalFile = Pick<
  Deno.FsFile,
  "writeSync" | "truncateSync" | "syncData" | "syncDataSync" | "statSync" | "close"
>;

export interface StoreOptions {
  /** The data folder; absent means in memory only. */
  dataDir?: string;
  /**
   * "always": fsync before `durable()` resolves. "interval" (default): written to the OS before
   * it resolves (survives `kill -9`), fsynced every `fsyncIntervalMs` (survives power loss but
   * for the last interval).
   */
  fsync?: "always" | "interval";
  fsyncIntervalMs?: number;
  /** Opens a journal file for appending (default: `Deno.openSync`, mode 0600). Tests wrap it. */
  openJournal?: (path: string) => JournalFile;
  /** Receives structured events (no document contents); default: JSON lines on stderr. */
  log?: (event: Record<string, unknown>) => void;
}

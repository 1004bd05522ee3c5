/**
 * The contract between the embedded server's command layer (`../commands/`) and its storage
 * engine (this folder). The command layer parses requests, plans and filters (with mingo), and
 * decides what to write; the storage engine holds the documents and indexes, enforces unique
 * indexes, and makes acknowledged writes durable.
 *
 * Documents are plain JS objects as the `bson` package deserializes them (the command layer picks
 * the options and uses them everywhere); the store never changes a document it is given and
 * never hands out a document that the caller may mutate without copying first.
 */
import type { Document } from "bson";

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

/** Thrown synchronously by a write that would break a unique index; the write left no trace. */
export class DuplicateKeyError extends Error {
  readonly code = 11000;
  constructor(
    readonly ns: string,
    readonly indexName: string,
    readonly keyPattern: Record<string, number | string>,
    readonly keyValue: Document,
  ) {
    super(
      `E11000 duplicate key error collection: ${ns} index: ${indexName} dup key: ${
        JSON.stringify(keyValue)
      }`,
    );
  }
}

/**
 * Thrown synchronously by a write whose journal record could not be written (disk full, read-only,
 * I/O error): the write was not applied. MongoDB's code 42, `LogWriteFailed`.
 */
export class JournalError extends Error {
  readonly code = 42;
  readonly codeName = "LogWriteFailed";
}

/** Thrown for a bad index request: a MongoDB error code (67, 85, 86, 27, ...) and its message. */
export class IndexError extends Error {
  constructor(readonly code: number, message: string, readonly codeName?: string) {
    super(message);
  }
}

/**
 * One collection. Every mutation takes effect in memory synchronously, before it returns, so a
 * read-decide-write done in one synchronous stretch is atomic; a mutation that breaks a unique
 * index throws `DuplicateKeyError`, and one that cannot be journaled throws `JournalError`,
 * synchronously, and changes nothing. Its record reaches the OS before it returns; an fsync is
 * awaited separately with `Store.durable()`.
 */
export interface CollectionStore {
  readonly db: string;
  readonly name: string;
  readonly options: Document;
  count(): number;
  /** All documents in natural order (insertion order; a replaced document keeps its place). */
  all(): IterableIterator<Document>;
  getById(id: unknown): Document | undefined;
  /**
   * Documents whose `field` equals `value`, found through an index whose first key is `field`
   * (`_id` included), or `undefined` when no index starts with `field`. May return a superset
   * (the caller filters again); never misses a match.
   */
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

export interface Store {
  listDatabases(): { name: string; sizeOnDisk: number; empty: boolean }[];
  listCollections(db: string): { name: string; options: Document }[];
  getCollection(db: string, name: string): CollectionStore | undefined;
  /** Returns the collection, creating it (with its `_id_` index) when it does not exist. */
  createCollection(db: string, name: string, options?: Document): CollectionStore;
  dropCollection(db: string, name: string): boolean;
  dropDatabase(db: string): void;
  /** Removes every document past its TTL index's expiry at `now`; returns how many. */
  expireTtl(now: Date): number;
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

/**
 * The embedded server's storage engine: `openStore` returns a `Store` (see `types.ts`) that keeps
 * every collection and index in memory and, given a `dataDir`, persists it: a journal of framed
 * BSON records (length, CRC-32, body) written ahead of every mutation (a mutation whose record
 * cannot be written throws `JournalError` and is not applied), plus a snapshot written by
 * compaction. The file format, the fsync policy (`"interval"` by default: fsynced every 100 ms;
 * `"always"`: fsynced before `durable()` resolves, with group commit), what happens when the
 * disk is full, compaction and crash recovery are described in `persistence.ts`.
 *
 * Documents are kept compact (`codec.ts`: BSON without repeated field names, in slabs, found by
 * slot through `heap.ts`) and decoded on demand; each index points at slots (`indexes.ts`):
 * `_id` and equality lookups are hash lookups, ranges over numbers or dates (and the TTL monitor)
 * walk an ordered index (`sorted.ts`), and a range count is answered from the index alone.
 * Every change is a `JournalOp` (`ops.ts`) that goes through one `execute` path, live or
 * replayed (`store.ts`, `collection.ts`).
 *
 * Measured on a shared 2-core machine with 1M session documents (indexes on `user` and a TTL
 * date): see the README's benchmarks (`deno task bench`) for RSS per million documents, lookups
 * at 1k and 1M, the longest event-loop block of a TTL pass and the restart time.
 */
import type { Document } from "bson";
import { Persistence } from "./persistence.ts";
import { Catalog } from "./store.ts";
import type { CollectionStore, Store, StoreOptions, StoreStatus, TtlMetrics } from "./types.ts";

export * from "./types.ts";
export { DuplicateKeyError, IndexError, JournalError } from "../errors.ts";

class MemoryStore implements Store {
  constructor(readonly catalog: Catalog) {}

  listDatabases(): { name: string; sizeOnDisk: number; empty: boolean }[] {
    return this.catalog.listDatabases();
  }
  listCollections(db: string): { name: string; options: Document }[] {
    return this.catalog.listCollections(db);
  }
  getCollection(db: string, name: string): CollectionStore | undefined {
    return this.catalog.getCollection(db, name);
  }
  createCollection(db: string, name: string, options?: Document): CollectionStore {
    return this.catalog.createCollection(db, name, options);
  }
  dropCollection(db: string, name: string): boolean {
    return this.catalog.dropCollection(db, name);
  }
  dropDatabase(db: string): void {
    this.catalog.dropDatabase(db);
  }
  expireTtl(now: Date, sliceMs?: number): Promise<number> {
    return this.catalog.expireTtl(now, sliceMs);
  }
  ttlMetrics(): TtlMetrics {
    return this.catalog.ttlMetrics();
  }
  durable(): Promise<void> {
    return Promise.resolve();
  }
  status(): StoreStatus {
    return { persistent: false, writable: true, failedWrites: 0 };
  }
  close(): Promise<void> {
    this.catalog.close();
    return Promise.resolve();
  }
}

class PersistentStore extends MemoryStore {
  #persistence: Persistence;
  #closing?: Promise<void>;

  constructor(catalog: Catalog, persistence: Persistence) {
    super(catalog);
    this.#persistence = persistence;
  }
  override durable(): Promise<void> {
    return this.#persistence.durable();
  }
  override status(): StoreStatus {
    return this.#persistence.status();
  }
  /** Writes a fresh snapshot now (also done on close and when the journal grows large). */
  compact(): Promise<void> {
    return this.#persistence.compact();
  }
  override close(): Promise<void> {
    this.catalog.close();
    this.#closing ??= this.#persistence.close();
    return this.#closing;
  }
}

/** Opens a store: in memory without `dataDir`, else loaded from and persisted to that folder. */
export function openStore(options: StoreOptions = {}): Promise<Store> {
  const catalog = new Catalog();
  if (options.dataDir === undefined) return Promise.resolve(new MemoryStore(catalog));
  try {
    const persistence = Persistence.open(options.dataDir, catalog, options);
    return Promise.resolve(new PersistentStore(catalog, persistence));
  } catch (e) {
    return Promise.reject(e);
  }
}

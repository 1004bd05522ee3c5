/**
 * The embedded server's storage engine: `openStore` returns a `Store` (see `types.ts`) that keeps
 * every collection and index in memory and, given a `dataDir`, persists it: a journal of framed
 * BSON records (length, CRC-32, body) written ahead of every mutation (a mutation whose record
 * cannot be written throws `JournalError` and is not applied), plus a snapshot written by
 * compaction. The file format, the fsync policy (`"interval"` by default: fsynced every 100 ms;
 * `"always"`: fsynced before `durable()` resolves, with group commit), what happens when the
 * disk is full, compaction and crash recovery are described in `persistence.ts`.
 *
 * Costs: `getById` and `lookup` are one hash lookup plus O(matches); `insert`, `replace` and
 * `delete` cost O(indexes) hash operations; `expireTtl` scans each collection that has a TTL
 * index (O(documents) per TTL index per call); `createIndexes` scans the collection once.
 * Measured on a shared 2-core machine with 1M session-like documents (8 fields, indexes on a
 * unique token hash, a user and a TTL date): insert ~9 us, `lookup` ~3 us, `getById` ~1.5 us
 * (about 0.3-0.4 us at 1k documents: the same hash operations, fewer cache misses), about 1 GB
 * of RSS, `expireTtl` ~70-90 ms per call; loading 1M documents from the snapshot ~11 s. With a
 * data folder, every mutation also makes one `write` to the OS before it is applied (measured:
 * insert plus `durable()` ~18-23 us, against ~18 us when records were written in groups).
 *
 * Documents are kept as the very objects the caller hands to `insert`/`replace` and handed out as
 * the very objects kept: callers must treat both as frozen (the command layer passes fresh
 * objects and copies what it reads before changing it).
 */
import type { Document } from "bson";
import { Persistence } from "./persistence.ts";
import { Catalog } from "./store.ts";
import type { CollectionStore, Store, StoreOptions, StoreStatus } from "./types.ts";

export * from "./types.ts";

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
  expireTtl(now: Date): number {
    return this.catalog.expireTtl(now);
  }
  durable(): Promise<void> {
    return Promise.resolve();
  }
  status(): StoreStatus {
    return { persistent: false, writable: true, failedWrites: 0 };
  }
  close(): Promise<void> {
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

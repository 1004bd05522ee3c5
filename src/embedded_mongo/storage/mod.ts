/**
 * The embedded server's storage engine: `openStore` returns a `Store` (see `types.ts`) that keeps
 * every collection and index in memory and, given a `dataDir`, persists it (persistence.ts).
 *
 * Documents are kept as the very objects the caller hands to `insert`/`replace` and handed out as
 * the very objects kept: callers must treat both as frozen (the command layer passes fresh
 * objects and copies what it reads before changing it).
 */
import type { Document } from "bson";
import { Catalog } from "./store.ts";
import type { CollectionStore, Store, StoreOptions } from "./types.ts";

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
  close(): Promise<void> {
    return Promise.resolve();
  }
}

export function openStore(options: StoreOptions = {}): Promise<Store> {
  if (options.dataDir === undefined) return Promise.resolve(new MemoryStore(new Catalog()));
  throw new Error("Cannot open store: persistence is not implemented yet");
}

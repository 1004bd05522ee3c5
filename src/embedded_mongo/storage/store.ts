/**
 * The catalog: databases and their collections, in memory, each mutation reported to a
 * `Journal` before it is applied (persistence.ts writes it to disk; in memory it goes nowhere).
 */
import type { Document } from "bson";
import { type Journal, MemoryCollection, NO_JOURNAL } from "./collection.ts";
import type { IndexSpec } from "./types.ts";

export class Catalog implements Journal {
  readonly dbs = new Map<string, Map<string, MemoryCollection>>();
  /** Where mutations go; collections report through the catalog, so this may change later. */
  journal: Journal = NO_JOURNAL;

  record(op: Document): void {
    this.journal.record(op);
  }

  listDatabases(): { name: string; sizeOnDisk: number; empty: boolean }[] {
    const out = [];
    for (const [name, colls] of this.dbs) {
      if (colls.size === 0) continue;
      let docs = 0;
      for (const c of colls.values()) docs += c.count();
      // An estimate: the store keeps no per-document size.
      out.push({ name, sizeOnDisk: 4096 * colls.size + 256 * docs, empty: docs === 0 });
    }
    return out;
  }

  listCollections(db: string): { name: string; options: Document }[] {
    const colls = this.dbs.get(db);
    if (!colls) return [];
    return [...colls.values()].map((c) => ({ name: c.name, options: structuredClone(c.options) }));
  }

  getCollection(db: string, name: string): MemoryCollection | undefined {
    return this.dbs.get(db)?.get(name);
  }

  createCollection(db: string, name: string, options: Document = {}): MemoryCollection {
    const existing = this.getCollection(db, name);
    if (existing) return existing;
    this.journal.record({ op: "cc", db, c: name, o: options });
    return this.loadCollection(db, name, options);
  }

  /** Creates a collection without journaling (replay, snapshot load). */
  loadCollection(db: string, name: string, options: Document = {}): MemoryCollection {
    let colls = this.dbs.get(db);
    if (!colls) this.dbs.set(db, colls = new Map());
    let coll = colls.get(name);
    if (!coll) colls.set(name, coll = new MemoryCollection(db, name, options, this));
    return coll;
  }

  dropCollection(db: string, name: string): boolean {
    const colls = this.dbs.get(db);
    if (!colls?.has(name)) return false;
    this.journal.record({ op: "dc", db, c: name });
    colls.delete(name);
    if (colls.size === 0) this.dbs.delete(db);
    return true;
  }

  dropDatabase(db: string): void {
    if (!this.dbs.has(db)) return;
    this.journal.record({ op: "dd", db });
    this.dbs.delete(db);
  }

  expireTtl(now: Date): number {
    const t = now.getTime();
    let n = 0;
    for (const colls of this.dbs.values()) {
      for (const coll of colls.values()) {
        for (const [field, seconds] of coll.ttlIndexes()) {
          n += coll.expire(field, seconds * 1000, t);
        }
      }
    }
    return n;
  }

  /** Applies one journal record without journaling it again. */
  apply(op: Document): void {
    switch (op.op) {
      case "i":
        this.loadCollection(op.db, op.c).load(op.d);
        return;
      case "r":
        this.#need(op).loadReplace(op.d);
        return;
      case "d":
        this.#need(op).loadDelete(op.id);
        return;
      case "cc":
        this.loadCollection(op.db, op.c, op.o ?? {});
        return;
      case "dc": {
        const colls = this.dbs.get(op.db);
        colls?.delete(op.c);
        if (colls?.size === 0) this.dbs.delete(op.db);
        return;
      }
      case "dd":
        this.dbs.delete(op.db);
        return;
      case "ci":
        this.loadCollection(op.db, op.c).loadIndexes(op.specs as IndexSpec[]);
        return;
      case "di":
        this.getCollection(op.db, op.c)?.loadDropIndex(op.name);
        return;
      default:
        throw new Error(`Cannot replay journal: unknown record ${JSON.stringify(op.op)}`);
    }
  }

  #need(op: Document): MemoryCollection {
    const coll = this.getCollection(op.db, op.c);
    if (!coll) throw new Error(`Cannot replay journal: no collection ${op.db}.${op.c}`);
    return coll;
  }
}

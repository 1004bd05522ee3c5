/**
 * The catalog: databases and their collections, in memory. Every change is a `JournalOp` that
 * goes through `execute`: checked, handed to the `journal` (persistence.ts writes it ahead; in
 * memory it goes nowhere), then applied. Replaying a journal or loading a snapshot is `execute`
 * too, run before persistence installs its journal.
 *
 * The TTL monitor's pass (`expireTtl`) walks each TTL index's dates from the oldest, deleting
 * through `execute` in slices of `TTL_SLICE_MS` and yielding to the event loop between slices,
 * as mongod's TTL monitor deletes through the index; `ttlMetrics` counts what it did.
 */
import type { Document } from "bson";
import { type Journal, MemoryCollection, NO_JOURNAL } from "./collection.ts";
import type { SingleIndex } from "./indexes.ts";
import type { JournalOp } from "./ops.ts";
import type { TtlMetrics } from "./types.ts";

/** The longest stretch a TTL pass runs without yielding to the event loop. */
export const TTL_SLICE_MS = 5;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

export class Catalog {
  readonly dbs = new Map<string, Map<string, MemoryCollection>>();
  /** Where mutations go; set by persistence once loading is done. */
  journal: Journal = NO_JOURNAL;
  #ttl: TtlMetrics = { deletedDocuments: 0, passes: 0, longestSliceMs: 0 };
  #ttlPass?: Promise<number>;
  #closed = false;

  listDatabases(): { name: string; sizeOnDisk: number; empty: boolean }[] {
    const out = [];
    for (const [name, colls] of this.dbs) {
      if (colls.size === 0) continue;
      let docs = 0;
      let bytes = 0;
      for (const c of colls.values()) {
        docs += c.count();
        bytes += c.storageBytes;
      }
      out.push({ name, sizeOnDisk: 4096 * colls.size + bytes, empty: docs === 0 });
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
    this.execute({ op: "cc", db, c: name, options });
    return this.getCollection(db, name)!;
  }

  dropCollection(db: string, name: string): boolean {
    if (!this.dbs.get(db)?.has(name)) return false;
    this.execute({ op: "dc", db, c: name });
    return true;
  }

  dropDatabase(db: string): void {
    if (this.dbs.has(db)) this.execute({ op: "dd", db });
  }

  /**
   * Checks `op`, journals it and applies it: the one path of every change, live or replayed.
   * A creation of an existing collection, or a drop of a missing one, changes nothing and is not
   * journaled.
   */
  execute(op: JournalOp): void {
    switch (op.op) {
      case "cc": {
        if (this.getCollection(op.db, op.c)) return;
        this.journal.record(op);
        let colls = this.dbs.get(op.db);
        if (!colls) this.dbs.set(op.db, colls = new Map());
        colls.set(op.c, new MemoryCollection(op.db, op.c, op.options, this));
        return;
      }
      case "dc": {
        const colls = this.dbs.get(op.db);
        if (!colls?.has(op.c)) return;
        this.journal.record(op);
        colls.delete(op.c);
        if (colls.size === 0) this.dbs.delete(op.db);
        return;
      }
      case "dd":
        if (!this.dbs.has(op.db)) return;
        this.journal.record(op);
        this.dbs.delete(op.db);
        return;
      case "i":
        // An insert creates its collection (journaled as a `cc` first).
        (this.getCollection(op.db, op.c) ?? this.createCollection(op.db, op.c)).execute(op);
        return;
      case "ci":
        (this.getCollection(op.db, op.c) ?? this.createCollection(op.db, op.c)).execute(op);
        return;
      case "r":
      case "d":
      case "di": {
        const coll = this.getCollection(op.db, op.c);
        if (!coll) throw new Error(`Cannot apply ${op.op}: no collection ${op.db}.${op.c}`);
        coll.execute(op);
        return;
      }
    }
  }

  ttlMetrics(): TtlMetrics {
    return { ...this.#ttl };
  }

  /** Stops TTL passes (a pass under way stops at its next slice). */
  close(): void {
    this.#closed = true;
  }

  expireTtl(now: Date, sliceMs = TTL_SLICE_MS): Promise<number> {
    this.#ttlPass ??= this.#expireTtl(now.getTime(), sliceMs).finally(() => {
      this.#ttlPass = undefined;
    });
    return this.#ttlPass;
  }

  async #expireTtl(now: number, sliceMs: number): Promise<number> {
    this.#ttl.passes++;
    let total = 0;
    const work: { coll: MemoryCollection; index: SingleIndex; cutoff: number }[] = [];
    for (const colls of this.dbs.values()) {
      for (const coll of colls.values()) {
        for (const { index, seconds } of coll.ttlIndexes()) {
          work.push({ coll, index, cutoff: now - seconds * 1000 });
        }
      }
    }
    for (const { coll, index, cutoff } of work) {
      for (;;) {
        if (this.#closed || this.getCollection(coll.db, coll.name) !== coll) break;
        const start = performance.now();
        const more = coll.expireSome(index, cutoff, start + sliceMs, (n) => {
          total += n;
          this.#ttl.deletedDocuments += n;
        });
        const slice = performance.now() - start;
        if (slice > this.#ttl.longestSliceMs) this.#ttl.longestSliceMs = slice;
        if (!more) break;
        await yieldToEventLoop();
      }
    }
    return total;
  }
}

/**
 * Open cursors: what a find/aggregate/listIndexes has not yet returned, served in batches by
 * getMore, dropped by killCursors, when exhausted, or after 10 idle minutes. A cursor yields
 * documents, or BSON bytes of stored documents (`Uint8Array`), which the reply carries as they are.
 */
import { BSON, type Document, Long } from "bson";

/** What a cursor yields: a document, or the BSON bytes of one. */
export type CursorItem = Document | Uint8Array;

function sizeOf(item: CursorItem): number {
  return item instanceof Uint8Array ? item.length : BSON.calculateObjectSize(item);
}

/** Default first batch (documents), as MongoDB does. */
export const DEFAULT_FIRST_BATCH = 101;
/** A batch stops growing past this many bytes (the reply must stay under 16 MiB plus slack). */
export const MAX_BATCH_BYTES = 16 * 1024 * 1024 - 16 * 1024;
export const CURSOR_IDLE_MS = 10 * 60 * 1000;

interface OpenCursor {
  ns: string;
  iter: Iterator<CursorItem>;
  /** A document read ahead to learn whether the cursor is exhausted. */
  pending?: CursorItem;
  lastUsed: number;
}

export interface Batch {
  docs: CursorItem[];
  /** 0 when the cursor is exhausted (or was never opened). */
  id: Long;
}

export class CursorRegistry {
  #cursors = new Map<number, OpenCursor>();

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.#cursors.size;
  }

  /** Reads up to `limit` documents (and 16 MiB) from `cursor`, then peeks one more. */
  #fill(cursor: OpenCursor, limit: number): { docs: CursorItem[]; done: boolean } {
    const docs: CursorItem[] = [];
    let bytes = 0;
    while (docs.length < limit) {
      let doc: CursorItem;
      if (cursor.pending) {
        doc = cursor.pending;
        cursor.pending = undefined;
      } else {
        const r = cursor.iter.next();
        if (r.done) return { docs, done: true };
        doc = r.value;
      }
      const size = sizeOf(doc);
      if (docs.length > 0 && bytes + size > MAX_BATCH_BYTES) {
        cursor.pending = doc;
        return { docs, done: false };
      }
      bytes += size;
      docs.push(doc);
    }
    if (!cursor.pending) {
      const r = cursor.iter.next();
      if (r.done) return { docs, done: true };
      cursor.pending = r.value;
    }
    return { docs, done: false };
  }

  /**
   * The first batch of a new cursor over `docs`; the cursor stays open (and gets an id) only
   * when documents remain and `singleBatch` is not set.
   */
  open(
    ns: string,
    docs: Iterable<CursorItem>,
    batchSize?: number,
    singleBatch = false,
  ): Batch {
    const cursor: OpenCursor = { ns, iter: docs[Symbol.iterator](), lastUsed: this.now() };
    const { docs: batch, done } = this.#fill(cursor, batchSize ?? DEFAULT_FIRST_BATCH);
    if (done || singleBatch) {
      cursor.iter.return?.();
      return { docs: batch, id: Long.ZERO };
    }
    let id: number;
    do {
      id = Math.floor(Math.random() * 2 ** 52) + 1;
    } while (this.#cursors.has(id));
    this.#cursors.set(id, cursor);
    return { docs: batch, id: Long.fromNumber(id) };
  }

  /** The next batch of cursor `id`, or undefined when there is no such cursor on `ns`. */
  more(id: number, ns: string, batchSize?: number): Batch | undefined {
    const cursor = this.#cursors.get(id);
    if (!cursor || cursor.ns !== ns) return undefined;
    cursor.lastUsed = this.now();
    const { docs, done } = this.#fill(cursor, batchSize && batchSize > 0 ? batchSize : Infinity);
    if (done) {
      this.#cursors.delete(id);
      return { docs, id: Long.ZERO };
    }
    return { docs, id: Long.fromNumber(id) };
  }

  kill(id: number): boolean {
    const cursor = this.#cursors.get(id);
    if (!cursor) return false;
    cursor.iter.return?.();
    return this.#cursors.delete(id);
  }

  /** Closes cursors idle for longer than `idleMs`; returns how many. */
  reap(idleMs = CURSOR_IDLE_MS): number {
    const limit = this.now() - idleMs;
    let n = 0;
    for (const [id, cursor] of this.#cursors) {
      if (cursor.lastUsed < limit) {
        this.kill(id);
        n++;
      }
    }
    return n;
  }

  clear(): void {
    for (const id of [...this.#cursors.keys()]) this.kill(id);
  }
}

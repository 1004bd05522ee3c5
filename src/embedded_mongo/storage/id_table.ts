/**
 * The `_id` index of a collection: canonical key (`keys.ts`) to slot, as an open-addressing hash
 * table in typed arrays (linear probing; 4 bytes a cell, at most 70% full, plus a 4-byte hash per
 * slot). Unlike a `Map` it keeps no key of its own: a probe that meets a slot with the same hash
 * compares against the stored document's `_id` (`keyOf`), so a million documents cost a few
 * typed arrays and no object each.
 */
import type { Key } from "./keys.ts";

const EMPTY = 0;
const DELETED = -1;

/** The hashing helpers, with their scratch for reading a float's bits. */
class Hasher {
  readonly #f64 = new Float64Array(1);
  readonly #i32 = new Int32Array(this.#f64.buffer);

  hash(key: Key): number {
    if (typeof key === "string") {
      let h = 0x811c9dc5 ^ key.length;
      for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
      return h ^ (h >>> 15);
    }
    if (typeof key === "number") {
      this.#f64[0] = Number.isNaN(key) ? NaN : key;
      const h = Math.imul(this.#i32[0] ^ 0x27d4eb2d, 0x165667b1) ^ this.#i32[1];
      return Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
    }
    return key === null ? 0x5bd1e995 : key ? 0x1b873593 : 0x68e31da4;
  }
}

function sameKey(a: Key, b: Key): boolean {
  return a === b || (typeof a === "number" && typeof b === "number" && a !== a && b !== b);
}

export class IdTable {
  #cells = new Int32Array(64);
  #hashes = new Int32Array(64);
  #live = 0;
  #used = 0;
  readonly #hasher = new Hasher();

  /** `keyOf(slot)`: the canonical key of the `_id` stored in `slot`. */
  constructor(readonly keyOf: (slot: number) => Key) {}

  get size(): number {
    return this.#live;
  }

  get(key: Key): number | undefined {
    const h = this.#hasher.hash(key);
    const cells = this.#cells;
    const mask = cells.length - 1;
    for (let i = h & mask;; i = (i + 1) & mask) {
      const c = cells[i];
      if (c === EMPTY) return undefined;
      if (c > 0 && this.#hashes[c - 1] === h && sameKey(this.keyOf(c - 1), key)) return c - 1;
    }
  }

  /** Adds `key` (which must not be present) for `slot`. */
  add(key: Key, slot: number): void {
    if ((this.#used + 1) * 10 > this.#cells.length * 7) this.#rehash();
    const h = this.#hasher.hash(key);
    if (slot >= this.#hashes.length) {
      const bigger = new Int32Array(Math.max(slot + 1, this.#hashes.length * 2));
      bigger.set(this.#hashes);
      this.#hashes = bigger;
    }
    this.#hashes[slot] = h;
    this.#place(h, slot);
    this.#live++;
  }

  #place(h: number, slot: number): void {
    const cells = this.#cells;
    const mask = cells.length - 1;
    let i = h & mask;
    while (cells[i] > 0) i = (i + 1) & mask;
    if (cells[i] === EMPTY) this.#used++;
    cells[i] = slot + 1;
  }

  /** Removes the entry of `slot`. */
  remove(slot: number): void {
    const cells = this.#cells;
    const mask = cells.length - 1;
    for (let i = this.#hashes[slot] & mask;; i = (i + 1) & mask) {
      const c = cells[i];
      if (c === EMPTY) return;
      if (c === slot + 1) {
        cells[i] = DELETED;
        this.#live--;
        return;
      }
    }
  }

  /** Rebuilds the table, twice as large when it is more than a third full of live entries. */
  #rehash(): void {
    const old = this.#cells;
    const size = this.#live * 3 > old.length ? old.length * 2 : old.length;
    this.#cells = new Int32Array(size);
    this.#used = 0;
    for (let i = 0; i < old.length; i++) {
      const c = old[i];
      if (c > 0) this.#place(this.#hashes[c - 1], c - 1);
    }
  }
}

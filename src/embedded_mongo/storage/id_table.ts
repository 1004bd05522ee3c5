/**
 * The `_id` index of a collection: canonical key (`keys.ts`) to slot, as an open-addressing hash
 * table in typed arrays (linear probing; 4 bytes a cell, at most 70% full, plus the key's 32-bit
 * hash per slot, `key_hash.ts`). Unlike a `Map` it keeps no key of its own: a probe that meets
 * a slot with the same hash asks the caller whether that slot holds the key (`find`), so a
 * million documents cost a few typed arrays and no object each.
 */

const EMPTY = 0;
const DELETED = -1;

export class IdTable {
  #cells = new Int32Array(64);
  #hashes = new Int32Array(64);
  #live = 0;
  #used = 0;

  get size(): number {
    return this.#live;
  }

  /** The slot with hash `h` for which `same(slot)` holds, or undefined. */
  find(h: number, same: (slot: number) => boolean): number | undefined {
    const cells = this.#cells;
    const mask = cells.length - 1;
    for (let i = h & mask;; i = (i + 1) & mask) {
      const c = cells[i];
      if (c === EMPTY) return undefined;
      if (c > 0 && this.#hashes[c - 1] === h && same(c - 1)) return c - 1;
    }
  }

  /**
   * Adds `slot`, whose key hashes to `h`, unless a slot for which `same(slot)` holds is there
   * already (then returns that slot and adds nothing): one probe for both.
   */
  insert(h: number, slot: number, same: (slot: number) => boolean): number | undefined {
    if ((this.#used + 1) * 10 > this.#cells.length * 7) this.#rehash();
    const cells = this.#cells;
    const mask = cells.length - 1;
    let free = -1;
    let i = h & mask;
    for (;; i = (i + 1) & mask) {
      const c = cells[i];
      if (c === EMPTY) break;
      if (c === DELETED) {
        if (free < 0) free = i;
      } else if (this.#hashes[c - 1] === h && same(c - 1)) return c - 1;
    }
    if (free < 0) {
      free = i;
      this.#used++;
    }
    if (slot >= this.#hashes.length) {
      const bigger = new Int32Array(Math.max(slot + 1, this.#hashes.length * 2));
      bigger.set(this.#hashes);
      this.#hashes = bigger;
    }
    this.#hashes[slot] = h;
    cells[free] = slot + 1;
    this.#live++;
    return undefined;
  }

  /** Puts `slot` in the first free cell of its probe (rehashing: no tombstones yet). */
  #place(h: number, slot: number): void {
    const cells = this.#cells;
    const mask = cells.length - 1;
    let i = h & mask;
    while (cells[i] !== EMPTY) i = (i + 1) & mask;
    this.#used++;
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

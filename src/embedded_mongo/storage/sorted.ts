/**
 * An ordered set of (key, slot) pairs, keys being numbers (a Date as its milliseconds), ordered by
 * key then slot: the ordered part of a single-field index. Kept as a list of blocks of at most
 * 1024 pairs in typed arrays (12 bytes a pair), so adding or removing a pair costs a binary
 * search and a shift within one block, finding a position costs two binary searches, and
 * counting a range costs one addition per block (about a thousand for a million pairs).
 */

const CAP = 1024;
/** A slot larger than any: `(key, AFTER)` sorts after every pair with that key. */
const AFTER = 2 ** 31;
/** A slot smaller than any. */
const BEFORE = -1;

interface Block {
  keys: Float64Array;
  slots: Int32Array;
  n: number;
}

function newBlock(): Block {
  return { keys: new Float64Array(CAP), slots: new Int32Array(CAP), n: 0 };
}

function before(k1: number, s1: number, k2: number, s2: number): boolean {
  return k1 < k2 || (k1 === k2 && s1 < s2);
}

/** Bounds of a key range; an absent side is open. */
export interface Range {
  lo?: number;
  loInclusive?: boolean;
  hi?: number;
  hiInclusive?: boolean;
}

export class SortedPairs {
  #blocks: Block[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** The block index and position of the first pair not before `(key, slot)`. */
  #lowerBound(key: number, slot: number): [number, number] {
    const blocks = this.#blocks;
    let lo = 0;
    let hi = blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const b = blocks[mid];
      if (before(b.keys[b.n - 1], b.slots[b.n - 1], key, slot)) lo = mid + 1;
      else hi = mid;
    }
    if (lo === blocks.length) return [lo, 0];
    const b = blocks[lo];
    let i = 0;
    let j = b.n;
    while (i < j) {
      const mid = (i + j) >> 1;
      if (before(b.keys[mid], b.slots[mid], key, slot)) i = mid + 1;
      else j = mid;
    }
    return [lo, i];
  }

  add(key: number, slot: number): void {
    this.#size++;
    if (this.#blocks.length === 0) this.#blocks.push(newBlock());
    const last = this.#blocks[this.#blocks.length - 1];
    if (last.n === 0 || before(last.keys[last.n - 1], last.slots[last.n - 1], key, slot)) {
      // Appending (natural order, dates that grow): fill the last block, then start another.
      const b = last.n < CAP ? last : newBlock();
      if (b !== last) this.#blocks.push(b);
      b.keys[b.n] = key;
      b.slots[b.n++] = slot;
      return;
    }
    let [bi, i] = this.#lowerBound(key, slot);
    if (bi === this.#blocks.length) {
      bi--;
      i = this.#blocks[bi].n;
    }
    let b = this.#blocks[bi];
    if (b.n === CAP) {
      const right = newBlock();
      const half = CAP >> 1;
      right.keys.set(b.keys.subarray(half));
      right.slots.set(b.slots.subarray(half));
      right.n = CAP - half;
      b.n = half;
      this.#blocks.splice(bi + 1, 0, right);
      if (i > half) {
        b = right;
        i -= half;
      }
    }
    b.keys.copyWithin(i + 1, i, b.n);
    b.slots.copyWithin(i + 1, i, b.n);
    b.keys[i] = key;
    b.slots[i] = slot;
    b.n++;
  }

  /** Removes the pair; false when it was not there. */
  delete(key: number, slot: number): boolean {
    const [bi, i] = this.#lowerBound(key, slot);
    const b = this.#blocks[bi];
    if (!b || b.keys[i] !== key || b.slots[i] !== slot) return false;
    b.keys.copyWithin(i, i + 1, b.n);
    b.slots.copyWithin(i, i + 1, b.n);
    b.n--;
    this.#size--;
    if (b.n === 0) this.#blocks.splice(bi, 1);
    else if (b.n < CAP / 4) {
      const next = this.#blocks[bi + 1];
      if (next && b.n + next.n <= CAP / 2) {
        b.keys.set(next.keys.subarray(0, next.n), b.n);
        b.slots.set(next.slots.subarray(0, next.n), b.n);
        b.n += next.n;
        this.#blocks.splice(bi + 1, 1);
      }
    }
    return true;
  }

  /** Whether a pair with `key` and a slot other than `slot` exists. */
  hasOther(key: number, slot: number): boolean {
    for (const s of this.slots({ lo: key, loInclusive: true, hi: key, hiInclusive: true }, 2)) {
      if (s !== slot) return true;
    }
    return false;
  }

  #start(r: Range): [number, number] {
    if (r.lo === undefined) return [0, 0];
    return this.#lowerBound(r.lo, r.loInclusive ? BEFORE : AFTER);
  }

  #end(r: Range): [number, number] {
    if (r.hi === undefined) return [this.#blocks.length, 0];
    return this.#lowerBound(r.hi, r.hiInclusive ? AFTER : BEFORE);
  }

  /** How many pairs have a key in `r`. */
  count(r: Range): number {
    const [b1, i1] = this.#start(r);
    const [b2, i2] = this.#end(r);
    if (b1 > b2 || (b1 === b2 && i1 >= i2)) return 0;
    if (b1 === b2) return i2 - i1;
    let n = this.#blocks[b1].n - i1 + i2;
    for (let b = b1 + 1; b < b2; b++) n += this.#blocks[b].n;
    return n;
  }

  /** The slots of the pairs with a key in `r`, in key order (at most `limit`). */
  slots(r: Range, limit = Infinity): number[] {
    const out: number[] = [];
    let [b, i] = this.#start(r);
    const [b2, i2] = this.#end(r);
    while ((b < b2 || (b === b2 && i < i2)) && out.length < limit) {
      const block = this.#blocks[b];
      if (i >= block.n) {
        b++;
        i = 0;
        continue;
      }
      out.push(block.slots[i++]);
    }
    return out;
  }

  /** Up to `limit` pairs with a key greater than `after`, in order, into `keys` and `slots`. */
  after(after: number, limit: number, keys: number[], slots: number[]): void {
    keys.length = 0;
    slots.length = 0;
    let [b, i] = this.#lowerBound(after, AFTER);
    while (b < this.#blocks.length && slots.length < limit) {
      const block = this.#blocks[b];
      if (i >= block.n) {
        b++;
        i = 0;
        continue;
      }
      keys.push(block.keys[i]);
      slots.push(block.slots[i++]);
    }
  }

  /** Calls `fn` with every pair, in order (the set must not change meanwhile). */
  forEach(fn: (key: number, slot: number) => void): void {
    for (const b of this.#blocks) for (let i = 0; i < b.n; i++) fn(b.keys[i], b.slots[i]);
  }

  /** The smallest key, or undefined when empty. */
  firstKey(): number | undefined {
    return this.#blocks.length ? this.#blocks[0].keys[0] : undefined;
  }
}

/**
 * Where a collection's documents live: their compact bytes (`codec.ts`) packed one after another
 * into slabs (one `Uint8Array` each, 16 KiB growing to 1 MiB), found by slot number. A slot is a
 * small integer that indexes point to; its location is one float in `#locs` (slab * 2^32 +
 * offset), so a million documents cost a few hundred slabs and no object each.
 *
 * - A record is `u32 slot | u32 length | bytes`. Bytes once written are never changed: a
 *   replacement writes a new record and leaves the old one dead, so a reader holding a slab (a
 *   snapshot being written, a cursor) keeps seeing what was there.
 * - A slab whose dead bytes pass a quarter of it (and that is not the one being filled) is
 *   compacted at once: its live records are copied to the current slab and it is dropped. That
 *   costs at most one slab copy per write, and bounds the waste.
 * - Freed slots are reused (most recently freed first).
 */

const MIN_SLAB = 16 * 1024;
const MAX_SLAB = 1024 * 1024;
const HEADER = 8;
const SLAB_FACTOR = 2 ** 32;

function u32(b: Uint8Array, p: number): number {
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
}

function putU32(b: Uint8Array, p: number, v: number): void {
  b[p] = v;
  b[p + 1] = v >>> 8;
  b[p + 2] = v >>> 16;
  b[p + 3] = v >>> 24;
}

/** The slabs and record locations a snapshot reads from, frozen at one instant. */
export interface HeapCapture {
  slabs: readonly (Uint8Array | undefined)[];
  /** Record locations, in the order asked for. */
  locs: Float64Array;
}

export class DocHeap {
  #slabs: (Uint8Array | undefined)[] = [];
  #dead: number[] = [];
  #freeSlabs: number[] = [];
  #cur = -1;
  #used = 0;
  #locs = new Float64Array(64).fill(-1);
  #freeSlots: number[] = [];
  #nextSlot = 0;
  #liveBytes = 0;
  /** Set by `locate`: where the record's bytes start and end in the slab it returned. */
  pos = 0;
  end = 0;

  /** Bytes held in slabs (live and dead). */
  get slabBytes(): number {
    let n = 0;
    for (const s of this.#slabs) if (s) n += s.length;
    return n;
  }

  /** Whether `slot` holds a document now. */
  has(slot: number): boolean {
    return slot >= 0 && slot < this.#nextSlot && this.#locs[slot] >= 0;
  }

  /** The slab holding `slot`'s bytes; sets `pos` and `end`. The slot must be live. */
  locate(slot: number): Uint8Array {
    const loc = this.#locs[slot];
    const s = (loc / SLAB_FACTOR) | 0;
    const slab = this.#slabs[s]!;
    const at = loc - s * SLAB_FACTOR;
    this.pos = at + HEADER;
    this.end = this.pos + u32(slab, at + 4);
    return slab;
  }

  /** Stores `bytes` (copied) in a new slot; returns the slot. */
  add(bytes: Uint8Array): number {
    let slot = this.#freeSlots.pop();
    if (slot === undefined) {
      slot = this.#nextSlot++;
      if (slot >= this.#locs.length) {
        const bigger = new Float64Array(this.#locs.length * 2).fill(-1);
        bigger.set(this.#locs);
        this.#locs = bigger;
      }
    }
    this.#write(slot, bytes);
    return slot;
  }

  /** Replaces the bytes of a live slot. */
  set(slot: number, bytes: Uint8Array): void {
    // The old record is dead first: writing may start a slab and compact the one holding it.
    const old = this.#locs[slot];
    this.#locs[slot] = -1;
    this.#release(old);
    this.#write(slot, bytes);
  }

  /** Frees a live slot. */
  free(slot: number): void {
    const old = this.#locs[slot];
    this.#locs[slot] = -1;
    this.#freeSlots.push(slot);
    this.#release(old);
  }

  /**
   * Takes `records` (records as a slab holds them, from a snapshot; slot fields ignored) as a
   * slab of its own, giving each record a new slot; returns the slots in record order.
   */
  adopt(records: Uint8Array): number[] {
    const index = this.#freeSlabs.pop() ?? this.#slabs.length;
    this.#slabs[index] = records;
    this.#dead[index] = 0;
    const slots: number[] = [];
    let at = 0;
    while (at + HEADER <= records.length) {
      const len = u32(records, at + 4);
      if (len === 0 || at + HEADER + len > records.length) {
        throw new Error("Cannot load documents: a record overruns its chunk");
      }
      let slot = this.#freeSlots.pop();
      if (slot === undefined) {
        slot = this.#nextSlot++;
        if (slot >= this.#locs.length) {
          const bigger = new Float64Array(this.#locs.length * 2).fill(-1);
          bigger.set(this.#locs);
          this.#locs = bigger;
        }
      }
      putU32(records, at, slot);
      this.#locs[slot] = index * SLAB_FACTOR + at;
      this.#liveBytes += HEADER + len;
      slots.push(slot);
      at += HEADER + len;
    }
    return slots;
  }

  /**
   * The slabs and the locations of `count` slots as they are now (see `HeapCapture`), in the
   * order `each` visits them.
   */
  capture(count: number, each: (visit: (slot: number) => void) => void): HeapCapture {
    const locs = new Float64Array(count);
    let i = 0;
    each((slot) => locs[i++] = this.#locs[slot]);
    return { slabs: [...this.#slabs], locs: i === count ? locs : locs.subarray(0, i) };
  }

  #write(slot: number, bytes: Uint8Array): void {
    const need = HEADER + bytes.length;
    if (this.#cur < 0 || this.#used + need > this.#slabs[this.#cur]!.length) this.#newSlab(need);
    const slab = this.#slabs[this.#cur]!;
    const at = this.#used;
    putU32(slab, at, slot);
    putU32(slab, at + 4, bytes.length);
    slab.set(bytes, at + HEADER);
    this.#used += need;
    this.#liveBytes += need;
    this.#locs[slot] = this.#cur * SLAB_FACTOR + at;
  }

  #newSlab(need: number): void {
    const previous = this.#cur;
    const size = Math.max(
      need,
      Math.min(MAX_SLAB, Math.max(MIN_SLAB, 2 ** Math.ceil(Math.log2(this.#liveBytes / 8 + 1)))),
    );
    const index = this.#freeSlabs.pop() ?? this.#slabs.length;
    this.#slabs[index] = new Uint8Array(size);
    this.#dead[index] = 0;
    this.#cur = index;
    this.#used = 0;
    if (previous >= 0) this.#maybeCompact(previous);
  }

  #release(loc: number): void {
    const s = Math.floor(loc / SLAB_FACTOR);
    const slab = this.#slabs[s]!;
    const bytes = HEADER + u32(slab, (loc % SLAB_FACTOR) + 4);
    this.#dead[s] += bytes;
    this.#liveBytes -= bytes;
    if (s !== this.#cur) this.#maybeCompact(s);
  }

  /** Moves the live records of slab `s` to the current slab and drops it, when a quarter is dead. */
  #maybeCompact(s: number): void {
    const slab = this.#slabs[s]!;
    if (this.#dead[s] * 4 < slab.length) return;
    this.#slabs[s] = undefined;
    this.#freeSlabs.push(s);
    const base = s * SLAB_FACTOR;
    let at = 0;
    while (at + HEADER <= slab.length) {
      const len = u32(slab, at + 4);
      if (len === 0) break; // the unused tail (a record is never empty)
      const slot = u32(slab, at);
      if (slot < this.#nextSlot && this.#locs[slot] === base + at) {
        this.#liveBytes -= HEADER + len;
        this.#write(slot, slab.subarray(at + HEADER, at + HEADER + len));
      }
      at += HEADER + len;
    }
  }
}

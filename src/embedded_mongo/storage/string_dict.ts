/**
 * The string dictionary of one collection: long string values that repeat (user agents, most
 * of all) are kept once and referred to by number. A string of 24 to 1024 bytes is taken in the
 * second time its bytes are seen (a small table of hashes remembers the first time; it is cleared
 * when it grows past 8192 entries, so unique strings cost nothing lasting). At most 65536 entries
 * and 8 MiB: the dictionary only grows (ids stay valid for every stored document and snapshot),
 * and stops taking new strings when full.
 */
import { utf8 } from "./text.ts";

export const DICT_MIN = 24;
export const DICT_MAX = 1024;
const MAX_ENTRIES = 65536;
const MAX_BYTES = 8 * 1024 * 1024;
const MAX_SEEN = 8192;

function fnv(b: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h;
}

function equalBytes(a: Uint8Array, b: Uint8Array, start: number, end: number): boolean {
  if (a.length !== end - start) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[start + i]) return false;
  return true;
}

export class StringDict {
  readonly #entries: Uint8Array[] = [];
  readonly #texts: (string | undefined)[] = [];
  readonly #byHash = new Map<number, number | number[]>();
  readonly #seen = new Set<number>();
  #bytes = 0;

  get size(): number {
    return this.#entries.length;
  }

  /** The UTF-8 bytes of entry `id`. */
  bytes(id: number): Uint8Array {
    const e = this.#entries[id];
    if (!e) throw new Error(`Cannot read document: unknown dictionary entry ${id}`);
    return e;
  }

  /** Entry `id` as a string (decoded once, then shared). */
  text(id: number): string {
    let s = this.#texts[id];
    if (s === undefined) {
      const b = this.bytes(id);
      s = this.#texts[id] = utf8(b, 0, b.length);
    }
    return s;
  }

  #find(h: number, b: Uint8Array, start: number, end: number): number | undefined {
    const ids = this.#byHash.get(h);
    if (ids === undefined) return undefined;
    if (typeof ids === "number") {
      return equalBytes(this.#entries[ids], b, start, end) ? ids : undefined;
    }
    return ids.find((id) => equalBytes(this.#entries[id], b, start, end));
  }

  /** Adds an entry (from a snapshot, in order); returns its id. */
  add(bytes: Uint8Array): number {
    const id = this.#entries.length;
    this.#entries.push(bytes);
    this.#bytes += bytes.length;
    this.#texts.push(undefined);
    const h = fnv(bytes, 0, bytes.length);
    const ids = this.#byHash.get(h);
    if (ids === undefined) this.#byHash.set(h, id);
    else if (typeof ids === "number") this.#byHash.set(h, [ids, id]);
    else ids.push(id);
    return id;
  }

  /** The entry for the string bytes `b[start..end)`: found, newly taken in, or undefined. */
  idOf(b: Uint8Array, start: number, end: number): number | undefined {
    const n = end - start;
    if (n < DICT_MIN || n > DICT_MAX) return undefined;
    const h = fnv(b, start, end);
    const found = this.#find(h, b, start, end);
    if (found !== undefined) return found;
    if (!this.#seen.has(h)) {
      if (this.#seen.size >= MAX_SEEN) this.#seen.clear();
      this.#seen.add(h);
      return undefined;
    }
    if (this.#entries.length >= MAX_ENTRIES || this.#bytes + n > MAX_BYTES) return undefined;
    this.#seen.delete(h);
    return this.add(b.slice(start, end));
  }

  /** Entries `from` onwards (a snapshot writes those it has not written yet). */
  entriesFrom(from: number): Uint8Array[] {
    return this.#entries.slice(from);
  }
}

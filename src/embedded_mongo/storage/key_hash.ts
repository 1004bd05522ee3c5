/**
 * 32-bit hashes of canonical index keys (`keys.ts`). A plain string key (not starting with NUL)
 * hashes its UTF-8 bytes, so the hash comes out the same from a JS string and from a stored
 * string's bytes (as UTF-8, as packed hex, or as a dictionary entry): `_id` and hash indexes find
 * a stored string without building it. Other keys (numbers, booleans, null, encoded values) hash
 * their own way. Equal keys always hash alike; different keys may collide, so users compare keys
 * (or accept a superset) on a match.
 */
import type { Key } from "./keys.ts";
import { HEX_DIGITS } from "./text.ts";

const OFFSET = 0x811c9dc5;
const PRIME = 0x01000193;
const UTF8 = new TextEncoder();

function finish(h: number): number {
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return h ^ (h >>> 12);
}

/** The hash of the plain string whose UTF-8 bytes are `b[start..end)`. */
export function hashUtf8(b: Uint8Array, start: number, end: number): number {
  let h = OFFSET;
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i], PRIME);
  return finish(h);
}

/** The hash of the hex text packed in `b[start..end)` (two digits a byte). */
export function hashPackedHex(b: Uint8Array, start: number, end: number): number {
  let h = OFFSET;
  for (let i = start; i < end; i++) {
    h = Math.imul(h ^ HEX_DIGITS[b[i] >> 4], PRIME);
    h = Math.imul(h ^ HEX_DIGITS[b[i] & 15], PRIME);
  }
  return finish(h);
}

/** Hashes keys; owns the scratch for reading a float's bits. */
export class KeyHasher {
  readonly #f64 = new Float64Array(1);
  readonly #i32 = new Int32Array(this.#f64.buffer);

  hash(key: Key): number {
    if (typeof key === "string") {
      if (key.charCodeAt(0) === 0) {
        let h = 0x2f4a7c15;
        for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), PRIME);
        return finish(h);
      }
      let h = OFFSET;
      for (let i = 0; i < key.length; i++) {
        const c = key.charCodeAt(i);
        if (c >= 0x80) {
          const b = UTF8.encode(key);
          return hashUtf8(b, 0, b.length);
        }
        h = Math.imul(h ^ c, PRIME);
      }
      return finish(h);
    }
    if (typeof key === "number") {
      this.#f64[0] = Number.isNaN(key) ? NaN : key;
      return finish(Math.imul(this.#i32[0] ^ 0x27d4eb2d, 0x165667b1) ^ this.#i32[1]);
    }
    return key === null ? 0x5bd1e995 : key ? 0x1b873593 : 0x68e31da4;
  }
}

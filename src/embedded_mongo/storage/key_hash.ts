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

/** The hash of the plain string whose UTF-8 bytes are `b[start..end)`: four bytes a step. */
export function hashUtf8(b: Uint8Array, start: number, end: number): number {
  let h = OFFSET ^ (end - start);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    h = Math.imul(h ^ (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)), PRIME);
  }
  for (; i < end; i++) h = Math.imul(h ^ b[i], PRIME);
  return finish(h);
}

/** The hash of the hex text packed in `b[start..end)` (two digits a byte), as `hashUtf8`. */
export function hashPackedHex(b: Uint8Array, start: number, end: number): number {
  const d = HEX_DIGITS;
  let h = OFFSET ^ (2 * (end - start));
  let i = start;
  for (; i + 2 <= end; i += 2) {
    const x = b[i];
    const y = b[i + 1];
    h = Math.imul(
      h ^ (d[x >> 4] | (d[x & 15] << 8) | (d[y >> 4] << 16) | (d[y & 15] << 24)),
      PRIME,
    );
  }
  if (i < end) {
    h = Math.imul(h ^ d[b[i] >> 4], PRIME);
    h = Math.imul(h ^ d[b[i] & 15], PRIME);
  }
  return finish(h);
}

/** Hashes keys; owns the scratch for reading a float's bits. */
export class KeyHasher {
  readonly #f64 = new Float64Array(1);
  readonly #i32 = new Int32Array(this.#f64.buffer);

  #utf8(key: string): number {
    const b = UTF8.encode(key);
    return hashUtf8(b, 0, b.length);
  }

  hash(key: Key): number {
    if (typeof key === "string") {
      if (key.charCodeAt(0) === 0) {
        let h = 0x2f4a7c15;
        for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), PRIME);
        return finish(h);
      }
      const n = key.length;
      let h = OFFSET ^ n;
      let i = 0;
      for (; i + 4 <= n; i += 4) {
        const c0 = key.charCodeAt(i), c1 = key.charCodeAt(i + 1);
        const c2 = key.charCodeAt(i + 2), c3 = key.charCodeAt(i + 3);
        if ((c0 | c1 | c2 | c3) >= 0x80) return this.#utf8(key);
        h = Math.imul(h ^ (c0 | (c1 << 8) | (c2 << 16) | (c3 << 24)), PRIME);
      }
      for (; i < n; i++) {
        const c = key.charCodeAt(i);
        if (c >= 0x80) return this.#utf8(key);
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

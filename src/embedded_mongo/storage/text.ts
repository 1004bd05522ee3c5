/**
 * Byte helpers of the codec: UTF-8 and hex text without `TextDecoder` for short strings (a call
 * costs more than building a short string by hand), byte copies without a `subarray` per copy,
 * and unsigned LEB128 varints.
 */

const UTF8 = new TextDecoder();

/** ASCII codes of the lowercase hex digits. */
export const HEX_DIGITS = new Uint8Array([
  48,
  49,
  50,
  51,
  52,
  53,
  54,
  55,
  56,
  57,
  97,
  98,
  99,
  100,
  101,
  102,
]);

/** The value of a lowercase hex digit's ASCII code, or 255. */
const HEX_VALUE = (() => {
  const t = new Uint8Array(256).fill(255);
  for (let i = 0; i < 16; i++) t[HEX_DIGITS[i]] = i;
  return t;
})();

/** Copies `b[from..from+n)` to `out[o..]`. */
export function copy(b: Uint8Array, from: number, n: number, out: Uint8Array, o: number): void {
  if (n > 48) {
    out.set(b.subarray(from, from + n), o);
    return;
  }
  for (let i = 0; i < n; i++) out[o + i] = b[from + i];
}

/** Whether `a` holds exactly the bytes `b[start..end)`. */
export function sameBytes(a: Uint8Array, b: Uint8Array, start: number, end: number): boolean {
  if (a.length !== end - start) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[start + i]) return false;
  return true;
}

/** A string from UTF-8 bytes: short ASCII eight characters a call, the rest by TextDecoder. */
export function utf8(b: Uint8Array, start: number, end: number): string {
  if (end - start > 64) return UTF8.decode(b.subarray(start, end));
  let s = "";
  let high = 0;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const c0 = b[i], c1 = b[i + 1], c2 = b[i + 2], c3 = b[i + 3];
    const c4 = b[i + 4], c5 = b[i + 5], c6 = b[i + 6], c7 = b[i + 7];
    high |= c0 | c1 | c2 | c3 | c4 | c5 | c6 | c7;
    s += String.fromCharCode(c0, c1, c2, c3, c4, c5, c6, c7);
  }
  for (; i < end; i++) {
    high |= b[i];
    s += String.fromCharCode(b[i]);
  }
  return high & 0x80 ? UTF8.decode(b.subarray(start, end)) : s;
}

/** Whether `b[start..end)` is lowercase hex text. */
export function isHex(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (HEX_VALUE[b[i]] === 255) return false;
  return true;
}

/** Packs the hex text `b[start..end)` (even length) two digits a byte into `out[o..]`. */
export function packHex(b: Uint8Array, start: number, end: number, out: Uint8Array, o: number) {
  for (let i = start; i < end; i += 2) out[o++] = (HEX_VALUE[b[i]] << 4) | HEX_VALUE[b[i + 1]];
  return o;
}

/** Writes the hex text of `b[start..end)` into `out[o..]`; returns where it ends. */
export function unpackHex(b: Uint8Array, start: number, end: number, out: Uint8Array, o: number) {
  for (let i = start; i < end; i++) {
    out[o++] = HEX_DIGITS[b[i] >> 4];
    out[o++] = HEX_DIGITS[b[i] & 15];
  }
  return o;
}

/** The lowercase hex text of `b[start..end)`, four bytes a call. */
export function hexText(b: Uint8Array, start: number, end: number): string {
  const d = HEX_DIGITS;
  let s = "";
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const x0 = b[i], x1 = b[i + 1], x2 = b[i + 2], x3 = b[i + 3];
    s += String.fromCharCode(
      d[x0 >> 4],
      d[x0 & 15],
      d[x1 >> 4],
      d[x1 & 15],
      d[x2 >> 4],
      d[x2 & 15],
      d[x3 >> 4],
      d[x3 & 15],
    );
  }
  for (; i < end; i++) s += String.fromCharCode(d[b[i] >> 4], d[b[i] & 15]);
  return s;
}

export function writeVarint(out: Uint8Array, o: number, v: number): number {
  while (v >= 0x80) {
    out[o++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  out[o++] = v;
  return o;
}

export function readVarint(b: Uint8Array, p: number): number {
  let v = 0;
  let scale = 1;
  for (;;) {
    const x = b[p++];
    v += (x & 0x7f) * scale;
    if (x < 0x80) return v;
    scale *= 128;
  }
}

export function varintEnd(b: Uint8Array, p: number): number {
  while (b[p] >= 0x80) p++;
  return p + 1;
}

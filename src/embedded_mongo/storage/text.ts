/**
 * Byte helpers of the codec: UTF-8 and hex text without `TextDecoder` for short strings (a call
 * costs more than building a short string by hand), byte copies without a `subarray` per copy,
 * and unsigned LEB128 varints.
 */

const UTF8 = new TextDecoder();
const UTF8_ENCODER = new TextEncoder();

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

/**
 * A string from UTF-8 bytes. Short ASCII is built by hand (a `TextDecoder` call costs more): up
 * to 12 characters by concatenation, longer in one `fromCharCode` call, so the string is flat
 * (V8 would make a rope of a longer concatenation, to be flattened again by its first hash).
 */
export function utf8(b: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n > 64) return UTF8.decode(b.subarray(start, end));
  let high = 0;
  for (let i = start; i < end; i++) high |= b[i];
  if (high & 0x80) return UTF8.decode(b.subarray(start, end));
  if (n > 12) return String.fromCharCode.apply(null, b.subarray(start, end) as unknown as number[]);
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(b[i]);
  return s;
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

/** The lowercase hex text of `b[start..end)`, as one flat string. */
export function hexText(b: Uint8Array, start: number, end: number, scratch: Uint16Array): string {
  const n = end - start;
  for (let i = 0; i < n; i++) {
    const x = b[start + i];
    scratch[2 * i] = HEX_DIGITS[x >> 4];
    scratch[2 * i + 1] = HEX_DIGITS[x & 15];
  }
  return String.fromCharCode.apply(null, scratch.subarray(0, 2 * n) as unknown as number[]);
}

/**
 * Writes `s` as UTF-8 into `out[o..]` (ASCII by hand, the rest by `TextEncoder`); returns where it
 * ends. `out` must have room for `3 * s.length` bytes.
 */
export function writeUtf8(s: string, out: Uint8Array, o: number): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return o - i + UTF8_ENCODER.encodeInto(s, out.subarray(o - i)).written;
    out[o++] = c;
  }
  return o;
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

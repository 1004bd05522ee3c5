/**
 * Reading BSON bytes without building objects: element sizes by type, little-endian integers, and
 * the top-level elements of a document (`elements`), for the codec and the journal records.
 */

export function i32(b: Uint8Array, p: number): number {
  return b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
}

export function putI32(b: Uint8Array, p: number, v: number): void {
  b[p] = v;
  b[p + 1] = v >>> 8;
  b[p + 2] = v >>> 16;
  b[p + 3] = v >>> 24;
}

/** Where the BSON value of `type` starting at `p` ends. */
export function valueEnd(b: Uint8Array, p: number, type: number): number {
  switch (type) {
    case 0x01:
    case 0x09:
    case 0x11:
    case 0x12:
      return p + 8;
    case 0x02:
    case 0x0d:
    case 0x0e:
      return p + 4 + i32(b, p);
    case 0x03:
    case 0x04:
    case 0x0f:
      return p + i32(b, p);
    case 0x05:
      return p + 5 + i32(b, p);
    case 0x06:
    case 0x0a:
    case 0xff:
    case 0x7f:
      return p;
    case 0x07:
      return p + 12;
    case 0x08:
      return p + 1;
    case 0x0b: {
      let q = p;
      while (b[q] !== 0) q++;
      q++;
      while (b[q] !== 0) q++;
      return q + 1;
    }
    case 0x0c:
      return p + 4 + i32(b, p) + 12;
    case 0x10:
      return p + 4;
    case 0x13:
      return p + 16;
  }
  throw new Error(`Cannot read BSON: unknown type ${type}`);
}

/** One top-level element: its type, name and where its value lies. */
export interface Element {
  type: number;
  name: string;
  start: number;
  end: number;
}

const ASCII = new TextDecoder();

/** The top-level elements of the BSON document at `b[start..]` (names decoded). */
export function elements(b: Uint8Array, start = 0): Element[] {
  const size = i32(b, start);
  const end = start + size - 1;
  if (size < 5 || start + size > b.length || b[end] !== 0) {
    throw new Error("Cannot read BSON: not a whole document");
  }
  const out: Element[] = [];
  let p = start + 4;
  while (p < end) {
    const type = b[p];
    let q = p + 1;
    while (b[q] !== 0) q++;
    const name = ASCII.decode(b.subarray(p + 1, q));
    const vEnd = valueEnd(b, q + 1, type);
    if (vEnd > end) throw new Error("Cannot read BSON: an element overruns its document");
    out.push({ type, name, start: q + 1, end: vEnd });
    p = vEnd;
  }
  return out;
}

/** The string value of a type-2 element. */
export function stringAt(b: Uint8Array, e: Element): string {
  return ASCII.decode(b.subarray(e.start + 4, e.end - 1));
}

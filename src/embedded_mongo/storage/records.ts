/**
 * Framed BSON records, the unit of both the journal and the snapshot file:
 *
 *     u32 LE body length | u32 LE CRC-32 (IEEE) of the body | body (one BSON document)
 *
 * `readRecords` walks a file in chunks (never the whole file in memory) and tells a torn tail
 * (an incomplete or bad record with no valid record after it) from corruption in the middle (a
 * bad record followed by a valid one).
 */
import { crc32 } from "node:zlib";
import { CorruptFileError } from "../errors.ts";

export const HEADER_BYTES = 8;
/** Larger than any record we write (a document is at most 16 MiB, plus the record's fields). */
export const MAX_RECORD_BYTES = 48 * 1024 * 1024;
const CHUNK_BYTES = 4 * 1024 * 1024;

/** The framed record of a BSON document `body`. */
export function frame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length, true);
  view.setUint32(4, crc32(body) >>> 0, true);
  out.set(body, HEADER_BYTES);
  return out;
}

/** Concatenates frames into one buffer (one write per batch). */
export function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function writeAll(file: { writeSync(p: Uint8Array): number }, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += file.writeSync(data.subarray(off));
}

export interface ReadResult {
  /** Byte offset just past the last good record. */
  goodBytes: number;
  /** The file's size. */
  size: number;
  /** Set when a bad record was found and no valid record follows it (a torn tail). */
  tornAt?: number;
}

function bodyValid(buf: Uint8Array, at: number, avail: number): number {
  // Returns the body length when a valid record starts at `at` within `avail` bytes, else -1.
  if (avail < HEADER_BYTES + 5) return -1;
  const view = new DataView(buf.buffer, buf.byteOffset + at, avail);
  const len = view.getUint32(0, true);
  if (len < 5 || len > MAX_RECORD_BYTES || HEADER_BYTES + len > avail) return -1;
  if (view.getInt32(HEADER_BYTES, true) !== len) return -1;
  if (buf[at + HEADER_BYTES + len - 1] !== 0) return -1;
  const body = buf.subarray(at + HEADER_BYTES, at + HEADER_BYTES + len);
  if ((crc32(body) >>> 0) !== view.getUint32(4, true)) return -1;
  return len;
}

/** Whether any valid record starts somewhere in `file` after `from` (scans byte by byte). */
function validRecordAfter(file: Deno.FsFile, from: number, size: number): number | undefined {
  if (size - from > MAX_RECORD_BYTES * 4) {
    // A damaged region this large is not a torn write: refuse rather than scan it.
    return from;
  }
  const rest = new Uint8Array(size - from);
  file.seekSync(from, Deno.SeekMode.Start);
  let off = 0;
  while (off < rest.length) {
    const n = file.readSync(rest.subarray(off));
    if (n === null || n === 0) break;
    off += n;
  }
  for (let i = 0; i + HEADER_BYTES + 5 <= rest.length; i++) {
    if (bodyValid(rest, i, rest.length - i) >= 0) return from + i;
  }
  return undefined;
}

/**
 * Calls `onRecord` with the body (BSON bytes) of each record of the file at `path`, in order; a
 * body is a view into a read buffer, valid during the call only. A bad record with a valid one
 * after it throws `CorruptFileError`; a bad record at the end stops the walk (`tornAt`).
 */
export function readRecords(path: string, onRecord: (body: Uint8Array) => void): ReadResult {
  const file = Deno.openSync(path, { read: true });
  try {
    const size = file.statSync().size;
    let buf = new Uint8Array(CHUNK_BYTES);
    let bufStart = 0; // file offset of buf[0]
    let bufLen = 0;
    let pos = 0; // file offset of the next record
    const fill = (need: number): number => {
      // Makes `need` bytes from `pos` available in buf if the file has them; returns how many are.
      const have = bufStart + bufLen - pos;
      if (have >= need) return have;
      const keep = buf.subarray(pos - bufStart, bufLen);
      if (need > buf.length) {
        const bigger = new Uint8Array(Math.max(need, buf.length * 2));
        bigger.set(keep);
        buf = bigger;
      } else buf.copyWithin(0, pos - bufStart, bufLen);
      bufStart = pos;
      bufLen = keep.length;
      file.seekSync(bufStart + bufLen, Deno.SeekMode.Start);
      while (bufLen < buf.length) {
        const n = file.readSync(buf.subarray(bufLen));
        if (n === null || n === 0) break;
        bufLen += n;
      }
      return bufLen;
    };
    while (pos < size) {
      const avail = fill(HEADER_BYTES + 5);
      let len = -1;
      if (avail >= HEADER_BYTES + 5) {
        const claimed = new DataView(buf.buffer, pos - bufStart, HEADER_BYTES).getUint32(0, true);
        if (claimed >= 5 && claimed <= MAX_RECORD_BYTES && pos + HEADER_BYTES + claimed <= size) {
          const got = fill(HEADER_BYTES + claimed);
          len = bodyValid(buf, pos - bufStart, got);
        }
      }
      if (len < 0) {
        const next = validRecordAfter(file, pos + 1, size);
        if (next !== undefined) {
          throw new CorruptFileError(
            `bad record at offset ${pos} followed by valid data at offset ${next}`,
          );
        }
        return { goodBytes: pos, size, tornAt: pos };
      }
      const at = pos - bufStart + HEADER_BYTES;
      onRecord(buf.subarray(at, at + len));
      pos += HEADER_BYTES + len;
    }
    return { goodBytes: pos, size };
  } finally {
    file.close();
  }
}

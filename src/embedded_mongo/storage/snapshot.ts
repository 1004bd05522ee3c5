/**
 * The snapshot file: the whole catalog at one instant, as framed records (`records.ts`).
 *
 * Version 2 (written since the store keeps documents as bytes):
 *
 *     {op: "snapshot", version: 2, journal: N, created}
 *     per collection: {op: "cc", db, c, o}, {op: "ci", db, c, specs} (if it has indexes), then
 *       {op: "docs", db, c, n, data: Binary}: `n` BSON documents back to back, about 1 MiB a
 *       record, in natural order
 *     {op: "end", records: <records between header and footer>, docs: <documents>}
 *
 * Version 1 (still read) held one `{op: "i", db, c, d}` record per document instead of `docs`.
 * Loading goes through `Catalog.execute`, as a journal replay does; the documents are never
 * built as objects on the way.
 */
import { Binary, BSON, type Document } from "bson";
import { CorruptFileError } from "../errors.ts";
import { elements, i32, stringAt } from "./bson_walk.ts";
import type { CollectionCapture } from "./collection.ts";
import { decodeOp, opName } from "./ops.ts";
import { concat, frame, readRecords, writeAll } from "./records.ts";
import type { Catalog } from "./store.ts";
import type { IndexSpec } from "./types.ts";

const CHUNK_BYTES = 1024 * 1024;
const SLAB_FACTOR = 2 ** 32;

/** One collection as a snapshot writes it. */
export interface SnapshotCollection {
  db: string;
  c: string;
  options: Document;
  specs: IndexSpec[];
  capture: CollectionCapture;
}

/** Writes frames to a file in chunks of about 1 MiB, pausing between chunks. */
class ChunkedWriter {
  #parts: Uint8Array[] = [];
  #bytes = 0;
  size = 0;
  records = 0;

  constructor(readonly file: Deno.FsFile, readonly pause: () => Promise<void>) {}

  async put(body: Uint8Array, counted = true): Promise<void> {
    const f = frame(body);
    this.#parts.push(f);
    this.#bytes += f.length;
    if (counted) this.records++;
    if (this.#bytes >= CHUNK_BYTES) await this.flush(true);
  }

  async flush(pause = false): Promise<void> {
    if (this.#bytes === 0) return;
    writeAll(this.file, concat(this.#parts, this.#bytes));
    this.size += this.#bytes;
    this.#parts = [];
    this.#bytes = 0;
    if (pause) await this.pause();
  }
}

function u32(b: Uint8Array, p: number): number {
  return i32(b, p) >>> 0;
}

/** Writes the documents of one capture as `docs` records; returns how many documents. */
async function putDocs(out: ChunkedWriter, coll: SnapshotCollection): Promise<number> {
  const { heap, codec } = coll.capture;
  let chunk = new Uint8Array(CHUNK_BYTES + 64 * 1024);
  let used = 0;
  let n = 0;
  const emit = async () => {
    if (n === 0) return;
    const data = new Binary(chunk.subarray(0, used));
    await out.put(BSON.serialize({ op: "docs", db: coll.db, c: coll.c, n, data }));
    used = 0;
    n = 0;
  };
  let total = 0;
  for (const loc of heap.locs) {
    const slab = heap.slabs[Math.floor(loc / SLAB_FACTOR)]!;
    const at = loc % SLAB_FACTOR;
    const pos = at + 8;
    const end = pos + u32(slab, at + 4);
    const size = codec.bsonSize(slab, pos, end);
    if (used > 0 && used + size > CHUNK_BYTES) await emit();
    if (size > chunk.length) chunk = new Uint8Array(size);
    codec.writeBson(slab, pos, end, chunk, used);
    used += size;
    n++;
    total++;
  }
  await emit();
  return total;
}

/**
 * Writes the snapshot of `colls` to `file` (journal generation `gen`); returns its size in
 * bytes. `pause` runs between chunks (the server keeps serving).
 */
export async function writeSnapshot(
  file: Deno.FsFile,
  gen: number,
  colls: SnapshotCollection[],
  pause: () => Promise<void>,
): Promise<number> {
  const out = new ChunkedWriter(file, pause);
  await out.put(
    BSON.serialize({ op: "snapshot", version: 2, journal: gen, created: new Date() }),
    false,
  );
  let docs = 0;
  for (const coll of colls) {
    await out.put(BSON.serialize({ op: "cc", db: coll.db, c: coll.c, o: coll.options }));
    if (coll.specs.length > 0) {
      await out.put(BSON.serialize({ op: "ci", db: coll.db, c: coll.c, specs: coll.specs }));
    }
    docs += await putDocs(out, coll);
  }
  await out.put(BSON.serialize({ op: "end", records: out.records, docs }), false);
  await out.flush();
  return out.size;
}

/** Inserts the documents of a `docs` record; returns how many. */
function loadDocs(catalog: Catalog, body: Uint8Array): number {
  const els = elements(body);
  const get = (name: string, type: number) => {
    const e = els.find((x) => x.name === name && x.type === type);
    if (!e) throw new CorruptFileError(`a docs record has no ${name}`);
    return e;
  };
  const db = stringAt(body, get("db", 0x02));
  const c = stringAt(body, get("c", 0x02));
  const data = get("data", 0x05);
  const end = data.end;
  let p = data.start + 5;
  let n = 0;
  while (p < end) {
    const size = i32(body, p);
    if (size < 5 || p + size > end) throw new CorruptFileError("a document overruns its chunk");
    catalog.execute({ op: "i", db, c, doc: body.subarray(p, p + size) });
    p += size;
    n++;
  }
  return n;
}

/**
 * Loads the snapshot at `path` into `catalog`; returns its journal generation and size. Throws
 * with `Cannot open store: ...` when it is damaged or incomplete.
 */
export function loadSnapshot(path: string, catalog: Catalog): { gen: number; size: number } {
  let header: Document | undefined;
  let footer: Document | undefined;
  let records = 0;
  let docs = 0;
  let result;
  try {
    result = readRecords(path, (body) => {
      if (footer) throw new CorruptFileError("records after the end record");
      if (header?.version === 2 && opName(body) === "docs") {
        records++;
        docs += loadDocs(catalog, body);
        return;
      }
      const op = decodeOp(body);
      if (op.op !== "other") {
        if (!header) throw new CorruptFileError("the first record is not a snapshot header");
        records++;
        if (op.op === "i") docs++;
        catalog.execute(op);
        return;
      }
      const { record } = op;
      if (!header) {
        if (record.op !== "snapshot" || (record.version !== 1 && record.version !== 2)) {
          throw new CorruptFileError("the first record is not a version 1 or 2 snapshot header");
        }
        header = record;
      } else if (record.op === "end") footer = record;
      else throw new CorruptFileError(`unknown record ${JSON.stringify(record.op)}`);
    });
  } catch (e) {
    throw new Error(
      `Cannot open store: snapshot ${path} is damaged: ${e instanceof Error ? e.message : e}`,
    );
  }
  const complete = footer && footer.records === records &&
    (footer.docs === undefined || footer.docs === docs);
  if (result.tornAt !== undefined || !complete) {
    throw new Error(
      `Cannot open store: snapshot ${path} is incomplete (damaged at offset ${
        result.tornAt ?? result.size
      })`,
    );
  }
  return { gen: Number(header!.journal), size: result.size };
}

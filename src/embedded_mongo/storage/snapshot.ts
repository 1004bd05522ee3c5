/**
 * The snapshot file: the whole catalog at one instant, as framed records (`records.ts`).
 *
 * Version 3 (written now): an image of each collection's heap.
 *
 *     {op: "snapshot", version: 3, journal: N, created}
 *     per collection:
 *       {op: "cc", db, c, o}
 *       {op: "codec", db, c, shapes: [[names]], dict: [Binary]}   the codec's tables
 *       {op: "docs", db, c, n, data: Binary}   `n` documents in compact form as heap records
 *                                              (`heap.ts`), about 1 MiB a record, natural order
 *       {op: "ci", db, c, specs}               (if it has indexes)
 *     {op: "end", records: <records between header and footer>, docs: <documents>}
 *
 * Loading takes each `docs` record as a slab as it is (`MemoryCollection.adopt`: no document is
 * re-encoded or built as an object), then the `ci` record builds the indexes over them through
 * `Catalog.execute`, as `createIndexes` would. Versions 1 (one `{op: "i", db, c, d}` record per
 * document) and 2 (`docs` records of BSON documents, before `ci`) are still read, their
 * documents inserted through `Catalog.execute` as a journal replay inserts them.
 */
import { Binary, BSON, type Document } from "bson";
import { CorruptFileError } from "../errors.ts";
import { type Element, elements, i32, stringAt } from "./bson_walk.ts";
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

/** Writes the documents of one capture as `docs` records of heap records; returns how many. */
async function putDocs(out: ChunkedWriter, coll: SnapshotCollection): Promise<number> {
  const { slabs, locs } = coll.capture.heap;
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
  for (const loc of locs) {
    const slab = slabs[Math.floor(loc / SLAB_FACTOR)]!;
    const at = loc % SLAB_FACTOR;
    const size = 8 + u32(slab, at + 4);
    if (used > 0 && used + size > CHUNK_BYTES) await emit();
    if (size > chunk.length) chunk = new Uint8Array(size);
    chunk.set(slab.subarray(at, at + size), used);
    used += size;
    n++;
  }
  await emit();
  return locs.length;
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
    BSON.serialize({ op: "snapshot", version: 3, journal: gen, created: new Date() }),
    false,
  );
  let docs = 0;
  for (const coll of colls) {
    const { db, c } = coll;
    await out.put(BSON.serialize({ op: "cc", db, c, o: coll.options }));
    const { shapes, dict } = coll.capture.codec.tables();
    const entries = dict.map((d) => new Binary(d));
    await out.put(BSON.serialize({ op: "codec", db, c, shapes, dict: entries }));
    docs += await putDocs(out, coll);
    if (coll.specs.length > 0) {
      await out.put(BSON.serialize({ op: "ci", db, c, specs: coll.specs }));
    }
  }
  await out.put(BSON.serialize({ op: "end", records: out.records, docs }), false);
  await out.flush();
  return out.size;
}

function field(els: Element[], name: string, type: number): Element {
  const e = els.find((x) => x.name === name && x.type === type);
  if (!e) throw new CorruptFileError(`a snapshot record has no ${name}`);
  return e;
}

/** Loads a `docs` record: heap records adopted (version 3), or BSON documents inserted (2). */
function loadDocs(catalog: Catalog, body: Uint8Array, version: number): number {
  const els = elements(body);
  const db = stringAt(body, field(els, "db", 0x02));
  const c = stringAt(body, field(els, "c", 0x02));
  const data = field(els, "data", 0x05);
  const start = data.start + 5;
  const end = data.end;
  if (version >= 3) {
    const coll = catalog.getCollection(db, c);
    if (!coll) throw new CorruptFileError(`documents of ${db}.${c} before its collection`);
    return coll.adopt(body.slice(start, end));
  }
  let p = start;
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

/** Loads a `codec` record into its (new, empty) collection. */
function loadCodec(catalog: Catalog, record: Document): void {
  const coll = catalog.getCollection(record.db, record.c);
  if (!coll) throw new CorruptFileError(`a codec of ${record.db}.${record.c} before it`);
  const dict = (record.dict as Binary[]).map((b) => b.buffer.slice(0, b.position));
  coll.loadCodecTables({ shapes: record.shapes as string[][], dict });
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
      if (header && header.version >= 2 && opName(body) === "docs") {
        records++;
        docs += loadDocs(catalog, body, header.version);
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
        if (record.op !== "snapshot" || ![1, 2, 3].includes(record.version)) {
          throw new CorruptFileError("the first record is not a version 1, 2 or 3 snapshot header");
        }
        header = record;
      } else if (record.op === "end") footer = record;
      else if (record.op === "codec" && header.version >= 3) {
        records++;
        loadCodec(catalog, record);
      } else throw new CorruptFileError(`unknown record ${JSON.stringify(record.op)}`);
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

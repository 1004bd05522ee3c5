/**
 * Persistence of the in-memory catalog to a data folder: a snapshot plus a journal.
 *
 * Files in `dataDir`:
 * - `LOCK`: held with an exclusive `flock` while a store is open (the OS drops it when the process
 *   dies, `kill -9` included); a second open, from this process or another, is refused.
 * - `snapshot.bson`: the whole state at some point, as framed records (`records.ts`): a header
 *   `{op: "snapshot", version: 1, journal: N}`, then per collection `cc` (create, with options),
 *   `ci` (its indexes) and one `i` per document, then a footer `{op: "end", records}`. A snapshot
 *   is written to `snapshot.tmp`, fsynced, renamed over `snapshot.bson`, and the folder fsynced:
 *   it is complete or absent, so any damage in it refuses the open.
 * - `journal-<N>.bson` (N = generation, 8 digits): one framed record per mutation since the
 *   snapshot (`i` insert, `r` replace, `d` delete, `cc`/`dc` create/drop collection, `ci`/`di`
 *   create/drop index, `dd` drop database). Journals with N >= the snapshot's `journal` are
 *   replayed on open, in order; older ones are leftovers of a compaction and are deleted.
 *
 * Write path: a mutation changes memory and appends its serialized record to a pending list
 * (synchronously). `durable()` writes every pending record with one `write` (group commit), so
 * when it resolves the bytes are in the OS and survive `kill -9`. Fsync policy:
 * - `"interval"` (default): a timer fsyncs the journal every `fsyncIntervalMs` (default 100)
 *   when something was written since the last fsync; a power loss can lose that last interval.
 * - `"always"`: `durable()` also waits for an fsync covering its records; concurrent callers
 *   share one fsync (one in flight at a time, each covering all the writes before it).
 * The timer also writes pending records nobody awaited.
 *
 * Compaction (on `close()`, and when the journal passes 64 MiB and twice the last snapshot):
 * the journal is written and fsynced, a new journal generation starts, the state is captured
 * (documents are never changed in place, so capturing is taking references), the snapshot is
 * written from that capture in chunks (the server keeps serving), then renamed into place, and
 * the older journals are deleted. A crash at any step leaves a snapshot plus the journals that
 * complete it.
 *
 * Recovery: a bad record (short, wrong length, wrong checksum, not BSON) at the end of the last
 * journal is a torn write: the file is truncated there and one JSON line is written to stderr
 * (file and offsets, never contents). A bad record followed by a valid one is corruption of
 * acknowledged data: the open is refused.
 */
import type { Document } from "bson";
import { normalizeValue } from "../query/values.ts";
import type { Catalog } from "./store.ts";
import type { Journal } from "./collection.ts";
import { concat, CorruptFileError, frame, readRecords, writeAll } from "./records.ts";
import type { StoreOptions } from "./types.ts";

const SNAPSHOT = "snapshot.bson";
const SNAPSHOT_TMP = "snapshot.tmp";
const LOCK = "LOCK";
const JOURNAL_RE = /^journal-(\d{8})\.bson$/;
const COMPACT_MIN_BYTES = 64 * 1024 * 1024;
const SNAPSHOT_CHUNK_BYTES = 1024 * 1024;

function journalName(gen: number): string {
  return `journal-${String(gen).padStart(8, "0")}.bson`;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

function syncDir(dir: string): void {
  try {
    const d = Deno.openSync(dir, { read: true });
    try {
      d.syncSync();
    } finally {
      d.close();
    }
  } catch {
    // Not every platform can fsync a folder; the rename is still atomic.
  }
}

function warn(event: Record<string, unknown>): void {
  console.error(JSON.stringify({ level: "warn", component: "embedded-mongo-storage", ...event }));
}

/** Docs read back from disk get the same value fixes the wire layer applies to requests. */
function loaded(op: Document): Document {
  if (op.d) normalizeValue(op.d);
  return op;
}

export class Persistence implements Journal {
  readonly #dir: string;
  readonly #catalog: Catalog;
  readonly #always: boolean;
  #lock: Deno.FsFile;
  #file!: Deno.FsFile;
  #gen = 0;
  #journalBytes = 0;
  #snapshotBytes = 0;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #queuedSeq = 0;
  #writtenSeq = 0;
  #syncedSeq = 0;
  #syncing?: Promise<void>;
  #compacting?: Promise<void>;
  #timer?: ReturnType<typeof setInterval>;
  #failure?: Error;
  #closed = false;

  private constructor(dir: string, catalog: Catalog, options: StoreOptions, lock: Deno.FsFile) {
    this.#dir = dir;
    this.#catalog = catalog;
    this.#always = options.fsync === "always";
    this.#lock = lock;
  }

  /** Locks the folder, loads the snapshot, replays the journals, and starts journaling. */
  static open(dir: string, catalog: Catalog, options: StoreOptions): Persistence {
    Deno.mkdirSync(dir, { recursive: true });
    const lock = Deno.openSync(`${dir}/${LOCK}`, { read: true, write: true, create: true });
    let locked = false;
    try {
      locked = lock.tryLockSync(true);
    } catch (e) {
      lock.close();
      throw e;
    }
    if (!locked) {
      lock.close();
      throw new Error(
        `Cannot open store: the data folder ${dir} is in use by another store (${dir}/${LOCK} is locked)`,
      );
    }
    const p = new Persistence(dir, catalog, options, lock);
    try {
      lock.truncateSync(0);
      writeAll(lock, new TextEncoder().encode(`${Deno.pid}\n`));
      p.#load();
    } catch (e) {
      p.#file?.close();
      lock.close();
      throw e;
    }
    catalog.journal = p;
    const every = options.fsyncIntervalMs ?? 100;
    p.#timer = setInterval(() => p.#tick(), every);
    return p;
  }

  #load(): void {
    const dir = this.#dir;
    if (exists(`${dir}/${SNAPSHOT_TMP}`)) Deno.removeSync(`${dir}/${SNAPSHOT_TMP}`);
    let firstGen = 0;
    const snapshotPath = `${dir}/${SNAPSHOT}`;
    if (exists(snapshotPath)) {
      let header: Document | undefined;
      let footer: Document | undefined;
      let count = 0;
      let result;
      try {
        result = readRecords(snapshotPath, (op) => {
          if (!header) {
            if (op.op !== "snapshot" || op.version !== 1) {
              throw new CorruptFileError("the first record is not a version 1 snapshot header");
            }
            header = op;
            return;
          }
          if (footer) throw new CorruptFileError("records after the end record");
          if (op.op === "end") {
            footer = op;
            return;
          }
          count++;
          this.#catalog.apply(loaded(op));
        });
      } catch (e) {
        throw new Error(`Cannot open store: snapshot ${snapshotPath} is damaged: ${msg(e)}`);
      }
      if (result.tornAt !== undefined || !footer || footer.records !== count) {
        throw new Error(
          `Cannot open store: snapshot ${snapshotPath} is incomplete (damaged at offset ${
            result.tornAt ?? result.size
          })`,
        );
      }
      firstGen = Number(header!.journal);
      this.#snapshotBytes = result.size;
    }
    const gens = [...Deno.readDirSync(dir)]
      .map((e) => JOURNAL_RE.exec(e.name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    for (const g of gens) if (g < firstGen) Deno.removeSync(`${dir}/${journalName(g)}`);
    const live = gens.filter((g) => g >= firstGen);
    for (let i = 0; i < live.length; i++) {
      const path = `${dir}/${journalName(live[i])}`;
      const last = i === live.length - 1;
      let result;
      try {
        result = readRecords(path, (op) => this.#catalog.apply(loaded(op)));
      } catch (e) {
        throw new Error(`Cannot open store: journal ${path} is damaged: ${msg(e)}`);
      }
      if (result.tornAt !== undefined) {
        if (!last) {
          throw new Error(
            `Cannot open store: journal ${path} is damaged at offset ${result.tornAt} and later journals exist`,
          );
        }
        Deno.truncateSync(path, result.goodBytes);
        warn({
          event: "journal_tail_truncated",
          file: path,
          offset: result.goodBytes,
          droppedBytes: result.size - result.goodBytes,
        });
      }
    }
    this.#gen = live.length > 0 ? live[live.length - 1] : firstGen;
    const path = `${dir}/${journalName(this.#gen)}`;
    this.#file = Deno.openSync(path, { create: true, append: true });
    this.#journalBytes = this.#file.statSync().size;
  }

  /** Journal: queue the record of one mutation (written by the next flush). */
  record(op: Document): void {
    if (this.#closed) {
      this.#failure ??= new Error("Cannot write: the store is closed");
      return;
    }
    try {
      const f = frame(op);
      this.#pending.push(f);
      this.#pendingBytes += f.length;
      this.#queuedSeq++;
    } catch (e) {
      this.#failure ??= new Error(`Cannot journal a mutation: ${msg(e)}`);
    }
  }

  /** Writes every pending record to the OS with one write. */
  #flush(): void {
    if (this.#pending.length === 0) return;
    const data = concat(this.#pending, this.#pendingBytes);
    const seq = this.#queuedSeq;
    this.#pending = [];
    this.#pendingBytes = 0;
    try {
      writeAll(this.#file, data);
    } catch (e) {
      this.#failure ??= new Error(`Cannot write the journal: ${msg(e)}`);
      throw this.#failure;
    }
    this.#journalBytes += data.length;
    this.#writtenSeq = seq;
    if (
      !this.#compacting && this.#journalBytes > COMPACT_MIN_BYTES &&
      this.#journalBytes > 2 * this.#snapshotBytes
    ) {
      this.compact().catch((e) => warn({ event: "compaction_failed", error: msg(e) }));
    }
  }

  /** Resolves once every fsync started after `target` was written has finished. */
  async #syncTo(target: number): Promise<void> {
    while (this.#syncedSeq < target) {
      if (!this.#syncing) {
        const upTo = this.#writtenSeq;
        const file = this.#file;
        this.#syncing = file.syncData().then(
          () => {
            if (upTo > this.#syncedSeq) this.#syncedSeq = upTo;
          },
          (e) => {
            this.#failure ??= new Error(`Cannot fsync the journal: ${msg(e)}`);
          },
        ).finally(() => {
          this.#syncing = undefined;
        });
      }
      await this.#syncing;
      if (this.#failure) throw this.#failure;
    }
  }

  durable(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    try {
      this.#flush();
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.#always && this.#syncedSeq < this.#writtenSeq) return this.#syncTo(this.#writtenSeq);
    return Promise.resolve();
  }

  #tick(): void {
    if (this.#failure || this.#closed) return;
    try {
      this.#flush();
    } catch {
      return;
    }
    if (this.#syncedSeq < this.#writtenSeq && !this.#syncing) {
      this.#syncTo(this.#writtenSeq).catch(() => {});
    }
  }

  /** Writes a fresh snapshot and drops the journals it covers (see the module comment). */
  compact(): Promise<void> {
    this.#compacting ??= this.#compact().finally(() => {
      this.#compacting = undefined;
    });
    return this.#compacting;
  }

  async #compact(): Promise<void> {
    while (this.#syncing) await this.#syncing;
    if (this.#failure) throw this.#failure;
    // From here to the capture, nothing awaits: the capture and the journal switch are atomic.
    this.#flush();
    this.#file.syncDataSync();
    this.#syncedSeq = this.#writtenSeq;
    const gen = this.#gen + 1;
    const next = Deno.openSync(`${this.#dir}/${journalName(gen)}`, { create: true, append: true });
    this.#file.close();
    this.#file = next;
    this.#gen = gen;
    this.#journalBytes = 0;
    const capture: { op: Document; docs: Document[] }[] = [];
    for (const colls of this.#catalog.dbs.values()) {
      for (const coll of colls.values()) {
        capture.push({
          op: { db: coll.db, c: coll.name, o: coll.options, specs: coll.listIndexes().slice(1) },
          docs: [...coll.all()],
        });
      }
    }
    // The snapshot, in chunks; the server keeps serving between them.
    const tmpPath = `${this.#dir}/${SNAPSHOT_TMP}`;
    const tmp = Deno.openSync(tmpPath, { create: true, write: true, truncate: true });
    let size = 0;
    try {
      let parts: Uint8Array[] = [];
      let bytes = 0;
      let records = 0;
      const put = async (op: Document, counted = true) => {
        const f = frame(op);
        parts.push(f);
        bytes += f.length;
        if (counted) records++;
        if (bytes >= SNAPSHOT_CHUNK_BYTES) {
          writeAll(tmp, concat(parts, bytes));
          size += bytes;
          parts = [];
          bytes = 0;
          if (!this.#closed) await new Promise((r) => setTimeout(r, 0));
        }
      };
      await put({ op: "snapshot", version: 1, journal: gen, created: new Date() }, false);
      for (const { op, docs } of capture) {
        await put({ op: "cc", db: op.db, c: op.c, o: op.o });
        if (op.specs.length > 0) await put({ op: "ci", db: op.db, c: op.c, specs: op.specs });
        for (const d of docs) await put({ op: "i", db: op.db, c: op.c, d });
      }
      await put({ op: "end", records }, false);
      if (bytes > 0) {
        writeAll(tmp, concat(parts, bytes));
        size += bytes;
      }
      await tmp.sync();
    } finally {
      tmp.close();
    }
    Deno.renameSync(tmpPath, `${this.#dir}/${SNAPSHOT}`);
    syncDir(this.#dir);
    this.#snapshotBytes = size;
    for (const e of Deno.readDirSync(this.#dir)) {
      const m = JOURNAL_RE.exec(e.name);
      if (m && Number(m[1]) < gen) Deno.removeSync(`${this.#dir}/${e.name}`);
    }
  }

  /** Flushes, compacts, fsyncs, stops the timer and releases the lock. */
  async close(): Promise<void> {
    if (this.#closed) return;
    clearInterval(this.#timer);
    try {
      if (this.#compacting) await this.#compacting.catch(() => {});
      while (this.#syncing) await this.#syncing;
      if (!this.#failure) {
        try {
          await this.compact();
        } catch (e) {
          // The journal still holds everything: keep it, and say why the snapshot failed.
          warn({ event: "compaction_failed", error: msg(e) });
          this.#flush();
          this.#file.syncDataSync();
        }
      }
    } finally {
      this.#closed = true;
      this.#file.close();
      try {
        this.#lock.unlockSync();
      } finally {
        this.#lock.close();
      }
    }
  }
}

function msg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

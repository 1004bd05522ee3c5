/**
 * Persistence of the in-memory catalog to a data folder: a snapshot plus a journal.
 *
 * Files in `dataDir` (the folder is made 0700 and every file 0600 whatever the umask, since the
 * journal holds whatever the service stores, password hashes included):
 * - `LOCK`: held with an exclusive `flock` while a store is open (the OS drops it when the process
 *   dies, `kill -9` included); a second open, from this process or another, is refused.
 * - `snapshot.bson`: the whole state at some point, as framed records (`records.ts`; the format,
 *   with its header naming the journal generation it precedes, is in `snapshot.ts`). A snapshot
 *   is written to `snapshot.tmp`, fsynced, renamed over `snapshot.bson`, and the folder fsynced:
 *   it is complete or absent, so any damage in it refuses the open.
 * - `journal-<N>.bson` (N = generation, 8 digits): one framed record per mutation since the
 *   snapshot (a `JournalOp`, `ops.ts`: `i` insert, `r` replace, `d` delete, `cc`/`dc`
 *   create/drop collection, `ci`/`di` create/drop index, `dd` drop database). Journals with N >=
 *   the snapshot's `journal` are replayed on open, in order, through `Catalog.execute` (the path
 *   of live writes); older ones are leftovers of a compaction and are deleted.
 *
 * Write path (write-ahead): a mutation is checked (unique indexes), then its record is written to
 * the journal with one `write` to the OS (a TTL pass writes its deletes 64 to a write), and only
 * then applied in memory; so once a mutation returns it survives `kill -9`, and a mutation whose
 * record cannot be written (disk full, read-only, I/O error) throws `JournalError` and is not
 * applied. The bytes of a failed write are cut off again (truncated back to the last good record;
 * retried before the next write if that fails too), so nothing of it is replayed after a
 * restart, and the next write that the disk takes succeeds: no restart is needed once space
 * returns. `status()` says whether writes are failing and why. Fsync policy:
 * - `"interval"` (default): a timer fsyncs the journal every `fsyncIntervalMs` (default 100)
 *   when something was written since the last fsync; a power loss can lose that last interval.
 * - `"always"`: `durable()` also waits for an fsync covering every write before it; concurrent
 *   callers share one fsync (one in flight at a time, each covering all the writes before it).
 * A failed fsync means acknowledged records may not be on the disk: writes are then refused
 * (`JournalError`) until a compaction, retried by the timer with back-off, has written the
 * whole state to a fresh snapshot. (With `"always"`, the writes whose `durable()` rejects were
 * applied and reached the OS: as with a MongoDB write concern error, an error about durability
 * does not undo a write; only a write that could not be journaled at all is not applied.)
 *
 * Compaction (on `close()`, and when the journal passes 64 MiB and twice the last snapshot):
 * the journal is fsynced, a new journal generation starts, the state is captured (stored bytes
 * are never changed in place, so capturing is noting where each document lies), the snapshot is
 * written from that capture in chunks (the server keeps serving), then renamed into place, and
 * the older journals are deleted. A crash at any step leaves a snapshot plus the journals that
 * complete it.
 *
 * Recovery: a bad record (short, wrong length, wrong checksum, not BSON) at the end of the last
 * journal is a torn write: the file is truncated there and a warning is logged (file and
 * offsets, never contents). A bad record followed by a valid one is corruption of
 * acknowledged data: the open is refused.
 */
import { JournalError } from "../errors.ts";
import type { Journal } from "./collection.ts";
import { decodeOp, encodeOp, type JournalOp } from "./ops.ts";
import { concat, frame, readRecords, writeAll } from "./records.ts";
import { loadSnapshot, type SnapshotCollection, writeSnapshot } from "./snapshot.ts";
import type { Catalog } from "./store.ts";
import type { JournalFile, StoreOptions, StoreStatus } from "./types.ts";

const SNAPSHOT = "snapshot.bson";
const SNAPSHOT_TMP = "snapshot.tmp";
const LOCK = "LOCK";
const JOURNAL_RE = /^journal-(\d{8})\.bson$/;
const COMPACT_MIN_BYTES = 64 * 1024 * 1024;
/** Back-off of the compaction that recovers from a failed fsync: 1 s doubling to 30 s. */
const RECOVER_FIRST_MS = 1000;
const RECOVER_MAX_MS = 30_000;

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

/** Sets the mode exactly (a umask only ever removes bits, so creating with a mode is not enough). */
function chmodPrivate(path: string, mode: 0o600 | 0o700): void {
  if (Deno.build.os !== "windows") Deno.chmodSync(path, mode);
}

function openJournalFile(path: string): JournalFile {
  return Deno.openSync(path, { create: true, append: true, mode: 0o600 });
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

function stderrLog(event: Record<string, unknown>): void {
  console.error(JSON.stringify({ component: "embedded-mongo-storage", ...event }));
}

export class Persistence implements Journal {
  readonly #dir: string;
  readonly #catalog: Catalog;
  readonly #always: boolean;
  readonly #openJournal: (path: string) => JournalFile;
  readonly #log: (event: Record<string, unknown>) => void;
  #lock: Deno.FsFile;
  #file!: JournalFile;
  #gen = 0;
  /** Where the last good record of the current journal ends. */
  #journalBytes = 0;
  /** A failed write left bytes past `#journalBytes` that could not be cut off yet. */
  #tailDirty = false;
  #snapshotBytes = 0;
  #writtenSeq = 0;
  #syncedSeq = 0;
  #syncing?: Promise<void>;
  #compacting?: Promise<void>;
  #timer?: ReturnType<typeof setInterval>;
  /** Set while writes fail: why, and since when. */
  #failing?: { error: string; since: Date };
  /** Set by a failed fsync: writes are refused until a compaction succeeds. */
  #syncFailure?: JournalError;
  #recoverDelayMs = 0;
  #recoverAt = 0;
  #failedWrites = 0;
  #failedSinceLog = 0;
  #closed = false;

  private constructor(dir: string, catalog: Catalog, options: StoreOptions, lock: Deno.FsFile) {
    this.#dir = dir;
    this.#catalog = catalog;
    this.#always = options.fsync === "always";
    this.#openJournal = options.openJournal ?? openJournalFile;
    this.#log = options.log ?? stderrLog;
    this.#lock = lock;
  }

  /** Locks the folder, loads the snapshot, replays the journals, and starts journaling. */
  static open(dir: string, catalog: Catalog, options: StoreOptions): Persistence {
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodPrivate(dir, 0o700);
    const lockPath = `${dir}/${LOCK}`;
    const lock = Deno.openSync(lockPath, { read: true, write: true, create: true, mode: 0o600 });
    let locked = false;
    try {
      chmodPrivate(lockPath, 0o600);
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
      chmodPrivate(snapshotPath, 0o600);
      const { gen, size } = loadSnapshot(snapshotPath, this.#catalog);
      firstGen = gen;
      this.#snapshotBytes = size;
    }
    const gens = [...Deno.readDirSync(dir)]
      .map((e) => JOURNAL_RE.exec(e.name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    for (const g of gens) if (g < firstGen) Deno.removeSync(`${dir}/${journalName(g)}`);
    const live = gens.filter((g) => g >= firstGen);
    for (let i = 0; i < live.length; i++) this.#replay(live[i], i === live.length - 1);
    this.#gen = live.length > 0 ? live[live.length - 1] : firstGen;
    this.#file = this.#openJournalAt(this.#gen);
    this.#journalBytes = this.#file.statSync().size;
  }

  /** Replays one journal; a torn tail is cut off (the last journal only) and logged. */
  #replay(gen: number, last: boolean): void {
    const path = `${this.#dir}/${journalName(gen)}`;
    chmodPrivate(path, 0o600);
    let result;
    try {
      result = readRecords(path, (body) => {
        const op = decodeOp(body);
        if (op.op === "other") {
          throw new Error(`unknown record ${JSON.stringify(op.record.op)}`);
        }
        this.#catalog.execute(op);
      });
    } catch (e) {
      throw new Error(`Cannot open store: journal ${path} is damaged: ${msg(e)}`);
    }
    if (result.tornAt === undefined) return;
    if (!last) {
      throw new Error(
        `Cannot open store: journal ${path} is damaged at offset ${result.tornAt} and later journals exist`,
      );
    }
    Deno.truncateSync(path, result.goodBytes);
    this.#log({
      level: "warn",
      event: "journal_tail_truncated",
      file: path,
      offset: result.goodBytes,
      droppedBytes: result.size - result.goodBytes,
    });
  }

  #openJournalAt(gen: number): JournalFile {
    const path = `${this.#dir}/${journalName(gen)}`;
    const file = this.#openJournal(path);
    try {
      chmodPrivate(path, 0o600);
    } catch (e) {
      file.close();
      throw e;
    }
    return file;
  }

  /**
   * Journal: writes the records of mutations (one, or a batch of deletes) to the OS, with one
   * write, before they are applied. Throws `JournalError` (and the caller applies none of them)
   * when it cannot.
   */
  record(...ops: JournalOp[]): void {
    if (this.#closed) throw new JournalError("Cannot write: the store is closed");
    if (this.#syncFailure) this.#refuse(this.#syncFailure.message);
    let f: Uint8Array;
    try {
      const frames = ops.map((op) => frame(encodeOp(op)));
      f = frames.length === 1
        ? frames[0]
        : concat(frames, frames.reduce((n, x) => n + x.length, 0));
    } catch (e) {
      throw new Error(`Cannot journal a mutation: ${msg(e)}`);
    }
    try {
      if (this.#tailDirty) {
        this.#file.truncateSync(this.#journalBytes);
        this.#tailDirty = false;
      }
      writeAll(this.#file, f);
    } catch (e) {
      this.#cutTail();
      this.#refuse(`Cannot write the journal: ${msg(e)}`);
    }
    this.#journalBytes += f.length;
    this.#writtenSeq++;
    if (this.#failing) this.#recovered();
    if (
      !this.#compacting && this.#journalBytes > COMPACT_MIN_BYTES &&
      this.#journalBytes > 2 * this.#snapshotBytes
    ) {
      this.compact().catch((e) =>
        this.#log({ level: "warn", event: "compaction_failed", error: msg(e) })
      );
    }
  }

  /** Cuts a failed write's bytes off the journal (or remembers to, before the next write). */
  #cutTail(): void {
    try {
      this.#file.truncateSync(this.#journalBytes);
      this.#tailDirty = false;
    } catch {
      this.#tailDirty = true;
    }
  }

  /** Counts a refused write, marks the store as failing (logged once), and throws. */
  #refuse(error: string): never {
    this.#failedWrites++;
    if (!this.#failing) {
      this.#failing = { error, since: new Date() };
      this.#failedSinceLog = 0;
      this.#log({ level: "error", event: "journal_write_failed", error });
    } else {
      this.#failing.error = error;
      this.#failedSinceLog++;
    }
    throw new JournalError(error);
  }

  #recovered(): void {
    const failing = this.#failing!;
    this.#failing = undefined;
    this.#log({
      level: "info",
      event: "journal_write_recovered",
      failingForMs: Date.now() - failing.since.getTime(),
      refusedWrites: this.#failedSinceLog + 1,
    });
  }

  #syncFailed(e: unknown): JournalError {
    if (!this.#syncFailure) {
      this.#syncFailure = new JournalError(
        `Cannot fsync the journal: ${msg(e)}; writes are refused until a fresh snapshot is written`,
      );
      this.#recoverDelayMs = RECOVER_FIRST_MS;
      this.#recoverAt = Date.now() + RECOVER_FIRST_MS;
      this.#failing ??= { error: this.#syncFailure.message, since: new Date() };
      this.#failing.error = this.#syncFailure.message;
      this.#failedSinceLog = 0;
      this.#log({
        level: "error",
        event: "journal_fsync_failed",
        error: this.#syncFailure.message,
      });
    }
    return this.#syncFailure;
  }

  status(): StoreStatus {
    const out: StoreStatus = {
      persistent: true,
      writable: !this.#failing && !this.#closed,
      failedWrites: this.#failedWrites,
    };
    if (this.#failing) {
      out.error = this.#failing.error;
      out.failingSince = this.#failing.since;
    } else if (this.#closed) out.error = "Cannot write: the store is closed";
    return out;
  }

  /** Resolves once every fsync started after `target` was written has finished. */
  async #syncTo(target: number): Promise<void> {
    while (this.#syncedSeq < target) {
      if (this.#syncFailure) throw this.#syncFailure;
      if (!this.#syncing) {
        const upTo = this.#writtenSeq;
        const file = this.#file;
        this.#syncing = file.syncData().then(
          () => {
            if (upTo > this.#syncedSeq) this.#syncedSeq = upTo;
          },
          (e) => {
            this.#syncFailed(e);
          },
        ).finally(() => {
          this.#syncing = undefined;
        });
      }
      await this.#syncing;
    }
  }

  durable(): Promise<void> {
    if (this.#syncFailure) return Promise.reject(this.#syncFailure);
    if (this.#always && this.#syncedSeq < this.#writtenSeq) return this.#syncTo(this.#writtenSeq);
    return Promise.resolve();
  }

  #tick(): void {
    if (this.#closed) return;
    if (this.#syncFailure) {
      if (this.#compacting || Date.now() < this.#recoverAt) return;
      this.#recoverDelayMs = Math.min(this.#recoverDelayMs * 2, RECOVER_MAX_MS);
      this.#recoverAt = Date.now() + this.#recoverDelayMs;
      this.compact().catch((e) =>
        this.#log({ level: "warn", event: "compaction_failed", error: msg(e) })
      );
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
    // From here to the capture, nothing awaits: the capture and the journal switch are atomic.
    const recovering = this.#startGeneration();
    const gen = this.#gen;
    const capture: SnapshotCollection[] = [];
    for (const colls of this.#catalog.dbs.values()) {
      for (const coll of colls.values()) {
        capture.push({
          db: coll.db,
          c: coll.name,
          options: coll.options,
          specs: coll.listIndexes().slice(1),
          capture: coll.capture(),
        });
      }
    }
    this.#snapshotBytes = await this.#writeSnapshotFile(gen, capture);
    for (const e of Deno.readDirSync(this.#dir)) {
      const m = JOURNAL_RE.exec(e.name);
      if (m && Number(m[1]) < gen) Deno.removeSync(`${this.#dir}/${e.name}`);
    }
    if (recovering && this.#syncFailure === recovering) {
      // Everything acknowledged is in the fsynced snapshot now.
      this.#syncFailure = undefined;
      this.#syncedSeq = this.#writtenSeq;
      if (this.#failing) this.#recovered();
    }
  }

  /**
   * Fsyncs the journal and starts the next generation (synchronously). Returns the fsync
   * failure being recovered from, if any.
   */
  #startGeneration(): JournalError | undefined {
    if (this.#tailDirty) {
      this.#file.truncateSync(this.#journalBytes);
      this.#tailDirty = false;
    }
    const next = this.#openJournalAt(this.#gen + 1);
    if (!this.#syncFailure) {
      try {
        this.#file.syncDataSync();
        this.#syncedSeq = this.#writtenSeq;
      } catch (e) {
        // The snapshot about to be written makes the old journal moot; until then writes wait.
        this.#syncFailed(e);
      }
    }
    this.#file.close();
    this.#file = next;
    this.#gen++;
    this.#journalBytes = 0;
    return this.#syncFailure;
  }

  /** Writes, fsyncs and renames the snapshot into place; returns its size. */
  async #writeSnapshotFile(gen: number, capture: SnapshotCollection[]): Promise<number> {
    const tmpPath = `${this.#dir}/${SNAPSHOT_TMP}`;
    const tmp = Deno.openSync(tmpPath, { create: true, write: true, truncate: true, mode: 0o600 });
    let size: number;
    try {
      chmodPrivate(tmpPath, 0o600);
      // The server keeps serving between chunks (not while closing: nothing else runs then).
      const pause = () =>
        this.#closed ? Promise.resolve() : new Promise<void>((r) => setTimeout(r, 0));
      size = await writeSnapshot(tmp, gen, capture, pause);
      await tmp.sync();
    } catch (e) {
      tmp.close();
      try {
        Deno.removeSync(tmpPath); // a full disk gets its space back
      } catch { /* already gone */ }
      throw e;
    }
    tmp.close();
    Deno.renameSync(tmpPath, `${this.#dir}/${SNAPSHOT}`);
    syncDir(this.#dir);
    return size;
  }

  /** Compacts, fsyncs, stops the timer and releases the lock. */
  async close(): Promise<void> {
    if (this.#closed) return;
    clearInterval(this.#timer);
    try {
      if (this.#compacting) await this.#compacting.catch(() => {});
      while (this.#syncing) await this.#syncing;
      try {
        await this.compact();
      } catch (e) {
        // The journal still holds everything: keep it, and say why the snapshot failed.
        this.#log({ level: "warn", event: "compaction_failed", error: msg(e) });
        try {
          this.#file.syncDataSync();
        } catch (e) {
          this.#log({ level: "error", event: "journal_fsync_failed", error: msg(e) });
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

/**
 * The embedded store on a disk that fails: a write whose journal record cannot be written is not
 * applied (nor found after a crash or a restart), the failure is visible (`status()`,
 * `serverStatus`, an error reply with code 42), and writes succeed again, without a restart, once
 * the disk takes them. Shown with an injected journal file (no root needed) and, when the test
 * runs as root and may mount, with a real 512 KiB tmpfs.
 */
import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { startEmbeddedMongo } from "../src/embedded_mongo/mod.ts";
import {
  JournalError,
  type JournalFile,
  openStore,
  type Store,
} from "../src/embedded_mongo/storage/mod.ts";

const ENOSPC = "No space left on device (os error 28)";
const EIO = "Input/output error (os error 5)";

/** Journal files on a pretend disk: `space` bytes left, and truncation or fsync that can fail. */
class FaultyDisk {
  space = Infinity;
  failTruncate = false;
  failSync = false;

  open = (path: string): JournalFile => {
    const file = Deno.openSync(path, { create: true, append: true, mode: 0o600 });
    return {
      writeSync: (p: Uint8Array): number => {
        if (this.space <= 0) throw new Error(ENOSPC);
        const n = file.writeSync(p.subarray(0, Math.min(p.length, this.space)));
        this.space -= n;
        return n;
      },
      truncateSync: (len?: number): void => {
        if (this.failTruncate) throw new Error(EIO);
        const freed = file.statSync().size - (len ?? 0);
        file.truncateSync(len);
        if (freed > 0) this.space += freed;
      },
      syncData: () => this.failSync ? Promise.reject(new Error(EIO)) : file.syncData(),
      syncDataSync: (): void => {
        if (this.failSync) throw new Error(EIO);
        file.syncDataSync();
      },
      statSync: () => file.statSync(),
      close: () => file.close(),
    };
  };
}

function journalPath(dir: string): string {
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
    n.startsWith("journal-")
  ).sort();
  return `${dir}/${names.at(-1)}`;
}

/** What a `kill -9` leaves: the folder's files as the OS has them now. */
function crashCopy(dir: string): string {
  const copy = Deno.makeTempDirSync({ prefix: "disk-full-crash-" });
  for (const e of Deno.readDirSync(dir)) {
    if (e.isFile && e.name !== "LOCK") Deno.copyFileSync(`${dir}/${e.name}`, `${copy}/${e.name}`);
  }
  return copy;
}

/** The documents of app.sessions and the state around them, as a reopened store has them. */
async function contentsAfterReopen(
  dir: string,
): Promise<{ docs: unknown[]; indexes: string[]; collections: string[]; warnings: string[] }> {
  const warnings: string[] = [];
  const store = await openStore({ dataDir: dir, log: (e) => warnings.push(String(e.event)) });
  try {
    return describe(store, warnings);
  } finally {
    await store.close();
  }
}

function describe(store: Store, warnings: string[] = []) {
  const coll = store.getCollection("app", "sessions");
  return {
    docs: coll ? [...coll.all()] : [],
    indexes: coll ? coll.listIndexes().map((i) => i.name) : [],
    collections: store.listCollections("app").map((c) => c.name),
    warnings,
  };
}

function isJournalError(pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof JournalError, `expected a JournalError, got ${e}`);
    assert.equal(e.code, 42);
    assert.match(e.message, pattern);
    return true;
  };
}

Deno.test("insert() that cannot be journaled is not applied, leaves no bytes, and works again once space returns", async () => {
  const dir = await Deno.makeTempDir({ prefix: "disk-full-" });
  const disk = new FaultyDisk();
  const events: Record<string, unknown>[] = [];
  const store = await openStore({
    dataDir: dir,
    openJournal: disk.open,
    log: (e) => events.push(e),
  });
  try {
    const coll = store.createCollection("app", "sessions");
    coll.createIndexes([{ name: "token_1", key: { token: 1 }, unique: true }]);
    coll.insert({ _id: "a", token: "ta" });
    const journal = journalPath(dir);
    const sizeBefore = Deno.statSync(journal).size;

    disk.space = 10; // the record starts to go out, then the disk is full
    assert.throws(
      () => coll.insert({ _id: "b", token: "tb" }),
      isJournalError(/^Cannot write the journal: No space left on device/),
    );
    assert.equal(coll.getById("b"), undefined);
    assert.deepEqual(coll.lookup("token", "tb"), []);
    assert.equal(coll.count(), 1);
    assert.equal(Deno.statSync(journal).size, sizeBefore, "the partial record was cut off");
    const failing = store.status();
    assert.equal(failing.writable, false);
    assert.match(failing.error!, /^Cannot write the journal: No space left on device/);
    assert.ok(failing.failingSince instanceof Date);
    assert.equal(failing.failedWrites, 1);

    // Every kind of mutation is refused and leaves no trace.
    disk.space = 0;
    const refused = isJournalError(/No space left on device/);
    assert.throws(() => coll.replace("a", { _id: "a", token: "changed" }), refused);
    assert.throws(() => coll.delete("a"), refused);
    assert.throws(() => store.createCollection("app", "other"), refused);
    assert.throws(() => store.dropCollection("app", "sessions"), refused);
    assert.throws(() => coll.createIndexes([{ name: "x_1", key: { x: 1 } }]), refused);
    assert.throws(() => coll.dropIndex("token_1"), refused);
    assert.throws(() => store.dropDatabase("app"), refused);
    const unchanged = {
      docs: [{ _id: "a", token: "ta" }],
      indexes: ["_id_", "token_1"],
      collections: ["sessions"],
      warnings: [],
    };
    assert.deepEqual(describe(store), unchanged);
    assert.deepEqual(coll.lookup("token", "ta"), [{ _id: "a", token: "ta" }]);
    assert.equal(store.status().failedWrites, 8);
    assert.deepEqual(events.map((e) => e.event), ["journal_write_failed"], "logged once");

    // A crash now keeps exactly what was acknowledged.
    const copy = crashCopy(dir);
    try {
      assert.deepEqual(await contentsAfterReopen(copy), unchanged);
    } finally {
      Deno.removeSync(copy, { recursive: true });
    }

    // Space returns: the next write succeeds, no restart.
    disk.space = Infinity;
    coll.insert({ _id: "c", token: "tc" });
    await store.durable();
    const healthy = store.status();
    assert.equal(healthy.writable, true);
    assert.equal(healthy.error, undefined);
    assert.equal(healthy.failedWrites, 8);
    assert.deepEqual(events.map((e) => e.event), [
      "journal_write_failed",
      "journal_write_recovered",
    ]);
    assert.equal(events[1].refusedWrites, 8);
  } finally {
    await store.close();
  }
  try {
    assert.deepEqual(await contentsAfterReopen(dir), {
      docs: [{ _id: "a", token: "ta" }, { _id: "c", token: "tc" }],
      indexes: ["_id_", "token_1"],
      collections: ["sessions"],
      warnings: [],
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("insert() whose partial record cannot be cut off at once: a crash drops it, the next write cuts it off", async () => {
  const dir = await Deno.makeTempDir({ prefix: "disk-full-" });
  const disk = new FaultyDisk();
  const store = await openStore({ dataDir: dir, openJournal: disk.open, log: () => {} });
  try {
    const coll = store.createCollection("app", "sessions");
    coll.insert({ _id: "a" });
    const journal = journalPath(dir);
    const sizeBefore = Deno.statSync(journal).size;
    disk.space = 10;
    disk.failTruncate = true;
    assert.throws(() => coll.insert({ _id: "b" }), isJournalError(/No space left/));
    assert.equal(coll.getById("b"), undefined);
    assert.equal(Deno.statSync(journal).size, sizeBefore + 10, "10 bytes of b are left for now");

    const copy = crashCopy(dir);
    try {
      const after = await contentsAfterReopen(copy);
      assert.deepEqual(after.docs, [{ _id: "a" }]);
      assert.deepEqual(after.warnings, ["journal_tail_truncated"]);
    } finally {
      Deno.removeSync(copy, { recursive: true });
    }

    disk.failTruncate = false;
    disk.space = Infinity;
    coll.insert({ _id: "c" });
    assert.equal(store.status().writable, true);
    const clean = crashCopy(dir);
    try {
      const after = await contentsAfterReopen(clean);
      assert.deepEqual(after.docs, [{ _id: "a" }, { _id: "c" }]);
      assert.deepEqual(after.warnings, [], "no torn bytes were left before c");
    } finally {
      Deno.removeSync(clean, { recursive: true });
    }
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("durable() after a failed fsync rejects, later writes are refused until a fresh snapshot is written, then accepted", async () => {
  const dir = await Deno.makeTempDir({ prefix: "disk-fsync-" });
  const disk = new FaultyDisk();
  const events: Record<string, unknown>[] = [];
  const store = await openStore({
    dataDir: dir,
    fsync: "always",
    fsyncIntervalMs: 10,
    openJournal: disk.open,
    log: (e) => events.push(e),
  });
  try {
    const coll = store.createCollection("app", "sessions");
    coll.insert({ _id: "a" });
    await store.durable();
    disk.failSync = true;
    coll.insert({ _id: "b" }); // reaches the OS; its fsync fails
    await assert.rejects(store.durable(), isJournalError(/^Cannot fsync the journal: Input/));
    assert.equal(store.status().writable, false);
    assert.throws(() => coll.insert({ _id: "c" }), isJournalError(/Cannot fsync the journal/));
    assert.equal(coll.getById("c"), undefined);

    disk.failSync = false;
    const deadline = Date.now() + 10_000;
    while (!store.status().writable) {
      assert.ok(Date.now() < deadline, `never recovered: ${JSON.stringify(events)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    coll.insert({ _id: "d" });
    await store.durable();
    assert.deepEqual(events.map((e) => e.event), [
      "journal_fsync_failed",
      "journal_write_recovered",
    ]);
    assert.ok(Deno.statSync(`${dir}/snapshot.bson`).isFile, "recovery wrote a snapshot");
  } finally {
    await store.close();
  }
  try {
    const after = await contentsAfterReopen(dir);
    // b was applied and reached the OS before its fsync failed: it stays (as with MongoDB, an
    // error about durability does not undo a write); c was refused and is nowhere.
    assert.deepEqual(after.docs, [{ _id: "a" }, { _id: "b" }, { _id: "d" }]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The code and message of a rejected driver call. */
async function failure(p: Promise<unknown>): Promise<{ code?: number; message: string }> {
  try {
    await p;
  } catch (e) {
    return { code: (e as { code?: number }).code, message: (e as Error).message };
  }
  assert.fail("expected an error");
}

Deno.test("insertOne() on a full disk answers LogWriteFailed, leaves no trace, serverStatus says why, and the next write succeeds", async () => {
  const dir = await Deno.makeTempDir({ prefix: "disk-full-server-" });
  const disk = new FaultyDisk();
  const server = await startEmbeddedMongo({
    socketPath: `${dir}/db.sock`,
    dataDir: `${dir}/data`,
    storage: { openJournal: disk.open },
    log: () => {},
  });
  const client = new MongoClient(server.url);
  try {
    const c = client.db("app").collection<{ _id: string }>("sessions");
    const admin = client.db("admin");
    await c.insertOne({ _id: "a" });
    disk.space = 0;
    const started = performance.now();
    const refused = await failure(c.insertOne({ _id: "b" }));
    assert.ok(performance.now() - started < 1000, "a failing write fails promptly");
    assert.equal(refused.code, 42);
    assert.match(refused.message, /Cannot write the journal: No space left on device/);
    assert.equal((await failure(c.deleteOne({ _id: "a" }))).code, 42);
    assert.equal((await failure(c.updateOne({ _id: "a" }, { $set: { x: 1 } }))).code, 42);
    assert.equal((await failure(c.findOneAndDelete({ _id: "a" }))).code, 42);
    assert.deepEqual(await c.find().toArray(), [{ _id: "a" }]);
    const status = await admin.command({ serverStatus: 1 });
    assert.equal(status.storage.writable, false);
    assert.match(status.storage.error, /No space left on device/);
    assert.ok(status.storage.failingSince instanceof Date);
    assert.equal(status.storage.failedWrites, 4);

    disk.space = Infinity;
    await c.insertOne({ _id: "c" });
    assert.equal((await admin.command({ serverStatus: 1 })).storage.writable, true);
  } finally {
    await client.close();
    await server.close();
  }
  try {
    assert.deepEqual((await contentsAfterReopen(`${dir}/data`)).docs, [{ _id: "a" }, { _id: "c" }]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Why a 512 KiB tmpfs cannot be mounted here, or undefined when it can. */
async function tmpfsProblem(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "not Linux";
  if (Deno.uid() !== 0) return "not running as root";
  const dir = await Deno.makeTempDir({ prefix: "tmpfs-probe-" });
  try {
    const out = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=512k", "tmpfs", dir],
      stdout: "null",
      stderr: "piped",
    }).output().catch((e) => ({ success: false, stderr: new TextEncoder().encode(String(e)) }));
    if (!out.success) {
      return `mount not permitted here: ${new TextDecoder().decode(out.stderr).trim()}`;
    }
    await new Deno.Command("umount", { args: [dir] }).output();
    return undefined;
  } finally {
    await Deno.remove(dir);
  }
}

const noTmpfs = await tmpfsProblem();

Deno.test({
  name:
    `insertOne() on a real full 512 KiB tmpfs is refused without trace and succeeds once space is freed${
      noTmpfs ? ` (SKIPPED: ${noTmpfs})` : ""
    }`,
  ignore: noTmpfs !== undefined,
  fn: async () => {
    const mountPoint = await Deno.makeTempDir({ prefix: "tmpfs-" });
    const run = (cmd: string, args: string[]) => new Deno.Command(cmd, { args }).output();
    assert.ok(
      (await run("mount", ["-t", "tmpfs", "-o", "size=512k", "tmpfs", mountPoint])).success,
    );
    let server;
    let client: MongoClient | undefined;
    try {
      const ballast = `${mountPoint}/ballast`;
      await Deno.writeFile(ballast, new Uint8Array(128 * 1024));
      const dataDir = `${mountPoint}/data`;
      server = await startEmbeddedMongo({
        socketPath: `${mountPoint}/db.sock`,
        dataDir,
        log: () => {},
      });
      client = new MongoClient(server.url);
      const c = client.db("app").collection<{ _id: number; pad: string }>("sessions");
      const acked: number[] = [];
      let refused: { id: number; code?: number; message: string } | undefined;
      for (let id = 0; id < 200 && !refused; id++) {
        try {
          await c.insertOne({ _id: id, pad: "x".repeat(8 * 1024) });
          acked.push(id);
        } catch (e) {
          refused = { id, code: (e as { code?: number }).code, message: (e as Error).message };
        }
      }
      assert.ok(refused, "the disk never filled up");
      assert.equal(refused.code, 42);
      assert.match(refused.message, /No space left on device/);
      assert.ok(acked.length > 10);
      const ids = async () =>
        (await c.find({}, { projection: { _id: 1 } }).toArray()).map((d) => d._id);
      assert.deepEqual(await ids(), acked, "the refused insert is not there");
      const status = await client.db("admin").command({ serverStatus: 1 });
      assert.equal(status.storage.writable, false);
      assert.match(status.storage.error, /No space left on device/);

      // What a crash or restart now would find: exactly what was acknowledged.
      const copy = crashCopy(dataDir);
      try {
        const store = await openStore({ dataDir: copy, log: () => {} });
        try {
          const kept = [...store.getCollection("app", "sessions")!.all()].map((d) => d._id);
          assert.deepEqual(kept, acked);
        } finally {
          await store.close();
        }
      } finally {
        Deno.removeSync(copy, { recursive: true });
      }

      // A restart while the disk is still full: the shutdown's snapshot cannot be written (its
      // temporary file is removed again), and the store comes back with exactly the same data.
      const events: Record<string, unknown>[] = [];
      await client.close();
      await server.close();
      server = await startEmbeddedMongo({
        socketPath: `${mountPoint}/db.sock`,
        dataDir,
        log: (e) => events.push(e),
      });
      client = new MongoClient(server.url);
      const again = client.db("app").collection<{ _id: number; pad: string }>("sessions");
      assert.deepEqual(
        (await again.find({}, { projection: { _id: 1 } }).toArray()).map((d) => d._id),
        acked,
      );
      assert.equal((await failure(again.insertOne({ _id: refused.id, pad: "x" }))).code, 42);
      assert.deepEqual(
        [...Deno.readDirSync(dataDir)].map((e) => e.name).sort().filter((n) =>
          n.startsWith("snapshot")
        ),
        [],
      );

      await Deno.remove(ballast); // space returns
      await again.insertOne({ _id: refused.id, pad: "retried" });
      assert.equal((await client.db("admin").command({ serverStatus: 1 })).storage.writable, true);
      assert.deepEqual(events.map((e) => e.event), [
        "journal_write_failed",
        "journal_write_recovered",
      ]);
      await client.close();
      client = undefined;
      await server.close();
      server = undefined;
      const store = await openStore({ dataDir, log: () => {} });
      try {
        const kept = [...store.getCollection("app", "sessions")!.all()];
        assert.deepEqual(kept.map((d) => d._id), [...acked, refused.id]);
        assert.equal(kept.at(-1)!.pad, "retried");
      } finally {
        await store.close();
      }
    } finally {
      await client?.close();
      await server?.close();
      await run("umount", [mountPoint]);
      await Deno.remove(mountPoint, { recursive: true });
    }
  },
});

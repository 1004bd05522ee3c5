import assert from "node:assert/strict";
import { Binary, BSON, Long, ObjectId } from "bson";
import { frame } from "./records.ts";
import { DuplicateKeyError, openStore, type Store } from "./mod.ts";

/** What a `kill -9` leaves: the folder's files as the OS has them, copied while the store is open. */
function crashCopy(dir: string): string {
  const copy = Deno.makeTempDirSync({ prefix: "store-crash-" });
  for (const e of Deno.readDirSync(dir)) {
    if (e.isFile && e.name !== "LOCK") Deno.copyFileSync(`${dir}/${e.name}`, `${copy}/${e.name}`);
  }
  return copy;
}

function journals(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.startsWith("journal-"))
    .sort();
}

/** Runs `fn` with console.error captured; returns the lines written. */
async function capturingStderr(fn: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => lines.push(args.map(String).join(" "));
  try {
    await fn();
  } finally {
    console.error = original;
  }
  return lines;
}

async function withStore(dir: string, fn: (s: Store) => void | Promise<void>): Promise<void> {
  const store = await openStore({ dataDir: dir });
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

Deno.test("close() then openStore() keeps documents, indexes, options, and what was dropped", async () => {
  const dir = Deno.makeTempDirSync();
  const oid = new ObjectId();
  await withStore(dir, (s) => {
    const c = s.createCollection("app", "sessions", { validator: { user: { $type: "string" } } });
    c.createIndexes([
      { name: "token_1", key: { token: 1 }, unique: true },
      { name: "expires_1", key: { expires: 1 }, expireAfterSeconds: 3600 },
      { name: "user_1_at_-1", key: { user: 1, at: -1 } },
      { name: "gone", key: { gone: 1 } },
    ]);
    c.insert({
      _id: "s1",
      token: "t1",
      user: "u",
      expires: new Date(1000),
      n: Long.fromString("9007199254740993"),
    });
    c.insert({ _id: oid, token: "t2", bin: new Binary(new Uint8Array([9, 8]), 0) });
    c.insert({ _id: 3, token: "t3" });
    c.replace("s1", { _id: "s1", token: "t1b", user: "u", expires: new Date(2000) });
    c.delete(3);
    c.dropIndex("gone");
    s.createCollection("app", "dropped").insert({ _id: 1 });
    s.dropCollection("app", "dropped");
    s.createCollection("otherdb", "x").insert({ _id: 1 });
    s.dropDatabase("otherdb");
    s.createCollection("app", "empty");
  });
  await withStore(dir, async (s) => {
    const c = s.getCollection("app", "sessions")!;
    assert.deepEqual([...c.all()].map((d) => d._id), ["s1", oid]);
    assert.deepEqual(c.getById("s1"), {
      _id: "s1",
      token: "t1b",
      user: "u",
      expires: new Date(2000),
    });
    assert.deepEqual([...(c.getById(oid)!.bin as Binary).buffer], [9, 8]);
    assert.deepEqual(c.listIndexes(), [
      { name: "_id_", key: { _id: 1 } },
      { name: "token_1", key: { token: 1 }, unique: true },
      { name: "expires_1", key: { expires: 1 }, expireAfterSeconds: 3600 },
      { name: "user_1_at_-1", key: { user: 1, at: -1 } },
    ]);
    assert.throws(() => c.insert({ _id: 4, token: "t2" }), DuplicateKeyError);
    assert.deepEqual(c.lookup("token", "t1b")?.map((d) => d._id), ["s1"]);
    assert.deepEqual(s.listCollections("app"), [
      { name: "sessions", options: { validator: { user: { $type: "string" } } } },
      { name: "empty", options: {} },
    ]);
    assert.deepEqual(s.listDatabases().map((d) => d.name), ["app"]);
    assert.equal(await s.expireTtl(new Date(2000 + 3600_000)), 1);
  });
  await withStore(dir, (s) => {
    assert.deepEqual([...s.getCollection("app", "sessions")!.all()].map((d) => d._id), [oid]);
  });
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("openStore() replays the journal of a store that was never closed", async () => {
  const dir = Deno.makeTempDirSync();
  const store = await openStore({ dataDir: dir, fsync: "always" });
  let copy = "";
  try {
    const c = store.createCollection("db", "c");
    c.createIndexes([{ name: "k_1", key: { k: 1 }, unique: true }]);
    for (let i = 0; i < 100; i++) c.insert({ _id: i, k: `k${i}` });
    c.delete(50);
    await store.durable();
    copy = crashCopy(dir);
  } finally {
    await store.close();
  }
  await withStore(copy, (s) => {
    const c = s.getCollection("db", "c")!;
    assert.equal(c.count(), 99);
    assert.equal(c.getById(50), undefined);
    assert.throws(() => c.insert({ _id: 500, k: "k7" }), DuplicateKeyError);
  });
  Deno.removeSync(dir, { recursive: true });
  Deno.removeSync(copy, { recursive: true });
});

Deno.test("openStore() truncates a torn journal tail, keeps what precedes it, and warns", async () => {
  const dir = Deno.makeTempDirSync();
  const store = await openStore({ dataDir: dir });
  let copy = "";
  try {
    const c = store.createCollection("db", "c");
    for (let i = 0; i < 10; i++) c.insert({ _id: i, secret: "do-not-log" });
    await store.durable();
    copy = crashCopy(dir);
  } finally {
    await store.close();
  }
  const [journal] = journals(copy);
  const path = `${copy}/${journal}`;
  const size = Deno.statSync(path).size;
  Deno.truncateSync(path, size - 7); // the last record loses its end
  const lines = await capturingStderr(() =>
    withStore(copy, (s) => {
      assert.deepEqual([...s.getCollection("db", "c")!.all()].map((d) => d._id), [
        0,
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        8,
      ]);
    })
  );
  assert.equal(lines.length, 1);
  const warning = JSON.parse(lines[0]);
  assert.equal(warning.event, "journal_tail_truncated");
  assert.equal(warning.file, path);
  assert.ok(!lines[0].includes("do-not-log"));
  // Zeros after the last good record (a file extended but never written) are a torn tail too.
  Deno.removeSync(copy, { recursive: true });
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("openStore() treats a zero-filled tail as torn and keeps every record", async () => {
  const dir = Deno.makeTempDirSync();
  await withStore(dir, (s) => {
    s.createCollection("db", "c").insert({ _id: 1 });
  });
  const store = await openStore({ dataDir: dir });
  store.getCollection("db", "c")!.insert({ _id: 2 });
  await store.durable();
  const copy = crashCopy(dir);
  await store.close();
  const [journal] = journals(copy);
  const f = Deno.openSync(`${copy}/${journal}`, { append: true });
  f.writeSync(new Uint8Array(4096));
  f.close();
  const lines = await capturingStderr(() =>
    withStore(copy, (s) => {
      assert.deepEqual([...s.getCollection("db", "c")!.all()].map((d) => d._id), [1, 2]);
    })
  );
  assert.equal(lines.length, 1);
  Deno.removeSync(copy, { recursive: true });
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("openStore() refuses a journal damaged in the middle", async () => {
  const dir = Deno.makeTempDirSync();
  const store = await openStore({ dataDir: dir });
  let copy = "";
  try {
    const c = store.createCollection("db", "c");
    for (let i = 0; i < 10; i++) c.insert({ _id: i, v: "x".repeat(100) });
    await store.durable();
    copy = crashCopy(dir);
  } finally {
    await store.close();
  }
  const path = `${copy}/${journals(copy)[0]}`;
  const bytes = Deno.readFileSync(path);
  const middle = Math.floor(bytes.length / 2);
  bytes[middle] ^= 0xff;
  Deno.writeFileSync(path, bytes);
  await assert.rejects(
    () => openStore({ dataDir: copy }),
    /Cannot open store: journal .* is damaged/,
  );
  // The refused open released the lock and left the file alone.
  assert.deepEqual(Deno.readFileSync(path), bytes);
  Deno.removeSync(copy, { recursive: true });
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("openStore() refuses a damaged snapshot", async () => {
  const dir = Deno.makeTempDirSync();
  await withStore(dir, (s) => {
    const c = s.createCollection("db", "c");
    for (let i = 0; i < 10; i++) c.insert({ _id: i });
  });
  const path = `${dir}/snapshot.bson`;
  const bytes = Deno.readFileSync(path);
  Deno.writeFileSync(path, bytes.subarray(0, bytes.length - 3));
  await assert.rejects(() => openStore({ dataDir: dir }), /Cannot open store: snapshot/);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("openStore() refuses a second store on the same folder until the first closes", async () => {
  const dir = Deno.makeTempDirSync();
  const first = await openStore({ dataDir: dir });
  try {
    await assert.rejects(
      () => openStore({ dataDir: dir }),
      /Cannot open store: the data folder .* is in use by another store/,
    );
  } finally {
    await first.close();
  }
  const again = await openStore({ dataDir: dir });
  await again.close();
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("compact() keeps everything, drops the old journal, and survives a crash after it", async () => {
  const dir = Deno.makeTempDirSync();
  const store = await openStore({ dataDir: dir });
  let copy = "";
  try {
    const c = store.createCollection("db", "c");
    c.createIndexes([{ name: "u_1", key: { u: 1 }, unique: true }]);
    for (let i = 0; i < 50; i++) c.insert({ _id: i, u: i });
    const before = journals(dir);
    await (store as Store & { compact(): Promise<void> }).compact();
    const after = journals(dir);
    assert.equal(after.length, 1);
    assert.notEqual(after[0], before[0]);
    c.replace(0, { _id: 0, u: 100 });
    c.delete(1);
    store.createCollection("db", "later");
    await store.durable();
    copy = crashCopy(dir);
  } finally {
    await store.close();
  }
  for (const d of [copy, dir]) {
    await withStore(d, (s) => {
      const c = s.getCollection("db", "c")!;
      assert.equal(c.count(), 49);
      assert.deepEqual(c.getById(0), { _id: 0, u: 100 });
      assert.deepEqual(c.listIndexes().map((i) => i.name), ["_id_", "u_1"]);
      assert.throws(() => c.insert({ _id: 99, u: 2 }), DuplicateKeyError);
      assert.deepEqual(s.listCollections("db").map((x) => x.name), ["c", "later"]);
    });
  }
  Deno.removeSync(copy, { recursive: true });
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("openStore() reads snapshots of versions 1 and 2 (written before the heap image)", async () => {
  const docs = [{ _id: "a", user: "u1", at: new Date(5) }, {
    _id: "b",
    user: "u2",
    at: new Date(9),
  }];
  const specs = [{ name: "user_1", key: { user: 1 } }];
  const v1 = [
    { op: "snapshot", version: 1, journal: 0 },
    { op: "cc", db: "app", c: "s", o: {} },
    { op: "ci", db: "app", c: "s", specs },
    ...docs.map((d) => ({ op: "i", db: "app", c: "s", d })),
    { op: "end", records: 4 },
  ];
  const data = new Binary(concat(docs.map((d) => BSON.serialize(d))));
  const v2 = [
    { op: "snapshot", version: 2, journal: 0 },
    { op: "cc", db: "app", c: "s", o: {} },
    { op: "ci", db: "app", c: "s", specs },
    { op: "docs", db: "app", c: "s", n: 2, data },
    { op: "end", records: 3, docs: 2 },
  ];
  for (const records of [v1, v2]) {
    const dir = Deno.makeTempDirSync();
    Deno.writeFileSync(
      `${dir}/snapshot.bson`,
      concat(records.map((r) => frame(BSON.serialize(r)))),
    );
    await withStore(dir, (s) => {
      const c = s.getCollection("app", "s")!;
      assert.deepEqual([...c.all()], docs);
      assert.deepEqual(c.lookup("user", "u2")?.map((d) => d._id), ["b"]);
    });
    await withStore(dir, (s) => {
      assert.deepEqual([...s.getCollection("app", "s")!.all()], docs, "and again from version 3");
    });
    Deno.removeSync(dir, { recursive: true });
  }
});

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

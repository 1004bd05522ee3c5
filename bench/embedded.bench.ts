/**
 * Benchmark of the embedded MongoDB-compatible store, each figure taken in a process of its own
 * (`embedded_child.ts`), on session documents shaped as Sessioning stores them
 * (`session_docs.ts`; one in five expiring in an hour, the others in a day):
 *
 * - the large collection is written through the store API, then the server is restarted on it:
 *   the time from spawning the process to the first answered `ping` (wall and CPU), and its
 *   resident memory against an empty server's, per million sessions;
 * - through the mongodb driver, small and large collection side by side in two interleaved
 *   rounds (the better p50 of each kept): findOne by `_id`, by an indexed field, the index-only
 *   `countDocuments({expiresAt: {$gt: now}})`, a touch-like `updateOne`, insertOne, deleteOne;
 * - the server is stopped (its shutdown snapshot timed), then one TTL pass removes the expired
 *   fifth in another process while a 1 ms interval timer records the longest event-loop block.
 *
 * Sizes come from the caller (`BENCH_SMALL`, `BENCH_LARGE`, `BENCH_OPS` in `main.ts`).
 */
import { type Collection, MongoClient } from "mongodb";
import { sessionDoc, sessionId, userCount, userId } from "./session_docs.ts";
import { type BenchRow, measure } from "./stats.ts";

const CHILD = new URL("./embedded_child.ts", import.meta.url).pathname;
const HOUR = 3_600_000;

function rssBytes(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!m) throw new Error("Cannot read VmRSS");
  return Number(m[1]) * 1024;
}

/** CPU time (user + system) a process has used, in ms. */
function cpuMs(pid: number): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

function child(args: string[], stdout: "piped" | "null" = "piped"): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-net", "--allow-env", CHILD, ...args],
    stdout,
    stderr: "inherit",
  }).spawn();
}

/** Runs a child to completion and parses the JSON line it prints. */
async function childJson(args: string[]): Promise<Record<string, number>> {
  const out = await child(args).output();
  if (!out.success) throw new Error(`Cannot run bench child ${args[0]}`);
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
}

/** The server over `dir` in a child; resolves once a ping is answered, with the time it took. */
async function startServer(dir: string) {
  const port = freePort();
  const started = performance.now();
  const proc = child(["serve", dir, String(port)], "null");
  const url = `mongodb://127.0.0.1:${port}/?directConnection=true`;
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 120_000 });
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  await client.db("admin").command({ ping: 1 });
  const readyMs = performance.now() - started;
  const readyCpuMs = cpuMs(proc.pid);
  return {
    url,
    pid: proc.pid,
    client,
    readyMs,
    readyCpuMs,
    /** Stops the server (SIGTERM: it writes its snapshot); resolves with how long that took. */
    async stop(): Promise<number> {
      await client.close();
      const t = performance.now();
      proc.kill("SIGTERM");
      await proc.status;
      return performance.now() - t;
    },
  };
}

/** The standalone embedded server on a fresh temporary folder (for the other benchmarks). */
export async function startServerProcess() {
  const dir = await Deno.makeTempDir({ prefix: "bench-db-" });
  const server = await startServer(dir);
  return {
    url: server.url,
    pid: server.pid,
    async stop() {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

type Sessions = ReturnType<typeof sessionDoc>;

/** The driver rows, for a collection of `size` sessions (every fifth one expiring sooner). */
function rows(
  coll: Collection<Sessions>,
  size: number,
  now: number,
): [string, (i: number) => Promise<unknown>, number?][] {
  const base = 50_000_000 + size;
  const live = (i: number) => sessionId(((i * 7919) % Math.floor(size / 5)) * 5 + 1);
  return [
    ["findOne by _id", (i) => coll.findOne({ _id: sessionId((i * 7919) % size) })],
    ["findOne by indexed user", (i) => coll.findOne({ user: userId(i % userCount(size)) })],
    ["countDocuments live (index)", () => coll.countDocuments({ expiresAt: { $gt: new Date() } })],
    [
      "updateOne (touch)",
      (i) =>
        coll.updateOne({ _id: live(i), expiresAt: { $gt: new Date() } }, {
          $set: { lastSeenAt: new Date(), expiresAt: new Date(Date.now() + 24 * HOUR) },
        }),
    ],
    ["insertOne", (i) => coll.insertOne(sessionDoc(base + i, size, now, now + 24 * HOUR))],
    ["deleteOne by _id", (i) => coll.deleteOne({ _id: sessionId(base + i) }), 0],
  ];
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0);
}

export async function benchEmbedded(
  sizes: number[],
  ops: number,
  report: (row: BenchRow) => void,
  note: (text: string) => void,
): Promise<void> {
  const [small, large] = [Math.min(...sizes), Math.max(...sizes)];
  const dir = await Deno.makeTempDir({ prefix: "bench-store-" });
  const emptyDir = await Deno.makeTempDir({ prefix: "bench-empty-" });
  try {
    const now = Date.now();
    const fill = await childJson([
      "fill",
      `${dir}/data`,
      String(large),
      String(now),
      String(now + HOUR),
      String(now + 24 * HOUR),
    ]);
    note(`${large} sessions written through the store API: ${fill.insertUs.toFixed(1)} µs each`);

    const empty = await startServer(emptyDir);
    await new Promise((r) => setTimeout(r, 300));
    const rssEmpty = rssBytes(empty.pid);
    await empty.stop();

    const server = await startServer(`${dir}/data`);
    await new Promise((r) => setTimeout(r, 300));
    const rssLarge = rssBytes(server.pid);
    const perMillion = (rssLarge - rssEmpty) * 1_000_000 / large;
    note(
      `restart on ${large} sessions to the first answered ping: ${server.readyMs.toFixed(0)} ms ` +
        `(${server.readyCpuMs} ms of CPU in the server process; target 3000 ms)`,
    );
    note(
      `server RSS: ${mib(rssLarge)} MiB with ${large} sessions, ${mib(rssEmpty)} MiB empty: ` +
        `${mib(perMillion)} MiB per million sessions (target 400)`,
    );

    const db = server.client.db("bench");
    const largeColl = db.collection<Sessions>("sessions");
    const smallColl = db.collection<Sessions>("small");
    await smallColl.createIndexes([
      { key: { user: 1 }, name: "user_1" },
      { key: { expiresAt: 1 }, name: "expiresAt_ttl", expireAfterSeconds: 0 },
    ]);
    for (let start = 0; start < small; start += 10_000) {
      const batch = [];
      for (let i = start; i < Math.min(small, start + 10_000); i++) {
        batch.push(sessionDoc(i, small, now, i % 5 === 0 ? now + HOUR : now + 24 * HOUR));
      }
      await smallColl.insertMany(batch, { ordered: false });
    }

    const best = new Map<string, BenchRow>();
    const smallRows = rows(smallColl, small, now);
    const largeRows = rows(largeColl, large, now);
    for (let round = 0; round < 2; round++) {
      for (let r = 0; r < smallRows.length; r++) {
        for (
          const [size, [name, op, warmup]] of [[small, smallRows[r]], [
            large,
            largeRows[r],
          ]] as const
        ) {
          // Each round writes other documents (insertOne/deleteOne start past the last round's).
          const offset = round * (ops + 200);
          const row = await measure(name, size, ops, (i) => op(i + offset), warmup);
          const key = `${name}@${size}`;
          if (!best.has(key) || row.p50us < best.get(key)!.p50us) best.set(key, row);
        }
      }
    }
    for (const row of best.values()) report(row);
    const p50 = (name: string, size: number) => best.get(`${name}@${size}`)!.p50us;
    note(
      `findOne by _id p50: ${p50("findOne by _id", small)} µs at ${small}, ` +
        `${p50("findOne by _id", large)} µs at ${large} ` +
        `(ratio ${(p50("findOne by _id", large) / p50("findOne by _id", small)).toFixed(2)})`,
    );

    const closeMs = await server.stop();
    note(`shutdown with ${large} sessions (snapshot written): ${closeMs.toFixed(0)} ms`);

    const ttl = await childJson(["ttl", `${dir}/data`, String(now + 2 * HOUR)]);
    note(
      `TTL pass over ${large} sessions: ${ttl.deleted} expired removed in ` +
        `${ttl.passMs.toFixed(0)} ms; longest gap of a 1 ms interval timer meanwhile ` +
        `${ttl.passGapMs.toFixed(1)} ms (target 20), the pass's longest stretch without yielding ` +
        `${ttl.longestSliceMs.toFixed(1)} ms; the same timer with nothing running, as long: ` +
        `${ttl.idleGapMs.toFixed(1)} ms (the machine's own noise); ` +
        `a pass with nothing to remove: ${ttl.emptyPassMs.toFixed(2)} ms`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.remove(emptyDir, { recursive: true }).catch(() => {});
  }
}

/**
 * Benchmark of the embedded MongoDB-compatible server, through the real driver: insertOne,
 * findOne by `_id`, findOne by an indexed field and deleteOne, with a small and a large
 * collection, plus the server's resident memory per million session-sized documents. The server
 * runs as a child process (`src/app/store_cli.ts`) on a temporary data folder, so its memory
 * is measured alone and writes pay for the journal as they do in production.
 */
import { MongoClient } from "mongodb";
import { type BenchRow, measure } from "./stats.ts";

function rssBytes(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!m) throw new Error("Cannot read VmRSS");
  return Number(m[1]) * 1024;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A session-shaped document, as the Sessioning concept stores one. */
export function sessionDoc(i: number, now: number) {
  return {
    _id: `s${i.toString(36).padStart(14, "0")}`,
    user: `u${(i % 50_000).toString(36).padStart(10, "0")}`,
    hash: "h" + i.toString(16).padStart(63, "0"),
    createdAt: new Date(now),
    lastSeenAt: new Date(now),
    absoluteExpiresAt: new Date(now + 7 * 86_400_000),
    expiresAt: new Date(now + 86_400_000),
    userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36",
    ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
  };
}

/** Starts the standalone embedded server on a temporary folder; returns its url, pid and stop. */
export async function startServerProcess() {
  const dir = await Deno.makeTempDir({ prefix: "bench-db-" });
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-sys",
      new URL("../src/app/store_cli.ts", import.meta.url).pathname,
      "--port",
      String(port),
      "--dbpath",
      dir,
    ],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const url = `mongodb://127.0.0.1:${port}/?directConnection=true`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      break;
    } catch {
      if (Date.now() > deadline) throw new Error("Cannot start embedded server for bench");
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    pid: child.pid,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await Deno.remove(dir, { recursive: true });
    },
  };
}

export async function benchEmbedded(
  sizes: number[],
  ops: number,
  report: (row: BenchRow) => void,
  note: (text: string) => void,
): Promise<void> {
  const server = await startServerProcess();
  const client = new MongoClient(server.url);
  try {
    await client.connect();
    const coll = client.db("bench").collection<ReturnType<typeof sessionDoc>>("sessions");
    await coll.createIndex({ user: 1 });
    const now = Date.now();
    const rssEmpty = rssBytes(server.pid);
    let stored = 0;
    for (const size of sizes) {
      for (let start = stored; start < size; start += 10_000) {
        const batch = [];
        for (let i = start; i < Math.min(size, start + 10_000); i++) batch.push(sessionDoc(i, now));
        await coll.insertMany(batch, { ordered: false });
      }
      stored = size;
      if (size >= 100_000) {
        const grown = rssBytes(server.pid) - rssEmpty;
        note(
          `server RSS with ${size} session documents: +${(grown / 2 ** 20).toFixed(0)} MiB, ` +
            `${(grown / size * 1_000_000 / 2 ** 20).toFixed(0)} MiB per million`,
        );
      }
      const base = 10_000_000 + size * 10;
      report(
        await measure("insertOne", size, ops, (i) => coll.insertOne(sessionDoc(base + i, now))),
      );
      report(
        await measure(
          "findOne by _id",
          size,
          ops,
          (i) => coll.findOne({ _id: sessionDoc((i * 7919) % size, now)._id }),
        ),
      );
      report(
        await measure(
          "findOne by indexed user",
          size,
          ops,
          (i) => coll.findOne({ user: sessionDoc((i * 7919) % size, now).user }),
        ),
      );
      report(
        await measure(
          "deleteOne by _id",
          size,
          ops,
          (i) => coll.deleteOne({ _id: sessionDoc(base + i, now)._id }),
          0,
        ),
      );
      // The warm-up inserts of insertOne (ops..ops+warmup) stay; remove them to keep sizes exact.
      await coll.deleteMany({ _id: { $gte: sessionDoc(base, now)._id } });
    }
  } finally {
    await client.close();
    await server.stop();
  }
}

/**
 * `deno task bench transport`: what a store command costs the service's process through the
 * embedded server's Unix socket and through an in-process connection (src/embedded_mongo/
 * in_process.ts), both with the real driver on one embedded server in this process. Three clients
 * (`connectEmbedded`, in process and without sessions, as the service's; a plain `MongoClient` on
 * the server's URL, the socket; in process with sessions) run the same commands in interleaved
 * rounds: a `ping`, and a `find` of one session document by `_id` (10,000 of them stored), with 50
 * in flight and one at a time. The CPU is this process's user and system time (client and server
 * both live here) over the commands done; the ratios are the socket's CPU and the in-process
 * client's with sessions over the service's client's, the median of the rounds (each round's
 * ratio taken within it). Settings: BENCH_TRANSPORT_ROUNDS (3),
 * BENCH_TRANSPORT_OPS (commands a row with 50 in flight, default 20000; a fifth of that one at a
 * time).
 */
import process from "node:process";
import { type Db, MongoClient } from "mongodb";
import { connectEmbedded, inProcessConnections, SOCKET_NAME } from "../src/app/database.ts";
import { startEmbeddedMongo } from "../src/embedded_mongo/mod.ts";
import { sessionDoc } from "./session_docs.ts";
import { envInt, median } from "./stats.ts";

const DOCS = 10_000;

/** CPU of this process (user + system), in microseconds. */
function cpuUs(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** Runs `op` `ops` times with `inFlight` at once; returns the CPU per op in microseconds. */
async function cpuPerOp(inFlight: number, ops: number, op: (i: number) => Promise<unknown>) {
  let next = 0;
  const cpu0 = cpuUs();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < ops) await op(next++);
    }),
  );
  return (cpuUs() - cpu0) / ops;
}

/** Runs the benchmark and prints its table through `log` (default console.log). */
export async function benchTransport(log: (line: string) => void = console.log): Promise<void> {
  const rounds = envInt("BENCH_TRANSPORT_ROUNDS", 3);
  const ops = envInt("BENCH_TRANSPORT_OPS", 20_000);
  const dir = await Deno.makeTempDir({ prefix: "bench-transport-" });
  const server = await startEmbeddedMongo({ socketPath: `${dir}/${SOCKET_NAME}` });
  const inProcess = await connectEmbedded(
    server,
    undefined,
    () => Deno.remove(dir, { recursive: true }),
  );
  const socket = new MongoClient(server.url);
  const withSessions = new MongoClient(
    server.url,
    inProcessConnections(server, { sessions: true }),
  );
  try {
    await socket.connect();
    await withSessions.connect();
    const now = Date.now();
    const docs = Array.from({ length: DOCS }, (_, i) => sessionDoc(i, DOCS, now, now + 3_600_000));
    await inProcess.db("bench").collection<{ _id: string }>("sessions").insertMany(docs);
    const ids = docs.map((d) => d._id);
    const commands: Record<string, (db: Db, i: number) => Promise<unknown>> = {
      "ping": (db) => db.command({ ping: 1 }),
      "find by _id": (db, i) =>
        db.command({
          find: "sessions",
          filter: { _id: ids[i % DOCS] },
          limit: 1,
          singleBatch: true,
        }),
    };
    const clients: Record<string, Db> = {
      "socket": socket.db("bench"),
      "in process": inProcess.db("bench"),
      "sessions": withSessions.db("bench"),
    };
    const shapes: Array<[string, number, number]> = [
      ["50 in flight", 50, ops],
      ["one at a time", 1, Math.max(1, Math.floor(ops / 5))],
    ];
    const results = new Map<string, number[]>();
    for (const run of Object.values(commands)) { // warm-up
      for (const [, inFlight, n] of shapes) {
        for (const db of Object.values(clients)) {
          await cpuPerOp(inFlight, n / 10, (i) => run(db, i));
        }
      }
    }
    for (let r = 0; r < rounds; r++) {
      for (const [name, run] of Object.entries(commands)) {
        for (const [shape, inFlight, n] of shapes) {
          for (const [transport, db] of Object.entries(clients)) {
            const key = `${name}|${shape}|${transport}`;
            const us = await cpuPerOp(inFlight, n, (i) => run(db, i));
            results.set(key, [...(results.get(key) ?? []), us]);
          }
        }
      }
    }
    log(
      `\nStore commands through the driver, socket against in process (embedded server in this ` +
        `process, ${DOCS} sessions, ${rounds} rounds)`,
    );
    log(
      "command".padEnd(14) + "shape".padEnd(16) + "socket µs".padStart(11) +
        "in process µs".padStart(15) + "socket/in process".padStart(19) +
        "with sessions µs".padStart(18) + "sessions/without".padStart(18),
    );
    for (const name of Object.keys(commands)) {
      for (const [shape] of shapes) {
        const viaSocket = results.get(`${name}|${shape}|socket`)!;
        const viaMemory = results.get(`${name}|${shape}|in process`)!;
        const viaSessions = results.get(`${name}|${shape}|sessions`)!;
        const ratio = median(viaSocket.map((s, i) => s / viaMemory[i]));
        const sessionsRatio = median(viaSessions.map((s, i) => s / viaMemory[i]));
        log(
          name.padEnd(14) + shape.padEnd(16) + median(viaSocket).toFixed(1).padStart(11) +
            median(viaMemory).toFixed(1).padStart(15) + `${ratio.toFixed(2)}x`.padStart(19) +
            median(viaSessions).toFixed(1).padStart(18) +
            `${sessionsRatio.toFixed(2)}x`.padStart(18),
        );
      }
    }
  } finally {
    await withSessions.close();
    await socket.close();
    await inProcess.close();
  }
}

if (import.meta.main) await benchTransport();

/**
 * The child processes of the embedded store's benchmark (`embedded.bench.ts`), so that each
 * figure is taken in a process of its own:
 *
 *   fill  DIR N NOW EXPIRED LIVE   writes N session documents through the store API (one in five
 *                                  expiring at EXPIRED, the others at LIVE, in ms), then closes
 *                                  (a snapshot); prints {"insertUs"}
 *   serve DIR PORT                 the embedded server on 127.0.0.1:PORT over DIR (TTL monitor
 *                                  hourly, so it leaves the bench's documents alone); SIGTERM
 *                                  closes it
 *   ttl   DIR AT                   one TTL pass at time AT over DIR, with a 1 ms interval timer
 *                                  measuring the longest gap in the event loop (then the same
 *                                  timer as long with nothing running, and a pass with nothing
 *                                  left to expire); prints the figures as JSON and exits without
 *                                  closing (the bench throws the folder away)
 */
import { startEmbeddedMongo } from "../src/embedded_mongo/mod.ts";
import { type IndexSpec, openStore } from "../src/embedded_mongo/storage/mod.ts";
import { sessionDoc } from "./session_docs.ts";

const INDEXES: IndexSpec[] = [
  { name: "user_1", key: { user: 1 } },
  { name: "expiresAt_ttl", key: { expiresAt: 1 }, expireAfterSeconds: 0 },
];

async function fill(dir: string, n: number, now: number, expired: number, live: number) {
  const store = await openStore({ dataDir: dir, log: () => {} });
  const coll = store.createCollection("bench", "sessions");
  coll.createIndexes(INDEXES);
  const t = performance.now();
  for (let i = 0; i < n; i++) coll.insert(sessionDoc(i, n, now, i % 5 === 0 ? expired : live));
  const insertUs = (performance.now() - t) * 1000 / n;
  await store.close();
  console.log(JSON.stringify({ insertUs }));
}

async function serve(dir: string, port: number) {
  const server = await startEmbeddedMongo({
    port,
    dataDir: dir,
    ttlMonitorIntervalMs: 3_600_000,
    log: () => {},
  });
  const stop = async () => {
    await server.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", stop);
}

/** Runs `work` while a 1 ms interval timer records the longest gap between its ticks. */
async function longestGap(work: () => Promise<unknown>): Promise<{ gapMs: number; ms: number }> {
  let last = performance.now();
  let gap = 0;
  const timer = setInterval(() => {
    const t = performance.now();
    gap = Math.max(gap, t - last);
    last = t;
  }, 1);
  await new Promise((r) => setTimeout(r, 20));
  gap = 0;
  last = performance.now();
  const start = performance.now();
  await work();
  const ms = performance.now() - start;
  await new Promise((r) => setTimeout(r, 5));
  clearInterval(timer);
  return { gapMs: gap, ms };
}

async function ttl(dir: string, at: number) {
  const store = await openStore({ dataDir: dir, log: () => {} });
  let deleted = 0;
  const pass = await longestGap(async () => deleted = await store.expireTtl(new Date(at)));
  const { longestSliceMs } = store.ttlMetrics();
  // The same timer over as long with nothing running: what the machine itself adds.
  const idle = await longestGap(() => new Promise((r) => setTimeout(r, Math.max(300, pass.ms))));
  const empty = await longestGap(() => store.expireTtl(new Date(at)));
  console.log(JSON.stringify({
    deleted,
    passMs: pass.ms,
    passGapMs: pass.gapMs,
    longestSliceMs,
    idleGapMs: idle.gapMs,
    emptyPassMs: empty.ms,
  }));
  Deno.exit(0);
}

const [mode, dir, ...rest] = Deno.args;
const nums = rest.map(Number);
if (mode === "fill") await fill(dir, nums[0], nums[1], nums[2], nums[3]);
else if (mode === "serve") await serve(dir, nums[0]);
else if (mode === "ttl") await ttl(dir, nums[0]);
else throw new Error(`Cannot run bench child: unknown mode ${mode}`);

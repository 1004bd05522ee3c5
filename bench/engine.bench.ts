/**
 * Benchmark of the sync engine: the time of one flow whose sync fires 1,000 and 8,000 `then`
 * actions, each joined by a second sync with the flow's first record (the per-action cost must
 * stay flat: matching is indexed by flow and action, not a scan of the whole flow), and the
 * throughput of request -> respond round trips through the real Requesting concept (in memory;
 * it touches no database unless `saveResponses` is on), and their CPU time with 50 in flight,
 * alone and beside 60 other routes' syncs (the service's shape: every route's sync mentions
 * `Requesting.request`).
 *
 * Settings: BENCH_ENGINE_ROUNDTRIPS (default 20000). Run alone: `deno run -A bench/engine.bench.ts`.
 */
import { MongoClient } from "mongodb";
import process from "node:process";
import RequestingConcept from "../src/concepts/Requesting/RequestingConcept.ts";
import { actions, Frames, type Sync, SyncConcept } from "../src/engine/mod.ts";
import { envInt } from "./stats.ts";

/** One benchmark figure. */
export interface EngineBenchRow {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

class FanConcept {
  steps = 0;
  joined = 0;
  start(input: { times: number }): Promise<{ times: number }> {
    return Promise.resolve({ times: input.times });
  }
  step(input: { n: number }): Promise<{ n: number }> {
    this.steps++;
    return Promise.resolve({ n: input.n });
  }
  join(_: { n: number }): Promise<Record<string, never>> {
    this.joined++;
    return Promise.resolve({});
  }
}

/** The milliseconds of one flow firing `times` step actions (and as many joins). */
async function fanFlow(times: number): Promise<number> {
  const Engine = new SyncConcept();
  const raw = new FanConcept();
  const Fan = Engine.instrumentConcept(raw);
  const Spread: Sync = ({ times, n }) => ({
    when: actions([Fan.start, {}, { times }]),
    where: (frames) => {
      const out = new Frames();
      for (const f of frames) {
        for (let i = 0; i < (f[times] as number); i++) out.push({ ...f, [n]: i });
      }
      return out;
    },
    then: actions([Fan.step, { n }]),
  });
  // Each step joins with the flow's start record: one candidate, whatever the flow's size.
  const Join: Sync = ({ n }) => ({
    when: actions([Fan.start, {}, {}], [Fan.step, {}, { n }]),
    then: actions([Fan.join, { n }]),
  });
  Engine.register({ Spread, Join });
  const t = performance.now();
  await Fan.start({ times });
  const ms = performance.now() - t;
  if (raw.steps !== times || raw.joined !== times || Engine.stats().records !== 0) {
    throw new Error(`Cannot bench the engine: ${raw.steps} steps, ${raw.joined} joins`);
  }
  return ms;
}

/** Round trips per second: request, the Ping sync's respond, and _awaitResponse. */
async function roundTrips(
  count: number,
  otherRoutes = 0,
): Promise<{ perSec: number; p50us: number; cpuUs: number }> {
  // Requesting touches no database without saveResponses: a client that never connects will do.
  const client = new MongoClient("mongodb://127.0.0.1:9");
  const Engine = new SyncConcept();
  const raw = new RequestingConcept(client.db("bench"));
  const Requesting = Engine.instrumentConcept(raw);
  const Ping: Sync = ({ request }) => ({
    when: actions([Requesting.request, { path: "/ping" }, { request }]),
    then: actions([Requesting.respond, { request, pong: true }]),
  });
  Engine.register({ Ping });
  const others: Record<string, Sync> = {};
  for (let i = 0; i < otherRoutes; i++) {
    others[`Route${i}`] = ({ request, user }) => ({
      when: actions(
        [Requesting.request, { path: `/route/${i}` }, { request }],
        [Requesting.respond, {}, { user }],
      ),
      then: actions([Requesting.respond, { request, user }]),
    });
  }
  Engine.register(others);
  const one = async () => {
    const started = await Requesting.request({ path: "/ping" });
    if (!("request" in started)) throw new Error(started.error);
    const [{ response }] = await Requesting._awaitResponse({ request: started.request });
    if (response.pong !== true) throw new Error("Cannot bench round trips: wrong response");
  };
  for (let i = 0; i < 500; i++) await one();
  const lat: number[] = [];
  for (let i = 0; i < Math.min(count, 5000); i++) {
    const t = performance.now();
    await one();
    lat.push(performance.now() - t);
  }
  lat.sort((a, b) => a - b);
  const start = performance.now();
  for (let done = 0; done < count; done += 1000) {
    await Promise.all(Array.from({ length: Math.min(1000, count - done) }, one));
  }
  const perSec = Math.round(count / ((performance.now() - start) / 1000));
  // CPU time per round trip with 50 in flight (workers taking the next as one ends).
  let started = 0;
  const worker = async () => {
    while (started < count) {
      started++;
      await one();
    }
  };
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: 50 }, worker));
  const used = process.cpuUsage(cpu);
  if (raw.pendingCount !== 0 || Engine.stats().flows !== 0) {
    throw new Error("Cannot bench round trips: requests left pending");
  }
  await client.close();
  return {
    perSec,
    p50us: Math.round(lat[Math.floor(lat.length / 2)] * 1000),
    cpuUs: round((used.user + used.system) / count),
  };
}

/** Runs the engine benchmark, reporting each figure. */
export async function benchEngine(report: (row: EngineBenchRow) => void): Promise<void> {
  await fanFlow(1000); // warm-up
  const small = Math.min(await fanFlow(1000), await fanFlow(1000));
  const large = Math.min(await fanFlow(8000), await fanFlow(8000));
  const perSmall = (small * 1000) / 1000;
  const perLarge = (large * 1000) / 8000;
  report({ name: "flow with 1,000 then-actions", value: round(small), unit: "ms" });
  report({ name: "flow with 8,000 then-actions", value: round(large), unit: "ms" });
  report({ name: "per action, 1,000-action flow", value: round(perSmall), unit: "µs" });
  report({ name: "per action, 8,000-action flow", value: round(perLarge), unit: "µs" });
  report({
    name: "per-action cost, 8,000 vs 1,000",
    value: round(perLarge / perSmall),
    unit: "x",
    note: "about 1 when linear; 8 would be quadratic",
  });
  const trips = envInt("BENCH_ENGINE_ROUNDTRIPS", 20_000);
  const { perSec, p50us, cpuUs } = await roundTrips(trips);
  report({
    name: "request -> respond round trips",
    value: perSec,
    unit: "/s",
    note: `${trips} in batches of 1,000 concurrent`,
  });
  report({ name: "round trip latency, one at a time", value: p50us, unit: "µs p50" });
  report({
    name: "round trip CPU, 50 in flight",
    value: cpuUs,
    unit: "µs",
    note: "per round trip",
  });
  const routed = await roundTrips(trips, 60);
  report({
    name: "round trip CPU, 60 other routes",
    value: routed.cpuUs,
    unit: "µs",
    note: "per round trip, 50 in flight",
  });
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

if (import.meta.main) {
  await benchEngine((row) => {
    console.log(
      `${row.name.padEnd(36)}${String(row.value).padStart(12)} ${row.unit}` +
        (row.note ? `  (${row.note})` : ""),
    );
  });
}

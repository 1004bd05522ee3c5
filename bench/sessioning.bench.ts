/**
 * Benchmark of the Sessioning concept through the mongodb driver: `_getUser` (on every request's
 * path) and `create` (every login), with a small and a large number of sessions stored. The store
 * is the embedded server in a child process (as `bench/embedded.bench.ts` runs it), or
 * `MONGODB_URL` when set. The sessions are bulk-loaded as raw documents shaped exactly like the
 * ones `create` stores, with secrets derived from their index so that real tokens can be presented.
 *
 * Settings: BENCH_SESSIONS (comma-separated sizes, default "1000,1000000"), BENCH_SESSION_OPS
 * (timed operations a row, default 3000). Run alone: `deno run -A bench/sessioning.bench.ts`.
 */
import { createHash } from "node:crypto";
import { type Db, MongoClient } from "mongodb";
import SessioningConcept from "../src/concepts/Sessioning/SessioningConcept.ts";
import { startServerProcess } from "./embedded.bench.ts";
import { type BenchRow, envInt, measure, printTable } from "./stats.ts";

export type { BenchRow } from "./stats.ts";

const DAY = 86_400_000;
const USERS = 50_000;

/** The bench session number `i`: its public id, its secret and its token. */
function benchSession(i: number) {
  const id = "b" + i.toString(36).padStart(21, "0");
  const secret = createHash("sha256").update(`bench-secret-${i}`).digest("base64url");
  return { id, secret, token: `${id}.${secret}` };
}

function benchUser(i: number): string {
  return `user-${(i % USERS).toString(36).padStart(8, "0")}`;
}

/** Inserts sessions [from, to) as raw documents, 10k a batch. */
async function load(db: Db, from: number, to: number, now: number): Promise<void> {
  const coll = db.collection<{ _id: string }>("Sessioning.sessions");
  for (let start = from; start < to; start += 10_000) {
    const batch = [];
    for (let i = start; i < Math.min(to, start + 10_000); i++) {
      const { id, secret } = benchSession(i);
      batch.push({
        _id: id,
        user: benchUser(i),
        hash: createHash("sha256").update(secret).digest("hex"),
        createdAt: new Date(now),
        lastSeenAt: new Date(now),
        absoluteExpiresAt: new Date(now + 7 * DAY),
        expiresAt: new Date(now + DAY),
        userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36",
        ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      });
    }
    await coll.insertMany(batch, { ordered: false });
  }
}

function sizesFromEnv(): number[] {
  const text = Deno.env.get("BENCH_SESSIONS");
  if (!text) return [1000, 1_000_000];
  const sizes = text.split(",").map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isSafeInteger(n) || n <= 0)) {
    throw new Error("BENCH_SESSIONS must be comma-separated positive integers");
  }
  return sizes.sort((a, b) => a - b);
}

/**
 * Measures `_getUser` (a live token, and an unknown one) and `create` at each size, reporting one
 * row per operation and size.
 */
export async function benchSessioning(
  report: (row: BenchRow) => void,
  options: { sizes?: number[]; ops?: number } = {},
): Promise<void> {
  const sizes = options.sizes ?? sizesFromEnv();
  const ops = options.ops ?? envInt("BENCH_SESSION_OPS", 3000);
  const url = Deno.env.get("MONGODB_URL");
  const server = url ? undefined : await startServerProcess();
  const client = new MongoClient(url ?? server!.url);
  const dbName = `bench-sessioning-${Date.now()}`;
  try {
    await client.connect();
    const db = client.db(dbName);
    const sessions = new SessioningConcept(db);
    // Any action creates the indexes first (they are private to the concept): count none.
    await sessions._getSessions({ user: "bench-warm-up" as never });
    const now = Date.now();
    let stored = 0;
    for (const size of sizes) {
      await load(db, stored, size, now);
      stored = size;
      // Pre-computed tokens, spread over the whole collection, so hashing them is not timed.
      const tokens = Array.from({ length: 1000 }, (_, k) => benchSession((k * 7919) % size).token);
      report(
        await measure("Sessioning._getUser", size, ops, async (i) => {
          const [row] = await sessions._getUser({ session: tokens[i % tokens.length] });
          if (!("user" in row)) throw new Error("bench: a stored session was not found");
        }),
      );
      const unknown = benchSession(size + 1_000_000_000).token;
      report(
        await measure("Sessioning._getUser unknown", size, ops, async () => {
          const [row] = await sessions._getUser({ session: unknown });
          if (!("error" in row)) throw new Error("bench: an unknown session was found");
        }),
      );
      report(
        await measure("Sessioning.create", size, ops, async (i) => {
          const r = await sessions.create({
            user: "bench-create" as never,
            userAgent: "bench",
            ip: `192.0.2.${i & 255}`,
          });
          if (!("session" in r)) throw new Error("bench: create failed");
        }),
      );
      // Keep the stored count exact for the next size.
      await db.collection("Sessioning.sessions").deleteMany({ user: "bench-create" });
    }
    if (url) await db.dropDatabase();
  } finally {
    await client.close();
    await server?.stop();
  }
}

if (import.meta.main) {
  const rows: BenchRow[] = [];
  const sizes = sizesFromEnv();
  console.log(`Sessioning: ${sizes.join(" and ")} sessions stored ...`);
  await benchSessioning((r) => rows.push(r), { sizes });
  printTable("Sessioning concept, through the mongodb driver", rows, sizes[0]);
}

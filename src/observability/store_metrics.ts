/**
 * What the store says, for every node alike: `sessions_active` (an indexed count of the live
 * sessions, `{ expiresAt: { $gt: now } }` on the `expiresAt` index of `Sessioning.sessions`) and
 * the TTL sweep's totals (`serverStatus().metrics.ttl`, as mongod and the embedded server report
 * them). A scrape reads them at most once per cache period (one count and one serverStatus), so
 * scrapes never load the store; a failed read keeps the last figures and counts a store error.
 *
 * Also the driver's side: its connection pool (CMAP events) and failed commands (command
 * monitoring), server heartbeats that failed, all as counters and gauges in memory.
 */
import type { Db, MongoClient } from "mongodb";
import client from "prom-client";

/** The store's figures a scrape needs. */
export interface StoreReader {
  /** How many sessions are live at `now` (an indexed count). */
  countLiveSessions(now: Date): Promise<number>;
  /** The TTL sweep's totals since the store started, when the store reports them. */
  ttl(): Promise<{ deletedDocuments: number; passes: number } | undefined>;
}

/** The reader of a database: the count on the `expiresAt` index, and `serverStatus`. */
export function mongoStoreReader(db: Db): StoreReader {
  const sessions = db.collection<{ expiresAt: Date }>("Sessioning.sessions");
  return {
    countLiveSessions: (now) => sessions.countDocuments({ expiresAt: { $gt: now } }),
    async ttl() {
      const status = await db.admin().command({ serverStatus: 1 });
      const ttl = status?.metrics?.ttl;
      const deleted = Number(ttl?.deletedDocuments);
      const passes = Number(ttl?.passes);
      return Number.isFinite(deleted) && Number.isFinite(passes)
        ? { deletedDocuments: deleted, passes }
        : undefined;
    },
  };
}

interface Figures {
  active: number;
  ttl?: { deletedDocuments: number; passes: number };
}

/** Registers the store's gauges and counters, read through a cache of `cacheMs`. */
export function storeMetrics(
  registry: client.Registry,
  reader: StoreReader,
  options: { cacheMs: number; now: () => number; onError: () => void },
): void {
  let figures: Figures | undefined;
  let readAt = -Infinity;
  let reading: Promise<Figures | undefined> | undefined;
  const current = (): Promise<Figures | undefined> => {
    if (options.now() - readAt < options.cacheMs) return Promise.resolve(figures);
    reading ??= (async () => {
      try {
        const [active, ttl] = await Promise.all([
          reader.countLiveSessions(new Date(options.now())),
          reader.ttl(),
        ]);
        figures = { active, ttl };
        readAt = options.now();
      } catch {
        // Keep the last figures; try again after a cache period, not on every collector.
        readAt = options.now();
        options.onError();
      } finally {
        reading = undefined;
      }
      return figures;
    })();
    return reading;
  };
  const registers = [registry];
  new client.Gauge({
    name: "sessions_active",
    help: "Live sessions in the store (all nodes), counted at most once per cache period",
    registers,
    async collect() {
      const f = await current();
      if (f) this.set(f.active);
    },
  });
  new client.Counter({
    name: "store_ttl_deleted_documents_total",
    help: "Documents the store's TTL sweep removed since it started (every TTL collection)",
    registers,
    async collect() {
      const ttl = (await current())?.ttl;
      if (ttl) {
        this.reset();
        this.inc(ttl.deletedDocuments);
      }
    },
  });
  new client.Counter({
    name: "store_ttl_passes_total",
    help: "Passes of the store's TTL sweep since it started",
    registers,
    async collect() {
      const ttl = (await current())?.ttl;
      if (ttl) {
        this.reset();
        this.inc(ttl.passes);
      }
    },
  });
}

/**
 * Follows a driver's events: pool connections open and checked out (by what was seen since
 * attached: a connection first seen checked out counts as open); checkouts that failed
 * (`checkout`), connections closed for an error (`connection`), failed commands (`commandFailed`,
 * only emitted with `monitorCommands: true`, which the service leaves off) and failed heartbeats
 * (`heartbeat`) as `storeError(operation)`.
 */
export function driverMetrics(
  registry: client.Registry,
  mongo: MongoClient,
  storeError: (operation: string) => void,
): void {
  const open = new Set<string>();
  // Whether each connection is checked out: a flag per connection, not a set joined and left at
  // every checkout (that churn rehashed the set's table every few commands; see
  // src/utils/string_map.ts).
  const out = new Map<string, boolean>();
  let waiting = 0;
  const key = (e: { address: string; connectionId: number | string }) =>
    `${e.address}#${e.connectionId}`;
  mongo.on("connectionCreated", (e) => open.add(key(e)));
  mongo.on("connectionClosed", (e) => {
    open.delete(key(e));
    out.delete(key(e));
    // A connection dropped for an error (reset, timed out, store gone): an operation failed.
    if (e.reason === "error") storeError("connection");
  });
  mongo.on("connectionCheckOutStarted", () => waiting++);
  mongo.on("connectionCheckedOut", (e) => {
    waiting = Math.max(0, waiting - 1);
    open.add(key(e));
    out.set(key(e), true);
  });
  mongo.on("connectionCheckedIn", (e) => {
    if (out.has(key(e))) out.set(key(e), false);
  });
  mongo.on("connectionCheckOutFailed", () => {
    waiting = Math.max(0, waiting - 1);
    storeError("checkout");
  });
  mongo.on("commandFailed", (e) => storeError(e.commandName));
  mongo.on("serverHeartbeatFailed", () => storeError("heartbeat"));
  const registers = [registry];
  new client.Gauge({
    name: "mongodb_pool_connections",
    help: "Connections open in the driver's pools",
    registers,
    collect() {
      this.set(open.size);
    },
  });
  new client.Gauge({
    name: "mongodb_pool_checked_out",
    help: "Pool connections in use by an operation",
    registers,
    collect() {
      let n = 0;
      for (const checkedOut of out.values()) if (checkedOut) n++;
      this.set(n);
    },
  });
  new client.Gauge({
    name: "mongodb_pool_wait_queue",
    help: "Operations waiting for a pool connection",
    registers,
    collect() {
      this.set(waiting);
    },
  });
}

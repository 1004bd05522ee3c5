/**
 * The service's database: the one place that reaches the embedded server (through its entry
 * point, src/embedded_mongo/mod.ts).
 *
 * `getDb()` connects the official `mongodb` driver to `MONGODB_URL` when it is set, and otherwise
 * to an embedded MongoDB-compatible server started in this process and persisted to `DATA_DIR`.
 * That server has no authentication, so it opens no TCP port at all: it listens on a Unix socket
 * inside `DATA_DIR` (`<DATA_DIR>/mongod.sock`, mode 0600, in a folder made 0700), which only this
 * user can open. The service's own client does not use that socket: its connections are made in
 * process (`inProcessConnections`), and the socket is there for other nodes and tools.
 * `connectEmbedded` is shared with the tests' `testDb()` (tests/support/test_db.ts).
 */
import { resolve } from "node:path";
import type { Duplex } from "node:stream";
import { type Db, MongoClient, type MongoClientOptions } from "mongodb";
// The driver's connection class, for `connectionType` below (the driver does not export it).
import { Connection as DriverConnection } from "mongodb/lib/cmap/connection.js";
import { describeEvent, type EmbeddedMongo, startEmbeddedMongo } from "../embedded_mongo/mod.ts";
import type { Logger } from "../utils/log.ts";

/** Where the store of `getDb()` came from, for `/healthz`. */
export type StoreKind = "embedded" | "mongodb";

export interface DbSettings {
  /** A MongoDB connection string; when absent, the embedded server is started. */
  mongodbUrl?: string;
  /** The database name used with `mongodbUrl` and with the embedded server. */
  dbName: string;
  /** Where the embedded server keeps its files; ignored with `mongodbUrl`. */
  dataDir: string;
  /** How often the embedded server's TTL monitor runs, in milliseconds. */
  ttlMonitorIntervalMs?: number;
  /** Options for the driver (timeouts, pool), passed to `new MongoClient(url, options)`. */
  clientOptions?: MongoClientOptions;
  /** Where the embedded server's events go (accept failures, refused connections, a full disk). */
  logger?: Logger;
}

/** The name of the embedded server's socket inside the data folder. */
export const SOCKET_NAME = "mongod.sock";

/** A connected database, its client, and what it is. `client.close()` also stops an embedded server. */
export type Connection = [Db, MongoClient] & { store: StoreKind };

/** Wraps `client.close` so that it also runs `after` (stopping a server, dropping a database). */
function closeAlso(client: MongoClient, after: () => Promise<void>): void {
  const close = client.close.bind(client);
  let closing: Promise<void> | undefined;
  client.close = (force?: boolean) => {
    closing ??= (async () => {
      try {
        await close(force);
      } finally {
        await after();
      }
    })();
    return closing;
  };
}

/**
 * Connects to the service's database: `settings.mongodbUrl` when given, otherwise an embedded
 * server persisted to `settings.dataDir` and served on `<dataDir>/mongod.sock` (no TCP port).
 */
export async function getDb(settings: DbSettings): Promise<Connection> {
  if (settings.mongodbUrl) {
    const client = new MongoClient(settings.mongodbUrl, settings.clientOptions);
    await client.connect();
    return Object.assign([client.db(settings.dbName), client] as [Db, MongoClient], {
      store: "mongodb" as const,
    });
  }
  const dataDir = resolve(settings.dataDir);
  const server = await startEmbeddedMongo({
    socketPath: `${dataDir}/${SOCKET_NAME}`,
    dataDir,
    ttlMonitorIntervalMs: settings.ttlMonitorIntervalMs,
    log: settings.logger && ((event) => {
      const { level, msg, fields } = describeEvent(event);
      settings.logger!.log(level, msg, fields);
    }),
  });
  const client = await connectEmbedded(server, settings.clientOptions);
  return Object.assign([client.db(settings.dbName), client] as [Db, MongoClient], {
    store: "embedded" as const,
  });
}

/**
 * The driver's `connectionType` option for a client in the process of `server`: the driver's
 * own connection class, given an in-process stream (`server.connectInProcess()`) in place of
 * the socket it opened. Everything above the socket is the driver's: handshake, pool, monitor,
 * timeouts, the wire messages themselves. What goes is the socket's cost (two writes, two reads,
 * two event-loop wake-ups a command): 10 to 45 us of CPU a command with 50 in flight, 80 to 90 us
 * one at a time (`deno task bench transport`).
 *
 * The driver opens its socket (to `server.url`) before making the connection, so each pooled
 * connection also makes, and at once closes, one socket connection: the socket is checked to
 * work, and it is not used. `connectionType` is internal to the driver (it is in its options
 * table, but not in its published types); the driver is pinned, and src/app/database.test.ts
 * fails if a new version stops honouring it.
 *
 * The connections are opened without sessions (`connectInProcess({ sessions: false })`): the
 * service never uses them, and the embedded server, a standalone, ignores `lsid` anyway. The
 * driver then still makes its implicit `ClientSession` per operation, but takes no server
 * session from its pool, puts no `lsid` in the command (which the server would decode), and on
 * release does not walk its pool reading the clock for each pooled session (`sessions: true`
 * keeps them, for the benchmark that measures the difference: `deno task bench transport`).
 */
export function inProcessConnections(
  server: EmbeddedMongo,
  { sessions = false }: { sessions?: boolean } = {},
): MongoClientOptions {
  const Base = DriverConnection as new (stream: Duplex, options: unknown) => object;
  class InProcessConnection extends Base {
    constructor(socket: Duplex, options: unknown) {
      socket.destroy();
      super(server.connectInProcess({ sessions }), options);
    }
  }
  return { connectionType: InProcessConnection } as MongoClientOptions;
}

/**
 * A client connected to `server` from this process, through in-process connections (see
 * `inProcessConnections`); `client.close()` also stops the server, then runs `after`.
 */
export async function connectEmbedded(
  server: EmbeddedMongo,
  options?: MongoClientOptions,
  after?: () => Promise<void>,
): Promise<MongoClient> {
  const stop = async () => {
    try {
      await server.close();
    } finally {
      await after?.();
    }
  };
  const client = new MongoClient(server.url, { ...options, ...inProcessConnections(server) });
  try {
    await client.connect();
  } catch (e) {
    await stop();
    throw e;
  }
  closeAlso(client, stop);
  return client;
}

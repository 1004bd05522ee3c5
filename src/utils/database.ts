/**
 * Database access for the service and its tests.
 *
 * `getDb()` connects the official `mongodb` driver to `MONGODB_URL` when it is set, and otherwise
 * to an embedded MongoDB-compatible server started in this process and persisted to `DATA_DIR`.
 * That server has no authentication, so it opens no TCP port at all: it listens on a Unix socket
 * inside `DATA_DIR` (`<DATA_DIR>/mongod.sock`, mode 0600, in a folder made 0700), which only this
 * user can open. `testDb()` gives every caller a fresh database of its own (a socket in a fresh
 * private temporary folder), so test files run in parallel. `freshID()` makes the random string
 * ids that concepts use in place of ObjectId.
 */
import { resolve } from "node:path";
import { type Db, MongoClient, type MongoClientOptions } from "mongodb";
import { describeEvent, type EmbeddedMongo, startEmbeddedMongo } from "../embedded_mongo/mod.ts";
import type { Logger } from "./log.ts";
import type { ID } from "./types.ts";

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

function encodeBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A random URL-safe id: 128 bits from the CSPRNG (22 characters), not time-ordered. */
export function freshID(): ID {
  return encodeBase64Url(crypto.getRandomValues(new Uint8Array(16))) as ID;
}

/** `n` random bytes from the CSPRNG, URL-safe base64 encoded. */
export function randomToken(bytes: number): string {
  return encodeBase64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

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
  const client = await connectOrStop(server, settings.clientOptions);
  return Object.assign([client.db(settings.dbName), client] as [Db, MongoClient], {
    store: "embedded" as const,
  });
}

/** A client connected to `server`; `client.close()` also stops the server. */
async function connectOrStop(
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
  const client = new MongoClient(server.url, options);
  try {
    await client.connect();
  } catch (e) {
    await stop();
    throw e;
  }
  closeAlso(client, stop);
  return client;
}

/**
 * The URL of the server `client` talks to (its first host), for a second client on the same
 * server in a test: `mongodb://<host:port or percent-encoded socket path>/?directConnection=true`.
 */
export function serverUrl(client: MongoClient): string {
  const host = client.options.hosts[0];
  const where = host.socketPath ? encodeURIComponent(host.socketPath) : host.toString();
  return `mongodb://${where}/?directConnection=true`;
}

/**
 * A fresh, uniquely named database for one test. Without `MONGODB_URL` it lives in an in-memory
 * embedded server of its own, on a socket in a fresh private temporary folder; with `MONGODB_URL`
 * it is a `test-...` database on that server. Either way `client.close()` cleans up (stops the
 * server and removes its folder, or drops the database first).
 */
export async function testDb(
  options: { ttlMonitorIntervalMs?: number } = {},
): Promise<[Db, MongoClient]> {
  const url = Deno.env.get("MONGODB_URL");
  const name = `test-${freshID().replace(/[^A-Za-z0-9]/g, "").slice(0, 16)}`;
  if (url) {
    const client = new MongoClient(url);
    await client.connect();
    const db = client.db(name);
    const close = client.close.bind(client);
    let closing: Promise<void> | undefined;
    client.close = (force?: boolean) => {
      closing ??= (async () => {
        try {
          await db.dropDatabase();
        } finally {
          await close(force);
        }
      })();
      return closing;
    };
    return [db, client];
  }
  const dir = await Deno.makeTempDir({ prefix: "testdb-" }); // 0700
  const removeDir = () => Deno.remove(dir, { recursive: true });
  let server: EmbeddedMongo;
  try {
    server = await startEmbeddedMongo({
      socketPath: `${dir}/${SOCKET_NAME}`,
      ttlMonitorIntervalMs: options.ttlMonitorIntervalMs,
    });
  } catch (e) {
    await removeDir();
    throw e;
  }
  const client = await connectOrStop(server, undefined, removeDir);
  return [client.db(name), client];
}

/**
 * Database access for the service and its tests.
 *
 * `getDb()` connects the official `mongodb` driver to `MONGODB_URL` when it is set, and otherwise
 * to an embedded MongoDB-compatible server started in this process and persisted to `DATA_DIR`.
 * `testDb()` gives every caller a fresh database of its own, so test files run in parallel.
 * `freshID()` makes the random string ids that concepts use in place of ObjectId.
 */
import { type Db, MongoClient } from "mongodb";
import { startEmbeddedMongo } from "../embedded_mongo/mod.ts";
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
}

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
 * server on 127.0.0.1 (an ephemeral port) persisted to `settings.dataDir`.
 */
export async function getDb(settings: DbSettings): Promise<Connection> {
  if (settings.mongodbUrl) {
    const client = new MongoClient(settings.mongodbUrl);
    await client.connect();
    return Object.assign([client.db(settings.dbName), client] as [Db, MongoClient], {
      store: "mongodb" as const,
    });
  }
  const server = await startEmbeddedMongo({
    port: 0,
    dataDir: settings.dataDir,
    ttlMonitorIntervalMs: settings.ttlMonitorIntervalMs,
  });
  const client = new MongoClient(server.url);
  try {
    await client.connect();
  } catch (e) {
    await server.close();
    throw e;
  }
  closeAlso(client, () => server.close());
  return Object.assign([client.db(settings.dbName), client] as [Db, MongoClient], {
    store: "embedded" as const,
  });
}

/**
 * A fresh, uniquely named database for one test. Without `MONGODB_URL` it lives in an in-memory
 * embedded server of its own; with `MONGODB_URL` it is a `test-...` database on that server. Either
 * way `client.close()` cleans up (stops the server, or drops the database first).
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
  const server = await startEmbeddedMongo({
    port: 0,
    ttlMonitorIntervalMs: options.ttlMonitorIntervalMs,
  });
  const client = new MongoClient(server.url);
  try {
    await client.connect();
  } catch (e) {
    await server.close();
    throw e;
  }
  closeAlso(client, () => server.close());
  return [client.db(name), client];
}

/**
 * The embedded MongoDB-compatible server: `startEmbeddedMongo` opens the store (in memory, or
 * persisted to `dataDir`) and serves it over the MongoDB wire protocol on 127.0.0.1, so the
 * official driver connects to it with an ordinary `mongodb://` URL.
 */
import { MongoServer } from "./server.ts";
import { openStore } from "./storage/mod.ts";

export interface EmbeddedMongoOptions {
  /** 0 picks a free port. */
  port: number;
  /** Where data is kept; absent means in memory only. */
  dataDir?: string;
  /** Default 127.0.0.1. */
  hostname?: string;
  /** How often expired TTL documents are removed; default 60 000 ms. */
  ttlMonitorIntervalMs?: number;
  /** Receives structured events (no document contents). */
  log?: (event: Record<string, unknown>) => void;
}

export interface EmbeddedMongo {
  /** `mongodb://127.0.0.1:PORT/?directConnection=true` */
  url: string;
  port: number;
  /** Stops serving, then closes the store (its data flushed). Idempotent. */
  close(): Promise<void>;
}

export async function startEmbeddedMongo(options: EmbeddedMongoOptions): Promise<EmbeddedMongo> {
  const store = await openStore({ dataDir: options.dataDir });
  let server: MongoServer;
  try {
    server = new MongoServer({
      store,
      port: options.port,
      hostname: options.hostname,
      ttlMonitorIntervalMs: options.ttlMonitorIntervalMs,
      log: options.log,
    });
  } catch (e) {
    await store.close();
    throw e;
  }
  let closing: Promise<void> | undefined;
  return {
    url: server.url,
    port: server.port,
    close() {
      closing ??= (async () => {
        try {
          await server.close();
        } finally {
          await store.close();
        }
      })();
      return closing;
    },
  };
}

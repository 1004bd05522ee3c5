/**
 * The embedded MongoDB-compatible server: `startEmbeddedMongo` opens the store (in memory, or
 * persisted to `dataDir`) and serves it over the MongoDB wire protocol, so the official driver
 * connects to it with an ordinary `mongodb://` URL. It listens either on a Unix domain socket
 * (`socketPath`: mode 0600, the private way) or on TCP loopback (`port`); never on an address
 * another machine can reach, since it has no authentication (see `listen.ts`). A client in the
 * same process may skip the socket: `connectInProcess()`.
 */
import type { Duplex } from "node:stream";
import { listen } from "./listen.ts";
import { MongoServer } from "./server.ts";
import { openStore, type StoreOptions } from "./storage/mod.ts";

/** Checks of a listening address, for a command line that wants to refuse one early. */
export { loopbackProblem, socketPathProblem } from "./listen.ts";

export interface EmbeddedMongoOptions {
  /** An absolute path ending in `.sock` to listen on; then no TCP port is opened. */
  socketPath?: string;
  /** A TCP port on loopback when there is no `socketPath`; 0 picks a free one. */
  port?: number;
  /** A loopback address for TCP; default 127.0.0.1. */
  hostname?: string;
  /** Where data is kept; absent means in memory only. */
  dataDir?: string;
  /** The most client connections served at once; default 1000. */
  maxConns?: number;
  /** How often expired TTL documents are removed; default 60 000 ms. */
  ttlMonitorIntervalMs?: number;
  /** Storage settings besides `dataDir`: the fsync policy, and a journal seam for tests. */
  storage?: Omit<StoreOptions, "dataDir" | "log">;
  /** Receives structured events (`event`, `level`, fields; never document contents). */
  log?: (event: Record<string, unknown>) => void;
}

export interface EmbeddedMongo {
  /** `mongodb://%2Fpath%2Fto%2Fx.sock/?directConnection=true` or `mongodb://127.0.0.1:PORT/...` */
  url: string;
  /** The socket path, when listening on one. */
  socketPath?: string;
  /** The TCP port, when listening on TCP. */
  port?: number;
  /**
   * A new connection from inside this process, without a socket: a stream to use as a driver's
   * socket (see `in_process.ts`). It counts against `maxConns`; over it, or once closing, the
   * stream comes back already destroyed. `sessions: false`: the connection is told the server has
   * no sessions, so a driver sends no `lsid` on it.
   */
  connectInProcess(options?: { sessions?: boolean }): Duplex;
  /** Stops serving (the socket file is removed), then closes the store (data flushed). Idempotent. */
  close(): Promise<void>;
}

export async function startEmbeddedMongo(options: EmbeddedMongoOptions): Promise<EmbeddedMongo> {
  if (options.socketPath === undefined && options.port === undefined) {
    throw new Error("Cannot start embedded server: give a socketPath or a port");
  }
  const store = await openStore({ ...options.storage, dataDir: options.dataDir, log: options.log });
  let server: MongoServer;
  try {
    const where = await listen(
      options.socketPath !== undefined
        ? { socketPath: options.socketPath }
        : { hostname: options.hostname, port: options.port! },
    );
    try {
      server = new MongoServer({
        store,
        listener: where.listener,
        url: where.url,
        maxConns: options.maxConns,
        ttlMonitorIntervalMs: options.ttlMonitorIntervalMs,
        log: options.log,
      });
    } catch (e) {
      where.listener.close();
      throw e;
    }
    let closing: Promise<void> | undefined;
    return {
      url: where.url,
      socketPath: where.socketPath,
      port: where.port,
      connectInProcess: (options) => server.connectInProcess(options),
      close() {
        closing ??= (async () => {
          try {
            await server.close();
            where.removeSocket?.();
          } finally {
            await store.close();
          }
        })();
        return closing;
      },
    };
  } catch (e) {
    await store.close();
    throw e;
  }
}

/**
 * An event of the `log` option as the parts of a service log line: its level, its name as the
 * message (`"listening"`, `"accept_failed"`, ...), and the other fields plus
 * `component: "embedded-mongo"`.
 */
export function describeEvent(
  event: Record<string, unknown>,
): { level: "info" | "warn" | "error"; msg: string; fields: Record<string, unknown> } {
  const { event: name, level, ...fields } = event;
  return {
    level: level === "warn" || level === "error" ? level : "info",
    msg: String(name ?? "event"),
    fields: { component: "embedded-mongo", ...fields },
  };
}

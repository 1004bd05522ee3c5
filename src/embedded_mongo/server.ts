/**
 * The server: accepts connections, reads frames, runs each command and writes its reply.
 * Requests on one connection run one after another (as drivers send them); connections run
 * concurrently. A broken frame closes only its connection; a bad command gets an `ok: 0` reply.
 * It also owns the open cursors (reaped after 10 idle minutes) and the TTL monitor.
 *
 * Besides the listener, `connectInProcess()` gives a connection from inside this process without
 * a socket (see `in_process.ts`), served by the same loop.
 *
 * Hostile or plentiful clients: at most `maxConns` connections are served at once (like mongod's
 * `net.maxIncomingConnections`; by default 1000); one more is accepted and closed at once, and
 * logged (at most one line a second). An accept that fails (EMFILE, ENFILE, ...) is logged (the
 * 1st, 2nd, 4th, 8th... failure in a row, then once on recovery) and retried after a back-off of
 * 10 ms doubling to 1 s; only `close()` stops the accept loop.
 */
import type { Document } from "bson";
import { runCommand } from "./commands/mod.ts";
import { ProtocolError } from "./errors.ts";
import { InProcessSocket, type ServedConn } from "./in_process.ts";
import { CursorRegistry } from "./query/cursors.ts";
import { normalizeValue } from "./query/values.ts";
import type { Store } from "./storage/types.ts";
import {
  encodeLegacyReply,
  encodeMsgReply,
  FrameReader,
  OP_QUERY,
  parseMessage,
} from "./wire/protocol.ts";

export interface ServerOptions {
  store: Store;
  /** Where to accept connections (see `listen.ts`). */
  listener: Deno.Listener;
  /** The URL a driver uses to reach `listener`. */
  url: string;
  /** The most client connections served at once; default 1000. */
  maxConns?: number;
  /** How often expired TTL documents are removed; default 60 s. */
  ttlMonitorIntervalMs?: number;
  /** How often idle cursors are looked for; default 60 s. */
  cursorReapIntervalMs?: number;
  /** Receives one structured event per notable happening (no document contents). */
  log?: (event: Document) => void;
}

const ACCEPT_RETRY_FIRST_MS = 10;
const ACCEPT_RETRY_MAX_MS = 1000;
const REFUSAL_LOG_EVERY_MS = 1000;
/** How long `close()` waits for requests already running to be answered. */
const CLOSE_GRACE_MS = 5000;
/**
 * The default cap. mongod takes 80% of the open-file limit, which Deno cannot read without
 * `--allow-all` (`/proc/self/limits`); so a fixed number, with EMFILE handled by the back-off.
 */
export const DEFAULT_MAX_CONNS = 1000;

/**
 * Each connection encodes its replies into a buffer of its own, reused from one reply to the
 * next (a reply is written whole before the next request is read, so it is free again by then):
 * a new `Uint8Array` costs more than encoding a small reply. A reply that needs more gets a
 * buffer of its own, which is kept for the next ones up to this size.
 */
const REPLY_BUFFER = 4096;
const REPLY_BUFFER_KEPT = 64 * 1024;

async function writeAll(conn: ServedConn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

function msg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class MongoServer {
  readonly cursors = new CursorRegistry();
  readonly url: string;
  readonly maxConns: number;
  readonly startedAt = new Date();
  #store: Store;
  #listener: Deno.Listener;
  #connections = new Set<ServedConn>();
  #serving = new Set<Promise<void>>();
  #nextConnectionId = 0;
  #nextRequestId = 0;
  #refusedTotal = 0;
  #refusedUnlogged = 0;
  #lastRefusalLog = -Infinity;
  #timers: ReturnType<typeof setInterval>[] = [];
  #log: (event: Document) => void;
  #closing?: Promise<void>;
  /** Set as `close()` begins: no new connection, and no new request, is taken from then on. */
  #stopping = false;
  /**
   * Whether each connection is between reading a request and writing its reply. A flag per
   * connection rather than a set it joins and leaves per command: V8 rehashes a set whose deleted
   * slots run out into a new table linked from the old one, and under load those replaced
   * tables, once promoted, kept the young ones after them alive through young-generation
   * collections.
   */
  #busy = new Map<ServedConn, boolean>();
  #wake?: () => void;
  #accepting: Promise<void>;

  constructor(options: ServerOptions) {
    this.#store = options.store;
    this.#log = options.log ?? (() => {});
    this.#listener = options.listener;
    this.url = options.url;
    this.maxConns = options.maxConns ?? DEFAULT_MAX_CONNS;
    if (!Number.isInteger(this.maxConns) || this.maxConns < 1) {
      throw new Error(`Cannot start server: maxConns must be a positive integer`);
    }
    const ttlEvery = options.ttlMonitorIntervalMs ?? 60_000;
    this.#timers.push(setInterval(() => void this.#expireTtl(), ttlEvery));
    this.#timers.push(
      setInterval(() => this.cursors.reap(), options.cursorReapIntervalMs ?? 60_000),
    );
    this.#accepting = this.#accept();
  }

  /** Connection counts, as `serverStatus` reports them. */
  connections(): { current: number; available: number; totalCreated: number; refused: number } {
    return {
      current: this.#connections.size,
      available: Math.max(0, this.maxConns - this.#connections.size),
      totalCreated: this.#nextConnectionId,
      refused: this.#refusedTotal,
    };
  }

  /** One pass of the TTL monitor (it yields to the event loop as it goes; see the store). */
  async #expireTtl(): Promise<void> {
    try {
      const n = await this.#store.expireTtl(new Date());
      if (n > 0) await this.#store.durable();
    } catch (e) {
      this.#log({ level: "warn", event: "ttl_failed", error: String(e) });
    }
  }

  async #accept(): Promise<void> {
    let delay = 0;
    let failures = 0;
    let failingSince = 0;
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (e) {
        if (this.#stopping) return;
        if (e instanceof Deno.errors.BadResource) {
          this.#log({ level: "error", event: "listener_lost", error: msg(e) });
          return;
        }
        // EMFILE and the like: the pending connection stays queued, so wait before trying again.
        failures++;
        if (failures === 1) failingSince = Date.now();
        delay = Math.min(delay === 0 ? ACCEPT_RETRY_FIRST_MS : delay * 2, ACCEPT_RETRY_MAX_MS);
        if ((failures & (failures - 1)) === 0) { // the 1st, 2nd, 4th, 8th... failure in a row
          this.#log({
            level: "warn",
            event: "accept_failed",
            error: msg(e),
            failures,
            retryInMs: delay,
          });
        }
        await this.#pause(delay);
        continue;
      }
      if (failures > 0) {
        this.#log({
          level: "info",
          event: "accept_recovered",
          failures,
          failingForMs: Date.now() - failingSince,
        });
        failures = 0;
        delay = 0;
      }
      if (this.#stopping) {
        conn.close();
        return;
      }
      if (this.#connections.size >= this.maxConns) {
        this.#refuse(conn);
        continue;
      }
      if (conn.remoteAddr.transport === "tcp") (conn as Deno.TcpConn).setNoDelay(true);
      this.#adopt(conn);
    }
  }

  #adopt(conn: ServedConn, sessions = true): void {
    this.#connections.add(conn);
    const serving = this.#serve(conn, sessions);
    this.#serving.add(serving);
    serving.finally(() => this.#serving.delete(serving));
  }

  /**
   * A connection from inside this process (see `in_process.ts`): a stream a driver can use as
   * its socket. It counts against `maxConns` like any other; over the limit, or once closing,
   * the stream is destroyed at once, as a refused socket is closed.
   *
   * With `sessions: false` the connection's `hello` answers without
   * `logicalSessionTimeoutMinutes`, as a server without sessions does: a driver then sends no
   * `lsid` and keeps no server sessions for it. (The service's own client, which never uses
   * sessions, saves the driver's session pool work on every command: src/app/database.ts.)
   */
  connectInProcess(options: { sessions?: boolean } = {}): InProcessSocket {
    const socket = new InProcessSocket();
    if (this.#stopping) {
      socket.destroy();
    } else if (this.#connections.size >= this.maxConns) {
      this.#refuse(socket.serverEnd);
    } else {
      this.#adopt(socket.serverEnd, options.sessions ?? true);
    }
    return socket;
  }

  /** Closes a connection over `maxConns` at once; logs at most one line a second. */
  #refuse(conn: ServedConn): void {
    try {
      conn.close();
    } catch { /* already closed */ }
    this.#refusedTotal++;
    this.#refusedUnlogged++;
    const now = Date.now();
    if (now - this.#lastRefusalLog >= REFUSAL_LOG_EVERY_MS) {
      this.#log({
        level: "warn",
        event: "connection_refused",
        reason: "maxConns reached",
        maxConns: this.maxConns,
        refused: this.#refusedUnlogged,
        refusedTotal: this.#refusedTotal,
      });
      this.#refusedUnlogged = 0;
      this.#lastRefusalLog = now;
    }
  }

  /** Waits `ms`, or less if the server closes meanwhile. */
  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  async #serve(conn: ServedConn, sessions: boolean): Promise<void> {
    const connectionId = ++this.#nextConnectionId;
    const reader = new FrameReader(conn);
    const ctx = { store: this.#store, cursors: this.cursors, connectionId, server: this, sessions };
    let out: Uint8Array = new Uint8Array(REPLY_BUFFER);
    try {
      for (;;) {
        const frame = await reader.next();
        if (!frame || this.#stopping) break; // a request read while closing is not started
        this.#busy.set(conn, true);
        const request = parseMessage(frame);
        let reply: Document | Promise<Document>;
        if (request.error) {
          const e = request.error;
          reply = { ok: 0, errmsg: e.message, code: e.code, codeName: e.codeName };
        } else {
          normalizeValue(request.command);
          reply = runCommand(request.command!, ctx);
          if (reply instanceof Promise) reply = await reply;
        }
        if (request.moreToCome) {
          this.#busy.set(conn, false);
          if (this.#stopping) break;
          continue;
        }
        const requestId = ++this.#nextRequestId & 0x7fffffff;
        const encode = request.opCode === OP_QUERY ? encodeLegacyReply : encodeMsgReply;
        let bytes: Uint8Array;
        try {
          bytes = encode(requestId, request.requestId, reply, out);
        } catch (e) {
          bytes = encode(requestId, request.requestId, {
            ok: 0,
            errmsg: `Cannot send reply: ${(e as Error).message}`,
            code: 10334,
            codeName: "BSONObjectTooLarge",
          }, out);
        }
        if (bytes.buffer !== out.buffer && bytes.buffer.byteLength <= REPLY_BUFFER_KEPT) {
          out = new Uint8Array(bytes.buffer);
        }
        await writeAll(conn, bytes);
        this.#busy.set(conn, false);
        if (this.#stopping) break;
      }
    } catch (e) {
      if (e instanceof ProtocolError) {
        this.#log({ level: "info", event: "connection_closed", connectionId, reason: e.message });
      } else if (
        !this.#stopping && !(e instanceof Deno.errors.BadResource) &&
        !(e instanceof Deno.errors.ConnectionReset) && !(e instanceof Deno.errors.BrokenPipe) &&
        !(e instanceof Deno.errors.Interrupted)
      ) {
        this.#log({ level: "warn", event: "connection_failed", connectionId, error: String(e) });
      }
    } finally {
      this.#busy.delete(conn);
      this.#connections.delete(conn);
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  }

  /**
   * Stops listening and closes every connection and timer (not the store). A request already
   * being run is finished and answered first (so a write that was applied is acknowledged), for
   * at most `CLOSE_GRACE_MS`; a request not yet started is not run.
   */
  close(): Promise<void> {
    this.#stopping = true;
    this.#closing ??= (async () => {
      for (const t of this.#timers) clearInterval(t);
      try {
        this.#listener.close();
      } catch { /* already closed */ }
      this.#wake?.();
      await this.#accepting;
      const closeConn = (conn: ServedConn) => {
        try {
          conn.close();
        } catch { /* already closed */ }
      };
      for (const conn of this.#connections) if (!this.#busy.get(conn)) closeConn(conn);
      const drained = Promise.allSettled([...this.#serving]);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([drained, new Promise((r) => timer = setTimeout(r, CLOSE_GRACE_MS))]);
      clearTimeout(timer);
      for (const conn of this.#connections) closeConn(conn);
      await drained;
      this.cursors.clear();
    })();
    return this.#closing;
  }
}

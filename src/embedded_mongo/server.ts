/**
 * The TCP server: accepts connections, reads frames, runs each command and writes its reply.
 * Requests on one connection run one after another (as drivers send them); connections run
 * concurrently. A broken frame closes only its connection; a bad command gets an `ok: 0` reply.
 * It also owns the open cursors (reaped after 10 idle minutes) and the TTL monitor.
 */
import type { Document } from "bson";
import { runCommand } from "./commands/mod.ts";
import { CursorRegistry } from "./query/cursors.ts";
import { normalizeValue } from "./query/values.ts";
import type { Store } from "./storage/types.ts";
import {
  encodeLegacyReply,
  encodeMsgReply,
  FrameReader,
  OP_QUERY,
  parseMessage,
  ProtocolError,
} from "./wire/protocol.ts";

export interface ServerOptions {
  store: Store;
  /** 0 picks a free port. */
  port: number;
  /** Default 127.0.0.1. */
  hostname?: string;
  /** How often expired TTL documents are removed; default 60 s. */
  ttlMonitorIntervalMs?: number;
  /** How often idle cursors are looked for; default 60 s. */
  cursorReapIntervalMs?: number;
  /** Receives one structured event per notable happening (no document contents). */
  log?: (event: Document) => void;
}

async function writeAll(conn: Deno.TcpConn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

export class MongoServer {
  readonly cursors = new CursorRegistry();
  readonly hostname: string;
  readonly port: number;
  #store: Store;
  #listener: Deno.TcpListener;
  #connections = new Set<Deno.TcpConn>();
  #serving = new Set<Promise<void>>();
  #nextConnectionId = 0;
  #nextRequestId = 0;
  #timers: ReturnType<typeof setInterval>[] = [];
  #log: (event: Document) => void;
  #closing?: Promise<void>;
  #accepting: Promise<void>;

  constructor(options: ServerOptions) {
    this.#store = options.store;
    this.#log = options.log ?? (() => {});
    this.#listener = Deno.listen({ hostname: options.hostname ?? "127.0.0.1", port: options.port });
    const addr = this.#listener.addr as Deno.NetAddr;
    this.hostname = addr.hostname;
    this.port = addr.port;
    const ttlEvery = options.ttlMonitorIntervalMs ?? 60_000;
    this.#timers.push(setInterval(() => this.#expireTtl(), ttlEvery));
    this.#timers.push(
      setInterval(() => this.cursors.reap(), options.cursorReapIntervalMs ?? 60_000),
    );
    this.#accepting = this.#accept();
  }

  /** `mongodb://host:port/?directConnection=true` */
  get url(): string {
    const host = this.hostname.includes(":") ? `[${this.hostname}]` : this.hostname;
    return `mongodb://${host}:${this.port}/?directConnection=true`;
  }

  #expireTtl(): void {
    try {
      const n = this.#store.expireTtl(new Date());
      if (n > 0) {
        this.#store.durable().catch((e) =>
          this.#log({ event: "ttl_durable_failed", error: String(e) })
        );
      }
    } catch (e) {
      this.#log({ event: "ttl_failed", error: String(e) });
    }
  }

  async #accept(): Promise<void> {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch {
        return; // listener closed
      }
      if (this.#closing) {
        conn.close();
        return;
      }
      try {
        conn.setNoDelay(true);
      } catch { /* not a TCP connection */ }
      this.#connections.add(conn);
      const serving = this.#serve(conn);
      this.#serving.add(serving);
      serving.finally(() => this.#serving.delete(serving));
    }
  }

  async #serve(conn: Deno.TcpConn): Promise<void> {
    const connectionId = ++this.#nextConnectionId;
    const reader = new FrameReader(conn);
    try {
      for (;;) {
        const frame = await reader.next();
        if (!frame) break;
        const request = parseMessage(frame);
        let reply: Document;
        if (request.error) {
          const e = request.error;
          reply = { ok: 0, errmsg: e.message, code: e.code, codeName: e.codeName };
        } else {
          normalizeValue(request.command);
          reply = await runCommand(request.command!, {
            store: this.#store,
            cursors: this.cursors,
            connectionId,
          });
        }
        if (request.moreToCome) continue;
        const requestId = ++this.#nextRequestId & 0x7fffffff;
        const encode = request.opCode === OP_QUERY ? encodeLegacyReply : encodeMsgReply;
        let bytes: Uint8Array;
        try {
          bytes = encode(requestId, request.requestId, reply);
        } catch (e) {
          bytes = encode(requestId, request.requestId, {
            ok: 0,
            errmsg: `Cannot send reply: ${(e as Error).message}`,
            code: 10334,
            codeName: "BSONObjectTooLarge",
          });
        }
        await writeAll(conn, bytes);
      }
    } catch (e) {
      if (e instanceof ProtocolError) {
        this.#log({ event: "connection_closed", connectionId, reason: e.message });
      } else if (
        !this.#closing && !(e instanceof Deno.errors.BadResource) &&
        !(e instanceof Deno.errors.ConnectionReset) && !(e instanceof Deno.errors.BrokenPipe) &&
        !(e instanceof Deno.errors.Interrupted)
      ) {
        this.#log({ event: "connection_failed", connectionId, error: String(e) });
      }
    } finally {
      this.#connections.delete(conn);
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  }

  /** Stops listening, closes every connection and timer (not the store). */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const t of this.#timers) clearInterval(t);
      try {
        this.#listener.close();
      } catch { /* already closed */ }
      await this.#accepting;
      for (const conn of this.#connections) {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
      await Promise.allSettled([...this.#serving]);
      this.cursors.clear();
    })();
    return this.#closing;
  }
}

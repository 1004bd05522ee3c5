/**
 * A connection to the server from inside its own process, without a socket: a pair of ends
 * that hand bytes to each other in memory. The client's end is a Node `Duplex` that behaves as
 * a driver expects of a `net.Socket` (`write`, `data`, `close`, `error`, `setTimeout` and its
 * `timeout` event, `destroy`); the server's end is read and written like a `Deno.Conn`, so the
 * server serves it with the same loop, limits and shutdown as a socket connection.
 *
 * What it saves: a command over the Unix socket costs two writes, two reads and two event-loop
 * wake-ups (driver to server and back); here the bytes are passed as they are, and the reply
 * reaches the driver in the same turn of the event loop. The bytes are the same MongoDB wire
 * messages, parsed and encoded by the same code as on a socket.
 */
import { Buffer } from "node:buffer";
import { Duplex } from "node:stream";
import { clearTimeout, setTimeout } from "node:timers";

/** The server's end: what `MongoServer` needs of a connection. */
export interface ServedConn {
  read(into: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  close(): void;
}

/** The server's end of an in-process connection. */
class ServerEnd implements ServedConn {
  /** Bytes written by the client and not read yet (copies: the writer may reuse its buffer). */
  #pending: Uint8Array[] = [];
  #waiting: { into: Uint8Array; resolve: (n: number | null) => void } | undefined;
  #closed = false;

  constructor(private readonly client: InProcessSocket) {}

  /** Bytes from the client (called by its `_write`). */
  deliver(bytes: Uint8Array): void {
    if (this.#closed) return;
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = undefined;
      waiting.resolve(this.#copyInto(bytes, waiting.into));
    } else {
      this.#pending.push(bytes.slice());
    }
  }

  /** The client went away: a pending or later read sees the end of the stream. */
  hangUp(): void {
    if (this.#closed) return;
    this.#closed = true;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.resolve(null);
  }

  read(into: Uint8Array): Promise<number | null> {
    const next = this.#pending.shift();
    if (next) return Promise.resolve(this.#copyInto(next, into));
    if (this.#closed) return Promise.resolve(null);
    if (this.#waiting) return Promise.reject(new Error("Cannot read: a read is already pending"));
    return new Promise((resolve) => this.#waiting = { into, resolve });
  }

  /** Copies what fits of `bytes` into `into`; the rest is read next. */
  #copyInto(bytes: Uint8Array, into: Uint8Array): number {
    const n = Math.min(bytes.length, into.length);
    into.set(n === bytes.length ? bytes : bytes.subarray(0, n));
    if (n < bytes.length) this.#pending.unshift(bytes.slice(n));
    return n;
  }

  write(bytes: Uint8Array): Promise<number> {
    if (this.#closed) return Promise.reject(new Deno.errors.BrokenPipe("connection closed"));
    // A copy: the server reuses its reply buffer for the next reply. (allocUnsafe and set, a
    // memcpy: Buffer.from(Uint8Array) costs four times as much here, ~1 us for a small reply.)
    const copy = Buffer.allocUnsafe(bytes.length);
    copy.set(bytes);
    this.client.push(copy);
    return Promise.resolve(bytes.length);
  }

  close(): void {
    if (this.#closed) return;
    this.hangUp();
    this.#pending = [];
    this.client.destroy(); // as a socket closed by its peer: the client sees `close`
  }
}

/**
 * The client's end: a `Duplex` standing in for a `net.Socket`. `setTimeout(ms)` arms an
 * inactivity timeout as a socket's does (`timeout` is emitted once `ms` pass with no bytes in
 * either direction; `0` disarms it), with one timer per connection re-armed only when it fires
 * (a command that arms and disarms it costs no timer of its own).
 */
export class InProcessSocket extends Duplex {
  readonly #server: ServerEnd;
  #timeoutMs = 0;
  #lastActivity = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When `#timer` fires (`performance.now()` milliseconds: monotonic, as a socket's timer is). */
  #timerDueAt = 0;

  constructor() {
    super({ allowHalfOpen: false });
    this.#server = new ServerEnd(this);
  }

  /** The end `MongoServer` serves. */
  get serverEnd(): ServedConn {
    return this.#server;
  }

  override _read(): void {}

  override _write(
    chunk: Uint8Array,
    _encoding: string,
    callback: (error?: Error | null) => void,
  ): void {
    if (this.#timeoutMs > 0) this.#lastActivity = performance.now();
    // Copied straight into a waiting read, or else kept as a copy: done with it either way.
    this.#server.deliver(chunk);
    callback();
  }

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (this.#timeoutMs > 0 && chunk !== null) this.#lastActivity = performance.now();
    return super.push(chunk, encoding);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#disarm();
    this.#server.hangUp();
    callback(error);
  }

  setTimeout(ms: number, onTimeout?: () => void): this {
    if (onTimeout) this.once("timeout", onTimeout);
    this.#timeoutMs = ms > 0 ? ms : 0;
    if (this.#timeoutMs === 0) {
      // A pending timer finds it disarmed when it fires; meanwhile it keeps nothing alive.
      this.#timer?.unref();
      return this;
    }
    const now = performance.now();
    this.#lastActivity = now;
    if (this.#timer !== undefined && this.#timerDueAt > now + this.#timeoutMs) {
      clearTimeout(this.#timer); // due later than this timeout: too late for it
      this.#timer = undefined;
    }
    // Armed, it keeps the process alive, as an open socket does.
    if (this.#timer === undefined) this.#timer = this.#arm(this.#timeoutMs);
    else this.#timer.ref();
    return this;
  }

  #arm(ms: number): ReturnType<typeof setTimeout> {
    this.#timerDueAt = performance.now() + ms;
    return setTimeout(() => this.#check(), ms);
  }

  #check(): void {
    this.#timer = undefined;
    if (this.#timeoutMs === 0 || this.destroyed) return;
    const idle = performance.now() - this.#lastActivity;
    if (idle >= this.#timeoutMs) {
      this.#timeoutMs = 0;
      this.emit("timeout");
    } else {
      this.#timer = this.#arm(this.#timeoutMs - idle);
    }
  }

  #disarm(): void {
    this.#timeoutMs = 0;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  setKeepAlive(): this {
    return this;
  }

  setNoDelay(): this {
    return this;
  }
}

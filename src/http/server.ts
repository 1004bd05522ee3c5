/**
 * The HTTP/1.1 server that carries the app: our own accept loop and connection handling on
 * `Deno.listen`, because `Deno.serve` offers no header, idle or body timeouts and stops serving
 * for good after one accept error such as EMFILE (denoland/deno#3515; seen here: one flood of idle
 * connections under a low file limit ended the process).
 *
 * What it guarantees:
 * - a connection must deliver a complete request head within `headersTimeoutMs` of opening (or
 *   of its first byte after an idle keep-alive gap), its body within `bodyTimeoutMs` of the head,
 *   and must take each response within `sendTimeoutMs`; an idle keep-alive connection is closed
 *   after `idleTimeoutMs`. One sweep a second closes every connection past its deadline;
 * - at most `maxConnections` connections (also capped below the process's open-file limit, read
 *   from /proc when allowed, and lowered at the first EMFILE to what could be opened): at
 *   the cap, the longest-waiting connection that has sent nothing of its current request is
 *   closed to make room, and when none is, the newcomer gets 503 and is closed;
 * - an accept error (EMFILE, ENFILE, ...) is logged and retried with back-off; it never ends the
 *   server or the process;
 * - strict framing: a request head over 16 KiB is 431, `Transfer-Encoding` together with
 *   `Content-Length`, an unknown transfer coding, a bad or repeated `Content-Length`, a malformed
 *   request line or header, a line ending in LF without CR, or HTTP/1.1 without `Host` is 400,
 *   and the connection is closed; a body over `maxBodyBytes` is 413 before it is read;
 *   `Expect: 100-continue` is honoured;
 * - header bytes are read and written one character a byte, as Fetch reads them; every answer
 *   carries `Date`;
 * - a client that goes away before its request is complete is logged as a client abort.
 *
 * Request bodies are read whole before the handler runs (they are small JSON here) and handed over
 * in a `WireRequest` (wire_request.ts) rather than Deno's `Request`; responses are buffered and
 * sent with `Content-Length` in one write.
 */
import { Buffer } from "node:buffer";
import { normaliseMethod, WireRequest } from "./wire_request.ts";
import { WireResponse } from "./wire_response.ts";

/** The handler: the app's `fetch`, given the client's address as hono's `c.env`. */
export type FetchHandler = (
  request: Request,
  info: { remoteAddr: Deno.NetAddr },
) => Response | Promise<Response>;

export interface HttpServerLimits {
  /** From connection open (or the first byte after an idle gap) to the end of the request head. */
  headersTimeoutMs: number;
  /** How long a keep-alive connection may wait, idle, for its next request. */
  idleTimeoutMs: number;
  /** From the end of the head to the end of the body. */
  bodyTimeoutMs: number;
  /** How long the client may take to receive one response. */
  sendTimeoutMs: number;
  /** Open connections at most (lowered to fit the open-file limit). */
  maxConnections: number;
  /** The largest request body read; a larger declared or chunked body is 413. */
  maxBodyBytes: number;
}

export interface HttpServerOptions extends HttpServerLimits {
  hostname: string;
  port: number;
  handler: FetchHandler;
  /** Structured events: accept errors, refused connections, client aborts. No request data. */
  log?: (event: { level: "info" | "warn" | "error"; msg: string; [k: string]: unknown }) => void;
  /** How often deadlines are checked; default 1000 ms. */
  sweepIntervalMs?: number;
  /** TLS: PEM certificate and key. Without them the server speaks plain HTTP. */
  tls?: { cert: string; key: string };
  /**
   * Headers put on every answer to a request for `path` (the server's own answers included, with
   * path "" when there is none): the security headers. Return a constant list per kind of path
   * (lists are rendered once and remembered); a handler's header of the same name is dropped.
   */
  answerHeaders?: (path: string) => HeaderList;
}

/** Header fields as name-value pairs, names in lower case. */
export type HeaderList = ReadonlyArray<readonly [string, string]>;

export interface HttpServer {
  readonly addr: Deno.NetAddr;
  /** Open connections now. */
  readonly connections: number;
  /** The connection cap in force (after fitting it to the open-file limit). */
  readonly maxConnections: number;
  /** Stops accepting, lets requests in progress finish (at most `graceMs`), closes the rest. */
  shutdown(graceMs?: number): Promise<void>;
}

/**
 * The body the server read whole for `request`, if this server made that request and it has a
 * body (without marking it read): cheaper for a handler than any of the Request's readers.
 */
export function bodyOf(request: Request): Uint8Array | undefined {
  return request instanceof WireRequest ? request.receivedBody() ?? undefined : undefined;
}

/** Serialised URLs of recent request URLs (the same few paths come again and again). */
const urls = new Map<string, string>();
/** At most this many kept; past it the map starts again empty. */
const MAX_URLS = 1024;
/** Longer URLs are not kept (so the map holds at most about a megabyte). */
const MAX_KEPT_URL = 512;

/** `url` as `new URL(url).href` serialises it; throws `TypeError` when it is not a URL. */
function serialisedUrl(url: string): string {
  let href = urls.get(url);
  if (href === undefined) {
    href = new URL(url).href;
    if (url.length <= MAX_KEPT_URL && href.length <= 2 * MAX_KEPT_URL) {
      if (urls.size >= MAX_URLS) urls.clear();
      urls.set(url, href);
    }
  }
  return href;
}

/** The largest request head (request line and headers). */
export const MAX_HEAD_BYTES = 16 * 1024;
/** Descriptors kept free for the store, the journal and the driver when fitting the cap. */
const FD_RESERVE = 64;
/** How far below the connections open at an EMFILE the cap is lowered. */
const FD_SLACK = 8;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What a header value may not hold (as for Headers: NUL, CR, LF) and non-byte characters. */
// deno-lint-ignore no-control-regex
const BAD_VALUE = /[\0\r\n]|[^\x00-\xff]/;
/** A Host value: a name or an address, with an optional port; nothing that could move the path. */
const HOST = /^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
// The target: visible ASCII, and raw bytes past 0x7F (see `percentEncodeHigh`); no controls.
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e\x80-\xff]+) HTTP\/1\.([01])$/;
const HIGH = /[\x80-\xff]/;

/**
 * A target's raw bytes past 0x7F (read one character a byte), percent-encoded: the URL a client
 * that encoded them itself would have sent (`/ł` as UTF-8 bytes is `/%C5%82`, as
 * `new Request("http://h/ł").url` has it), whatever the bytes' encoding.
 */
function percentEncodeHigh(target: string): string {
  return target.replace(/[\x80-\xff]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
}
const REASONS: Record<number, string> = {
  100: "Continue",
  200: "OK",
  201: "Created",
  204: "No Content",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};
const encoder = new TextEncoder();
// deno-lint-ignore no-control-regex
const ASCII = /^[\x00-\x7f]*$/;

/**
 * Bytes as text, one character (U+0000-U+00FF) per byte: how Fetch reads header bytes ("isomorphic
 * decode"), so a UTF-8 value reaches the app as `new Request()` would show it. (A
 * `TextDecoder("latin1")` is windows-1252: it turned bytes 0x80-0x9F, common in UTF-8, into
 * characters past U+00FF that no header may hold, and the request was refused. Node's latin1 is
 * the isomorphic one, and three times as fast on a request head.)
 */
function isomorphicDecode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/** The reverse: each character (all U+0000-U+00FF in a head) as one byte; the bytes written. */
function isomorphicEncodeInto(text: string, out: Uint8Array): number {
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return text.length;
}

/** The soft open-file limit of this process, from /proc (Linux); undefined elsewhere. */
export function openFileLimit(): number | undefined {
  try {
    const limits = Deno.readTextFileSync("/proc/self/limits");
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
    return m && m[1] !== "unlimited" ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** A failure that answers with `status` and closes the connection. */
class RequestError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Where a connection is: what it waits for decides its deadline. */
type Phase = "head" | "idle" | "body" | "handling" | "sending";

interface Connection {
  conn: Deno.Conn;
  phase: Phase;
  deadline: number;
  /** Bytes of the current request received (0: nothing yet, evictable at the cap). */
  started: boolean;
  closed: boolean;
  /**
   * The buffer the last answer was framed in, reused for the next (a connection's answers are
   * written one after another): a fresh 1 KB Uint8Array cost ~1.5 us an answer. Only buffers of
   * at most OUT_KEPT bytes are kept.
   */
  out?: Uint8Array;
}

/** The largest answer buffer a connection keeps between answers. */
const OUT_KEPT = 16 * 1024;

interface ParsedHead {
  method: string;
  target: string;
  minor: number;
  /** Header fields in order, names lower-cased (values checked as Headers would). */
  headers: Array<[string, string]>;
  /** The Host header's value ("" when absent). */
  host: string;
  contentLength: number;
  chunked: boolean;
  keepAlive: boolean;
  expectContinue: boolean;
}

/** Starts serving; resolves once listening. */
export function serveHttp(options: HttpServerOptions): HttpServer {
  const log = options.log ?? (() => {});
  const listener: Deno.Listener = options.tls
    ? Deno.listenTls({
      hostname: options.hostname,
      port: options.port,
      cert: options.tls.cert,
      key: options.tls.key,
    })
    : Deno.listen({ hostname: options.hostname, port: options.port });
  const addr = listener.addr as Deno.NetAddr;
  const fdLimit = openFileLimit();
  let maxConnections = fdLimit === undefined
    ? options.maxConnections
    : Math.max(1, Math.min(options.maxConnections, fdLimit - FD_RESERVE));
  const open = new Set<Connection>();
  const serving = new Set<Promise<void>>();
  let closing = false;
  const scheme = options.tls ? "https" : "http";

  const close = (c: Connection) => {
    if (c.closed) return;
    c.closed = true;
    open.delete(c);
    try {
      c.conn.close();
    } catch { /* already closed */ }
  };

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const c of open) {
      if (c.deadline <= now) {
        if (c.phase === "body" || (c.phase === "head" && c.started)) {
          log({ level: "info", msg: "http connection timed out", phase: c.phase });
        }
        close(c);
      }
    }
  }, options.sweepIntervalMs ?? 1000);
  Deno.unrefTimer(sweep);

  /** Makes room for one more connection; false when every open one is busy. */
  const makeRoom = (): boolean => {
    if (open.size < maxConnections) return true;
    let victim: Connection | undefined;
    for (const c of open) {
      if ((c.phase === "head" || c.phase === "idle") && !c.started) {
        if (!victim || c.deadline < victim.deadline) victim = c;
      }
    }
    if (!victim) return false;
    close(victim);
    return true;
  };

  const accepting = (async () => {
    let backoff = 0;
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
        backoff = 0;
      } catch (e) {
        if (closing || e instanceof Deno.errors.BadResource) return;
        backoff = Math.min(backoff === 0 ? 10 : backoff * 2, 1000);
        if (isOutOfFiles(e) && open.size > FD_SLACK) {
          // The open-file limit is below the cap (it could not be read, or other descriptors
          // use it up): fit the cap under what this process managed to open, and make room.
          const fitted = open.size - FD_SLACK;
          if (fitted < maxConnections) {
            maxConnections = fitted;
            log({ level: "warn", msg: "http connection cap lowered", maxConnections });
          }
          while (open.size >= maxConnections && makeRoom()) { /* closed one */ }
        }
        log({
          level: "warn",
          msg: "http accept failed",
          error: e instanceof Error ? e.message : String(e),
          retryInMs: backoff,
        });
        await new Promise((r) => setTimeout(r, backoff));
        continue;
      }
      if (closing) {
        conn.close();
        return;
      }
      if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
      if (!makeRoom()) {
        log({ level: "warn", msg: "http connection refused: at the connection cap" });
        refuse(conn);
        continue;
      }
      const c: Connection = {
        conn,
        phase: "head",
        deadline: Date.now() + options.headersTimeoutMs,
        started: false,
        closed: false,
      };
      open.add(c);
      const p = serveConnection(c).catch(() => {}).finally(() => {
        close(c);
        serving.delete(p);
      });
      serving.add(p);
    }
  })();

  const renderedLists = new Map<HeaderList, { text: string; names: Set<string> }>();
  const noHeaders = { text: "", names: new Set<string>() };
  /** The answer headers of `path`, as header lines and names (each list rendered once). */
  const rendered = (path: string) => {
    if (!options.answerHeaders) return noHeaders;
    const list = options.answerHeaders(path);
    let r = renderedLists.get(list);
    if (!r) {
      r = {
        text: list.map(([name, value]) => `${name}: ${value}\r\n`).join(""),
        names: new Set(list.map(([name]) => name.toLowerCase())),
      };
      // Lists made afresh for each answer are rendered each time, not remembered without end.
      if (renderedLists.size < 64) renderedLists.set(list, r);
    }
    return r;
  };

  /** 503 to a connection over the cap, without reading it. */
  function refuse(conn: Deno.Conn): void {
    const body = '{"error":"Cannot accept connection: too many open connections"}';
    const bytes = encoder.encode(
      `HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n` +
        rendered("").text +
        `date: ${httpDate()}\r\ncontent-length: ${body.length}\r\nretry-after: 1\r\n` +
        `connection: close\r\n\r\n${body}`,
    );
    const timer = setTimeout(() => conn.close(), options.sendTimeoutMs);
    conn.write(bytes).catch(() => {}).finally(() => {
      clearTimeout(timer);
      try {
        conn.close();
      } catch { /* already closed */ }
    });
  }

  async function serveConnection(c: Connection): Promise<void> {
    const remoteAddr = c.conn.remoteAddr as Deno.NetAddr;
    const r = new ByteReader(c.conn);
    for (;;) {
      // The head.
      let headEnd = -1;
      let scanned = r.start;
      for (;;) {
        headEnd = headEndIn(r.buf, r.start, scanned, r.end);
        if (headEnd >= 0 || headEnd === BARE_LF || r.end - r.start > MAX_HEAD_BYTES) break;
        scanned = r.end;
        const before = r.start;
        if (!await r.fill()) {
          if (r.end > r.start) log({ level: "info", msg: "http client abort", phase: "head" });
          return;
        }
        scanned -= before - r.start;
        if (!c.started) {
          c.started = true;
          c.phase = "head";
          c.deadline = Date.now() + options.headersTimeoutMs;
        }
      }
      if (headEnd === BARE_LF) {
        // Lines must end in CRLF: a lone LF is refused at once (not waited on until the head's
        // deadline), and never read as a line end, which a proxy in front might not do.
        await sendError(c, 400, "Cannot read request: a line ends in LF without CR");
        return;
      }
      if (headEnd < 0 || headEnd - r.start > MAX_HEAD_BYTES) {
        await sendError(c, 431, "Cannot read request: header section too large");
        return;
      }
      let head: ParsedHead;
      try {
        head = parseHead(isomorphicDecode(r.buf.subarray(r.start, headEnd)));
      } catch (e) {
        const err = e instanceof RequestError ? e : new RequestError(400, "malformed request");
        await sendError(c, err.status, `Cannot read request: ${err.message}`);
        return;
      }
      r.start = headEnd + 4;

      // The body.
      c.phase = "body";
      c.deadline = Date.now() + options.bodyTimeoutMs;
      if (head.contentLength > options.maxBodyBytes) {
        await sendError(
          c,
          413,
          `Cannot read body: larger than ${options.maxBodyBytes} bytes`,
          pathOf(head.target),
        );
        return;
      }
      if (head.expectContinue && (head.chunked || head.contentLength > 0) && r.start === r.end) {
        await c.conn.write(encoder.encode("HTTP/1.1 100 Continue\r\n\r\n")).catch(() => {});
      }
      let body: Uint8Array<ArrayBuffer> | null;
      try {
        body = head.chunked
          ? await readChunked(r, options.maxBodyBytes)
          : await r.take(head.contentLength);
      } catch (e) {
        const err = e instanceof RequestError ? e : new RequestError(400, "malformed body");
        await sendError(c, err.status, `Cannot read body: ${err.message}`, pathOf(head.target));
        return;
      }
      if (body === null) {
        log({ level: "info", msg: "http client abort", phase: "body" });
        return;
      }

      // The answer.
      c.phase = "handling";
      c.deadline = Infinity;
      let response: Response;
      const hasBody = head.method !== "GET" && head.method !== "HEAD" &&
        (head.chunked || head.contentLength > 0);
      let request: WireRequest;
      try {
        const host = head.host || `${addr.hostname}:${addr.port}`;
        const url = head.target.startsWith("/") ? `${scheme}://${host}${head.target}` : head.target;
        request = new WireRequest(
          normaliseMethod(head.method),
          serialisedUrl(url),
          head.headers,
          hasBody ? body : null,
        );
      } catch {
        await sendError(c, 400, "Cannot read request: invalid target or host");
        return;
      }
      try {
        response = await options.handler(request as Request, { remoteAddr });
      } catch (e) {
        log({
          level: "error",
          msg: "http handler failed",
          error: e instanceof Error ? e.name : "unknown",
        });
        response = Response.json({ error: "Internal error" }, { status: 500 });
      }
      if (c.closed) return;
      const keepAlive = head.keepAlive && !closing &&
        response.headers.get("connection")?.toLowerCase() !== "close";
      c.phase = "sending";
      c.deadline = Date.now() + options.sendTimeoutMs;
      const sent = await sendResponse(
        c,
        response,
        head.method === "HEAD",
        keepAlive,
        pathOf(head.target),
      );
      if (!sent || !keepAlive || c.closed) return;
      c.started = r.end > r.start;
      c.phase = c.started ? "head" : "idle";
      c.deadline = Date.now() + (c.started ? options.headersTimeoutMs : options.idleTimeoutMs);
    }
  }

  async function sendResponse(
    c: Connection,
    response: Response,
    isHead: boolean,
    keepAlive: boolean,
    path: string,
  ): Promise<boolean> {
    const status = response.status;
    const noBody = status === 204 || status === 304 || (status >= 100 && status < 200);
    // A WireResponse's text is taken as it is (ASCII text, the usual JSON, is encoded together
    // with the head below, in one call); from a Response, bytes() without looking at
    // `response.body` first: that getter makes a stream of a body held as bytes, which bytes()
    // would then read back chunk by chunk.
    const wire = response instanceof WireResponse && !response.bodyUsed ? response : undefined;
    const text = wire?.jsonText();
    const asciiText = text !== undefined && ASCII.test(text) ? text : undefined;
    let body: Uint8Array | undefined;
    try {
      if (asciiText === undefined) {
        body = text !== undefined ? encoder.encode(text) : await response.bytes();
      }
    } catch {
      return false;
    }
    const bodyBytes = asciiText !== undefined ? asciiText.length : body!.length;
    let head = `HTTP/1.1 ${status} ${REASONS[status] ?? "Status"}\r\n`;
    const extra = rendered(path);
    let dated = false;
    const addField = (name: string, value: string) => {
      if (
        name !== "content-length" && name !== "connection" && name !== "transfer-encoding" &&
        !extra.names.has(name)
      ) {
        head += `${name}: ${value}\r\n`;
        if (name === "date") dated = true;
      }
    };
    // forEach, not for-of: Deno's Headers iterator costs ten times as much (measured ~50 us for
    // a response's 15 headers against ~5 us).
    if (wire) wire.headers.eachField(addField);
    else response.headers.forEach((value, name) => addField(name, value));
    head += extra.text;
    // RFC 9110 6.6.1: a server with a clock sends Date (unless the answer has its own).
    if (!dated) head += `date: ${httpDate()}\r\n`;
    if (!noBody) head += `content-length: ${bodyBytes}\r\n`;
    head += keepAlive
      ? `connection: keep-alive\r\nkeep-alive: timeout=${
        Math.floor(options.idleTimeoutMs / 1000)
      }\r\n\r\n`
      : "connection: close\r\n\r\n";
    // One buffer for head and body, one write. The head is ASCII but for rare byte-string header
    // values, which take at most three bytes a character here.
    const bodyLength = isHead || noBody ? 0 : bodyBytes;
    const need = head.length * 3 + bodyLength;
    let out = c.out;
    if (out === undefined || out.length < need) {
      out = new Uint8Array(Math.max(need, 4096));
      if (out.length <= OUT_KEPT) c.out = out;
    }
    let payload: Uint8Array;
    // UTF-8 is the fast encoder, and right for ASCII; a head with a header value past ASCII (it
    // wrote more bytes than it has characters) is written again one byte a character, as header
    // values are bytes (what Deno.serve sends; UTF-8 made "é" arrive as "Ã©").
    if (asciiText !== undefined) {
      const text = bodyLength > 0 ? head + asciiText : head;
      let { written } = encoder.encodeInto(text, out);
      if (written !== text.length) written = isomorphicEncodeInto(text, out);
      payload = out.subarray(0, written);
    } else {
      let { written } = encoder.encodeInto(head, out);
      if (written !== head.length) written = isomorphicEncodeInto(head, out);
      if (bodyLength > 0) out.set(body!, written);
      payload = out.subarray(0, written + bodyLength);
    }
    try {
      let offset = 0;
      while (offset < payload.length) offset += await c.conn.write(payload.subarray(offset));
      return true;
    } catch {
      return false;
    }
  }

  async function sendError(
    c: Connection,
    status: number,
    message: string,
    path = "",
  ): Promise<void> {
    c.phase = "sending";
    c.deadline = Date.now() + options.sendTimeoutMs;
    await sendResponse(c, Response.json({ error: message }, { status }), false, false, path);
  }

  return {
    addr,
    get connections() {
      return open.size;
    },
    get maxConnections() {
      return maxConnections;
    },
    async shutdown(graceMs = 5000) {
      if (closing) return;
      closing = true;
      clearInterval(sweep);
      try {
        listener.close();
      } catch { /* already closed */ }
      await accepting;
      for (const c of open) if (c.phase === "idle" || c.phase === "head") close(c);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.allSettled([...serving]),
        new Promise((r) => timer = setTimeout(r, graceMs)),
      ]);
      clearTimeout(timer);
      for (const c of open) close(c);
      await Promise.allSettled([...serving]);
    },
  };
}

/** Whether an accept error is EMFILE or ENFILE (out of descriptors). */
function isOutOfFiles(e: unknown): boolean {
  const text = e instanceof Error ? e.message : String(e);
  return /os error 2[34]\b|Too many open files/i.test(text);
}

/** The path of a request target (origin form, or absolute form), without its query. */
function pathOf(target: string): string {
  if (!target.startsWith("/")) {
    try {
      return new URL(target).pathname;
    } catch {
      return "";
    }
  }
  const q = target.indexOf("?");
  return q < 0 ? target : target.slice(0, q);
}

let lastDateSecond = Number.NaN;
let lastDate = "";

/** Now as an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`), formatted once a second. */
export function httpDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== lastDateSecond) {
    lastDateSecond = second;
    lastDate = new Date(second * 1000).toUTCString();
  }
  return lastDate;
}

/** What `headEndIn` returns for an LF without a CR before it. */
const BARE_LF = -2;

/**
 * Where the head that starts at `start` ends (the index of its CRLF CRLF), looking at the bytes
 * `buf[from, to)` (those before `from` were looked at already): -1 when the end is not there yet,
 * BARE_LF when an LF without a CR before it comes first.
 */
function headEndIn(buf: Uint8Array, start: number, from: number, to: number): number {
  for (let i = Math.max(from, start); i < to; i++) {
    if (buf[i] !== 10) continue;
    if (i === start || buf[i - 1] !== 13) return BARE_LF;
    if (i - 3 >= start && buf[i - 2] === 10 && buf[i - 3] === 13) return i - 3;
  }
  return -1;
}

/** Parses a request head (without its final CRLF CRLF); throws `RequestError`. */
function parseHead(text: string): ParsedHead {
  const lines = text.split("\r\n");
  const m = REQUEST_LINE.exec(lines[0]);
  if (!m) throw new RequestError(400, "malformed request line");
  const [, method, rawTarget, minorText] = m;
  const target = HIGH.test(rawTarget) ? percentEncodeHigh(rawTarget) : rawTarget;
  if (!target.startsWith("/") && !/^https?:\/\//i.test(target) && target !== "*") {
    throw new RequestError(400, "malformed request target");
  }
  const headers: Array<[string, string]> = [];
  let host = "";
  let contentLength: string | undefined;
  let transferEncoding: string | undefined;
  let connection = "";
  let expect: string | undefined;
  let hosts = 0;
  let cookieAt = -1;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(":");
    if (colon <= 0) throw new RequestError(400, "malformed header");
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) throw new RequestError(400, "malformed header name");
    const value = line.slice(colon + 1).trim();
    if (BAD_VALUE.test(value)) throw new RequestError(400, "malformed header value");
    const lower = name.toLowerCase();
    if (lower === "cookie" && cookieAt >= 0) {
      // Cookie lines are joined with "; ", as Deno.serve and HTTP/2 (RFC 9113 8.2.3) join them:
      // cookie pairs are separated by ";", and a ", " would run two cookies into one value.
      headers[cookieAt][1] += `; ${value}`;
      continue;
    }
    if (lower === "cookie") cookieAt = headers.length;
    headers.push([lower, value]);
    switch (lower) {
      case "content-length":
        if (contentLength !== undefined && contentLength !== value) {
          throw new RequestError(400, "conflicting Content-Length");
        }
        contentLength = value;
        break;
      case "transfer-encoding":
        transferEncoding = transferEncoding === undefined ? value : `${transferEncoding},${value}`;
        break;
      case "connection":
        connection += `,${value.toLowerCase()}`;
        break;
      case "expect":
        expect = value.toLowerCase();
        break;
      case "host":
        if (value !== "" && !HOST.test(value)) throw new RequestError(400, "malformed Host");
        host = value;
        hosts++;
        break;
    }
  }
  const minor = Number(minorText);
  if (minor === 1 && hosts !== 1) throw new RequestError(400, "exactly one Host header needed");
  if (transferEncoding !== undefined && contentLength !== undefined) {
    throw new RequestError(400, "both Transfer-Encoding and Content-Length");
  }
  let chunked = false;
  if (transferEncoding !== undefined) {
    if (transferEncoding.trim().toLowerCase() !== "chunked" || minor === 0) {
      throw new RequestError(501, "unsupported Transfer-Encoding");
    }
    chunked = true;
  }
  let length = 0;
  if (contentLength !== undefined) {
    if (!/^\d{1,15}$/.test(contentLength)) throw new RequestError(400, "malformed Content-Length");
    length = Number(contentLength);
  }
  const tokens = connection.split(",").map((t) => t.trim());
  const keepAlive = minor === 1 ? !tokens.includes("close") : tokens.includes("keep-alive");
  return {
    method,
    target,
    minor,
    headers,
    host,
    contentLength: length,
    chunked,
    keepAlive,
    expectContinue: expect === "100-continue",
  };
}

/** Buffered reading from a connection: unread bytes are `buf[start, end)`. */
class ByteReader {
  buf: Uint8Array<ArrayBuffer> = new Uint8Array(4096);
  start = 0;
  end = 0;
  constructor(readonly conn: Deno.Conn) {}

  /** Reads more bytes (compacting or growing the buffer first); false at end of stream. */
  async fill(): Promise<boolean> {
    if (this.start === this.end) this.start = this.end = 0;
    if (this.end === this.buf.length) {
      const used = this.end - this.start;
      const next = used * 2 > this.buf.length ? new Uint8Array(this.buf.length * 2) : this.buf;
      next.set(this.buf.subarray(this.start, this.end));
      this.buf = next;
      this.start = 0;
      this.end = used;
    }
    let n: number | null;
    try {
      n = await this.conn.read(this.buf.subarray(this.end));
    } catch {
      return false; // reset, or closed by the sweep
    }
    if (n === null) return false;
    this.end += n;
    return true;
  }

  /** The next `n` bytes (a copy); null when the stream ends first. */
  async take(n: number): Promise<Uint8Array<ArrayBuffer> | null> {
    while (this.end - this.start < n) if (!await this.fill()) return null;
    const out = this.buf.slice(this.start, this.start + n);
    this.start += n;
    return out;
  }

  /** The next line without its CRLF; null when the stream ends first. */
  async line(max: number): Promise<string | null> {
    for (;;) {
      const i = this.buf.subarray(this.start, this.end).indexOf(10);
      if (i >= 0) {
        const line = isomorphicDecode(this.buf.subarray(this.start, this.start + i));
        this.start += i + 1;
        if (!line.endsWith("\r")) throw new RequestError(400, "malformed chunk framing");
        return line.slice(0, -1);
      }
      if (this.end - this.start > max) throw new RequestError(400, "chunk line too long");
      if (!await this.fill()) return null;
    }
  }
}

/** Reads a chunked body (trailers read and dropped); null when the client went away. */
async function readChunked(
  r: ByteReader,
  maxBytes: number,
): Promise<Uint8Array<ArrayBuffer> | null> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const line = await r.line(1024);
    if (line === null) return null;
    const m = /^([0-9A-Fa-f]{1,8})(?:[ \t]*;.*)?$/.exec(line);
    if (!m) throw new RequestError(400, "malformed chunk size");
    const n = parseInt(m[1], 16);
    if (n === 0) break;
    size += n;
    if (size > maxBytes) throw new RequestError(413, `larger than ${maxBytes} bytes`);
    const chunk = await r.take(n);
    if (chunk === null) return null;
    chunks.push(chunk);
    const crlf = await r.line(2);
    if (crlf === null) return null;
    if (crlf !== "") throw new RequestError(400, "malformed chunk framing");
  }
  for (;;) {
    const trailer = await r.line(MAX_HEAD_BYTES);
    if (trailer === null) return null;
    if (trailer === "") break;
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return body;
}

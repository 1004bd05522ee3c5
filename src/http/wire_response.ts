/**
 * A JSON answer the app hands our HTTP server (server.ts) without making a Deno `Response`: the
 * server writes its status, header fields and text straight into the bytes it sends. Making a
 * `Response` (Hono's `c.json`) and reading it back cost the server as much again as the rest of
 * an answer to `/api/ping`.
 *
 * It offers the whole `Response` interface, so that anything else that gets one (Hono's CORS
 * middleware, Hono's answer to a HEAD request) sees an ordinary response: `status`,
 * `statusText`, `ok` and `headers` are its own; `bytes()`, `arrayBuffer()`, `text()` and `json()`
 * read its text once; everything else (`body` as a stream, `clone()`, `blob()`...) is answered by a
 * real `Response` made the first time one of them is asked for.
 *
 * Use it through `jsonAnswer`, which makes one only for a request of our server (`Deno.serve`
 * takes nothing but a `Response`) and falls back to `c.json` when headers were set on the context
 * (they would be lost here): the app's middleware marks a context whose `c.header` was called
 * (`trackHeaders`).
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "./types.ts";
import { WireHeaders, WireRequest } from "./wire_request.ts";

const encoder = new TextEncoder();

/** A JSON response with its text already made. */
export class WireResponse implements Response {
  readonly status: number;
  readonly headers: WireHeaders;
  readonly type: ResponseType = "default";
  readonly url = "";
  readonly redirected = false;
  /** The JSON text. */
  readonly #text: string;
  #used = false;
  #real: Response | undefined;

  /** `text`: the JSON text of the answer; `status`: 200-599 but 204, 205 and 304 (no body). */
  constructor(status: number, text: string) {
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new RangeError(`Invalid status: ${status}`);
    }
    if (status === 204 || status === 205 || status === 304) {
      throw new TypeError(`Invalid status: ${status} has no body`);
    }
    this.status = status;
    this.#text = text;
    this.headers = new WireHeaders([["content-type", "application/json"]]);
  }

  /** The JSON text, without reading the body (the server's way in). */
  jsonText(): string {
    return this.#text;
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  get statusText(): string {
    return "";
  }

  get bodyUsed(): boolean {
    return this.#used || (this.#real?.bodyUsed ?? false);
  }

  get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
    return this.#toReal().body;
  }

  text(): Promise<string> {
    if (this.#real) return this.#real.text();
    if (this.#used) return Promise.reject(new TypeError("Body already consumed"));
    this.#used = true;
    return Promise.resolve(this.#text);
  }

  async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return encoder.encode(await this.text());
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return (await this.bytes()).buffer;
  }

  async json(): Promise<unknown> {
    // deno-lint-ignore no-explicit-any
    return JSON.parse(await this.text()) as any;
  }

  blob(): Promise<Blob> {
    return this.#toReal().blob();
  }

  formData(): Promise<FormData> {
    return this.#toReal().formData();
  }

  textStream(): ReadableStream<string> {
    return this.#toReal().textStream();
  }

  clone(): Response {
    return this.#toReal().clone();
  }

  get [Symbol.toStringTag](): string {
    return "Response";
  }

  /** The real `Response` answering what this one does not hold itself (made once). */
  #toReal(): Response {
    if (this.#real) return this.#real;
    const real = new Response(this.#used ? null : this.#text, {
      status: this.status,
      headers: this.headers.list(),
    });
    return this.#real = real;
  }
}

/** `c.header` of a tracked context: marks it, then calls Hono's own (see `trackHeaders`). */
function trackedHeader(this: Context<AppEnv>, ...args: Parameters<Context["header"]>): void {
  this.set("headersSet", true);
  return this.get("honoHeader")!(...args);
}

/**
 * Marks `c` (in `headersSet`) when `c.header` is called on it, by Hono's cookie helpers
 * included: from then on `jsonAnswer` answers through `c.json`, which keeps those headers.
 *
 * `c.header` becomes one function shared by every context (`trackedHeader`, which finds Hono's
 * own in the context's variables), not a closure made for each request: storing a fresh closure
 * in that field of each context made V8 keep every request's objects through a young-generation
 * collection and then promote them (1.5-1.7 MB at each scavenge under load, pauses of 4-5 ms
 * instead of 0.5), whatever the route.
 */
export function trackHeaders(c: Context<AppEnv>): void {
  c.set("headersSet", false);
  c.set("honoHeader", c.header);
  c.header = trackedHeader as Context["header"];
}

/**
 * `c.json(value, status)`, as a WireResponse when the request came from our server (a
 * WireRequest: the app served by `Deno.serve` or called by `app.request` answers only
 * `Response`s), `c` is tracked (`trackHeaders`), no header was set on it, and Hono has not
 * finalised it.
 */
export function jsonAnswer(
  c: Context<AppEnv>,
  value: unknown,
  status: ContentfulStatusCode,
): Response {
  if (!(c.req.raw instanceof WireRequest) || c.get("headersSet") !== false || c.finalized) {
    return c.json(value, status);
  }
  return new WireResponse(status, JSON.stringify(value));
}

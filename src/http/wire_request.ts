/**
 * The request our HTTP server (server.ts) hands the app: a `Request` made from what the server
 * already parsed and read, without Deno's `Request` constructor, which copies and re-validates
 * every header through WebIDL and parses the URL again (about a third of the server's own cost
 * per request, measured under wrk).
 *
 * It offers the whole `Request` interface:
 * - `method`, `url` and `headers` are the server's: the method as the Fetch standard normalises
 *   it, the URL as `new URL()` serialises it, the header fields as received (names in lower case;
 *   the server already refused malformed names and values). The headers behave as `Headers`:
 *   `get` joins repeated fields with ", ", iteration is sorted by name, and they can be changed;
 * - the body is the bytes the server read; `bytes()`, `arrayBuffer()`, `text()` and `json()`
 *   read them once (a second read is a `TypeError`, as for a `Request`);
 * - everything else (`body` as a stream, `formData()`, `blob()`, `clone()`, `signal`, `mode`...)
 *   is answered by a real `Request` made the first time one of them is asked for.
 *
 * `instanceof Request` is false: nothing in the app or in Hono's serving path depends on it.
 */

/** Methods the Fetch standard upper-cases when given in another case. */
const NORMALISED_METHODS = new Map(
  ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"].map((m) => [m.toLowerCase(), m]),
);
/** Methods a `Request` may not carry. */
const FORBIDDEN_METHODS = new Set(["connect", "trace", "track"]);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// deno-lint-ignore no-control-regex
const BAD_VALUE = /[\0\r\n]|[^\x00-\xff]/;
const utf8 = new TextDecoder();

/**
 * The method as `new Request()` would keep it; throws `TypeError` for a forbidden one
 * (CONNECT, TRACE, TRACK) or one that is not a token.
 */
export function normaliseMethod(method: string): string {
  if (!TOKEN.test(method)) throw new TypeError(`Invalid method: ${method}`);
  const lower = method.toLowerCase();
  if (FORBIDDEN_METHODS.has(lower)) throw new TypeError(`Forbidden method: ${method}`);
  return NORMALISED_METHODS.get(lower) ?? method;
}

/** Header fields in a list, with the `Headers` interface. */
export class WireHeaders implements Headers {
  #list: Array<[string, string]>;
  /** The fields sorted by name, repeated ones joined (set-cookie kept apart), once asked for. */
  #sorted: Array<[string, string]> | undefined;

  /** `list`: name-value pairs, names already in lower case and valid, values valid and trimmed. */
  constructor(list: Array<[string, string]>) {
    this.#list = list;
  }

  get(name: string): string | null {
    const key = checkName(name);
    let out: string | null = null;
    for (const [k, v] of this.#list) {
      if (k === key) out = out === null ? v : `${out}, ${v}`;
    }
    return out;
  }

  has(name: string): boolean {
    const key = checkName(name);
    return this.#list.some(([k]) => k === key);
  }

  getSetCookie(): string[] {
    return this.#list.filter(([k]) => k === "set-cookie").map(([, v]) => v);
  }

  set(name: string, value: string): void {
    const key = checkName(name);
    const v = checkValue(value);
    const at = this.#list.findIndex(([k]) => k === key);
    if (at < 0) {
      this.#list.push([key, v]);
    } else {
      this.#list[at] = [key, v];
      this.#list = this.#list.filter(([k], i) => k !== key || i === at);
    }
    this.#sorted = undefined;
  }

  append(name: string, value: string): void {
    this.#list.push([checkName(name), checkValue(value)]);
    this.#sorted = undefined;
  }

  delete(name: string): void {
    const key = checkName(name);
    this.#list = this.#list.filter(([k]) => k !== key);
    this.#sorted = undefined;
  }

  forEach(
    callback: (value: string, key: string, parent: this) => void,
    thisArg?: unknown,
  ): void {
    for (const [k, v] of this.#sortedList()) callback.call(thisArg, v, k, this);
  }

  *entries(): ReturnType<Headers["entries"]> {
    for (const [k, v] of this.#sortedList()) yield [k, v];
  }

  *keys(): ReturnType<Headers["keys"]> {
    for (const [k] of this.#sortedList()) yield k;
  }

  *values(): ReturnType<Headers["values"]> {
    for (const [, v] of this.#sortedList()) yield v;
  }

  [Symbol.iterator](): ReturnType<Headers["entries"]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return "Headers";
  }

  /** The fields as given (for making a real `Request`). */
  list(): Array<[string, string]> {
    return this.#list.map(([k, v]) => [k, v]);
  }

  /** Calls `callback` for each field in the order given, repeated names apart (for the wire). */
  eachField(callback: (name: string, value: string) => void): void {
    for (const [k, v] of this.#list) callback(k, v);
  }

  #sortedList(): Array<[string, string]> {
    if (this.#sorted) return this.#sorted;
    const names = [...new Set(this.#list.map(([k]) => k))].sort();
    const out: Array<[string, string]> = [];
    for (const name of names) {
      if (name === "set-cookie") {
        for (const v of this.getSetCookie()) out.push([name, v]);
      } else out.push([name, this.get(name)!]);
    }
    return this.#sorted = out;
  }
}

/** Valid header names already seen, to their lower case (the app asks for the same few). */
const checkedNames = new Map<string, string>();

function checkName(name: string): string {
  const known = checkedNames.get(name);
  if (known !== undefined) return known;
  const text = String(name);
  if (!TOKEN.test(text)) throw new TypeError(`Invalid header name: "${text.slice(0, 64)}"`);
  const lower = text.toLowerCase();
  if (checkedNames.size < 256 && text.length <= 64) checkedNames.set(text, lower);
  return lower;
}

function checkValue(value: string): string {
  const text = String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "");
  if (BAD_VALUE.test(text)) throw new TypeError("Invalid header value");
  return text;
}

/** A request made from a parsed head and a body read whole. */
export class WireRequest implements Request {
  readonly method: string;
  readonly url: string;
  readonly headers: WireHeaders;
  #body: Uint8Array<ArrayBuffer> | null;
  #used = false;
  #real: Request | undefined;

  /**
   * `method` as `normaliseMethod` returns it, `url` as `new URL().href` serialises it, `headers`
   * as `WireHeaders` takes them, `body` null when the request has none (always for GET and HEAD).
   */
  constructor(
    method: string,
    url: string,
    headers: Array<[string, string]>,
    body: Uint8Array<ArrayBuffer> | null,
  ) {
    this.method = method;
    this.url = url;
    this.headers = new WireHeaders(headers);
    this.#body = body;
  }

  /** The body the server read, without reading it (null when there is none). */
  receivedBody(): Uint8Array<ArrayBuffer> | null {
    return this.#body;
  }

  get bodyUsed(): boolean {
    return this.#used || (this.#real?.bodyUsed ?? false);
  }

  get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
    return this.#body === null ? null : this.#toReal().body;
  }

  bytes(): Promise<Uint8Array<ArrayBuffer>> {
    if (this.#real) return this.#real.bytes();
    if (this.#used) return Promise.reject(new TypeError("Body already consumed"));
    this.#used = true;
    return Promise.resolve(this.#body ?? new Uint8Array(0));
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.bytes();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  }

  async text(): Promise<string> {
    return utf8.decode(await this.bytes());
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

  clone(): Request {
    return this.#toReal().clone();
  }

  get cache(): RequestCache {
    return this.#toReal().cache;
  }
  get credentials(): RequestCredentials {
    return this.#toReal().credentials;
  }
  get destination(): RequestDestination {
    return this.#toReal().destination;
  }
  get integrity(): string {
    return this.#toReal().integrity;
  }
  get isHistoryNavigation(): boolean {
    return this.#toReal().isHistoryNavigation;
  }
  get isReloadNavigation(): boolean {
    return this.#toReal().isReloadNavigation;
  }
  get keepalive(): boolean {
    return this.#toReal().keepalive;
  }
  get mode(): RequestMode {
    return this.#toReal().mode;
  }
  get redirect(): RequestRedirect {
    return this.#toReal().redirect;
  }
  get referrer(): string {
    return this.#toReal().referrer;
  }
  get referrerPolicy(): ReferrerPolicy {
    return this.#toReal().referrerPolicy;
  }
  get signal(): AbortSignal {
    return this.#toReal().signal;
  }

  get [Symbol.toStringTag](): string {
    return "Request";
  }

  /** The real `Request` answering what this one does not hold itself (made once). */
  #toReal(): Request {
    if (this.#real) return this.#real;
    const real = new Request(this.url, {
      method: this.method,
      headers: this.headers.list(),
      body: this.#used ? null : this.#body,
    });
    if (this.#used && this.#body !== null) {
      // Already read here: the real one's body reads as used too.
      real.body?.cancel().catch(() => {});
    }
    return this.#real = real;
  }
}

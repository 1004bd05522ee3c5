/**
 * Requesting: the HTTP boundary as a concept. `request` turns an incoming request into an
 * action that syncs can match on; `respond` gives it its answer; `_awaitResponse` hands that
 * answer to the HTTP layer. Pending requests live in memory only (a `StringMap`, each entry removed
 * once its answer is collected or its time is up); with `saveResponses`, request and response
 * are also kept, secrets redacted and keys escaped (storable.ts), in `Requesting.requests` until
 * their `expiresAt`. Every request has the same timeout, so their deadlines come in the order
 * of the requests: one queue and one timer serve them all (src/utils/deadlines.ts), not a timer each.
 *
 * The engine tells this concept when a request's cascade has run (the `cascadeDone` hook), so
 * a request is answered at once, not after the timeout, when no sync handles its path (404),
 * when a sync failed (500 with the failure's correlation id; 503 when the failure is the store
 * being unavailable; 504 when the flow passed its action cutoff), or when syncs ran but none
 * responded (500). See design/concepts/Requesting.md and "Requesting conventions" in
 * design/syncs.md.
 */
import type { Collection, Db } from "mongodb";
import { freshID } from "../../utils/ids.ts";
import { DeadlineQueue } from "../../utils/deadlines.ts";
import { StringMap } from "../../utils/string_map.ts";
import { storable } from "./storable.ts";
import { isStoreUnavailable, STORE_UNAVAILABLE } from "../../utils/store_errors.ts";

/** The engine's hook key (see src/engine/sync.ts); `Symbol.for`, so no import of the engine. */
const ENGINE_HOOKS: unique symbol = Symbol.for("syncEngine.hooks") as never;

const PREFIX = "Requesting.";

/**
 * A response: what syncs passed to `respond`, or one of the markers below. An error response
 * carries `error` (the text) and `kind` (what the boundary turns into a status: `timeout`,
 * `not_found`, `internal`, `store_unavailable` for the markers; see src/syncs/routes.ts).
 */
export type ResponseDict = Record<string, unknown>;

/** The answer when no response came within `timeoutMs` of the request. */
export function timeoutResponse(): ResponseDict {
  return { error: "Cannot answer request: timed out", kind: "timeout" };
}

/** The answer when no sync's `when` matched the request. */
export function noRouteResponse(path: string): ResponseDict {
  return { error: `Cannot find route: no sync handles ${path}`, kind: "not_found" };
}

/** The answer when the store could not be reached (or could not write) for the request. */
export function storeUnavailableResponse(): ResponseDict {
  return { error: `Cannot answer request: ${STORE_UNAVAILABLE}`, kind: "store_unavailable" };
}

/** The answer when a sync of the request's flow failed, or no sync responded. */
export function internalErrorResponse(correlationId: string): ResponseDict {
  return { error: "Internal error", kind: "internal", correlationId };
}

export interface RequestingOptions {
  /** How long a request may take in all, cascade included, before it is answered 504. */
  timeoutMs?: number;
  /**
   * The store's operation deadline. When given, no action of a request's cascade starts later
   * than `timeoutMs - storeTimeoutMs` after the request, so no write can land after the 504.
   */
  storeTimeoutMs?: number;
  /** Keep requests and responses (secrets redacted) in `Requesting.requests`. Default false. */
  saveResponses?: boolean;
  /** How long a saved request is kept (its `expiresAt`). Default 24 hours. */
  savedTtlMs?: number;
  /** The clock (tests). */
  now?: () => Date;
}

/** The report the engine gives at the end of a cascade (see CascadeReport in the engine). */
interface CascadeReport {
  action: string;
  input: Record<string, unknown>;
  output: Record<string, unknown>;
  flow: string;
  matched: boolean;
  failures: Array<{ sync: string; message: string; cause?: unknown; cutoff?: boolean }>;
}

interface Pending {
  id: string;
  path: string;
  /** The request's inputs but `path`, for `_getInput`. */
  input: Record<string, unknown>;
  /** Set once answered (by `respond` or with a marker). */
  response?: ResponseDict;
  /** How it was answered. */
  by?: "respond" | "timeout" | "engine";
  /** Collectors waiting for the answer (`_awaitResponse` before it came). */
  waiters?: Array<(response: ResponseDict) => void>;
  /** `performance.now()` at which it times out (once timed out: at which it is forgotten). */
  dueAt: number;
  /** Collected or forgotten: no longer pending (its queue skips it). */
  done: boolean;
}

interface SavedRequest {
  _id: string;
  path: string;
  input: unknown;
  createdAt: Date;
  expiresAt: Date;
  response?: unknown;
  respondedAt?: Date;
}

const MAX_PATH = 2048;
const MAX_REQUEST_ID = 128;
/** What an ended entry keeps of its inputs. */
const NO_INPUT: Record<string, unknown> = Object.freeze({});

export default class RequestingConcept {
  readonly #timeoutMs: number;
  readonly #saveResponses: boolean;
  readonly #savedTtlMs: number;
  readonly #requests: Collection<SavedRequest>;
  readonly #now: () => Date;
  /** Pending requests by id (a `StringMap`: one entry comes and goes per request). */
  readonly #pending = new StringMap<Pending>();
  /** Pending requests by deadline: at it, a request not yet answered is answered 504. */
  readonly #deadlines = new DeadlineQueue<Pending>((entry) => this.#expire(entry));
  /** Requests answered 504 and not yet collected, kept one more `timeoutMs`, then forgotten. */
  readonly #graces = new DeadlineQueue<Pending>((entry) => this.#drop(entry));
  #indexes: Promise<void> | undefined;

  /** Engine hooks: the whole cascade gets `timeoutMs`, and a finished cascade is reported. */
  readonly [ENGINE_HOOKS]: {
    cascadeTimeoutMs: number;
    cascadeCutoffMs?: number;
    cascadeDone: (report: CascadeReport) => string | undefined;
  };

  constructor(db: Db, options: RequestingOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#saveResponses = options.saveResponses ?? false;
    this.#savedTtlMs = options.savedTtlMs ?? 24 * 60 * 60 * 1000;
    if (!(this.#timeoutMs > 0) || !Number.isFinite(this.#timeoutMs)) {
      throw new RangeError("Cannot create Requesting: timeoutMs must be a positive number");
    }
    if (!(this.#savedTtlMs > 0) || !Number.isFinite(this.#savedTtlMs)) {
      throw new RangeError("Cannot create Requesting: savedTtlMs must be a positive number");
    }
    this.#now = options.now ?? (() => new Date());
    this.#requests = db.collection<SavedRequest>(PREFIX + "requests");
    const storeTimeoutMs = options.storeTimeoutMs;
    if (
      storeTimeoutMs !== undefined &&
      (!(storeTimeoutMs > 0) || !(storeTimeoutMs < this.#timeoutMs))
    ) {
      throw new RangeError("Cannot create Requesting: storeTimeoutMs must be below timeoutMs");
    }
    this[ENGINE_HOOKS] = {
      cascadeTimeoutMs: this.#timeoutMs,
      cascadeDone: (report) => this.#cascadeDone(report),
    };
    if (storeTimeoutMs !== undefined) {
      this[ENGINE_HOOKS].cascadeCutoffMs = this.#timeoutMs - storeTimeoutMs;
    }
  }

  /** Requests not yet collected (answered or not); bounded by the timeout. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /**
   * request({ path, ...inputs }) -> { request }
   *
   * requires: `path` is a string starting with `/` (at most 2048 characters).
   * effects: makes a fresh request id, pending until answered or `timeoutMs` passes; with
   * `saveResponses`, stores the path and the inputs (secrets redacted) in `Requesting.requests`.
   * errors: `Cannot request: path must be a string starting with /`.
   */
  async request(
    input: { path: string } & Record<string, unknown>,
  ): Promise<{ request: string } | { error: string }> {
    const { path, ...rest } = input ?? {};
    if (typeof path !== "string" || !path.startsWith("/") || path.length > MAX_PATH) {
      return { error: "Cannot request: path must be a string starting with /" };
    }
    const request = freshID();
    if (this.#saveResponses) {
      await this.#ensureIndexes();
      const createdAt = this.#now();
      await this.#requests.insertOne({
        _id: request,
        path,
        input: storable(rest),
        createdAt,
        expiresAt: new Date(createdAt.getTime() + this.#savedTtlMs),
      });
    }
    const entry: Pending = {
      id: request,
      path,
      input: rest,
      dueAt: performance.now() + this.#timeoutMs,
      done: false,
    };
    this.#pending.set(request, entry);
    this.#deadlines.push(entry);
    return { request };
  }

  /**
   * respond({ request, ...outputs }) -> { request }
   *
   * requires: `request` is pending and not yet answered.
   * effects: answers it with `outputs` (see "Requesting conventions" for `status`, `session`,
   * `clearSession`, `error`); with `saveResponses`, stores the response, secrets redacted.
   * errors: `Cannot respond: request already answered`; `Cannot respond: request timed out`;
   * `Cannot respond: no such request` (unknown, or already collected).
   */
  async respond(
    input: { request: string } & Record<string, unknown>,
  ): Promise<{ request: string } | { error: string }> {
    const { request, ...outputs } = input ?? {};
    if (typeof request !== "string" || request === "" || request.length > MAX_REQUEST_ID) {
      return { error: "Cannot respond: request must be a request id" };
    }
    const entry = this.#pending.get(request);
    if (!entry) return { error: "Cannot respond: no such request" };
    if (entry.by === "timeout") return { error: "Cannot respond: request timed out" };
    if (entry.by) return { error: "Cannot respond: request already answered" };
    if (this.#saveResponses) {
      await this.#requests.updateOne(
        { _id: request },
        { $set: { response: storable(outputs), respondedAt: this.#now() } },
      );
      // Answered meanwhile (by a concurrent respond or the timeout): the first answer stands.
      if (entry.by) return { error: "Cannot respond: request already answered" };
    }
    this.#answer(entry, outputs, "respond");
    return { request };
  }

  /**
   * _awaitResponse({ request }) -> [{ response }]
   *
   * The response of a request once it has one: what `respond` was given, or a marker
   * (`timeoutResponse`, `noRouteResponse`, `internalErrorResponse`). Collecting the response
   * ends the request's pending entry. An unknown (or already collected) request gives `[]`.
   */
  _awaitResponse(input: { request: string }): Promise<Array<{ response: ResponseDict }>> {
    const request = input?.request;
    const entry = typeof request === "string" ? this.#pending.get(request) : undefined;
    if (!entry) return Promise.resolve([]);
    const response = entry.response;
    if (response) {
      this.#drop(entry);
      return Promise.resolve([{ response }]);
    }
    return new Promise((resolve) =>
      (entry.waiters ??= []).push((response) => resolve([{ response }]))
    );
  }

  /**
   * _getInput({ request }) -> [{ input }]
   *
   * The inputs a pending request was made with (all but `path`), so that a sync matching on the
   * path alone can read optional or malformed fields in its `where` and answer 400 rather than
   * leave the request unmatched. An unknown (or already collected) request gives `[]`.
   */
  _getInput(input: { request: string }): Promise<Array<{ input: Record<string, unknown> }>> {
    const request = input?.request;
    const entry = typeof request === "string" ? this.#pending.get(request) : undefined;
    return Promise.resolve(entry ? [{ input: entry.input }] : []);
  }

  /** Clears the timers and forgets every pending request (shutdown, tests). */
  [Symbol.dispose](): void {
    for (const entry of this.#pending.values()) {
      if (!entry.done) this.#answer(entry, timeoutResponse(), "timeout");
      this.#drop(entry);
    }
    this.#deadlines.clear();
    this.#graces.clear();
  }

  /** Records an answer; hands it to waiting collectors, which ends the entry. */
  #answer(entry: Pending, response: ResponseDict, by: Pending["by"]): void {
    entry.response = response;
    entry.by = by;
    const waiters = entry.waiters;
    if (waiters === undefined || waiters.length === 0) return;
    entry.waiters = undefined;
    this.#drop(entry);
    for (const wake of waiters) wake(response);
  }

  /** Ends a request's entry (collected, or forgotten): no longer pending nor queued. */
  #drop(entry: Pending): void {
    if (entry.done) return;
    entry.done = true;
    if (this.#pending.get(entry.id) === entry) this.#pending.delete(entry.id);
    // The queue may hold the entry until older ones are done: it keeps no inputs nor answer.
    entry.input = NO_INPUT;
    entry.response = undefined;
    (entry.by === "timeout" ? this.#graces : this.#deadlines).settle();
  }

  /**
   * A request's deadline: unanswered, it is answered 504 and kept one more `timeoutMs` for a
   * collector that is late (its cascade ran past the deadline); answered but never collected,
   * it is forgotten.
   */
  #expire(entry: Pending): void {
    if (entry.by) {
      this.#drop(entry);
      return;
    }
    this.#answer(entry, timeoutResponse(), "timeout");
    if (!entry.done) {
      entry.dueAt = performance.now() + this.#timeoutMs;
      this.#graces.push(entry);
    }
  }

  /** The engine's report at the end of a cascade (see the module comment). */
  #cascadeDone(report: CascadeReport): string | undefined {
    if (report.action !== "request") return undefined;
    const request = report.output.request;
    if (typeof request !== "string") return undefined;
    const entry = this.#pending.get(request);
    if (!entry || entry.by) return undefined;
    if (report.failures.length > 0) {
      const response = report.failures.some((f) => isStoreUnavailable(f.cause))
        ? storeUnavailableResponse()
        : report.failures.some((f) => f.cutoff)
        ? timeoutResponse()
        : internalErrorResponse(report.flow);
      this.#answer(entry, response, "engine");
      return undefined;
    }
    if (!report.matched) {
      this.#answer(entry, noRouteResponse(entry.path), "engine");
      return undefined;
    }
    this.#answer(entry, internalErrorResponse(report.flow), "engine");
    return `Cannot answer request: syncs matched ${entry.path} but none responded`;
  }

  #ensureIndexes(): Promise<void> {
    this.#indexes ??= this.#requests
      .createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0, name: "expiresAt_ttl" })
      .then(() => undefined, (e) => {
        this.#indexes = undefined;
        throw e;
      });
    return this.#indexes;
  }
}

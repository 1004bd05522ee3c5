/**
 * The RateLimiting concept: counts attempts per key in fixed time windows kept in MongoDB
 * (`RateLimiting.windows`, so every app node sees the same counts) and refuses attempts beyond a
 * limit until the window ends. `hit` counts an attempt after the fact; `take` reserves a slot
 * before the attempt is made (so parallel attempts cannot all pass a check together) and
 * `giveBack` returns it when the attempt turns out not to count. Old windows are removed by a TTL
 * index. The spec is design/concepts/RateLimiting.md.
 */
import type { Collection, Db } from "mongodb";
import type { Empty } from "../../utils/types.ts";
import { integerOption, isDict, isDuplicateKey, once } from "../shared.ts";

const MINUTE = 60_000;
/** Longest accepted key (UTF-16 code units). */
const MAX_KEY = 256;

/** Most keys one `take` or `giveBack` may name. */
const MAX_KEYS = 8;

const KEY_RULE = `key must be a string of 1-${MAX_KEY} characters`;
const KEYS_RULE = `keys must be a list of 1-${MAX_KEYS} strings of 1-${MAX_KEY} characters`;

/** Every error text the concept returns, stable so that syncs can map them to HTTP statuses. */
export const Errors = Object.freeze({
  HIT_LIMITED: "Cannot hit: rate limit exceeded",
  HIT_INVALID_KEY: `Cannot hit: ${KEY_RULE}`,
  RESET_INVALID_KEY: `Cannot reset: ${KEY_RULE}`,
  IS_LIMITED_INVALID_KEY: `Cannot check rate limit: ${KEY_RULE}`,
  TAKE_LIMITED: "Cannot take: rate limit exceeded",
  TAKE_INVALID_KEYS: `Cannot take: ${KEYS_RULE}`,
  GIVE_BACK_INVALID_KEYS: `Cannot give back: ${KEYS_RULE}`,
  GIVE_BACK_INVALID_WINDOW: "Cannot give back: window must be the start of a window",
});

export interface RateLimitingOptions {
  /** Attempts allowed per key in one window; default 10. */
  limit?: number;
  /** The window's length; default 10 minutes. */
  windowMs?: number;
  /** The clock; tests inject one. Returns a Date or epoch milliseconds. */
  now?: () => Date | number;
}

/**
 * One key's count in one window. `_id` is `<windowMs>:<start>:<key>`, so an upsert on it is
 * atomic and instances with different window lengths never share a document.
 */
interface WindowDoc {
  _id: string;
  key: string;
  start: Date;
  count: number;
  /** The window's end; the TTL index removes the document after it. */
  expiresAt: Date;
}

function isKey(x: unknown): x is string {
  return typeof x === "string" && x.length > 0 && x.length <= MAX_KEY;
}

/** The distinct keys of a valid `keys` list, or undefined. */
function keyList(x: unknown): string[] | undefined {
  if (!Array.isArray(x) || x.length < 1 || x.length > MAX_KEYS || !x.every(isKey)) {
    return undefined;
  }
  return [...new Set(x as string[])];
}

export default class RateLimitingConcept {
  readonly #windows: Collection<WindowDoc>;
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #clock: () => Date | number;

  constructor(db: Db, options: RateLimitingOptions = {}) {
    this.#windows = db.collection<WindowDoc>("RateLimiting.windows");
    this.#limit = integerOption("RateLimiting", "limit", options.limit, 10);
    this.#windowMs = integerOption("RateLimiting", "windowMs", options.windowMs, 10 * MINUTE);
    this.#clock = options.now ?? (() => Date.now());
  }

  /**
   * Creates the indexes (`key`, for `reset`, and the TTL index on `expiresAt`) once per instance;
   * every action and query awaits it. Idempotent on the server; a failure is retried next call.
   */
  readonly #ready = once(async () => {
    await this.#windows.createIndex({ key: 1 }, { name: "key_1" });
    await this.#windows.createIndex(
      { expiresAt: 1 },
      { name: "expiresAt_ttl", expireAfterSeconds: 0 },
    );
  });

  /** The current time in ms and the window it falls in. */
  #window(key: string): { now: number; id: string; start: number; end: number } {
    const t = this.#clock();
    const now = t instanceof Date ? t.getTime() : t;
    const start = Math.floor(now / this.#windowMs) * this.#windowMs;
    return { now, id: this.#windowId(key, start), start, end: start + this.#windowMs };
  }

  /** The `_id` of `key`'s document in the window starting at `start`. */
  #windowId(key: string, start: number): string {
    return `${this.#windowMs}:${start}:${key}`;
  }

  /**
   * hit (key: String): (remaining: Number)
   *
   * requires: `key` is a string of 1-256 characters; fewer than `limit` attempts were recorded
   *   for it in the current window.
   * effects: records one attempt for `key` in the current window (one atomic upsert with `$inc`,
   *   so parallel hits are each counted once) and returns how many more are allowed in it. When
   *   the attempt is over the limit, it is still counted and the error is returned with
   *   `retryAfterMs`, the time until the window ends.
   * errors: `Errors.HIT_INVALID_KEY`; `Errors.HIT_LIMITED` ("Cannot hit: rate limit exceeded"),
   *   returned as `{ error, retryAfterMs }`.
   */
  async hit(
    input: { key: string },
  ): Promise<{ remaining: number } | { error: string; retryAfterMs?: number }> {
    if (!isDict(input) || !isKey(input.key)) return { error: Errors.HIT_INVALID_KEY };
    const { key } = input;
    const { now, start, end } = this.#window(key);
    await this.#ready();
    const count = await this.#increment(key, start);
    if (count > this.#limit) return { error: Errors.HIT_LIMITED, retryAfterMs: end - now };
    return { remaining: this.#limit - count };
  }

  /**
   * Adds one to `key`'s count in the window starting at `start` (creating the window) and
   * returns the new count: one atomic upsert with `$inc`, so parallel calls are each counted once.
   */
  async #increment(key: string, start: number): Promise<number> {
    const upsert = () =>
      this.#windows.findOneAndUpdate(
        { _id: this.#windowId(key, start) },
        {
          $inc: { count: 1 },
          $setOnInsert: {
            key,
            start: new Date(start),
            expiresAt: new Date(start + this.#windowMs),
          },
        },
        { upsert: true, returnDocument: "after", includeResultMetadata: false },
      );
    let doc: WindowDoc | null;
    try {
      doc = await upsert();
    } catch (e) {
      // Two upserts of a new document can race to insert it: the loser retries once, and then
      // finds the document and increments it.
      if (!isDuplicateKey(e)) throw e;
      doc = await upsert();
    }
    if (!doc || typeof doc.count !== "number") {
      throw new Error("Cannot count attempt: the upsert returned no window");
    }
    return doc.count;
  }

  /** Takes one back from each key's count in the window starting at `start`, never below 0. */
  async #decrement(keys: string[], start: number): Promise<void> {
    await this.#windows.updateMany(
      { _id: { $in: keys.map((key) => this.#windowId(key, start)) }, count: { $gt: 0 } },
      { $inc: { count: -1 } },
    );
  }

  /**
   * take (keys: List<Key>): (window: Number, remaining: Number)
   *
   * requires: `keys` is a list of 1-8 keys of 1-256 characters (a key named twice counts once);
   *   for each key, fewer than `limit` slots are taken in the current window.
   * effects: reserves one slot of every key in the current window, before the attempt the keys
   *   guard is made: each key's count goes up by one in one atomic upsert (the keys in parallel),
   *   so of any number of parallel takes on one key at most `limit` succeed in a window. When any
   *   count passes the limit, the slots just taken are all given back (one update) and the
   *   attempt is refused; a refused take leaves the counts as they were. Returns the window's start
   *   in epoch milliseconds (for `giveBack`) and the fewest slots left among the keys. A slot
   *   stays taken (the attempt counts) unless it is given back.
   * errors: `Errors.TAKE_INVALID_KEYS`; `Errors.TAKE_LIMITED` ("Cannot take: rate limit
   *   exceeded"), returned as `{ error, retryAfterMs }`, the time until the window ends.
   */
  async take(
    input: { keys: string[] },
  ): Promise<{ window: number; remaining: number } | { error: string; retryAfterMs?: number }> {
    const keys = isDict(input) ? keyList(input.keys) : undefined;
    if (!keys) return { error: Errors.TAKE_INVALID_KEYS };
    const { now, start, end } = this.#window("");
    await this.#ready();
    const counts = await Promise.all(keys.map((key) => this.#increment(key, start)));
    const most = Math.max(...counts);
    if (most > this.#limit) {
      await this.#decrement(keys, start);
      return { error: Errors.TAKE_LIMITED, retryAfterMs: end - now };
    }
    return { window: start, remaining: this.#limit - most };
  }

  /**
   * giveBack (keys: List<Key>, window: Number): ()
   *
   * requires: `keys` as for `take`; `window` is a window's start as `take` returned it (a
   *   non-negative multiple of `windowMs`).
   * effects: returns one slot of each key in that window (an attempt that turned out not to count,
   *   such as a successful login), never taking a count below 0. A window that has ended stays
   *   ended: giving back in it changes nothing now.
   * errors: `Errors.GIVE_BACK_INVALID_KEYS`, `Errors.GIVE_BACK_INVALID_WINDOW`.
   */
  async giveBack(input: { keys: string[]; window: number }): Promise<Empty | { error: string }> {
    const keys = isDict(input) ? keyList(input.keys) : undefined;
    if (!keys) return { error: Errors.GIVE_BACK_INVALID_KEYS };
    const { window } = input;
    if (
      typeof window !== "number" || !Number.isSafeInteger(window) || window < 0 ||
      window % this.#windowMs !== 0
    ) {
      return { error: Errors.GIVE_BACK_INVALID_WINDOW };
    }
    await this.#ready();
    await this.#decrement(keys, window);
    return {};
  }

  /**
   * reset (key: String): ()
   *
   * requires: `key` is a string of 1-256 characters.
   * effects: forgets every attempt recorded for `key`, in every window (e.g. after a successful
   *   login, for the username's key).
   * errors: `Errors.RESET_INVALID_KEY`.
   */
  async reset(input: { key: string }): Promise<Empty | { error: string }> {
    if (!isDict(input) || !isKey(input.key)) return { error: Errors.RESET_INVALID_KEY };
    await this.#ready();
    await this.#windows.deleteMany({ key: input.key });
    return {};
  }

  /**
   * _isLimited (key: String): (limited: Boolean, retryAfterMs: Number)
   *
   * Whether the next hit on `key` would be refused, without counting one: `[{ limited: true,
   * retryAfterMs }]` (time until the window ends) or `[{ limited: false, retryAfterMs: 0 }]`;
   * `[{ error }]` for a malformed key.
   */
  async _isLimited(
    input: { key: string },
  ): Promise<Array<{ limited: boolean; retryAfterMs: number } | { error: string }>> {
    if (!isDict(input) || !isKey(input.key)) return [{ error: Errors.IS_LIMITED_INVALID_KEY }];
    const { now, id, end } = this.#window(input.key);
    await this.#ready();
    const doc = await this.#windows.findOne({ _id: id }, { projection: { count: 1 } });
    const limited = doc !== null && doc.count >= this.#limit;
    return [{ limited, retryAfterMs: limited ? end - now : 0 }];
  }
}

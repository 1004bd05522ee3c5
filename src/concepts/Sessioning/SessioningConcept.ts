/**
 * The Sessioning concept: a user's logged-in state, kept server-side in `Sessioning.sessions` and
 * found again from an opaque token `<id>.<secret>` on every request; ended by logout, by expiry
 * (absolute and idle) or by force. Ending all of a user's sessions (or all but one) also raises
 * an epoch kept in the store, so that a login that began before it cannot start a session after
 * it (`begin`, then `create` with the epoch). The spec is design/concepts/Sessioning.md.
 */
import type { Collection, Db } from "mongodb";
import type { Empty, ID } from "../../utils/types.ts";
import { isPublicId, newToken, parseToken, secretMatches } from "../../utils/token.ts";
import {
  ByIdReads,
  findOneDocument,
  integerOption,
  isDict,
  isDuplicateKey,
  isUserId,
  nowFrom,
  once,
  USER_RULE,
} from "../shared.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Longest stored user agent; longer ones are cut. */
const MAX_USER_AGENT = 256;
/** Longest accepted ip. */
const MAX_IP = 64;
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/g;
const PRINTABLE = /^[\x21-\x7e]+$/;

export interface SessioningOptions {
  /** The clock; tests inject one. Returns a Date or epoch milliseconds. */
  now?: () => Date | number;
  /** A session's whole lifetime from `create`; default 7 days. */
  absoluteTtlMs?: number;
  /** How long a session lives without a touch; default 24 hours. */
  idleTtlMs?: number;
  /** The shortest time between two writes by `touch`; default 5 minutes. */
  touchIntervalMs?: number;
  /** Called with every event; whatever it throws is ignored. */
  onEvent?: (event: SessionEvent) => void;
  /** How long after its password was last checked a session counts as recent (sudo); 10 min. */
  sudoTtlMs?: number;
}

/**
 * Why sessions were ended by `revoke`, `deleteOthers` or `deleteAllForUser`: `revoked`, by its
 * user from another session; `forced`, by logout-all, a password change or an administrator.
 */
export type EndReason = "revoked" | "forced";

/** The outcome of checking a token (`malformed`: not shaped like a token at all). */
export type ValidationResult = "ok" | "unknown" | "bad_secret" | "expired" | "malformed";

/**
 * What happened to a session. Carries the public id, never a token or secret. `expired` is
 * emitted once per session, by the check that found it expired and removed it; `validated` is
 * emitted by every check of a token, with its result and how long it took.
 */
export type SessionEvent =
  | {
    type: "created" | "deleted" | "rotated" | "expired";
    id: string;
    user: ID;
    at: Date;
  }
  | { type: "revoked"; id: string; user: ID; at: Date; reason: EndReason }
  | { type: "rejected"; id: string; reason: "unknown" | "secret"; at: Date }
  | { type: "validated"; result: ValidationResult; seconds: number; at: Date };

/** One stored session. `_id` is the public id; `hash` is hex(SHA-256(secret)). */
interface SessionDoc {
  _id: string;
  user: ID;
  hash: string;
  createdAt: Date;
  lastSeenAt: Date;
  absoluteExpiresAt: Date;
  expiresAt: Date;
  userAgent?: string;
  ip?: string;
  /** When the password was last checked for this session: at create, then by reauthenticate. */
  authenticatedAt?: Date;
}

/** The store's epoch counter: one document, `_id: "epoch"`. */
interface EpochDoc {
  _id: string;
  value: number;
}

/** A user whose sessions were ended: no login begun before `endedAt` may start one. */
interface UserDoc {
  _id: ID;
  endedAt: number;
}

/** A live session as `_getSessions` lists it. */
export interface SessionInfo {
  id: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  userAgent?: string;
  ip?: string;
}

const NO_SESSION = "no such session";
const EPOCH_ID = "epoch";
/** The refusal of a login whose user's sessions were ended after it began. */
const ENDED_DURING_LOGIN =
  "Cannot create session: the user's sessions were ended after this login began";

/** Runs an upsert, once more if a racing upsert of the same new document won the insert. */
async function upsertRetrying<T>(upsert: () => Promise<T>): Promise<T> {
  try {
    return await upsert();
  } catch (e) {
    if (!isDuplicateKey(e)) throw e;
    return await upsert();
  }
}
const END_REASON = "reason must be revoked or forced";

function isEndReason(x: unknown): x is EndReason {
  return x === "revoked" || x === "forced";
}

export default class SessioningConcept {
  readonly #db: Db;
  readonly #sessions: Collection<SessionDoc>;
  /** Session reads by id, sent together while one is in flight (the read of every request). */
  readonly #reads: ByIdReads<SessionDoc>;
  readonly #epoch: Collection<EpochDoc>;
  readonly #users: Collection<UserDoc>;
  readonly #clock: () => Date | number;
  readonly #absoluteTtlMs: number;
  readonly #idleTtlMs: number;
  readonly #touchIntervalMs: number;
  readonly #onEvent?: (event: SessionEvent) => void;
  readonly #sudoTtlMs: number;

  constructor(db: Db, options: SessioningOptions = {}) {
    this.#db = db;
    this.#sessions = db.collection<SessionDoc>("Sessioning.sessions");
    this.#reads = new ByIdReads(db, this.#sessions);
    this.#epoch = db.collection<EpochDoc>("Sessioning.epoch");
    this.#users = db.collection<UserDoc>("Sessioning.users");
    this.#clock = options.now ?? (() => Date.now());
    this.#absoluteTtlMs = integerOption(
      "Sessioning",
      "absoluteTtlMs",
      options.absoluteTtlMs,
      7 * DAY,
      1,
    );
    this.#idleTtlMs = integerOption("Sessioning", "idleTtlMs", options.idleTtlMs, DAY, 1);
    this.#touchIntervalMs = integerOption(
      "Sessioning",
      "touchIntervalMs",
      options.touchIntervalMs,
      5 * MINUTE,
      0,
    );
    if (this.#idleTtlMs > this.#absoluteTtlMs) {
      throw new RangeError("Cannot create Sessioning: idleTtlMs must not exceed absoluteTtlMs");
    }
    this.#onEvent = options.onEvent;
    this.#sudoTtlMs = integerOption("Sessioning", "sudoTtlMs", options.sudoTtlMs, 10 * MINUTE, 1);
  }

  /**
   * Creates the indexes (`user`, and the TTL index on `expiresAt`) once per instance; every action
   * and query awaits it. Idempotent on the server; a failure is retried by the next call.
   */
  readonly #ready = once(async () => {
    await this.#sessions.createIndex({ user: 1 }, { name: "user_1" });
    await this.#sessions.createIndex(
      { expiresAt: 1 },
      { name: "expiresAt_ttl", expireAfterSeconds: 0 },
    );
  });

  #now(): Date {
    return nowFrom(this.#clock);
  }

  #emit(event: SessionEvent): void {
    if (!this.#onEvent) return;
    try {
      this.#onEvent(event);
    } catch {
      // An observer's failure must not change the outcome of an action.
    }
  }

  #expiresAfter(now: Date, absoluteExpiresAt: Date): Date {
    return new Date(Math.min(absoluteExpiresAt.getTime(), now.getTime() + this.#idleTtlMs));
  }

  /**
   * Finds the live session of a token (see `#check`) and emits `validated` with the result and
   * the time the check took (nothing when the store failed: the error is thrown).
   */
  async #live(token: unknown, now: Date): Promise<SessionDoc | undefined> {
    const started = performance.now();
    const { result, doc } = await this.#check(token, now);
    this.#emit({
      type: "validated",
      result,
      seconds: (performance.now() - started) / 1000,
      at: now,
    });
    return doc;
  }

  /**
   * One read by `_id` (`ByIdReads`: shared with the reads asked meanwhile, never answered from
   * before it was asked), then a constant-time comparison of the secret's hash and the expiry
   * check. Emits `rejected` when it fails on a well-formed token. An expired session is removed
   * (one conditional `deleteOne`, as the TTL sweep would) and `expired` is emitted by the check
   * that removed it, so a session's expiry is told once however many nodes see it.
   */
  async #check(
    token: unknown,
    now: Date,
  ): Promise<{ result: ValidationResult; doc?: SessionDoc }> {
    const parsed = parseToken(token);
    if (!parsed) return { result: "malformed" };
    await this.#ready();
    const doc = await this.#reads.read(parsed.id);
    if (!doc) {
      this.#emit({ type: "rejected", id: parsed.id, reason: "unknown", at: now });
      return { result: "unknown" };
    }
    if (!secretMatches(parsed.secret, doc.hash)) {
      this.#emit({ type: "rejected", id: parsed.id, reason: "secret", at: now });
      return { result: "bad_secret" };
    }
    if (!(doc.expiresAt instanceof Date) || doc.expiresAt.getTime() <= now.getTime()) {
      const { deletedCount } = await this.#sessions.deleteOne({
        _id: doc._id,
        hash: doc.hash,
        expiresAt: doc.expiresAt,
      });
      if (deletedCount === 1) this.#emit({ type: "expired", id: doc._id, user: doc.user, at: now });
      return { result: "expired" };
    }
    return { result: "ok", doc };
  }

  /**
   * begin (): (epoch: Number)
   *
   * requires: nothing.
   * effects: none on the state; returns the current epoch, a counter kept in the store that every
   *   `deleteAllForUser` and `deleteOthers` raises. A login calls `begin` before it verifies the
   *   credential and hands the epoch to `create`, which refuses to start the session if the user's
   *   sessions were ended after that. (An action rather than a query so that its result is a
   *   record that the login's later steps join on.) One `find`.
   */
  async begin(_input: Empty = {}): Promise<{ epoch: number }> {
    await this.#ready();
    const doc = await findOneDocument(this.#db, this.#epoch, { _id: EPOCH_ID });
    return { epoch: typeof doc?.value === "number" ? doc.value : 0 };
  }

  /**
   * create (user: User, userAgent?: String, ip?: String, epoch?: Number): (session: String)
   *
   * requires: `user` is a non-empty string of at most 128 characters; `userAgent`, if given, is a
   *   string (cut to 256 characters, control characters removed); `ip`, if given, is a string of
   *   at most 64 printable characters; `epoch`, if given, is what `begin` returned, and the user's
   *   sessions have not been ended (`deleteAllForUser`, `deleteOthers`) since.
   * effects: stores a new session for `user` (fresh public id and secret; created and last seen
   *   now; expires at the earlier of now + absolute TTL and now + idle TTL) and returns its token.
   *   With `epoch`, it then reads the user's `endedAt` again and, if the user's sessions were ended
   *   after that epoch, removes the session it stored and returns the error: of a `create` and an
   *   ending racing each other, either the ending's delete sees the new session or the `create`
   *   sees the raised epoch. Emits `created` for a session that is kept.
   * errors: `Cannot create session: user must be ...`, `Cannot create session: userAgent must be
   *   a string`, `Cannot create session: ip must be ...`, `Cannot create session: epoch must be
   *   ...`, `ENDED_DURING_LOGIN` ("Cannot create session: the user's sessions were ended after
   *   this login began").
   */
  async create(input: { user: ID; userAgent?: string; ip?: string; epoch?: number }): Promise<
    { session: string } | { error: string }
  > {
    if (!isDict(input)) return { error: "Cannot create session: expected { user }" };
    const { user, userAgent, ip, epoch } = input;
    if (!isUserId(user)) return { error: `Cannot create session: ${USER_RULE}` };
    if (epoch !== undefined && (!Number.isSafeInteger(epoch) || (epoch as number) < 0)) {
      return { error: "Cannot create session: epoch must be a whole number from begin" };
    }
    if (userAgent !== undefined && typeof userAgent !== "string") {
      return { error: "Cannot create session: userAgent must be a string" };
    }
    if (
      ip !== undefined &&
      (typeof ip !== "string" || ip.length > MAX_IP || (ip !== "" && !PRINTABLE.test(ip)))
    ) {
      return {
        error:
          `Cannot create session: ip must be a string of at most ${MAX_IP} printable characters`,
      };
    }
    const now = this.#now();
    const absoluteExpiresAt = new Date(now.getTime() + this.#absoluteTtlMs);
    const agent = userAgent?.slice(0, MAX_USER_AGENT * 2).replace(CONTROL, "").slice(
      0,
      MAX_USER_AGENT,
    );
    await this.#ready();
    for (let attempt = 0;; attempt++) {
      const { id, token, hash } = newToken();
      const doc: SessionDoc = {
        _id: id,
        user,
        hash,
        createdAt: now,
        lastSeenAt: now,
        absoluteExpiresAt,
        expiresAt: this.#expiresAfter(now, absoluteExpiresAt),
        authenticatedAt: now,
      };
      if (agent) doc.userAgent = agent;
      if (ip) doc.ip = ip;
      try {
        await this.#sessions.insertOne(doc);
      } catch (e) {
        // A duplicate of a 128-bit random id is next to impossible; retry a couple of times.
        if ((e as { code?: number }).code === 11000 && attempt < 2) continue;
        throw e;
      }
      if (epoch !== undefined) {
        // Read after the insert: an ending that raised the epoch before this read is seen here;
        // one that raises it after will find the session (it deletes after raising).
        const ended = await findOneDocument(this.#db, this.#users, { _id: user });
        if (ended && typeof ended.endedAt === "number" && ended.endedAt > epoch) {
          await this.#sessions.deleteOne({ _id: id, hash });
          return { error: ENDED_DURING_LOGIN };
        }
      }
      this.#emit({ type: "created", id, user, at: now });
      return { session: token };
    }
  }

  /**
   * delete (session: String): ()
   *
   * requires: a live session with that token.
   * effects: removes it. Emits `deleted`.
   * errors: `Cannot delete session: no such session` (for any unknown, malformed, wrong-secret,
   *   expired or revoked token).
   */
  async delete(input: { session: string }): Promise<Empty | { error: string }> {
    const fail = { error: `Cannot delete session: ${NO_SESSION}` };
    if (!isDict(input)) return fail;
    const now = this.#now();
    const doc = await this.#live(input.session, now);
    if (!doc) return fail;
    const { deletedCount } = await this.#sessions.deleteOne({
      _id: doc._id,
      hash: doc.hash,
      expiresAt: { $gt: now },
    });
    if (deletedCount !== 1) return fail;
    this.#emit({ type: "deleted", id: doc._id, user: doc.user, at: now });
    return {};
  }

  /**
   * touch (session: String): (user: User, id: String, expiresAt: Date)
   *
   * requires: a live session with that token.
   * effects: sliding renewal: if the session was last seen at least the touch interval ago, sets
   *   lastSeenAt to now and expiresAt to the earlier of its absolute expiry and now + idle TTL, in
   *   one conditional update (so parallel touches write once); otherwise writes nothing. Returns
   *   what a validated request needs: the session's user, its public id and its expiresAt after
   *   the touch (one session read, and at most one write per interval).
   * errors: `Cannot touch session: no such session`.
   */
  async touch(
    input: { session: string },
  ): Promise<{ user: ID; id: string; expiresAt: Date } | { error: string }> {
    const fail = { error: `Cannot touch session: ${NO_SESSION}` };
    if (!isDict(input)) return fail;
    const now = this.#now();
    const doc = await this.#live(input.session, now);
    if (!doc) return fail;
    const due = new Date(now.getTime() - this.#touchIntervalMs);
    const { user, _id: id } = doc;
    if (doc.lastSeenAt.getTime() > due.getTime()) return { user, id, expiresAt: doc.expiresAt };
    const expiresAt = this.#expiresAfter(now, doc.absoluteExpiresAt);
    const { matchedCount } = await this.#sessions.updateOne(
      { _id: doc._id, hash: doc.hash, lastSeenAt: { $lte: due }, expiresAt: { $gt: now } },
      { $set: { lastSeenAt: now, expiresAt } },
    );
    if (matchedCount === 1) return { user, id, expiresAt };
    // Another touch got there first, or the session was deleted or rotated meanwhile.
    const after = await this.#sessions.findOne(
      { _id: doc._id, hash: doc.hash, expiresAt: { $gt: now } },
      { projection: { expiresAt: 1 } },
    );
    return after ? { user, id, expiresAt: after.expiresAt } : fail;
  }

  /**
   * rotate (session: String): (session: String)
   *
   * requires: a live session with that token.
   * effects: gives the session a fresh secret and returns the new token; the public id, user,
   *   createdAt and absolute expiry are kept, lastSeenAt becomes now and expiresAt the earlier of
   *   the absolute expiry and now + idle TTL. The old token stops working at once: the secret is
   *   swapped by one conditional update on the old hash, so a racing delete or rotate either wins
   *   (and this returns the error) or loses; nothing is ever re-inserted. Emits `rotated`.
   * errors: `Cannot rotate session: no such session`.
   */
  async rotate(input: { session: string }): Promise<{ session: string } | { error: string }> {
    const fail = { error: `Cannot rotate session: ${NO_SESSION}` };
    if (!isDict(input)) return fail;
    const now = this.#now();
    const doc = await this.#live(input.session, now);
    if (!doc) return fail;
    const { token, hash } = newToken(doc._id);
    const { matchedCount } = await this.#sessions.updateOne(
      { _id: doc._id, hash: doc.hash, expiresAt: { $gt: now } },
      {
        $set: { hash, lastSeenAt: now, expiresAt: this.#expiresAfter(now, doc.absoluteExpiresAt) },
      },
    );
    if (matchedCount !== 1) return fail;
    this.#emit({ type: "rotated", id: doc._id, user: doc.user, at: now });
    return { session: token };
  }

  /**
   * revoke (user: User, id: String): ()
   *
   * requires: a live session with public id `id` that belongs to `user`.
   * effects: removes it. Emits `revoked` with reason `revoked`.
   * errors: `Cannot revoke session: user must be ...`; `Cannot revoke session: no such session`
   *   (also for a malformed id, and for another user's session, whose existence is not revealed).
   */
  async revoke(input: { user: ID; id: string }): Promise<Empty | { error: string }> {
    if (!isDict(input)) return { error: "Cannot revoke session: expected { user, id }" };
    const { user, id } = input;
    if (!isUserId(user)) return { error: `Cannot revoke session: ${USER_RULE}` };
    if (!isPublicId(id)) return { error: `Cannot revoke session: ${NO_SESSION}` };
    const now = this.#now();
    await this.#ready();
    const { deletedCount } = await this.#sessions.deleteOne({
      _id: id,
      user,
      expiresAt: { $gt: now },
    });
    if (deletedCount !== 1) return { error: `Cannot revoke session: ${NO_SESSION}` };
    this.#emit({ type: "revoked", id, user, at: now, reason: "revoked" });
    return {};
  }

  /**
   * deleteAllForUser (user: User, reason?: "revoked" | "forced"): (count: Number)
   *
   * requires: `user` is a non-empty string of at most 128 characters; `reason`, if given, is
   *   `revoked` or `forced` (default `forced`).
   * effects: raises the epoch and records it as the user's `endedAt`, then removes every live
   *   session of `user` and returns how many. A login that called `begin` before this cannot
   *   start a session afterwards (see `create`). Emits `revoked` with `reason` for each removed
   *   session.
   * errors: `Cannot delete sessions: user must be ...`, `Cannot delete sessions: reason must be
   *   revoked or forced`.
   */
  async deleteAllForUser(
    input: { user: ID; reason?: EndReason },
  ): Promise<{ count: number } | { error: string }> {
    if (!isDict(input)) return { error: "Cannot delete sessions: expected { user }" };
    const { user, reason = "forced" } = input;
    if (!isUserId(user)) return { error: `Cannot delete sessions: ${USER_RULE}` };
    if (!isEndReason(reason)) return { error: `Cannot delete sessions: ${END_REASON}` };
    const now = this.#now();
    await this.#ready();
    return { count: await this.#endSessions(user, undefined, now, reason) };
  }

  /**
   * deleteOthers (session: String, reason?: "revoked" | "forced"): (count: Number)
   *
   * requires: a live session with that token; `reason`, if given, is `revoked` (the default: its
   *   user ended them) or `forced` (a password change).
   * effects: raises the epoch and records it as the user's `endedAt` (as `deleteAllForUser`
   *   does), then removes every other live session of the same user and returns how many; this
   *   one is kept. Emits `revoked` with `reason` for each removed.
   * errors: `Cannot delete other sessions: no such session`, `Cannot delete other sessions:
   *   reason must be revoked or forced`.
   */
  async deleteOthers(
    input: { session: string; reason?: EndReason },
  ): Promise<{ count: number } | { error: string }> {
    const fail = { error: `Cannot delete other sessions: ${NO_SESSION}` };
    if (!isDict(input)) return fail;
    const { reason = "revoked" } = input;
    if (!isEndReason(reason)) return { error: `Cannot delete other sessions: ${END_REASON}` };
    const now = this.#now();
    const doc = await this.#live(input.session, now);
    if (!doc) return fail;
    return { count: await this.#endSessions(doc.user, doc._id, now, reason) };
  }

  /**
   * Raises the epoch and the user's `endedAt` to it, then removes the live sessions of `user`
   * (but `keep`), emitting `revoked` with `reason` for each. The order matters: see `create`.
   */
  async #endSessions(
    user: ID,
    keep: string | undefined,
    now: Date,
    reason: EndReason,
  ): Promise<number> {
    await this.#raiseEpoch(user);
    const filter = keep === undefined
      ? { user, expiresAt: { $gt: now } }
      : { user, _id: { $ne: keep }, expiresAt: { $gt: now } };
    const ids = (await this.#sessions.find(filter, { projection: { _id: 1 } }).toArray())
      .map((d) => d._id);
    if (ids.length === 0) return 0;
    const { deletedCount } = await this.#sessions.deleteMany({ _id: { $in: ids }, user });
    for (const id of ids) this.#emit({ type: "revoked", id, user, at: now, reason });
    return deletedCount;
  }

  /** One more than the highest epoch so far, recorded as the user's `endedAt`. */
  async #raiseEpoch(user: ID): Promise<void> {
    const raised = await upsertRetrying(() =>
      this.#epoch.findOneAndUpdate(
        { _id: EPOCH_ID },
        { $inc: { value: 1 } },
        { upsert: true, returnDocument: "after", includeResultMetadata: false },
      )
    );
    if (!raised || typeof raised.value !== "number") {
      throw new Error("Cannot end sessions: the epoch upsert returned nothing");
    }
    const endedAt = raised.value;
    await upsertRetrying(() =>
      this.#users.updateOne({ _id: user }, { $max: { endedAt } }, { upsert: true })
    );
  }

  /**
   * _getUser (session: String): (user: User)
   *
   * The user of a live session: one read by `_id` (see `#check`) and one hash. `[{ error }]`
   * with one message for unknown, malformed, wrong-secret, expired and revoked tokens.
   */
  async _getUser(input: { session: string }): Promise<Array<{ user: ID } | { error: string }>> {
    const doc = isDict(input) ? await this.#live(input.session, this.#now()) : undefined;
    return doc ? [{ user: doc.user }] : [{ error: "Cannot get user: invalid or expired session" }];
  }

  /**
   * _getSession (session: String): (id, user, createdAt, lastSeenAt, expiresAt)
   *
   * The public facts of a live session; `[{ error }]` as for `_getUser`.
   */
  async _getSession(input: { session: string }): Promise<
    Array<
      { id: string; user: ID; createdAt: Date; lastSeenAt: Date; expiresAt: Date } | {
        error: string;
      }
    >
  > {
    const doc = isDict(input) ? await this.#live(input.session, this.#now()) : undefined;
    if (!doc) return [{ error: "Cannot get session: invalid or expired session" }];
    const { _id: id, user, createdAt, lastSeenAt, expiresAt } = doc;
    return [{ id, user, createdAt, lastSeenAt, expiresAt }];
  }

  /**
   * _getSessions (user: User): (id, createdAt, lastSeenAt, expiresAt, userAgent?, ip?)
   *
   * The user's live sessions, newest first (ties by id); never a secret or hash. `[]` when there
   * are none; `[{ error }]` for a malformed user.
   */
  async _getSessions(input: { user: ID }): Promise<Array<SessionInfo | { error: string }>> {
    if (!isDict(input) || !isUserId(input.user)) {
      return [{ error: `Cannot get sessions: ${USER_RULE}` }];
    }
    const now = this.#now();
    await this.#ready();
    const docs = await this.#sessions
      .find({ user: input.user, expiresAt: { $gt: now } }, {
        projection: { hash: 0, user: 0, absoluteExpiresAt: 0 },
      })
      .sort({ createdAt: -1, _id: 1 })
      .toArray();
    return docs.map((d) => {
      const info: SessionInfo = {
        id: d._id,
        createdAt: d.createdAt,
        lastSeenAt: d.lastSeenAt,
        expiresAt: d.expiresAt,
      };
      if (d.userAgent !== undefined) info.userAgent = d.userAgent;
      if (d.ip !== undefined) info.ip = d.ip;
      return info;
    });
  }

  /**
   * reauthenticate (session: String): (id: String, authenticatedAt: Date)
   *
   * requires: a live session with that token (whose user's password the caller has just
   *   verified: the reauthenticate sync calls this only after PasswordAuthentication did).
   * effects: sets the session's authenticatedAt to now, so it counts as recently authenticated
   *   (`_getSudo`) for the sudo TTL; nothing else changes (token, expiry). Returns its public id
   *   and the new authenticatedAt.
   * errors: `Cannot reauthenticate session: no such session`.
   */
  async reauthenticate(
    input: { session: string },
  ): Promise<{ id: string; authenticatedAt: Date } | { error: string }> {
    const fail = { error: `Cannot reauthenticate session: ${NO_SESSION}` };
    if (!isDict(input)) return fail;
    const now = this.#now();
    const doc = await this.#live(input.session, now);
    if (!doc) return fail;
    const { matchedCount } = await this.#sessions.updateOne(
      { _id: doc._id, hash: doc.hash, expiresAt: { $gt: now } },
      { $set: { authenticatedAt: now } },
    );
    return matchedCount === 1 ? { id: doc._id, authenticatedAt: now } : fail;
  }

  /**
   * revokeById (id: String): (user: User)
   *
   * requires: a live session with public id `id` (any user's: for administrators).
   * effects: removes it and returns whose it was. Emits `revoked` with reason `forced`.
   * errors: `Cannot revoke session: no such session` (also for a malformed id).
   */
  async revokeById(input: { id: string }): Promise<{ user: ID } | { error: string }> {
    const fail = { error: `Cannot revoke session: ${NO_SESSION}` };
    if (!isDict(input) || !isPublicId(input.id)) return fail;
    const now = this.#now();
    await this.#ready();
    const doc = await this.#sessions.findOneAndDelete(
      { _id: input.id, expiresAt: { $gt: now } },
      { projection: { user: 1 }, includeResultMetadata: false },
    );
    if (!doc) return fail;
    this.#emit({ type: "revoked", id: input.id, user: doc.user, at: now, reason: "forced" });
    return { user: doc.user };
  }

  /**
   * _listSessions (limit: Number, before?: String, user?: User):
   *   (id, user, createdAt, lastSeenAt, expiresAt, userAgent?, ip?, cursor)
   *
   * Live sessions of every user (or of `user`), newest first (ties by id), at most `limit`
   * (1-1000); with `before` (the `cursor` of a row of an earlier page), only those after that row
   * in this order. Never a secret or hash. `[{ error }]` for a bad limit, cursor or user.
   */
  async _listSessions(
    input: { limit: number; before?: string; user?: ID },
  ): Promise<Array<SessionInfo & { user: ID; cursor: string } | { error: string }>> {
    if (!isDict(input)) return [{ error: "Cannot list sessions: expected { limit }" }];
    const { limit, before, user } = input;
    if (!Number.isSafeInteger(limit) || (limit as number) < 1 || (limit as number) > 1000) {
      return [{ error: "Cannot list sessions: limit must be a whole number from 1 to 1000" }];
    }
    if (user !== undefined && !isUserId(user)) {
      return [{ error: `Cannot list sessions: ${USER_RULE}` }];
    }
    const now = this.#now();
    const filter: Record<string, unknown> = { expiresAt: { $gt: now } };
    if (user !== undefined) filter.user = user;
    if (before !== undefined) {
      const at = parseCursor(before);
      if (!at) return [{ error: "Cannot list sessions: before must be a cursor from a listing" }];
      filter.$or = [
        { createdAt: { $lt: at.createdAt } },
        { createdAt: at.createdAt, _id: { $gt: at.id } },
      ];
    }
    await this.#ready();
    const docs = await this.#sessions
      .find(filter, { projection: { hash: 0, absoluteExpiresAt: 0 } })
      .sort({ createdAt: -1, _id: 1 })
      .limit(limit as number)
      .toArray();
    return docs.map((d) => {
      const info: SessionInfo & { user: ID; cursor: string } = {
        id: d._id,
        user: d.user,
        createdAt: d.createdAt,
        lastSeenAt: d.lastSeenAt,
        expiresAt: d.expiresAt,
        cursor: `${d.createdAt.getTime()}.${d._id}`,
      };
      if (d.userAgent !== undefined) info.userAgent = d.userAgent;
      if (d.ip !== undefined) info.ip = d.ip;
      return info;
    });
  }

  /**
   * _countSessions (user?: User): (count: Number)
   *
   * How many live sessions there are (of every user, or of `user`): always one result.
   * `[{ error }]` for a malformed user.
   */
  async _countSessions(
    input: { user?: ID } = {},
  ): Promise<Array<{ count: number } | { error: string }>> {
    const user = isDict(input) ? input.user : undefined;
    if (user !== undefined && !isUserId(user)) {
      return [{ error: `Cannot count sessions: ${USER_RULE}` }];
    }
    const filter: Record<string, unknown> = { expiresAt: { $gt: this.#now() } };
    if (user !== undefined) filter.user = user;
    await this.#ready();
    return [{ count: await this.#sessions.countDocuments(filter) }];
  }

  /**
   * _getSudo (id: String): (authenticatedAt: Date, until: Date, recent: Boolean)
   *
   * When the live session with public id `id` last had its password checked (at create, or by
   * `reauthenticate`; a session made before this was recorded counts from its creation), until
   * when that counts as recent (+ the sudo TTL), and whether it still does now. `[]` for no such
   * live session; `[{ error }]` for a malformed id.
   */
  async _getSudo(
    input: { id: string },
  ): Promise<Array<{ authenticatedAt: Date; until: Date; recent: boolean } | { error: string }>> {
    if (!isDict(input) || !isPublicId(input.id)) {
      return [{ error: "Cannot get sudo state: id must be a session's public id" }];
    }
    const now = this.#now();
    await this.#ready();
    const doc = await this.#sessions.findOne(
      { _id: input.id, expiresAt: { $gt: now } },
      { projection: { authenticatedAt: 1, createdAt: 1 } },
    );
    if (!doc) return [];
    const authenticatedAt = doc.authenticatedAt instanceof Date
      ? doc.authenticatedAt
      : doc.createdAt;
    const until = new Date(authenticatedAt.getTime() + this.#sudoTtlMs);
    return [{ authenticatedAt, until, recent: until.getTime() > now.getTime() }];
  }
}

/** A listing cursor `<createdAt ms>.<public id>` read back; undefined when malformed. */
function parseCursor(cursor: unknown): { createdAt: Date; id: string } | undefined {
  if (typeof cursor !== "string" || cursor.length > 64) return undefined;
  const m = /^(\d{1,15})\.(.+)$/.exec(cursor);
  if (!m || !isPublicId(m[2])) return undefined;
  return { createdAt: new Date(Number(m[1])), id: m[2] };
}

/**
 * The AuditLog concept: an append-only record of who did what, and when, for actions that need
 * accounting (an administrator's). Kept in `AuditLog.entries`; every entry is also handed to the
 * `onRecord` observer (the service writes it as one JSON log line). Entries hold ids and short
 * plain values only, never a secret: the concept refuses keys that name one.
 */
import type { Collection, Db } from "mongodb";
import type { ID } from "../../utils/types.ts";
import { freshID } from "../../utils/ids.ts";
import { isDict } from "../shared.ts";

const MAX_ID = 128;
const ACTION = /^[a-z][a-z0-9_.-]{0,63}$/;
const DETAIL_KEY = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;
/** Keys that would carry a secret; refused, so no caller can log one by mistake. */
const SECRET_KEY = /password|token|secret|session|hash|cookie|credential/i;
const MAX_DETAILS = 8;
const MAX_DETAIL = 256;

export interface AuditLogOptions {
  /** The clock; tests inject one. */
  now?: () => Date | number;
  /** Called with every recorded entry; whatever it throws is ignored. */
  onRecord?: (entry: AuditEntry) => void;
}

export type Detail = string | number | boolean | null;

/** One recorded action. */
export interface AuditEntry {
  id: string;
  at: Date;
  /** Who did it (a user id). */
  actor: ID;
  /** What was done, e.g. `admin.sessions.end`. */
  action: string;
  /** What it was done to: a user id or a session's public id. */
  target?: string;
  details?: Record<string, Detail>;
}

interface EntryDoc {
  _id: string;
  at: Date;
  actor: ID;
  action: string;
  target?: string;
  details?: Record<string, Detail>;
}

export const Errors = {
  RECORD_ACTOR:
    `Cannot record entry: actor must be a non-empty string of at most ${MAX_ID} characters`,
  RECORD_ACTION: "Cannot record entry: action must be 1-64 of a-z, 0-9, _ . - (a letter first)",
  RECORD_TARGET: `Cannot record entry: target must be a string of at most ${MAX_ID} characters`,
  RECORD_DETAILS:
    `Cannot record entry: details must be at most ${MAX_DETAILS} short plain values under non-secret keys`,
  LIST_LIMIT: "Cannot list entries: limit must be a whole number from 1 to 1000",
} as const;

function isId(x: unknown): x is string {
  return typeof x === "string" && x.length > 0 && x.length <= MAX_ID;
}

function validDetails(x: unknown): x is Record<string, Detail> {
  if (!isDict(x)) return false;
  const entries = Object.entries(x);
  if (entries.length > MAX_DETAILS) return false;
  return entries.every(([k, v]) =>
    DETAIL_KEY.test(k) && !SECRET_KEY.test(k) &&
    (v === null || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v)) ||
      (typeof v === "string" && v.length <= MAX_DETAIL))
  );
}

export default class AuditLogConcept {
  readonly #entries: Collection<EntryDoc>;
  readonly #clock: () => Date | number;
  readonly #onRecord?: (entry: AuditEntry) => void;

  constructor(db: Db, options: AuditLogOptions = {}) {
    this.#entries = db.collection<EntryDoc>("AuditLog.entries");
    this.#clock = options.now ?? (() => Date.now());
    this.#onRecord = options.onRecord;
  }

  /**
   * record (actor: User, action: String, target?: String, details?: Dict): (entry: String)
   *
   * requires: `actor` is a non-empty string of at most 128 characters; `action` is 1-64 of
   *   `a-z 0-9 _ . -` starting with a letter; `target`, if given, a non-empty string of at most 128
   *   characters; `details`, if given, at most 8 keys (letters, digits, `_`; none naming a secret:
   *   password, token, secret, session, hash, cookie, credential) with null, boolean, finite number
   *   or string (at most 256 characters) values.
   * effects: appends an entry stamped now and returns its id; hands it to `onRecord`.
   * errors: `Errors.RECORD_ACTOR`, `Errors.RECORD_ACTION`, `Errors.RECORD_TARGET`,
   *   `Errors.RECORD_DETAILS`.
   */
  async record(
    input: { actor: ID; action: string; target?: string; details?: Record<string, Detail> },
  ): Promise<{ entry: string } | { error: string }> {
    if (!isDict(input) || !isId(input.actor)) return { error: Errors.RECORD_ACTOR };
    const { actor, action, target, details } = input;
    if (typeof action !== "string" || !ACTION.test(action)) return { error: Errors.RECORD_ACTION };
    if (target !== undefined && !isId(target)) return { error: Errors.RECORD_TARGET };
    if (details !== undefined && !validDetails(details)) return { error: Errors.RECORD_DETAILS };
    const t = this.#clock();
    const doc: EntryDoc = {
      _id: freshID(),
      at: new Date(t instanceof Date ? t.getTime() : t),
      actor,
      action,
    };
    if (target !== undefined) doc.target = target;
    if (details !== undefined) doc.details = { ...details };
    await this.#entries.insertOne(doc);
    if (this.#onRecord) {
      try {
        this.#onRecord(toEntry(doc));
      } catch {
        // An observer's failure must not change the outcome.
      }
    }
    return { entry: doc._id };
  }

  /**
   * _recent (limit: Number): (id, at, actor, action, target?, details?)
   *
   * The latest `limit` entries, newest first (ties by id). `[{ error }]` for a bad limit.
   */
  async _recent(input: { limit: number }): Promise<Array<AuditEntry | { error: string }>> {
    const limit = isDict(input) ? input.limit : undefined;
    if (!Number.isSafeInteger(limit) || (limit as number) < 1 || (limit as number) > 1000) {
      return [{ error: Errors.LIST_LIMIT }];
    }
    const docs = await this.#entries.find({}).sort({ at: -1, _id: 1 }).limit(limit as number)
      .toArray();
    return docs.map(toEntry);
  }
}

function toEntry(d: EntryDoc): AuditEntry {
  const entry: AuditEntry = { id: d._id, at: d.at, actor: d.actor, action: d.action };
  if (d.target !== undefined) entry.target = d.target;
  if (d.details !== undefined) entry.details = d.details;
  return entry;
}

/**
 * The small helpers every concept uses, in one place: input shape checks (`isDict`, `isUserId`),
 * the injected clock (`nowFrom`), duplicate-key detection, and index creation run once
 * (`once`). Concepts import this module and `src/utils/`; nothing else of the service.
 */
import type { Collection, Db, Document, Filter, WithId } from "mongodb";
import type { ID } from "../utils/types.ts";

/** Longest accepted user id. */
export const MAX_USER = 128;
/** How a bad user id is described in errors. */
export const USER_RULE = `user must be a non-empty string of at most ${MAX_USER} characters`;

/** A clock as concepts take it (`options.now`): a Date or epoch milliseconds. */
export type Clock = () => Date | number;

/** Whether `x` is a plain dictionary (an object, not null, not an array). */
export function isDict(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** Whether `x` can be a user id: a non-empty string of at most `MAX_USER` characters. */
export function isUserId(x: unknown): x is ID {
  return typeof x === "string" && x.length > 0 && x.length <= MAX_USER;
}

/** The clock's time as a fresh Date. */
export function nowFrom(clock: Clock): Date {
  const t = clock();
  return t instanceof Date ? new Date(t.getTime()) : new Date(t);
}

/** Whether a store error is a unique index refusing a duplicate key. */
export function isDuplicateKey(e: unknown): boolean {
  return (e as { code?: unknown })?.code === 11000;
}

/**
 * `make` run at most once at a time and, once it succeeded, never again: every action awaits the
 * returned function (index creation); a failure is retried by the next call.
 */
export function once(make: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => {
    done ??= make().catch((e) => {
      done = undefined;
      throw e;
    });
    return done;
  };
}

/**
 * An integer option of a concept's constructor (`value`, or `fallback` when absent), at least
 * `min`; otherwise a RangeError `Cannot create <Concept>: <name> must be ...`.
 */
export function integerOption(
  concept: string,
  name: string,
  value: number | undefined,
  fallback: number,
  min = 1,
): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < min) {
    const rule = min === 1 ? "a positive integer" : `an integer >= ${min}`;
    throw new RangeError(`Cannot create ${concept}: ${name} must be ${rule}`);
  }
  return v;
}

/**
 * The first document of `collection` matching `filter` (with `projection`), or null: the query
 * of `collection.findOne(filter, { projection })` sent as one `find` command (`limit: 1`,
 * `singleBatch`, so the store keeps no cursor). The driver's `findOne` wraps the same command in
 * a cursor it opens, reads and closes, which cost about 20 us a call more here (100 against 120
 * us per lookup with 50 in flight, embedded store): this is for the reads on every request.
 */
export async function findOneDocument<T extends Document>(
  db: Db,
  collection: Collection<T>,
  filter: Filter<T>,
  projection?: Document,
): Promise<WithId<T> | null> {
  const command: Document = {
    find: collection.collectionName,
    filter,
    limit: 1,
    singleBatch: true,
    batchSize: 1,
  };
  if (projection) command.projection = projection;
  const reply = await db.command(command);
  const batch = (reply.cursor as { firstBatch?: unknown } | undefined)?.firstBatch;
  return Array.isArray(batch) && batch.length > 0 ? batch[0] as WithId<T> : null;
}

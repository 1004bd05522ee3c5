/**
 * The small helpers every concept uses, in one place: input shape checks (`isDict`, `isUserId`),
 * the injected clock (`nowFrom`), duplicate-key detection, and index creation run once
 * (`once`). Concepts import this module and `src/utils/`; nothing else of the service.
 */
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

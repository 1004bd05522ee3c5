/**
 * Every error class of the embedded server, in one place: what the wire layer, the command layer
 * and the storage engine throw, and how each becomes a MongoDB error (code, codeName, extra reply
 * fields). Messages follow `Cannot <action>: <reason>` where MongoDB's own text is not expected
 * by drivers or tests.
 */
import type { Document } from "bson";

/** The frame itself is broken: the connection cannot be trusted any more and is closed. */
export class ProtocolError extends Error {}

/** The frame is sound but its content is not: answered with an error reply (`ok: 0`). */
export class MessageError extends Error {
  constructor(readonly code: number, readonly codeName: string, message: string) {
    super(message);
  }
}

/** What a command handler throws to answer `ok: 0` with a MongoDB code. */
export class CommandError extends Error {
  constructor(
    readonly code: number,
    readonly codeName: string,
    message: string,
    /** Extra reply fields (e.g. `keyPattern`/`keyValue` of a duplicate key). */
    readonly extra: Document = {},
  ) {
    super(message);
  }
}

export const badValue = (message: string) => new CommandError(2, "BadValue", message);
export const failedToParse = (message: string) => new CommandError(9, "FailedToParse", message);
export const typeMismatch = (message: string) => new CommandError(14, "TypeMismatch", message);

/** Thrown synchronously by a write that would break a unique index; the write left no trace. */
export class DuplicateKeyError extends Error {
  readonly code = 11000;
  readonly codeName = "DuplicateKey";
  constructor(
    readonly ns: string,
    readonly indexName: string,
    readonly keyPattern: Record<string, number | string>,
    readonly keyValue: Document,
  ) {
    super(
      `E11000 duplicate key error collection: ${ns} index: ${indexName} dup key: ${
        JSON.stringify(keyValue)
      }`,
    );
  }
}

/**
 * Thrown synchronously by a write whose journal record could not be written (disk full, read-only,
 * I/O error): the write was not applied. MongoDB's code 42, `LogWriteFailed`.
 */
export class JournalError extends Error {
  readonly code = 42;
  readonly codeName = "LogWriteFailed";
}

/** Thrown for a bad index request: a MongoDB error code (67, 85, 86, 27, ...) and its message. */
export class IndexError extends Error {
  constructor(readonly code: number, message: string, readonly codeName?: string) {
    super(message);
  }
}

/** A data file (snapshot or journal) whose content cannot be trusted. */
export class CorruptFileError extends Error {}

/** The MongoDB error an exception stands for, or undefined for an unexpected exception. */
export function mongoError(
  e: unknown,
): { code: number; codeName: string; message: string; extra: Document } | undefined {
  if (e instanceof CommandError) {
    return { code: e.code, codeName: e.codeName, message: e.message, extra: e.extra };
  }
  if (e instanceof DuplicateKeyError) {
    return {
      code: e.code,
      codeName: e.codeName,
      message: e.message,
      extra: { keyPattern: e.keyPattern, keyValue: e.keyValue },
    };
  }
  if (e instanceof IndexError || e instanceof JournalError) {
    return {
      code: e.code,
      codeName: e.codeName ?? `Location${e.code}`,
      message: e.message,
      extra: {},
    };
  }
  return undefined;
}

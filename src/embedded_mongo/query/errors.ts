/**
 * The error a command handler throws to answer `ok: 0` with a MongoDB code, and the write error
 * shape used inside `writeErrors`.
 */
import type { Document } from "bson";

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

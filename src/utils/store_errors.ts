/**
 * Which failures mean "the store is unavailable" rather than "something is broken": the driver
 * could not reach a server in time, lost its connection, ran out of its operation deadline, or
 * the server refused a write it cannot make durable (disk full, shutting down, not primary).
 * Such failures are answered 503 `Cannot ...: store unavailable` at the boundary; anything else
 * stays a 500. The cause chain (`error.cause`) is followed, so a wrapped failure counts too.
 */
import {
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from "mongodb";

/** Server error names that mean the store cannot serve now, though it may again soon. */
const UNAVAILABLE_CODE_NAMES = new Set([
  "OutOfDiskSpace",
  "NotWritablePrimary",
  "NotPrimaryNoSecondaryOk",
  "NotPrimaryOrSecondary",
  "InterruptedAtShutdown",
  "ShutdownInProgress",
  "HostUnreachable",
  "HostNotFound",
  "NetworkTimeout",
  "MaxTimeMSExpired",
  "ExceededTimeLimit",
  "WriteConcernFailed",
]);

/**
 * Socket errors the driver lets through unwrapped (under Deno's `node:net`, a write to a socket
 * the server has just closed throws `EPIPE` "This socket has been ended by the other party").
 */
const SOCKET_CODES = new Set(["EPIPE", "ECONNRESET", "ECONNREFUSED", "ECONNABORTED", "ENOTCONN"]);

/** The reason text of such an answer. */
export const STORE_UNAVAILABLE = "store unavailable";

/** Whether `e` (or its cause) says the store is unavailable. */
export function isStoreUnavailable(e: unknown): boolean {
  for (let depth = 0; depth < 5 && e instanceof Error; depth++) {
    if (
      e instanceof MongoNetworkError || e instanceof MongoServerSelectionError ||
      e instanceof MongoOperationTimeoutError ||
      e instanceof MongoNotConnectedError || e instanceof MongoTopologyClosedError
    ) {
      return true;
    }
    if (e instanceof MongoServerError && UNAVAILABLE_CODE_NAMES.has(String(e.codeName))) {
      return true;
    }
    if (SOCKET_CODES.has(String((e as { code?: unknown }).code))) return true;
    e = e.cause;
  }
  return false;
}

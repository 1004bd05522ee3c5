/**
 * Errors at the boundary: `HttpError` carries a status and a client-safe message; `redact` removes
 * anything shaped like a session token (keeping only its public id) from text bound for a log.
 * Every error answer of the app is JSON `{ "error": "..." }`.
 */
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { describeError, redactSecrets } from "../utils/log.ts";

/** An expected failure: answered with `status` and `{ error: message }`. */
export class HttpError extends Error {
  constructor(readonly status: ContentfulStatusCode, message: string) {
    super(message);
    this.name = "HttpError";
  }
}

/**
 * `text` with every token-shaped substring cut to its public id (the shared logger's
 * `redactSecrets`), and at most 300 characters.
 */
export function redact(text: string): string {
  return String(redactSecrets(text)).slice(0, 300);
}

/** A short description of something thrown, safe for a log (the shared logger's). */
export const describeThrown = describeError;

/** A fresh random correlation id. */
export function newCorrelationId(): string {
  return crypto.randomUUID();
}

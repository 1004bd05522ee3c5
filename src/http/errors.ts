/**
 * Errors at the boundary: `HttpError` carries a status and a client-safe message; `redact` removes
 * anything shaped like a session token (keeping only its public id) from text bound for a log.
 * Every error answer of the app is JSON `{ "error": "..." }`.
 */
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** An expected failure: answered with `status` and `{ error: message }`. */
export class HttpError extends Error {
  constructor(readonly status: ContentfulStatusCode, message: string) {
    super(message);
    this.name = "HttpError";
  }
}

/** `<22-char id>.<43-char secret>`, anywhere in a text. */
const TOKEN_IN_TEXT = /([A-Za-z0-9_-]{22})\.[A-Za-z0-9_-]{43}/g;

/** `text` with every token-shaped substring cut to its public id, and at most 300 characters. */
export function redact(text: string): string {
  return text.replace(TOKEN_IN_TEXT, "$1.[redacted]").slice(0, 300);
}

/** A short description of something thrown, safe for a log. */
export function describeThrown(e: unknown): string {
  if (e instanceof Error) return redact(`${e.name}: ${e.message}`);
  return redact(String(e));
}

/** A fresh random correlation id. */
export function newCorrelationId(): string {
  return crypto.randomUUID();
}

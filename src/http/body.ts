/**
 * Request bodies: every POST must be `application/json` (415 otherwise), at most 64 KiB (413),
 * and a JSON object (400 for malformed JSON, invalid UTF-8, or any other JSON value). The limit is
 * enforced twice: our HTTP server (server.ts) refuses a declared Content-Length over it before
 * reading, and `readJsonObject` refuses one too, and counts the bytes as it reads a body that
 * comes without Content-Length, cutting it off as soon as it passes the limit.
 */
import { HttpError } from "./errors.ts";
import { bodyOf } from "./server.ts";

/** The largest accepted request body, in bytes. */
export const MAX_BODY_BYTES = 64 * 1024;

const TOO_LARGE = `Cannot read body: larger than ${MAX_BODY_BYTES} bytes`;
/** Strict UTF-8 (one decoder: a whole-buffer decode keeps no state between calls). */
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Whether a Content-Type header names JSON: `application/json`, parameters allowed. */
export function isJsonContentType(header: string | undefined): boolean {
  if (!header) return false;
  const mediaType = header.split(";", 1)[0].trim().toLowerCase();
  return mediaType === "application/json";
}

/** Reads the whole body, refusing it (413) as soon as it passes `maxBytes`. */
async function readBytes(req: Request, maxBytes: number): Promise<Uint8Array> {
  const read = bodyOf(req);
  if (read) {
    if (read.byteLength > maxBytes) throw new HttpError(413, TOO_LARGE);
    return read;
  }
  if (!req.body) return new Uint8Array(0);
  // A declared length: over the limit, refused before anything is read; within it (our server
  // reads exactly that many bytes), one read of the whole body, much cheaper than a reader loop.
  const declared = req.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > maxBytes) {
    throw new HttpError(413, TOO_LARGE);
  }
  if (declared !== null && /^\d+$/.test(declared)) {
    const bytes = await req.bytes();
    if (bytes.byteLength > maxBytes) throw new HttpError(413, TOO_LARGE);
    return bytes;
  }
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        throw new HttpError(413, TOO_LARGE);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * The body of a POST as a plain object. Throws `HttpError` 415 (not JSON), 413 (too large) or
 * 400 (invalid UTF-8, malformed JSON, or not an object; an empty body is malformed JSON too).
 */
export async function readJsonObject(
  req: Request,
  maxBytes = MAX_BODY_BYTES,
): Promise<Record<string, unknown>> {
  if (!isJsonContentType(req.headers.get("content-type") ?? undefined)) {
    throw new HttpError(415, "Cannot read body: Content-Type must be application/json");
  }
  const bytes = await readBytes(req, maxBytes);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new HttpError(400, "Cannot read body: not valid UTF-8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, "Cannot read body: malformed JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HttpError(400, "Cannot read body: expected a JSON object");
  }
  return value as Record<string, unknown>;
}

/**
 * The one home of the token format. The bearer tokens that concepts hand out (Sessioning's
 * session tokens, DeviceTrust's device tokens): `<id>.<secret>`, both from the CSPRNG and base64url encoded, the id 128 bits (22
 * characters) and the secret 256 bits (43 characters). Only the SHA-256 of the secret is stored,
 * as 64 lowercase hex characters, and it is compared in constant time. The id is public (logs,
 * lists); the secret never leaves the token.
 */
import { createHash } from "node:crypto";
import { randomBase64Url } from "./ids.ts";

export const ID_LENGTH = 22;
export const SECRET_LENGTH = 43;

const TOKEN = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;
const PUBLIC_ID = /^[A-Za-z0-9_-]{22}$/;
const HASH = /^[0-9a-f]{64}$/;

/** A new token and what is stored of it; `id` is kept when given (rotation). */
export function newToken(id = randomBase64Url(16)): { id: string; token: string; hash: string } {
  const secret = randomBase64Url(32);
  return { id, token: `${id}.${secret}`, hash: hashSecret(secret) };
}

/** The id and secret of a well-formed token; undefined for anything else (never throws). */
export function parseToken(token: unknown): { id: string; secret: string } | undefined {
  if (typeof token !== "string" || token.length !== ID_LENGTH + 1 + SECRET_LENGTH) return undefined;
  const m = TOKEN.exec(token);
  return m ? { id: m[1], secret: m[2] } : undefined;
}

/** `<22-char id>.<43-char secret>` anywhere in a text, the id captured (for redaction). */
export const TOKEN_IN_TEXT = /([A-Za-z0-9_-]{22})\.[A-Za-z0-9_-]{43}/g;

/** The public id of a well-formed token (safe to log); undefined for anything else. */
export function publicIdOf(token: unknown): string | undefined {
  return parseToken(token)?.id;
}

/** Whether `id` has the shape of a public session id. */
export function isPublicId(id: unknown): id is string {
  return typeof id === "string" && id.length === ID_LENGTH && PUBLIC_ID.test(id);
}

/** hex(SHA-256(secret)). */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/**
 * Whether `secret` hashes to `storedHash`, compared in constant time: every one of the 64 hex
 * characters is compared, whatever differs. (On the hex strings: decoding both to Buffers for
 * `timingSafeEqual` cost about 8 us a check, more than the hash.)
 */
export function secretMatches(secret: string, storedHash: unknown): boolean {
  if (typeof storedHash !== "string" || !HASH.test(storedHash)) return false;
  const actual = hashSecret(secret);
  let diff = 0;
  for (let i = 0; i < 64; i++) diff |= actual.charCodeAt(i) ^ storedHash.charCodeAt(i);
  return diff === 0;
}

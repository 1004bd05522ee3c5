/**
 * Random identifiers: `freshID()` for the string ids concepts use in place of ObjectId, and
 * `randomBase64Url(n)` for any other random string. The one base64url encoder of the service.
 */
import { Buffer } from "node:buffer";
import type { ID } from "./types.ts";

/** `bytes` as base64url without padding. */
export function base64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

/** `bytes` random bytes from the CSPRNG, base64url without padding. */
export function randomBase64Url(bytes: number): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** A random URL-safe id: 128 bits from the CSPRNG (22 characters), not time-ordered. */
export function freshID(): ID {
  return randomBase64Url(16) as ID;
}

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

/** Bytes of a `freshID`. */
const ID_BYTES = 16;
/** Ids drawn from one call to the CSPRNG. */
const IDS_PER_DRAW = 256;
/** Random bytes for the next ids; each id's bytes are used once, then zeroed. */
const idBytes = new Uint8Array(ID_BYTES * IDS_PER_DRAW);
let idsLeft = 0;

/**
 * A random URL-safe id: 128 bits from the CSPRNG (22 characters), not time-ordered. The CSPRNG
 * is drawn for 256 ids at a time (ids are made on every request: request ids, flow ids).
 */
export function freshID(): ID {
  if (idsLeft === 0) {
    crypto.getRandomValues(idBytes);
    idsLeft = IDS_PER_DRAW;
  }
  const at = ID_BYTES * --idsLeft;
  const id = base64Url(idBytes.subarray(at, at + ID_BYTES));
  idBytes.fill(0, at, at + ID_BYTES);
  return id as ID;
}

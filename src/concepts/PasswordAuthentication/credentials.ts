/**
 * The rules for usernames and passwords of the PasswordAuthentication concept: how a username is
 * normalised and which ones are allowed, and when a password is acceptable. Pure functions, no I/O.
 */

/** Fewest and most code points of a normalised username. */
export const USERNAME_MIN = 3;
export const USERNAME_MAX = 64;
/** Longest raw username accepted before normalisation (UTF-16 code units), to bound its cost. */
export const USERNAME_RAW_MAX = 256;
/** Fewest and most code points of a (normalised) password. */
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;
/** Longest raw password accepted before normalisation (UTF-16 code units), to bound its cost. */
export const PASSWORD_RAW_MAX = 1024;

/** A letter or a digit, then letters, combining marks, digits and `.`, `_`, `-`, `@`. */
const USERNAME_SHAPE = /^[\p{L}\p{N}][\p{L}\p{M}\p{N}._@-]*$/u;

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/**
 * The canonical form of a username, or undefined when it is not an acceptable one.
 *
 * The raw value must be a well-formed string (no lone surrogates) of at most 256 code units. It is
 * normalised to NFKC, lower-cased (`toLowerCase()`, a close stand-in for Unicode case folding:
 * "ß" stays "ß"), and normalised to NFKC again, since lower-casing can undo the first pass. The
 * result must be 3-64 code points long, start with a letter or a digit, and hold only letters,
 * combining marks, digits and `.`, `_`, `-`, `@`: no whitespace, control, format (zero-width) or
 * symbol characters. Confusable scripts (a Cyrillic "а" for a Latin "a") are not folded together.
 */
export function normalizeUsername(raw: unknown): string | undefined {
  if (typeof raw !== "string" || raw.length > USERNAME_RAW_MAX || !raw.isWellFormed()) {
    return undefined;
  }
  const name = raw.normalize("NFKC").toLowerCase().normalize("NFKC");
  const n = codePoints(name);
  if (n < USERNAME_MIN || n > USERNAME_MAX || !USERNAME_SHAPE.test(name)) return undefined;
  return name;
}

/**
 * The form of a password that is hashed, or undefined when the raw value is not a well-formed
 * string of at most 1024 code units. Passwords are normalised to NFKC (as NIST SP 800-63B
 * advises), so the same characters typed on different keyboards give the same password.
 */
export function normalizePassword(raw: unknown): string | undefined {
  if (typeof raw !== "string" || raw.length > PASSWORD_RAW_MAX || !raw.isWellFormed()) {
    return undefined;
  }
  return raw.normalize("NFKC");
}

/**
 * Whether a normalised password meets the policy: 8-256 code points, any characters (spaces,
 * symbols, emoji), no composition rules (NIST SP 800-63B).
 */
export function passwordMeetsPolicy(password: string): boolean {
  const n = codePoints(password);
  return n >= PASSWORD_MIN && n <= PASSWORD_MAX;
}

/**
 * What Requesting stores of a request's inputs or a response (with `saveResponses`): a copy that
 * any JSON the boundary accepts can become, with secrets redacted. BSON and MongoDB refuse some
 * keys that JSON allows, and the driver reads meaning into others, so keys are escaped first:
 *
 * | in the key               | stored as     | why                                              |
 * | ------------------------ | ------------- | ------------------------------------------------ |
 * | `%`                      | `%25`         | so that the escaping can be undone               |
 * | NUL (`\u0000`)           | `%00`         | a BSON key is a C string: the driver throws      |
 * | `.`                      | `%2E`         | dotted paths are refused by older servers        |
 * | a leading `$`            | `%24`         | operator-like keys are refused by older servers  |
 * | the whole key `_bsontype` | `%5Fbsontype` | the driver would take the object for a BSON type |
 * | the whole key `__proto__` | `%5F_proto__` | an assignment would set the prototype instead    |
 *
 * Values deeper than 8 levels become `"[...]"`, as in logs (`redactSecrets`), so deep nesting
 * costs nothing and cannot pass BSON's depth limit. Strings are stored as they are.
 */
import { redactSecrets } from "../../utils/log.ts";

/** Deepest level copied; deeper values become `"[...]"` (redactSecrets cuts at the same depth). */
const MAX_DEPTH = 9;

const ESCAPES: Record<string, string> = { "%": "%25", ".": "%2E", "\u0000": "%00" };

/** `key` escaped as the table in the module comment says. */
export function escapeKey(key: string): string {
  if (key === "_bsontype") return "%5Fbsontype";
  if (key === "__proto__") return "%5F_proto__";
  // deno-lint-ignore no-control-regex
  const escaped = key.replace(/[%.\u0000]/g, (ch) => ESCAPES[ch]);
  return escaped.startsWith("$") ? `%24${escaped.slice(1)}` : escaped;
}

function escapeKeys(value: unknown, depth: number): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (depth >= MAX_DEPTH) return "[...]";
  if (Array.isArray(value)) return value.map((item) => escapeKeys(item, depth + 1));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value; // a Date, an ObjectId...
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[escapeKey(key)] = escapeKeys(item, depth + 1);
  }
  return out;
}

/** A copy of `value` that the store accepts whatever its keys, secrets redacted. */
export function storable(value: unknown): unknown {
  return redactSecrets(escapeKeys(value, 0));
}

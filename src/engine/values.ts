/**
 * Value helpers of the engine: plain-dictionary test, deep equality of the values that actions
 * take and return, and a stable text key of a value (for grouping frames).
 */

/** Whether `x` is a plain dictionary (not an array, a Date, a class instance or null). */
export function isDict(x: unknown): x is Record<string, unknown> {
  if (typeof x !== "object" || x === null || Array.isArray(x)) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/** Deep equality for JSON-like values, Dates (by time) and anything else by identity. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => deepEqual(item, b[i]));
  }
  if (!isDict(a) || !isDict(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
}

/** A text that is equal for deep-equal values (keys sorted; types kept apart). */
export function stableKey(value: unknown): string {
  if (value === undefined) return "u";
  if (typeof value === "bigint") return `n${value}`;
  if (typeof value === "symbol") return `s${String(value)}`;
  if (typeof value !== "object" || value === null) return `j${JSON.stringify(value)}`;
  if (value instanceof Date) return `d${value.getTime()}`;
  if (Array.isArray(value)) return `[${value.map(stableKey).join(",")}]`;
  if (isDict(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableKey(value[k])}`).join(",")}}`;
  }
  return `o${String(value)}`;
}

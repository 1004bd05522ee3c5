/**
 * The matching rules of the unified test format ("Evaluating Matches"), for the MongoDB spec runner.
 *
 * `match()` compares an expected value (parsed from canonical Extended JSON, so numbers arrive as
 * `Int32`/`Double`/`Long`) with an actual value from the driver (promoted: plain JS numbers) and
 * returns the first difference with its path, or `null` when they match. Root-level documents may
 * carry extra keys, nested ones may not; numbers compare by value whatever their BSON type; the
 * special operators `$$exists`, `$$type`, `$$unsetOrMatches`, `$$matchesEntity`,
 * `$$matchesHexBytes`, `$$sessionLsid`, `$$lte`, `$$matchAsDocument` and `$$matchAsRoot` are
 * handled. `matchExact()` is the stricter comparison used for a test's `outcome`: no extra keys at
 * any level and no operators, only key order and numeric type are free.
 */
import { EJSON } from "bson";

/** Where and how an expected value differed from the actual one. */
export interface Mismatch {
  path: string;
  message: string;
}

/** What special operators may need from the running test. */
export interface MatchContext {
  /** Looks up an entity by name (for `$$matchesEntity`); throws when it is not defined. */
  entity?: (name: string) => unknown;
  /** The logical session id of a session entity (for `$$sessionLsid`). */
  sessionLsid?: (name: string) => unknown;
}

type Doc = Record<string, unknown>;

/** The `_bsontype` tag of a bson class instance, if any. */
export function bsonType(v: unknown): string | undefined {
  if (v === null || typeof v !== "object") return undefined;
  const t = (v as { _bsontype?: unknown })._bsontype;
  return typeof t === "string" ? t : undefined;
}

/** True for a plain document (not an array, a bson value, a Date, bytes or a RegExp). */
export function isDocument(v: unknown): v is Doc {
  if (v === null || typeof v !== "object") return false;
  if (Array.isArray(v) || v instanceof Date || v instanceof RegExp) return false;
  if (ArrayBuffer.isView(v)) return false;
  return bsonType(v) === undefined;
}

/** The numeric value of an int32/int64/double in any representation, or undefined. */
export function numericValue(v: unknown): number | bigint | undefined {
  if (typeof v === "number" || typeof v === "bigint") return v;
  switch (bsonType(v)) {
    case "Int32":
    case "Double":
      return (v as { value: number }).value;
    case "Long":
      return (v as { toBigInt(): bigint }).toBigInt();
  }
  return undefined;
}

function numbersEqual(a: number | bigint, b: number | bigint): boolean {
  if (typeof a === "number" && typeof b === "number") {
    return a === b || (Number.isNaN(a) && Number.isNaN(b));
  }
  if (typeof a === "bigint" && typeof b === "bigint") return a === b;
  const n = typeof a === "number" ? a : b as number;
  const big = typeof a === "bigint" ? a : b as bigint;
  return Number.isInteger(n) && BigInt(n) === big;
}

function numberLte(actual: number | bigint, limit: number | bigint): boolean {
  if (typeof actual === typeof limit) return actual <= limit;
  return Number(actual) <= Number(limit);
}

/**
 * The `$type` names an actual value satisfies. Values read through the driver are promoted, so a JS
 * number that is an integer counts as "int" (when it fits in 32 bits) and as "long", and every JS
 * number counts as "double": promotion has erased the difference, and the runner cannot tell.
 * Unpromoted `Int32`, `Long` and `Double` values keep their one exact type.
 */
export function typeNames(v: unknown): string[] {
  if (v === undefined) return ["undefined"];
  if (v === null) return ["null"];
  if (typeof v === "string") return ["string"];
  if (typeof v === "boolean") return ["bool"];
  if (typeof v === "bigint") return ["long", "number"];
  if (typeof v === "number") {
    const names = ["double", "number"];
    if (Number.isInteger(v)) {
      names.push("long");
      if (v >= -2147483648 && v <= 2147483647) names.push("int");
    }
    return names;
  }
  if (Array.isArray(v)) return ["array"];
  if (v instanceof Date) return ["date"];
  if (v instanceof RegExp) return ["regex"];
  if (ArrayBuffer.isView(v)) return ["binData"];
  switch (bsonType(v)) {
    case "Int32":
      return ["int", "number"];
    case "Long":
      return ["long", "number"];
    case "Double":
      return ["double", "number"];
    case "Decimal128":
      return ["decimal", "number"];
    case "ObjectId":
      return ["objectId"];
    case "Binary":
      return ["binData"];
    case "Timestamp":
      return ["timestamp"];
    case "BSONRegExp":
      return ["regex"];
    case "Code":
      return (v as { scope?: unknown }).scope ? ["javascriptWithScope"] : ["javascript"];
    case "BSONSymbol":
      return ["symbol"];
    case "MinKey":
      return ["minKey"];
    case "MaxKey":
      return ["maxKey"];
    case "DBRef":
      return ["object", "dbPointer"];
    case undefined:
      return ["object"];
  }
  return [String(bsonType(v))];
}

/** A short, readable rendering of a value for mismatch messages. */
export function show(v: unknown): string {
  if (v === undefined) return "(absent)";
  try {
    const text = EJSON.stringify(v as never, { relaxed: true });
    return text.length > 300 ? text.slice(0, 300) + "…" : text;
  } catch {
    return String(v);
  }
}

function childPath(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)
    ? `${path}.${key}`
    : `${path}[${JSON.stringify(key)}]`;
}

/** The operator name when `v` is a document whose first and only key starts with `$$`. */
function specialOperator(v: unknown): string | undefined {
  if (!isDocument(v)) return undefined;
  const keys = Object.keys(v);
  return keys.length === 1 && keys[0].startsWith("$$") ? keys[0] : undefined;
}

function hexOf(v: unknown): string | undefined {
  if (typeof v === "string") {
    return Array.from(new TextEncoder().encode(v), (b) => b.toString(16).padStart(2, "0")).join("");
  }
  let bytes: Uint8Array | undefined;
  if (v instanceof Uint8Array) bytes = v;
  else if (bsonType(v) === "Binary") bytes = (v as { buffer: Uint8Array }).buffer;
  return bytes && Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Compares two values that are neither documents nor arrays. */
function matchScalar(expected: unknown, actual: unknown, path: string): Mismatch | null {
  const fail = (why = "values differ"): Mismatch => ({
    path,
    message: `${why}: expected ${show(expected)}, actual ${show(actual)}`,
  });
  const en = numericValue(expected);
  if (en !== undefined) {
    const an = numericValue(actual);
    if (an === undefined) return fail("expected a number");
    return numbersEqual(en, an) ? null : fail();
  }
  if (expected === null || typeof expected !== "object") {
    return Object.is(expected, actual) || expected === actual ? null : fail();
  }
  if (expected instanceof Date) {
    return actual instanceof Date && actual.getTime() === expected.getTime() ? null : fail();
  }
  if (expected instanceof RegExp) {
    return actual instanceof RegExp && actual.source === expected.source &&
        actual.flags === expected.flags
      ? null
      : fail();
  }
  const et = bsonType(expected);
  if (et === "ObjectId") {
    return bsonType(actual) === "ObjectId" &&
        (actual as { toHexString(): string }).toHexString() ===
          (expected as { toHexString(): string }).toHexString()
      ? null
      : fail();
  }
  if (et === "Binary" || ArrayBuffer.isView(expected)) {
    const sameSubtype = et !== "Binary" || bsonType(actual) !== "Binary" ||
      (actual as { sub_type: number }).sub_type === (expected as { sub_type: number }).sub_type;
    return sameSubtype && hexOf(actual) === hexOf(expected) ? null : fail();
  }
  // Remaining bson values (Decimal128, Timestamp, BSONRegExp, Code, MinKey, ...) compare as
  // canonical Extended JSON, which covers their type and their contents.
  if (bsonType(actual) !== et) return fail("types differ");
  const canon = (v: unknown) => EJSON.stringify({ v } as never, { relaxed: false });
  return canon(expected) === canon(actual) ? null : fail();
}

/**
 * Matches `actual` against `expected` by the unified format's rules. `root` says whether a
 * document here may have keys that `expected` does not list.
 */
export function match(
  expected: unknown,
  actual: unknown,
  options: { root?: boolean; path?: string; context?: MatchContext } = {},
): Mismatch | null {
  // The driver builds some command fields (e.g. an update's `sort`) as Maps; bson writes them
  // as documents, so they are matched as documents.
  if (actual instanceof Map) actual = Object.fromEntries(actual);
  const root = options.root ?? true;
  const path = options.path ?? "$";
  const context = options.context ?? {};
  const operator = specialOperator(expected);
  if (operator) {
    return matchOperator(operator, (expected as Doc)[operator], actual, root, path, context);
  }
  if (isDocument(expected)) {
    if (!isDocument(actual)) {
      return { path, message: `expected a document ${show(expected)}, actual ${show(actual)}` };
    }
    for (const [key, value] of Object.entries(expected)) {
      const p = childPath(path, key);
      const present = Object.hasOwn(actual, key) && actual[key] !== undefined;
      const op = specialOperator(value);
      if (op === "$$exists") {
        const want = (value as Doc)[op];
        if (typeof want !== "boolean") throw new Error(`Cannot match: $$exists needs a boolean`);
        if (want !== present) {
          return {
            path: p,
            message: want
              ? "expected the key to exist"
              : `expected no key, actual ${show(actual[key])}`,
          };
        }
        continue;
      }
      if (op === "$$unsetOrMatches" && !present) continue;
      if (!present) return { path: p, message: `missing key, expected ${show(value)}` };
      const m = match(value, actual[key], { root: false, path: p, context });
      if (m) return m;
    }
    if (!root) {
      for (const key of Object.keys(actual)) {
        if (!Object.hasOwn(expected, key) && actual[key] !== undefined) {
          return {
            path: childPath(path, key),
            message: `unexpected extra key, actual ${show(actual[key])}`,
          };
        }
      }
    }
    return null;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) {
      return { path, message: `expected an array ${show(expected)}, actual ${show(actual)}` };
    }
    if (actual.length !== expected.length) {
      return {
        path,
        message: `expected ${expected.length} elements, actual ${actual.length}: ` +
          `expected ${show(expected)}, actual ${show(actual)}`,
      };
    }
    for (let i = 0; i < expected.length; i++) {
      const m = match(expected[i], actual[i], { root: false, path: childPath(path, i), context });
      if (m) return m;
    }
    return null;
  }
  return matchScalar(expected, actual, path);
}

function matchOperator(
  operator: string,
  argument: unknown,
  actual: unknown,
  root: boolean,
  path: string,
  context: MatchContext,
): Mismatch | null {
  switch (operator) {
    case "$$unsetOrMatches":
      return actual === undefined ? null : match(argument, actual, { root, path, context });
    case "$$type": {
      const wanted = Array.isArray(argument) ? argument : [argument];
      if (actual === undefined) {
        return { path, message: `missing, expected $$type ${show(wanted)}` };
      }
      const have = typeNames(actual);
      return wanted.some((t) => have.includes(String(t))) ? null : {
        path,
        message: `expected $$type ${show(wanted)}, actual ${show(actual)} (${have.join("/")})`,
      };
    }
    case "$$exists":
      // Only meaningful next to a key; at a value position "exists" means "is defined".
      return (actual !== undefined) === argument
        ? null
        : { path, message: `expected $$exists ${argument}, actual ${show(actual)}` };
    case "$$matchesEntity": {
      if (!context.entity) throw new Error("Cannot match: $$matchesEntity without entities");
      return match(context.entity(String(argument)), actual, { root, path, context });
    }
    case "$$sessionLsid": {
      if (!context.sessionLsid) throw new Error("Cannot match: $$sessionLsid without sessions");
      return match(context.sessionLsid(String(argument)), actual, { root: false, path, context });
    }
    case "$$matchesHexBytes": {
      const want = String(argument).toLowerCase();
      if (!/^([0-9a-f]{2})*$/.test(want)) {
        throw new Error("Cannot match: malformed $$matchesHexBytes");
      }
      return hexOf(actual) === want
        ? null
        : { path, message: `expected bytes ${want}, actual ${show(actual)}` };
    }
    case "$$lte": {
      const limit = numericValue(argument);
      const value = numericValue(actual);
      if (limit === undefined) throw new Error("Cannot match: $$lte needs a number");
      return value !== undefined && numberLte(value, limit)
        ? null
        : { path, message: `expected a number <= ${show(argument)}, actual ${show(actual)}` };
    }
    case "$$matchAsDocument": {
      if (typeof actual !== "string") {
        return { path, message: `expected an Extended JSON string, actual ${show(actual)}` };
      }
      return match(argument, EJSON.parse(actual, { relaxed: false }), {
        root: false,
        path,
        context,
      });
    }
    case "$$matchAsRoot":
      return match(argument, actual, { root: true, path, context });
  }
  throw new Error(`Cannot match: unsupported special operator ${operator}`);
}

/**
 * Exact comparison for collection contents: every document must have exactly the expected keys at
 * every level (in any order), arrays the same elements in the same order; numbers compare by value.
 */
export function matchExact(expected: unknown, actual: unknown, path = "$"): Mismatch | null {
  if (actual instanceof Map) actual = Object.fromEntries(actual);
  if (isDocument(expected)) {
    if (!isDocument(actual)) {
      return { path, message: `expected a document ${show(expected)}, actual ${show(actual)}` };
    }
    for (const [key, value] of Object.entries(expected)) {
      const p = childPath(path, key);
      if (!Object.hasOwn(actual, key)) {
        return { path: p, message: `missing key, expected ${show(value)}` };
      }
      const m = matchExact(value, actual[key], p);
      if (m) return m;
    }
    for (const key of Object.keys(actual)) {
      if (!Object.hasOwn(expected, key)) {
        return {
          path: childPath(path, key),
          message: `unexpected extra key, actual ${show(actual[key])}`,
        };
      }
    }
    return null;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) {
      return { path, message: `expected ${show(expected)}, actual ${show(actual)}` };
    }
    for (let i = 0; i < expected.length; i++) {
      const m = matchExact(expected[i], actual[i], childPath(path, i));
      if (m) return m;
    }
    return null;
  }
  return matchScalar(expected, actual, path);
}

/** Formats a mismatch as one line, prefixed with what was being compared. */
export function describeMismatch(what: string, m: Mismatch): string {
  return `${what}: at ${m.path}: ${m.message}`;
}

/**
 * Applying an update to one document: operator updates (through mingo's updater), replacement
 * documents and pipeline updates (through mingo's aggregator), and building the document an
 * upsert inserts. mingo silently skips what MongoDB refuses ($inc on a string, $push on a
 * non-array, a path through a scalar, $setOnInsert which it lacks), so those checks, with
 * MongoDB's codes and messages, are ours.
 */
import { type Document, ObjectId } from "bson";
import { update as mingoUpdate } from "mingo/updater";
import { CommandError, failedToParse, typeMismatch } from "../errors.ts";
import { aggregate, mingoOptions, refuseScripts } from "./engine.ts";
import { cloneDocument, compareValues } from "./values.ts";

const OPERATORS = new Set([
  "$set",
  "$unset",
  "$inc",
  "$mul",
  "$rename",
  "$min",
  "$max",
  "$currentDate",
  "$push",
  "$addToSet",
  "$pop",
  "$pull",
  "$pullAll",
  "$bit",
  "$setOnInsert",
]);
const NUMERIC_OPS = new Set(["$inc", "$mul"]);
const ARRAY_OPS = new Set(["$push", "$addToSet", "$pop", "$pull", "$pullAll"]);

const OPTIONS = mingoOptions();

export type UpdateKind = "operator" | "replacement" | "pipeline";

export function updateKind(update: unknown): UpdateKind {
  if (Array.isArray(update)) return "pipeline";
  if (update === null || typeof update !== "object") {
    throw failedToParse("Cannot parse update: it must be an object or a pipeline array");
  }
  const keys = Object.keys(update);
  return keys.length > 0 && keys[0][0] === "$" ? "operator" : "replacement";
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "missing";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "double";
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) return "array";
  if (v instanceof Date) return "date";
  const t = (v as { _bsontype?: string })._bsontype;
  if (t) return t === "ObjectId" ? "objectId" : t.toLowerCase();
  return "object";
}

function isObject(v: unknown): v is Document {
  return v !== null && typeof v === "object" && !Array.isArray(v) &&
    Object.getPrototypeOf(v) === Object.prototype;
}

function brief(doc: Document): string {
  return `{_id: ${String(doc._id)}}`;
}

/** Checks an operator update's shape once per command (operators, arguments, conflicts). */
export function validateOperatorUpdate(update: Document): void {
  refuseScripts(update);
  const paths: string[] = [];
  for (const [op, args] of Object.entries(update)) {
    if (!OPERATORS.has(op)) {
      throw failedToParse(
        `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`,
      );
    }
    if (!isObject(args)) {
      throw failedToParse(
        `Modifiers operate on fields but we found type ${
          typeName(args)
        } instead. For example: {$mod: {<field>: ...}} not {${op}: ${String(args)}}`,
      );
    }
    for (const [path, value] of Object.entries(args)) {
      if (path === "" || path.split(".").some((p) => p === "")) {
        throw new CommandError(
          56,
          "EmptyFieldName",
          `Cannot update the path '${path}': empty field name`,
        );
      }
      if (NUMERIC_OPS.has(op) && typeof value !== "number" && !isNumberObject(value)) {
        throw typeMismatch(
          `Cannot ${
            op === "$inc" ? "increment" : "multiply"
          } with non-numeric argument: {${path}: ${JSON.stringify(value)}}`,
        );
      }
      paths.push(path);
      if (op === "$rename") {
        if (typeof value !== "string") {
          throw badValueError(
            `The 'to' field for $rename must be a string: ${path}: ${String(value)}`,
          );
        }
        paths.push(value);
      }
    }
  }
  const seen: string[] = [];
  for (const path of paths) {
    const norm = path.split(".").filter((p) => !p.startsWith("$")).join(".");
    for (const other of seen) {
      if (other === norm || other.startsWith(norm + ".") || norm.startsWith(other + ".")) {
        throw new CommandError(
          40,
          "ConflictingUpdateOperators",
          `Updating the path '${path}' would create a conflict at '${
            other.length < norm.length ? other : norm
          }'`,
        );
      }
    }
    seen.push(norm);
  }
}

function badValueError(message: string): CommandError {
  return new CommandError(2, "BadValue", message);
}

function isNumberObject(v: unknown): boolean {
  const t = (v as { _bsontype?: string } | null)?._bsontype;
  return t === "Long" || t === "Decimal128" || t === "Int32" || t === "Double";
}

/** Checks the target of every plain (non-positional) path against what the operator needs. */
function checkTargets(doc: Document, update: Document): void {
  for (const [op, args] of Object.entries(update)) {
    for (const path of Object.keys(args as Document)) {
      if (path.includes("$")) continue;
      const parts = path.split(".");
      let cur: unknown = doc;
      for (let i = 0; i < parts.length; i++) {
        if (cur === undefined) break;
        if (Array.isArray(cur)) {
          if (!/^\d+$/.test(parts[i])) {
            if (op === "$unset" || op === "$pull" || op === "$pullAll" || op === "$pop") break;
            throw new CommandError(
              28,
              "PathNotViable",
              `Cannot create field '${parts[i]}' in element {${parts[i - 1]}: [...]}`,
            );
          }
          cur = cur[Number(parts[i])];
          continue;
        }
        if (!isObject(cur)) {
          if (op === "$unset") break;
          throw new CommandError(
            28,
            "PathNotViable",
            `Cannot create field '${parts[i]}' in element {${parts[i - 1]}: ${
              JSON.stringify(cur)
            }}`,
          );
        }
        cur = cur[parts[i]];
      }
      if (cur === undefined) continue;
      if (NUMERIC_OPS.has(op) && typeof cur !== "number" && !isNumberObject(cur)) {
        throw typeMismatch(
          `Cannot apply ${op} to a value of non-numeric type. ${brief(doc)} has the field '${
            parts.at(-1)
          }' of non-numeric type ${typeName(cur)}`,
        );
      }
      if (ARRAY_OPS.has(op) && !Array.isArray(cur)) {
        const msg = op === "$pull" || op === "$pullAll"
          ? "Cannot apply $pull to a non-array value"
          : `The field '${path}' must be an array but is of type ${typeName(cur)} in document ${
            brief(doc)
          }`;
        throw badValueError(msg);
      }
    }
  }
}

/** Puts `_id` first, as MongoDB stores it. */
export function idFirst(doc: Document): Document {
  const keys = Object.keys(doc);
  if (keys[0] === "_id" || !("_id" in doc)) return doc;
  const out: Document = { _id: doc._id };
  for (const k of keys) if (k !== "_id") out[k] = doc[k];
  return out;
}

/** Deep equality that respects key order and value types, for "was it modified?". */
export function sameDocument(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => sameDocument(v, b[i]));
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length &&
      ka.every((k, i) => k === kb[i] && sameDocument(a[k], b[k]));
  }
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") {
    return Object.is(a, b) || (typeof a === "number" && a === b);
  }
  if (a?.constructor !== (b as object)?.constructor) return false;
  return compareValues(a, b) === 0;
}

function immutableIdError(id: unknown): CommandError {
  return new CommandError(
    66,
    "ImmutableField",
    `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${
      String(id)
    }`,
  );
}

/** Checks a replacement document (no update operators in it). */
export function validateReplacement(doc: Document): void {
  for (const k of Object.keys(doc)) {
    if (k[0] === "$") {
      throw new CommandError(
        52,
        "DollarPrefixedFieldName",
        `The dollar ($) prefixed field '${k}' in '${k}' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.`,
      );
    }
  }
}

/** A replacement: the new document, keeping `doc`'s `_id` (which it may repeat, not change). */
function applyReplacement(doc: Document, replacement: Document): Document {
  if ("_id" in replacement && "_id" in doc && compareValues(replacement._id, doc._id) !== 0) {
    throw immutableIdError(replacement._id);
  }
  const out = cloneDocument(replacement);
  if ("_id" in doc) out._id = doc._id;
  return idFirst(out);
}

/** A pipeline update: the pipeline run over `doc`; it may not change `_id`. */
function applyPipeline(doc: Document, pipeline: Document[]): Document {
  const [out] = [...aggregate([cloneDocument(doc)], pipeline)];
  if (!out) return cloneDocument(doc);
  if ("_id" in doc) {
    if (!("_id" in out)) out._id = doc._id;
    else if (compareValues(out._id, doc._id) !== 0) throw immutableIdError(out._id);
  }
  return idFirst(out);
}

function immutablePathError(path: string): CommandError {
  return new CommandError(
    66,
    "ImmutableField",
    `Performing an update on the path '${path}' would modify the immutable field '_id'`,
  );
}

/**
 * The operators to run on `doc`: `$setOnInsert` folded into `$set` for an upsert's insert (and
 * dropped otherwise), `$set` of `_id` to its current value dropped (MongoDB allows it, mingo
 * refuses any path on `_id`), any other path on `_id` refused, empty operators dropped.
 */
function modifierFor(doc: Document, update: Document, insert: boolean): Document {
  const modifier: Document = { ...update };
  if (modifier.$setOnInsert) {
    if (insert) modifier.$set = { ...(modifier.$set ?? {}), ...modifier.$setOnInsert };
    delete modifier.$setOnInsert;
  }
  if (isObject(modifier.$set) && "_id" in modifier.$set && "_id" in doc) {
    if (compareValues(modifier.$set._id, doc._id) !== 0) throw immutablePathError("_id");
    const { _id: _, ...rest } = modifier.$set;
    modifier.$set = rest;
  }
  for (const [op, args] of Object.entries(modifier)) {
    if (!isObject(args)) continue;
    for (const path of Object.keys(args)) {
      if (path !== "_id" && !path.startsWith("_id.")) continue;
      if (insert && op === "$set") continue;
      throw immutablePathError(path);
    }
    if (Object.keys(args).length === 0) delete modifier[op];
  }
  return modifier;
}

/**
 * `$set` of top-level fields that `doc` has, and nothing else (what a session touch sends):
 * done here, replacing each value in place, as mingo's updater would; undefined otherwise.
 */
function simpleSet(doc: Document, modifier: Document): Document | undefined {
  const ops = Object.keys(modifier);
  if (ops.length !== 1 || ops[0] !== "$set" || !isObject(modifier.$set)) return undefined;
  const fields = Object.entries(modifier.$set);
  if (!fields.every(([k]) => !k.includes(".") && k[0] !== "$" && Object.hasOwn(doc, k))) {
    return undefined;
  }
  const out = cloneDocument(doc);
  for (const [k, v] of fields) out[k] = cloneDocument(v);
  return idFirst(out);
}

/**
 * `$inc` by plain numbers of top-level fields that hold plain numbers or are missing, and nothing
 * else (what a rate-limit window's count gets): done here as mingo's updater would (a missing
 * field takes the increment, appended), without setting up mingo's updater, which copies its
 * operator tables on every call (~0.2 ms); undefined otherwise.
 */
export function simpleInc(doc: Document, modifier: Document): Document | undefined {
  const ops = Object.keys(modifier);
  if (ops.length !== 1 || ops[0] !== "$inc" || !isObject(modifier.$inc)) return undefined;
  const fields = Object.entries(modifier.$inc);
  const plain = fields.every(([k, v]) =>
    typeof v === "number" && k !== "" && !k.includes(".") && k[0] !== "$" &&
    (Object.hasOwn(doc, k) ? typeof doc[k] === "number" : true)
  );
  if (!plain) return undefined;
  const out = cloneDocument(doc);
  for (const [k, v] of fields) out[k] = Object.hasOwn(out, k) ? out[k] + v : v;
  return idFirst(out);
}

/** MongoDB's error for what mingo's updater throws. */
function updaterError(e: unknown): CommandError {
  if (e instanceof CommandError) return e;
  const message = e instanceof Error ? e.message : String(e);
  if (/immutable field/.test(message)) return new CommandError(66, "ImmutableField", message);
  if (/conflict/.test(message)) return new CommandError(40, "ConflictingUpdateOperators", message);
  return new CommandError(2, "BadValue", message);
}

/** An operator update (see `applyUpdate`). */
function applyOperators(
  doc: Document,
  update: Document,
  options: { filter?: Document; arrayFilters?: Document[]; insert?: boolean },
): Document {
  const modifier = modifierFor(doc, update, !!options.insert);
  const fast = options.insert ? undefined : simpleSet(doc, modifier) ?? simpleInc(doc, modifier);
  if (fast) return fast;
  const out = cloneDocument(doc);
  checkTargets(out, modifier);
  if (Object.keys(modifier).length === 0) return out;
  if (options.insert && isObject(modifier.$set) && "_id" in modifier.$set) {
    out._id = modifier.$set._id;
    const { _id: _, ...rest } = modifier.$set;
    modifier.$set = rest;
    if (Object.keys(rest).length === 0) delete modifier.$set;
    if (Object.keys(modifier).length === 0) return idFirst(out);
  }
  try {
    mingoUpdate(out, modifier, options.arrayFilters, options.filter, {
      cloneMode: "deep",
      queryOptions: OPTIONS,
    });
  } catch (e) {
    throw updaterError(e);
  }
  return idFirst(out);
}

/**
 * The document `doc` becomes under `update` (never mutates `doc`). `filter` serves the
 * positional `$` operator; `insert` marks the document an upsert is about to insert (then
 * `$setOnInsert` applies).
 */
export function applyUpdate(
  doc: Document,
  update: Document | Document[],
  options: { filter?: Document; arrayFilters?: Document[]; insert?: boolean } = {},
): Document {
  switch (updateKind(update)) {
    case "replacement":
      return applyReplacement(doc, update as Document);
    case "pipeline":
      return applyPipeline(doc, update as Document[]);
    case "operator":
      return applyOperators(doc, update as Document, options);
  }
}

function setPath(doc: Document, path: string, value: unknown): void {
  const parts = path.split(".");
  let cur: Document = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    if (!isObject(cur[parts[i]])) cur[parts[i]] = {};
    cur = cur[parts[i]];
  }
  cur[parts.at(-1)!] = cloneDocument(value);
}

function collectEqualities(filter: Document, into: Document): void {
  for (const [k, v] of Object.entries(filter)) {
    if (k === "$and" && Array.isArray(v)) {
      for (const part of v) if (isObject(part)) collectEqualities(part, into);
      continue;
    }
    if (k[0] === "$") continue;
    if (isObject(v)) {
      const keys = Object.keys(v);
      if (keys.length > 0 && keys[0][0] === "$") {
        if (keys.length === 1 && keys[0] === "$eq") setPath(into, k, v.$eq);
        continue;
      }
    }
    if (v instanceof RegExp) continue;
    setPath(into, k, v);
  }
}

/** The document an upsert inserts: the filter's equalities, then the update, `_id` first. */
export function upsertDocument(
  filter: Document,
  update: Document | Document[],
  arrayFilters?: Document[],
): Document {
  const kind = updateKind(update);
  let base: Document = {};
  if (kind === "replacement") {
    base = cloneDocument(update as Document);
    if (!("_id" in base) && isObject(filter) && "_id" in filter) {
      const eq: Document = {};
      collectEqualities({ _id: filter._id }, eq);
      if ("_id" in eq) base._id = eq._id;
    }
  } else {
    collectEqualities(filter, base);
    base = applyUpdate(base, update, { filter, arrayFilters, insert: true });
  }
  if (!("_id" in base)) base._id = new ObjectId();
  return idFirst(base);
}

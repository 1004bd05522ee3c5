/**
 * Query matching, projection and aggregation through mingo, with JavaScript execution
 * (`$where`, `$function`, `$accumulator`) removed from the operator set and disabled by option,
 * plus the query planner that picks candidates through an index before mingo filters them.
 */
import type { Document } from "bson";
import { Aggregator } from "mingo/aggregator";
import { Context } from "mingo/core";
import { Query } from "mingo/query";
import * as accumulatorOps from "mingo/operators/accumulator";
import * as expressionOps from "mingo/operators/expression";
import * as pipelineOps from "mingo/operators/pipeline";
import * as projectionOps from "mingo/operators/projection";
import * as queryOps from "mingo/operators/query";
import * as windowOps from "mingo/operators/window";
import type { Options } from "mingo/types";
import type { CollectionStore } from "../storage/types.ts";
import { badValue, CommandError } from "./errors.ts";

// deno-lint-ignore no-explicit-any
type Ops = Record<string, any>;

function without(ops: Ops, names: string[]): Ops {
  const out: Ops = {};
  for (const [k, v] of Object.entries(ops)) if (!names.includes(k)) out[k] = v;
  return out;
}

/** Operators that run JavaScript, or write to collections behind the store's back. */
const REFUSED = ["$where", "$function", "$accumulator", "$out", "$merge"];

const CONTEXT = Context.init({
  accumulator: without(accumulatorOps, REFUSED),
  expression: without(expressionOps, REFUSED),
  pipeline: without(pipelineOps, REFUSED),
  projection: projectionOps as Ops,
  query: without(queryOps, REFUSED),
  window: windowOps as Ops,
});

/** Options for every mingo call; `collectionResolver` serves `$lookup`/`$unionWith`. */
export function mingoOptions(resolve?: (name: string) => Document[]): Partial<Options> {
  return {
    context: CONTEXT,
    scriptEnabled: false,
    useStrictMode: true,
    collectionResolver: resolve,
  };
}

const BASE_OPTIONS = mingoOptions();

function findRefused(value: unknown, depth = 0): string | undefined {
  if (depth > 100 || value === null || typeof value !== "object") return undefined;
  if (Array.isArray(value)) {
    for (const v of value) {
      const r = findRefused(v, depth + 1);
      if (r) return r;
    }
    return undefined;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  for (const [k, v] of Object.entries(value)) {
    if (k[0] === "$" && REFUSED.includes(k)) return k;
    const r = findRefused(v, depth + 1);
    if (r) return r;
  }
  return undefined;
}

/** Refuses JavaScript-running and collection-writing operators anywhere in an expression. */
export function refuseScripts(value: unknown): void {
  const op = findRefused(value);
  if (op) {
    throw new CommandError(
      op === "$out" || op === "$merge" ? 40324 : 31264,
      op === "$out" || op === "$merge" ? "Location40324" : "Location31264",
      `Cannot run ${op}: not supported by this server (no JavaScript, no $out/$merge)`,
    );
  }
}

/** Translates a mingo failure into a command error (BadValue unless we know better). */
export function mingoError(e: unknown): never {
  if (e instanceof CommandError) throw e;
  const message = e instanceof Error ? e.message : String(e);
  throw badValue(message);
}

/** A compiled filter: `test(doc)`. */
export interface Matcher {
  test(doc: Document): boolean;
  readonly empty: boolean;
}

const MATCH_ALL: Matcher = { test: () => true, empty: true };

/** Compiles a filter document with mingo; throws BadValue for a malformed one. */
export function compileFilter(filter: unknown): Matcher {
  if (filter === undefined || filter === null) return MATCH_ALL;
  if (typeof filter !== "object" || Array.isArray(filter)) {
    throw new CommandError(14, "TypeMismatch", "Cannot parse filter: it must be an object");
  }
  if (Object.keys(filter).length === 0) return MATCH_ALL;
  refuseScripts(filter);
  try {
    const query = new Query(filter as Document, BASE_OPTIONS);
    return {
      empty: false,
      test(doc) {
        try {
          return query.test(doc);
        } catch (e) {
          return mingoError(e);
        }
      },
    };
  } catch (e) {
    return mingoError(e);
  }
}

function isPlainObject(v: unknown): v is Document {
  return v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype;
}

/** The value of a top-level equality in a filter (`{f: v}` or `{f: {$eq: v}}`), if any. */
function equalityValue(value: unknown): { value: unknown } | undefined {
  if (value instanceof RegExp) return undefined;
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === "$eq") {
      const v = value.$eq;
      if (v instanceof RegExp || Array.isArray(v) || isPlainObject(v)) return undefined;
      return { value: v };
    }
    if (keys.some((k) => k[0] === "$")) return undefined;
    return undefined; // a whole-subdocument equality: scan
  }
  if (Array.isArray(value) || value === undefined) return undefined;
  return { value };
}

/**
 * Candidate documents for a filter: through `getById` or an index when the filter has a
 * top-level equality on `_id` or an indexed field, otherwise every document. Candidates are a
 * superset of the matches; the caller still filters them with `compileFilter`.
 */
export function candidates(
  coll: CollectionStore,
  filter: Document | undefined,
): Iterable<Document> {
  if (filter && isPlainObject(filter)) {
    const fields: [string, unknown][] = [];
    for (const [k, v] of Object.entries(filter)) {
      if (k[0] === "$") {
        if (k === "$and" && Array.isArray(v)) {
          for (const part of v) {
            if (isPlainObject(part)) {
              for (const [k2, v2] of Object.entries(part)) if (k2[0] !== "$") fields.push([k2, v2]);
            }
          }
        }
        continue;
      }
      fields.push([k, v]);
    }
    // _id first: a point lookup.
    for (const [k, v] of fields) {
      if (k !== "_id") continue;
      const eq = equalityValue(v);
      if (eq && eq.value !== null) {
        const doc = coll.getById(eq.value);
        return doc ? [doc] : [];
      }
    }
    for (const [k, v] of fields) {
      const eq = equalityValue(v);
      if (!eq || eq.value === null) continue; // null also matches missing fields
      const found = coll.lookup(k, eq.value);
      if (found) return found;
    }
  }
  return coll.all();
}

/** The documents of `coll` matching `filter`, lazily, in candidate order. */
export function* matching(
  coll: CollectionStore | undefined,
  filter: Document | undefined,
  matcher = compileFilter(filter),
): Generator<Document> {
  if (!coll) return;
  for (const doc of candidates(coll, filter)) if (matcher.test(doc)) yield doc;
}

/** Applies a find projection to a stream of documents (mingo's `$project` semantics). */
export function project(
  docs: Iterable<Document>,
  projection: Document | undefined,
): Iterable<Document> {
  if (!projection || Object.keys(projection).length === 0) return docs;
  refuseScripts(projection);
  try {
    const it = new Aggregator([{ $project: projection }], BASE_OPTIONS).stream(docs);
    return rethrowingMingoErrors(it);
  } catch (e) {
    return mingoError(e);
  }
}

/** Iterates a mingo stream, turning what mingo throws midway into the server's errors. */
function rethrowingMingoErrors(
  it: { next(): { done?: boolean; value?: unknown } },
): Iterable<Document> {
  return {
    *[Symbol.iterator]() {
      for (;;) {
        let r: { done?: boolean; value?: unknown };
        try {
          r = it.next();
        } catch (e) {
          return mingoError(e);
        }
        if (r.done) return;
        yield r.value as Document;
      }
    },
  };
}

/** Runs an aggregation pipeline over `docs` (lazily where mingo allows). */
export function aggregate(
  docs: Iterable<Document>,
  pipeline: Document[],
  resolve?: (name: string) => Document[],
): Iterable<Document> {
  refuseScripts(pipeline);
  try {
    const it = new Aggregator(pipeline, mingoOptions(resolve)).stream(docs);
    return rethrowingMingoErrors(it);
  } catch (e) {
    return mingoError(e);
  }
}

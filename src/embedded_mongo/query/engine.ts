/**
 * Query matching, projection and aggregation through mingo, with JavaScript execution
 * (`$where`, `$function`, `$accumulator`) removed from the operator set and disabled by option.
 * A simple filter (`simple.ts`) is tested without mingo, reading only the fields it names from
 * the stored document; mingo is built only for the rest (and, lazily, for a stored value a
 * simple predicate cannot judge). `matching` walks the candidates the planner (`plan.ts`) picks.
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
import { badValue, CommandError } from "../errors.ts";
import { MISSING } from "../storage/keys.ts";
import type { CollectionStore } from "../storage/types.ts";
import { candidateSlots } from "./plan.ts";
import { type Predicate, simplePredicates } from "./simple.ts";

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

/** A compiled filter. */
export interface Matcher {
  /** Tests a document object. */
  test(doc: Document): boolean;
  /** Tests the stored document in `slot`, reading only what the filter needs. */
  testSlot(coll: CollectionStore, slot: number): boolean;
  readonly empty: boolean;
}

const MATCH_ALL: Matcher = { test: () => true, testSlot: () => true, empty: true };

function mingoQuery(filter: Document): Query {
  refuseScripts(filter);
  try {
    return new Query(filter, BASE_OPTIONS);
  } catch (e) {
    return mingoError(e);
  }
}

function mingoTest(query: Query, doc: Document): boolean {
  try {
    return query.test(doc);
  } catch (e) {
    return mingoError(e);
  }
}

/** A matcher over simple predicates; mingo (built on first need) judges what they cannot. */
function simpleMatcher(filter: Document, preds: Predicate[]): Matcher {
  let query: Query | undefined;
  const byMingo = (doc: Document) => mingoTest(query ??= mingoQuery(filter), doc);
  return {
    empty: false,
    test(doc) {
      for (const p of preds) {
        const r = p.test(Object.hasOwn(doc, p.field) ? doc[p.field] : MISSING);
        if (r === undefined) return byMingo(doc);
        if (!r) return false;
      }
      return true;
    },
    testSlot(coll, slot) {
      for (const p of preds) {
        const r = p.test(coll.field(slot, p.field));
        if (r === undefined) return byMingo(coll.decode(slot));
        if (!r) return false;
      }
      return true;
    },
  };
}

/** Compiles a filter; throws BadValue for a malformed one. */
export function compileFilter(filter: unknown): Matcher {
  if (filter === undefined || filter === null) return MATCH_ALL;
  if (typeof filter !== "object" || Array.isArray(filter)) {
    throw new CommandError(14, "TypeMismatch", "Cannot parse filter: it must be an object");
  }
  if (Object.keys(filter).length === 0) return MATCH_ALL;
  const preds = simplePredicates(filter as Document);
  if (preds) return simpleMatcher(filter as Document, preds);
  const query = mingoQuery(filter as Document);
  return {
    empty: false,
    test: (doc) => mingoTest(query, doc),
    testSlot: (coll, slot) => mingoTest(query, coll.decode(slot)),
  };
}

/** The slots of `coll` whose documents match `filter`, lazily, in candidate order. */
export function* matching(
  coll: CollectionStore | undefined,
  filter: Document | undefined,
  matcher = compileFilter(filter),
): Generator<number> {
  if (!coll) return;
  for (const slot of candidateSlots(coll, filter)) {
    if (coll.has(slot) && matcher.testSlot(coll, slot)) yield slot;
  }
}

/** The documents in `slots`, decoded one by one as they are reached (gone ones skipped). */
export function* decoded(coll: CollectionStore, slots: Iterable<number>): Generator<Document> {
  for (const slot of slots) if (coll.has(slot)) yield coll.decode(slot);
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

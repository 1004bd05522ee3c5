/**
 * `find`: filter, sort, projection, skip, limit, batchSize, singleBatch; the rest through a
 * cursor. Without a sort or a projection, each document goes out as the BSON bytes the store
 * gives (never built as an object); `findOne({_id})` is one lookup, one field compare and one
 * copy, through `pointFind` (no filter compiled, no generators, no cursor).
 */
import { type Document, Long } from "bson";
import { CommandError } from "../errors.ts";
import { compileFilter, decoded, matching, project } from "../query/engine.ts";
import { equalityPredicate } from "../query/simple.ts";
import { sortComparator } from "../query/values.ts";
import type { CollectionStore } from "../storage/types.ts";
import {
  collectionName,
  type Command,
  namespace,
  optionalDocument,
  optionalInt,
} from "./context.ts";

/** Sort keys that order documents (`$natural` and `$meta` sorts are accepted and ignored). */
export function effectiveSort(sort: Document | undefined): Document | undefined {
  if (!sort) return undefined;
  const out: Document = {};
  for (const [k, v] of Object.entries(sort)) {
    if (k === "$natural" || (v !== null && typeof v === "object")) continue;
    if (v !== 1 && v !== -1) {
      throw new CommandError(
        15975,
        "Location15975",
        "$sort key ordering must be 1 (for ascending) or -1 (for descending)",
      );
    }
    out[k] = v;
  }
  return Object.keys(out).length ? out : undefined;
}

function* skipLimit<T>(items: Iterable<T>, skip: number, limit: number): Generator<T> {
  if (limit <= 0) return;
  let skipped = 0;
  let n = 0;
  for (const item of items) {
    if (skipped < skip) {
      skipped++;
      continue;
    }
    yield item;
    if (++n >= limit) return;
  }
}

/** The BSON bytes of the documents in `slots`, read as they are reached. */
function* bsonOf(coll: CollectionStore, slots: Iterable<number>): Generator<Uint8Array> {
  for (const slot of slots) if (coll.has(slot)) yield coll.bson(slot);
}

/**
 * What a find-like query returns, lazily unless sorted: BSON bytes (no projection, no sort) or
 * documents.
 */
export function findDocuments(
  coll: CollectionStore | undefined,
  options: {
    filter?: Document;
    sort?: Document;
    skip?: number;
    limit?: number;
    projection?: Document;
  },
): Iterable<Document | Uint8Array> {
  const matcher = compileFilter(options.filter);
  const sort = effectiveSort(options.sort);
  const skip = options.skip ?? 0;
  const limit = options.limit || Infinity;
  const projection = options.projection && Object.keys(options.projection).length > 0
    ? options.projection
    : undefined;
  if (!coll) return project([], projection);
  const slots = matching(coll, options.filter, matcher);
  if (sort) {
    const all = [...decoded(coll, slots)];
    all.sort(sortComparator(sort));
    return project(all.slice(skip, limit === Infinity ? undefined : skip + limit), projection);
  }
  const page = skipLimit(slots, skip, limit);
  return projection ? project(decoded(coll, page), projection) : bsonOf(coll, page);
}

/**
 * The first batch of a find by equality on one field, answered without the general machinery,
 * or undefined when it does not apply. It exists because `findOne({_id})` (and `findOne` on
 * another indexed field) is the service's most frequent command. It applies when the filter is
 * exactly `{field: value}` with a scalar `value` (string, number, boolean, Date, ObjectId), with
 * no sort, projection or skip, and either `field` is `_id` (at most one match, so any limit and
 * batch size give that one document and a closed cursor) or `limit` is 1 and an index starting
 * with `field` gives the candidates. It reads the candidates the planner would, in its order,
 * and tests them with the predicate the general path uses; a stored value that predicate cannot
 * judge (it would ask mingo) sends the whole command down the general path.
 */
export function pointFind(
  coll: CollectionStore | undefined,
  filter: Document | undefined,
  limit: number,
): Uint8Array[] | undefined {
  if (filter === undefined) return undefined;
  let field: string | undefined;
  for (const k in filter) {
    if (field !== undefined) return undefined;
    field = k;
  }
  if (field === undefined || field[0] === "$" || (field !== "_id" && limit !== 1)) {
    return undefined;
  }
  const value = filter[field];
  const pred = equalityPredicate(field, value);
  if (!pred) return undefined;
  if (!coll) return [];
  let candidates: number[] | undefined;
  if (field === "_id") {
    const slot = coll.slotOf(value);
    if (slot === undefined) return [];
    candidates = [slot];
  } else {
    candidates = coll.lookupSlots(field, value);
    if (!candidates) return undefined;
  }
  for (const slot of candidates) {
    if (!coll.has(slot)) continue;
    const r = pred.test(coll.field(slot, field));
    if (r === undefined) return undefined;
    if (r) return [coll.bson(slot)];
  }
  return [];
}

function isEmpty(doc: Document | undefined): boolean {
  if (doc === undefined) return true;
  for (const _ in doc) return false;
  return true;
}

export const find: Command = {
  run(cmd, ctx): Document {
    const name = collectionName(cmd, "find");
    let limit = optionalInt(cmd, "limit", -Infinity);
    let singleBatch = cmd.singleBatch === true;
    if (limit !== undefined && limit < 0) {
      limit = -limit;
      singleBatch = true;
    }
    const batchSize = optionalInt(cmd, "batchSize", 0);
    const filter = optionalDocument(cmd, "filter");
    const sort = optionalDocument(cmd, "sort");
    const projection = optionalDocument(cmd, "projection");
    const skip = optionalInt(cmd, "skip", 0);
    const coll = ctx.store.getCollection(ctx.db, name);
    const ns = namespace(ctx, name);
    if (sort === undefined && isEmpty(projection) && !skip) {
      const batch = pointFind(coll, filter, limit ?? 0);
      if (batch) return { cursor: { firstBatch: batch, id: Long.ZERO, ns }, ok: 1 };
    }
    const docs = findDocuments(coll, { filter, sort, projection, skip, limit });
    const first = ctx.cursors.open(ns, docs, batchSize || undefined, singleBatch);
    return { cursor: { firstBatch: first.docs, id: first.id, ns }, ok: 1 };
  },
};

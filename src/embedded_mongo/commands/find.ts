/** `find`: filter, sort, projection, skip, limit, batchSize, singleBatch; the rest through a cursor. */
import type { Document } from "bson";
import { compileFilter, matching, project } from "../query/engine.ts";
import { CommandError } from "../query/errors.ts";
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

function* skipLimit(docs: Iterable<Document>, skip: number, limit: number): Generator<Document> {
  if (limit <= 0) return;
  let skipped = 0;
  let n = 0;
  for (const doc of docs) {
    if (skipped < skip) {
      skipped++;
      continue;
    }
    yield doc;
    if (++n >= limit) return;
  }
}

/** The documents a find-like query returns, lazily unless sorted. */
export function findDocuments(
  coll: CollectionStore | undefined,
  options: {
    filter?: Document;
    sort?: Document;
    skip?: number;
    limit?: number;
    projection?: Document;
  },
): Iterable<Document> {
  const matcher = compileFilter(options.filter);
  const sort = effectiveSort(options.sort);
  const skip = options.skip ?? 0;
  const limit = options.limit || Infinity;
  let docs: Iterable<Document>;
  if (sort) {
    const all = [...matching(coll, options.filter, matcher)];
    all.sort(sortComparator(sort));
    docs = all.slice(skip, limit === Infinity ? undefined : skip + limit);
  } else {
    docs = skipLimit(matching(coll, options.filter, matcher), skip, limit);
  }
  return project(docs, options.projection);
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
    const docs = findDocuments(ctx.store.getCollection(ctx.db, name), {
      filter: optionalDocument(cmd, "filter"),
      sort: optionalDocument(cmd, "sort"),
      projection: optionalDocument(cmd, "projection"),
      skip: optionalInt(cmd, "skip", 0),
      limit,
    });
    const ns = namespace(ctx, name);
    const first = ctx.cursors.open(ns, docs, batchSize || undefined, singleBatch);
    return { cursor: { firstBatch: first.docs, id: first.id, ns }, ok: 1 };
  },
};

/**
 * `count`: how many documents match (with skip and limit). No filter: the collection's size. A
 * filter that is one range (or equality) over dates or numbers on an indexed field is counted
 * in the ordered index alone (`indexedCount`); any other filter walks its candidates.
 */
import type { Document } from "bson";
import { compileFilter, matching } from "../query/engine.ts";
import { indexedCount } from "../query/plan.ts";
import type { CollectionStore } from "../storage/types.ts";
import { collectionName, type Command, optionalDocument, optionalInt } from "./context.ts";

/** How many documents of `coll` match `filter`, from an index when it can say. */
export function countMatching(coll: CollectionStore | undefined, filter?: Document): number {
  const matcher = compileFilter(filter);
  if (!coll) return 0;
  if (matcher.empty) return coll.count();
  const fromIndex = indexedCount(coll, filter);
  if (fromIndex !== undefined) return fromIndex;
  let n = 0;
  for (const _ of matching(coll, filter, matcher)) n++;
  return n;
}

export const count: Command = {
  run(cmd, ctx): Document {
    const name = collectionName(cmd, "count");
    const filter = optionalDocument(cmd, "query");
    const skip = optionalInt(cmd, "skip", 0) ?? 0;
    const limit = Math.abs(optionalInt(cmd, "limit", -Infinity) ?? 0) || Infinity;
    const n = countMatching(ctx.store.getCollection(ctx.db, name), filter);
    return { n: Math.max(0, Math.min(n - skip, limit)), ok: 1 };
  },
};

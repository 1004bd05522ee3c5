/** `count`: how many documents match (with skip and limit). */
import type { Document } from "bson";
import { compileFilter, matching } from "../query/engine.ts";
import { collectionName, type Command, optionalDocument, optionalInt } from "./context.ts";

export const count: Command = {
  run(cmd, ctx): Document {
    const name = collectionName(cmd, "count");
    const filter = optionalDocument(cmd, "query");
    const skip = optionalInt(cmd, "skip", 0) ?? 0;
    const limit = Math.abs(optionalInt(cmd, "limit", -Infinity) ?? 0) || Infinity;
    const coll = ctx.store.getCollection(ctx.db, name);
    let n = 0;
    if (coll && (!filter || Object.keys(filter).length === 0)) {
      n = coll.count();
    } else {
      const matcher = compileFilter(filter);
      for (const _ of matching(coll, filter, matcher)) n++;
    }
    return { n: Math.max(0, Math.min(n - skip, limit)), ok: 1 };
  },
};

/** `drop`: removes a collection and its indexes (a missing collection is not an error). */
import type { Document } from "bson";
import { collectionName, type Command, namespace } from "./context.ts";

export const drop: Command = {
  write: true,
  run(cmd, ctx): Document {
    const name = collectionName(cmd, "drop");
    const coll = ctx.store.getCollection(ctx.db, name);
    const nIndexesWas = coll ? coll.listIndexes().length : 0;
    ctx.store.dropCollection(ctx.db, name);
    return coll ? { nIndexesWas, ns: namespace(ctx, name), ok: 1 } : { ok: 1 };
  },
};

/** `create`: creates an empty collection (an existing one is left as it is). */
import type { Document } from "bson";
import { collectionName, type Command } from "./context.ts";

const GENERIC = new Set([
  "create",
  "$db",
  "lsid",
  "$clusterTime",
  "$readPreference",
  "writeConcern",
  "comment",
  "apiVersion",
  "apiStrict",
  "apiDeprecationErrors",
  "txnNumber",
  "maxTimeMS",
]);

export const create: Command = {
  write: true,
  run(cmd, ctx): Document {
    const name = collectionName(cmd, "create");
    if (!ctx.store.getCollection(ctx.db, name)) {
      const options: Document = {};
      for (const [k, v] of Object.entries(cmd)) if (!GENERIC.has(k)) options[k] = v;
      ctx.store.createCollection(ctx.db, name, options);
    }
    return { ok: 1 };
  },
};

/** `listIndexes`: the collection's indexes through a cursor. */
import type { Document } from "bson";
import { CommandError } from "../errors.ts";
import { collectionName, type Command, namespace, optionalInt } from "./context.ts";

export const listIndexes: Command = {
  run(cmd, ctx): Document {
    const name = collectionName(cmd, "listIndexes");
    const coll = ctx.store.getCollection(ctx.db, name);
    if (!coll) {
      throw new CommandError(26, "NamespaceNotFound", `ns does not exist: ${ctx.db}.${name}`);
    }
    const docs = coll.listIndexes().map((spec) => ({ v: 2, ...spec }));
    const ns = namespace(ctx, name);
    const batchSize = cmd.cursor && typeof cmd.cursor === "object"
      ? optionalInt(cmd.cursor as Document, "batchSize", 0)
      : undefined;
    const first = ctx.cursors.open(ns, docs, batchSize || undefined);
    return { cursor: { firstBatch: first.docs, id: first.id, ns }, ok: 1 };
  },
};

/** `listCollections`: the database's collections (filter, nameOnly) through a cursor. */
import type { Document } from "bson";
import { compileFilter } from "../query/engine.ts";
import { type Command, optionalDocument, optionalInt } from "./context.ts";

export const listCollections: Command = {
  run(cmd, ctx): Document {
    const matcher = compileFilter(optionalDocument(cmd, "filter"));
    const nameOnly = cmd.nameOnly === true;
    const docs: Document[] = [];
    for (const { name, options } of ctx.store.listCollections(ctx.db)) {
      const full: Document = {
        name,
        type: "collection",
        options: options ?? {},
        info: { readOnly: false },
        idIndex: { v: 2, key: { _id: 1 }, name: "_id_" },
      };
      if (!matcher.test(full)) continue;
      docs.push(nameOnly ? { name, type: "collection" } : full);
    }
    const ns = `${ctx.db}.$cmd.listCollections`;
    const batchSize = cmd.cursor && typeof cmd.cursor === "object"
      ? optionalInt(cmd.cursor as Document, "batchSize", 0)
      : undefined;
    const first = ctx.cursors.open(ns, docs, batchSize || undefined);
    return { cursor: { firstBatch: first.docs, id: first.id, ns }, ok: 1 };
  },
};

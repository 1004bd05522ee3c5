/** `listDatabases`: every database with a collection in it. */
import type { Document } from "bson";
import { compileFilter } from "../query/engine.ts";
import { type Command, optionalDocument } from "./context.ts";

export const listDatabases: Command = {
  run(cmd, ctx): Document {
    const matcher = compileFilter(optionalDocument(cmd, "filter"));
    const all = ctx.store.listDatabases().map((d) => ({ ...d }));
    const databases = all.filter((d) => matcher.test(d));
    if (cmd.nameOnly) return { databases: databases.map((d) => ({ name: d.name })), ok: 1 };
    const totalSize = databases.reduce((sum, d) => sum + d.sizeOnDisk, 0);
    return { databases, totalSize, totalSizeMb: Math.floor(totalSize / 2 ** 20), ok: 1 };
  },
};

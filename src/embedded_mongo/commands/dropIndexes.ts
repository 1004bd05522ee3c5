/** `dropIndexes`: drops one index (by name or key pattern), several, or all but `_id_` ("*"). */
import type { Document } from "bson";
import { CommandError } from "../errors.ts";
import { asCommandError, collectionName, type Command } from "./context.ts";

function sameKey(a: Document, b: Document): boolean {
  const ka = Object.entries(a);
  const kb = Object.entries(b);
  return ka.length === kb.length && ka.every(([k, v], i) => k === kb[i][0] && v === kb[i][1]);
}

export const dropIndexes: Command = {
  write: true,
  run(cmd, ctx): Document {
    const name = collectionName(cmd, "dropIndexes");
    const coll = ctx.store.getCollection(ctx.db, name);
    if (!coll) {
      throw new CommandError(26, "NamespaceNotFound", `ns not found ${ctx.db}.${name}`);
    }
    const indexes = coll.listIndexes();
    const nIndexesWas = indexes.length;
    const target = cmd.index;
    let names: string[];
    if (typeof target === "string") names = [target];
    else if (Array.isArray(target) && target.every((t) => typeof t === "string")) names = target;
    else if (target && typeof target === "object") {
      const found = indexes.find((i) => sameKey(i.key, target as Document));
      if (!found) {
        throw new CommandError(
          27,
          "IndexNotFound",
          `can't find index with key: ${JSON.stringify(target)}`,
        );
      }
      names = [found.name];
    } else {
      throw new CommandError(
        14,
        "TypeMismatch",
        "Cannot drop index: 'index' must be a name, names, a key pattern or '*'",
      );
    }
    for (const n of names) {
      if (n !== "*" && !indexes.some((i) => i.name === n)) {
        throw new CommandError(27, "IndexNotFound", `index not found with name [${n}]`);
      }
      if (n === "_id_") throw new CommandError(72, "InvalidOptions", "cannot drop _id index");
    }
    try {
      for (const n of names) coll.dropIndex(n);
    } catch (e) {
      asCommandError(e);
    }
    return { nIndexesWas, ok: 1 };
  },
};

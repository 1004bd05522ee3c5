/** `delete`: removes the first (limit 1) or every (limit 0) matching document per statement. */
import type { Document } from "bson";
import { matching } from "../query/engine.ts";
import { failedToParse } from "../errors.ts";
import { collectionName, type Command, documentArray, writeError } from "./context.ts";

export const deleteCommand: Command = {
  write: true,
  run(cmd, ctx): Document {
    const name = collectionName(cmd, "delete");
    const statements = documentArray(cmd, "deletes");
    const ordered = cmd.ordered !== false;
    const coll = ctx.store.getCollection(ctx.db, name);
    let n = 0;
    const writeErrors: Document[] = [];
    for (let i = 0; i < statements.length; i++) {
      try {
        const { q, limit } = statements[i];
        if (q === null || typeof q !== "object" || Array.isArray(q)) {
          throw failedToParse("BSON field 'delete.deletes.q' must be an object");
        }
        if (limit !== 0 && limit !== 1) {
          throw failedToParse("The limit field in delete objects must be 0 or 1");
        }
        if (!coll) continue;
        const victims: unknown[] = [];
        for (const slot of matching(coll, q as Document)) {
          victims.push(coll.field(slot, "_id"));
          if (limit === 1) break;
        }
        for (const id of victims) if (coll.delete(id)) n++;
      } catch (e) {
        writeErrors.push(writeError(i, e));
        if (ordered) break;
      }
    }
    return writeErrors.length ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
  },
};

/** `findAndModify`: one document found (sorted), then updated, replaced or removed, atomically. */
import type { Document } from "bson";
import { project } from "../query/engine.ts";
import { failedToParse } from "../errors.ts";
import { applyUpdate, sameDocument, upsertDocument } from "../query/update.ts";
import { asCommandError, collectionName, type Command, optionalDocument } from "./context.ts";
import { firstMatch, validateUpdate } from "./update.ts";

function projected(doc: Document | undefined, fields: Document | undefined): Document | null {
  if (!doc) return null;
  for (const d of project([doc], fields)) return d;
  return null;
}

export const findAndModify: Command = {
  write: true,
  run(cmd, ctx): Document {
    const field = "findAndModify" in cmd ? "findAndModify" : "findandmodify";
    const name = collectionName(cmd, field);
    const filter = optionalDocument(cmd, "query") ?? {};
    const sort = optionalDocument(cmd, "sort");
    const fields = optionalDocument(cmd, "fields");
    const remove = cmd.remove === true;
    const returnNew = cmd.new === true;
    const upsert = cmd.upsert === true;
    const u = cmd.update;
    const arrayFilters = Array.isArray(cmd.arrayFilters)
      ? cmd.arrayFilters as Document[]
      : undefined;
    if (remove && u !== undefined) {
      throw failedToParse("Cannot specify both an update and remove=true");
    }
    if (!remove && u === undefined) {
      throw failedToParse("Either an update or remove=true must be specified");
    }
    if (remove && (returnNew || upsert)) {
      throw failedToParse(
        "Cannot specify both new=true and remove=true; 'remove' always returns the deleted document",
      );
    }
    const coll = ctx.store.getCollection(ctx.db, name);
    if (remove) {
      const doc = firstMatch(coll, filter, sort);
      if (!doc) return { lastErrorObject: { n: 0 }, value: null, ok: 1 };
      coll!.delete(doc._id);
      return { lastErrorObject: { n: 1 }, value: projected(doc, fields), ok: 1 };
    }
    validateUpdate(u, false);
    const doc = firstMatch(coll, filter, sort);
    try {
      if (!doc) {
        if (!upsert) {
          return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
        }
        const inserted = upsertDocument(filter, u, arrayFilters);
        (coll ?? ctx.store.createCollection(ctx.db, name)).insert(inserted);
        return {
          lastErrorObject: { n: 1, updatedExisting: false, upserted: inserted._id },
          value: returnNew ? projected(inserted, fields) : null,
          ok: 1,
        };
      }
      const next = applyUpdate(doc, u, { filter, arrayFilters });
      if (!sameDocument(doc, next)) coll!.replace(doc._id, next);
      return {
        lastErrorObject: { n: 1, updatedExisting: true },
        value: projected(returnNew ? next : doc, fields),
        ok: 1,
      };
    } catch (e) {
      return asCommandError(e);
    }
  },
};

/** `insert`: adds documents (an ObjectId `_id` when missing, `_id` first); ordered stops at the first error. */
import { type Document, ObjectId } from "bson";
import { CommandError } from "../errors.ts";
import { idFirst } from "../query/update.ts";
import { collectionName, type Command, documentArray, writeError } from "./context.ts";

/** A document as it will be stored: `_id` present and first, `_id` of an allowed type. */
export function prepareForInsert(doc: Document): Document {
  if (!("_id" in doc)) return { _id: new ObjectId(), ...doc };
  const id = doc._id;
  if (Array.isArray(id)) throw new CommandError(2, "BadValue", "can't use an array for _id");
  if (id instanceof RegExp) throw new CommandError(2, "BadValue", "can't use a regex for _id");
  if (id === undefined) throw new CommandError(2, "BadValue", "can't use undefined for _id");
  if (id !== null && typeof id === "object" && Object.getPrototypeOf(id) === Object.prototype) {
    checkIdKeys(id as Document);
  }
  return idFirst(doc);
}

function checkIdKeys(value: Document): void {
  for (const [k, v] of Object.entries(value)) {
    if (k[0] === "$") {
      throw new CommandError(
        2,
        "BadValue",
        `_id fields may not contain '$'-prefixed fields: ${k} is not valid for storage.`,
      );
    }
    if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
      checkIdKeys(v as Document);
    }
  }
}

export const insert: Command = {
  write: true,
  run(cmd, ctx): Document {
    const name = collectionName(cmd, "insert");
    const documents = documentArray(cmd, "documents");
    const ordered = cmd.ordered !== false;
    const coll = ctx.store.getCollection(ctx.db, name) ??
      ctx.store.createCollection(ctx.db, name);
    let n = 0;
    const writeErrors: Document[] = [];
    for (let i = 0; i < documents.length; i++) {
      try {
        coll.insert(prepareForInsert(documents[i]));
        n++;
      } catch (e) {
        writeErrors.push(writeError(i, e));
        if (ordered) break;
      }
    }
    return writeErrors.length ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
  },
};

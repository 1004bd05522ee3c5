/** `createIndexes`: builds indexes (unique, sparse, TTL, partial), creating the collection if needed. */
import type { Document } from "bson";
import { CommandError } from "../errors.ts";
import type { IndexSpec } from "../storage/types.ts";
import { asCommandError, collectionName, type Command, documentArray } from "./context.ts";

function toSpec(raw: Document): IndexSpec {
  const key = raw.key;
  if (
    key === null || typeof key !== "object" || Array.isArray(key) || Object.keys(key).length === 0
  ) {
    throw new CommandError(
      67,
      "CannotCreateIndex",
      "Cannot create index: 'key' must be a non-empty object",
    );
  }
  for (const [field, dir] of Object.entries(key as Document)) {
    if (field === "" || (typeof dir !== "number" && typeof dir !== "string")) {
      throw new CommandError(
        67,
        "CannotCreateIndex",
        `Cannot create index: bad key ${field}: ${String(dir)}`,
      );
    }
  }
  const name = typeof raw.name === "string" && raw.name !== ""
    ? raw.name
    : Object.entries(key as Document).map(([k, v]) => `${k}_${v}`).join("_");
  const spec: IndexSpec = { name, key: key as Record<string, number | string> };
  if (raw.unique === true) spec.unique = true;
  if (raw.sparse === true) spec.sparse = true;
  if (raw.expireAfterSeconds !== undefined) {
    const s = Number(raw.expireAfterSeconds);
    if (!Number.isFinite(s) || s < 0) {
      throw new CommandError(
        67,
        "CannotCreateIndex",
        "Cannot create index: expireAfterSeconds must be a non-negative number",
      );
    }
    spec.expireAfterSeconds = s;
  }
  if (raw.partialFilterExpression !== undefined) {
    spec.partialFilterExpression = raw.partialFilterExpression as Document;
  }
  return spec;
}

export const createIndexes: Command = {
  write: true,
  run(cmd, ctx): Document {
    const name = collectionName(cmd, "createIndexes");
    const specs = documentArray(cmd, "indexes").map(toSpec);
    if (specs.length === 0) {
      throw new CommandError(2, "BadValue", "Must specify at least one index to create");
    }
    const existing = ctx.store.getCollection(ctx.db, name);
    const coll = existing ?? ctx.store.createCollection(ctx.db, name);
    const before = coll.listIndexes().length;
    try {
      coll.createIndexes(specs);
    } catch (e) {
      asCommandError(e);
    }
    const after = coll.listIndexes().length;
    const reply: Document = {
      numIndexesBefore: before,
      numIndexesAfter: after,
      createdCollectionAutomatically: !existing,
    };
    if (before === after) reply.note = "all indexes already exist";
    reply.ok = 1;
    return reply;
  },
};

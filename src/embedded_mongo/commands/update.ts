/**
 * `update`: operator, replacement and pipeline updates, upsert, multi, arrayFilters and (8.0)
 * sort for single updates. Each statement runs in one synchronous stretch, so it is atomic.
 */
import type { Document } from "bson";
import { compileFilter, decoded, matching } from "../query/engine.ts";
import { CommandError, failedToParse } from "../errors.ts";
import {
  applyUpdate,
  sameDocument,
  updateKind,
  upsertDocument,
  validateOperatorUpdate,
  validateReplacement,
} from "../query/update.ts";
import { sortComparator } from "../query/values.ts";
import type { CollectionStore, Store } from "../storage/types.ts";
import { collectionName, type Command, documentArray, writeError } from "./context.ts";
import { effectiveSort } from "./find.ts";

/** Checks an update (`u`) once; returns its kind. */
export function validateUpdate(u: unknown, multi: boolean): ReturnType<typeof updateKind> {
  const kind = updateKind(u);
  if (kind === "operator") validateOperatorUpdate(u as Document);
  else if (kind === "replacement") {
    if (multi) throw failedToParse("multi update is not supported for replacement-style update");
    validateReplacement(u as Document);
  } else {
    for (const stage of u as unknown[]) {
      if (stage === null || typeof stage !== "object" || Array.isArray(stage)) {
        throw failedToParse("Cannot run update: each pipeline stage must be an object");
      }
    }
  }
  return kind;
}

/** The first document matching `filter` in `sort` order (natural order without one). */
export function firstMatch(
  coll: CollectionStore | undefined,
  filter: Document,
  sort: Document | undefined,
): Document | undefined {
  const effective = effectiveSort(sort);
  const matcher = compileFilter(filter);
  if (!coll) return undefined;
  if (!effective) {
    for (const slot of matching(coll, filter, matcher)) return coll.decode(slot);
    return undefined;
  }
  const cmp = sortComparator(effective);
  let best: Document | undefined;
  for (const doc of decoded(coll, matching(coll, filter, matcher))) {
    if (best === undefined || cmp(doc, best) < 0) best = doc;
  }
  return best;
}

interface StatementResult {
  n: number;
  nModified: number;
  upserted?: unknown;
}

function optionalArrayFilters(stmt: Document): Document[] | undefined {
  const af = stmt.arrayFilters;
  if (af === undefined || af === null) return undefined;
  if (!Array.isArray(af)) throw failedToParse("arrayFilters must be an array");
  return af as Document[];
}

export function runUpdateStatement(
  store: Store,
  db: string,
  name: string,
  stmt: Document,
): StatementResult {
  const filter = stmt.q;
  if (filter === null || typeof filter !== "object" || Array.isArray(filter)) {
    throw failedToParse("BSON field 'update.updates.q' must be an object");
  }
  const multi = stmt.multi === true;
  const u = stmt.u;
  validateUpdate(u, multi);
  const arrayFilters = optionalArrayFilters(stmt);
  const coll = store.getCollection(db, name);
  const targets: Document[] = [];
  if (multi) {
    if (coll) targets.push(...decoded(coll, [...matching(coll, filter as Document)]));
  } else {
    const one = firstMatch(coll, filter as Document, stmt.sort as Document | undefined);
    if (one) targets.push(one);
  }
  if (targets.length === 0) {
    if (stmt.upsert !== true) return { n: 0, nModified: 0 };
    const doc = upsertDocument(filter as Document, u, arrayFilters);
    (coll ?? store.createCollection(db, name)).insert(doc);
    return { n: 1, nModified: 0, upserted: doc._id };
  }
  // Compute every new version first, so a failing update leaves no document half-done.
  const updates = targets.map((doc) => ({
    doc,
    next: applyUpdate(doc, u, { filter: filter as Document, arrayFilters }),
  }));
  let nModified = 0;
  for (const { doc, next } of updates) {
    if (sameDocument(doc, next)) continue;
    coll!.replace(doc._id, next);
    nModified++;
  }
  return { n: targets.length, nModified };
}

export const update: Command = {
  write: true,
  run(cmd, ctx): Document {
    const name = collectionName(cmd, "update");
    const statements = documentArray(cmd, "updates");
    const ordered = cmd.ordered !== false;
    let n = 0;
    let nModified = 0;
    const upserted: Document[] = [];
    const writeErrors: Document[] = [];
    for (let i = 0; i < statements.length; i++) {
      try {
        const r = runUpdateStatement(ctx.store, ctx.db, name, statements[i]);
        n += r.n;
        nModified += r.nModified;
        if (r.upserted !== undefined) upserted.push({ index: i, _id: r.upserted });
      } catch (e) {
        if (!(e instanceof CommandError) && !(e instanceof Error && "code" in e)) throw e;
        writeErrors.push(writeError(i, e));
        if (ordered) break;
      }
    }
    const reply: Document = { n, nModified };
    if (upserted.length) reply.upserted = upserted;
    if (writeErrors.length) reply.writeErrors = writeErrors;
    reply.ok = 1;
    return reply;
  },
};

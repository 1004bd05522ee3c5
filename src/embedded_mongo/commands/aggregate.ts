/**
 * `aggregate`: a pipeline run by mingo over the collection (a leading `$match` picks its
 * candidates through an index), results through a cursor. `$out`, `$merge` and JavaScript
 * operators are refused. The pipeline of the driver's `countDocuments` (`$match`, optional
 * `$skip`/`$limit`, then `$group: {_id: <constant>, n: {$sum: 1}}`) is answered by counting, from
 * the ordered index when the filter is one range on an indexed date or number field.
 */
import type { Document } from "bson";
import { CommandError } from "../errors.ts";
import { aggregate as runPipeline, decoded } from "../query/engine.ts";
import { candidateSlots } from "../query/plan.ts";
import type { CollectionStore } from "../storage/types.ts";
import { type Command, type CommandContext, namespace, optionalInt } from "./context.ts";
import { countMatching } from "./count.ts";

function checkPipeline(cmd: Document): Document[] {
  if (!Array.isArray(cmd.pipeline)) {
    throw new CommandError(14, "TypeMismatch", "Cannot run aggregate: 'pipeline' must be an array");
  }
  const pipeline = cmd.pipeline as Document[];
  for (const stage of pipeline) {
    if (
      stage === null || typeof stage !== "object" || Array.isArray(stage) ||
      Object.keys(stage).length !== 1
    ) {
      throw new CommandError(
        40323,
        "Location40323",
        "A pipeline stage specification object must contain exactly one field.",
      );
    }
  }
  if (cmd.explain) {
    throw new CommandError(2, "BadValue", "Cannot run aggregate: explain is not supported");
  }
  return pipeline;
}

function batchSizeOf(cmd: Document): number | undefined {
  const cursorSpec = cmd.cursor;
  if (cursorSpec === undefined || cursorSpec === null || typeof cursorSpec !== "object") {
    throw new CommandError(
      9,
      "FailedToParse",
      "The 'cursor' option is required, except for aggregate with the explain argument",
    );
  }
  return optionalInt(cursorSpec as Document, "batchSize", 0) || undefined;
}

function isCount(v: unknown): boolean {
  return v !== null && typeof v === "object" && Object.keys(v).length === 1 &&
    (v as Document).$sum === 1;
}

function wholeNumber(v: unknown): number | undefined {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : undefined;
}

/** The result of a `countDocuments`-shaped pipeline, or undefined for any other pipeline. */
function countPipeline(coll: CollectionStore | undefined, pipeline: Document[]) {
  const [first, ...rest] = pipeline;
  if (!first || !("$match" in first) || rest.length === 0) return undefined;
  const group = rest.pop()!.$group as Document | undefined;
  if (!group || typeof group !== "object") return undefined;
  const fields = Object.keys(group);
  const id = group._id;
  if (fields.length !== 2 || !("_id" in group) || (id !== null && typeof id !== "number")) {
    return undefined;
  }
  const out = fields.find((f) => f !== "_id")!;
  if (!isCount(group[out])) return undefined;
  let skip = 0;
  let limit = Infinity;
  for (const stage of rest) {
    if ("$skip" in stage && wholeNumber(stage.$skip) !== undefined && limit === Infinity) {
      skip += stage.$skip;
    } else if ("$limit" in stage && wholeNumber(stage.$limit)) limit = stage.$limit;
    else return undefined;
  }
  const n = Math.min(Math.max(0, countMatching(coll, first.$match) - skip), limit);
  return n > 0 ? [{ _id: id, [out]: n }] : [];
}

/** The documents a pipeline starts from, and the namespace its cursor reports. */
function source(cmd: Document, pipeline: Document[], ctx: CommandContext) {
  const target = cmd.aggregate;
  if (target === 1) {
    if (!pipeline[0] || !("$documents" in pipeline[0])) {
      throw new CommandError(
        73,
        "InvalidNamespace",
        "Cannot run aggregate: {aggregate: 1} needs $documents first",
      );
    }
    return { collName: "$cmd.aggregate", docs: [{}] as Iterable<Document> };
  }
  if (typeof target !== "string" || target === "") {
    throw new CommandError(73, "InvalidNamespace", "Cannot run aggregate: invalid collection name");
  }
  const coll = ctx.store.getCollection(ctx.db, target);
  if (!coll) return { collName: target, docs: [] as Iterable<Document> };
  const counted = countPipeline(coll, pipeline);
  if (counted) return { collName: target, docs: counted, done: true };
  const first = pipeline[0];
  const match = first && "$match" in first && first.$match && typeof first.$match === "object"
    ? first.$match as Document
    : undefined;
  return { collName: target, docs: decoded(coll, candidateSlots(coll, match)), coll };
}

export const aggregate: Command = {
  run(cmd, ctx): Document {
    const pipeline = checkPipeline(cmd);
    const batchSize = batchSizeOf(cmd);
    const { collName, docs, done } = source(cmd, pipeline, ctx);
    const resolve = (name: string) => {
      const coll = ctx.store.getCollection(ctx.db, name);
      return coll ? [...coll.all()] : [];
    };
    const results = done ? docs : runPipeline(docs, pipeline, resolve);
    const ns = namespace(ctx, collName);
    const first = ctx.cursors.open(ns, results, batchSize);
    return { cursor: { firstBatch: first.docs, id: first.id, ns }, ok: 1 };
  },
};

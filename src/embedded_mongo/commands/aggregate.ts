/**
 * `aggregate`: a pipeline run by mingo over the collection (a leading `$match` picks its
 * candidates through an index), results through a cursor. `$out`, `$merge` and JavaScript
 * operators are refused.
 */
import type { Document } from "bson";
import { aggregate as runPipeline, candidates } from "../query/engine.ts";
import { CommandError } from "../query/errors.ts";
import { type Command, namespace, optionalInt } from "./context.ts";

export const aggregate: Command = {
  run(cmd, ctx): Document {
    const target = cmd.aggregate;
    if (!Array.isArray(cmd.pipeline)) {
      throw new CommandError(
        14,
        "TypeMismatch",
        "Cannot run aggregate: 'pipeline' must be an array",
      );
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
    const cursorSpec = cmd.cursor;
    if (cursorSpec === undefined || cursorSpec === null || typeof cursorSpec !== "object") {
      throw new CommandError(
        9,
        "FailedToParse",
        "The 'cursor' option is required, except for aggregate with the explain argument",
      );
    }
    const batchSize = optionalInt(cursorSpec as Document, "batchSize", 0);
    let source: Iterable<Document> = [];
    let collName: string;
    if (target === 1) {
      collName = "$cmd.aggregate";
      if (!pipeline[0] || !("$documents" in pipeline[0])) {
        throw new CommandError(
          73,
          "InvalidNamespace",
          "Cannot run aggregate: {aggregate: 1} needs $documents first",
        );
      }
      source = [{}];
    } else if (typeof target === "string" && target !== "") {
      collName = target;
      const coll = ctx.store.getCollection(ctx.db, target);
      if (coll) {
        const first = pipeline[0];
        source = first && "$match" in first && first.$match && typeof first.$match === "object"
          ? candidates(coll, first.$match as Document)
          : coll.all();
      }
    } else {
      throw new CommandError(
        73,
        "InvalidNamespace",
        "Cannot run aggregate: invalid collection name",
      );
    }
    const resolve = (name: string) => {
      const coll = ctx.store.getCollection(ctx.db, name);
      return coll ? [...coll.all()] : [];
    };
    const docs = runPipeline(source, pipeline, resolve);
    const ns = namespace(ctx, collName);
    const first = ctx.cursors.open(ns, docs, batchSize || undefined);
    return { cursor: { firstBatch: first.docs, id: first.id, ns }, ok: 1 };
  },
};

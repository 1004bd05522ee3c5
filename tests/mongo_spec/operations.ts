/**
 * Entity operations of the unified test format, carried out with the real `mongodb` driver.
 *
 * `runOperation()` maps a spec operation (name + arguments) onto the driver call, with the spec's
 * argument names turned into driver options, and returns the result in the shape the CRUD spec
 * describes (cursors fully iterated, write results as plain documents). Unknown arguments are an
 * error, as the format requires. `UNSUPPORTED_OPERATIONS` lists the operations this runner leaves
 * out on purpose, with the reason a test using them is skipped.
 */
import type { BulkWriteResult, Collection, Db, Document, MongoClient } from "mongodb";
import { bsonType, isDocument } from "./match.ts";

/** Operations outside the embedded server's scope: a test using one is skipped with this reason. */
export const UNSUPPORTED_OPERATIONS: Record<string, string> = {
  clientBulkWrite: "client-level bulkWrite (8.0 admin command `bulkWrite`) is outside the scope",
  modifyCollection: "collMod (collection validators) is outside the scope",
  createChangeStream: "change streams are outside the scope",
  watch: "change streams are outside the scope",
  failPoint: "fail points (`configureFailPoint`) are outside the scope",
  targetedFailPoint: "fail points (`configureFailPoint`) are outside the scope",
  startTransaction: "transactions are outside the scope",
  withTransaction: "transactions are outside the scope",
  createSearchIndex: "Atlas Search indexes are outside the scope",
  createSearchIndexes: "Atlas Search indexes are outside the scope",
  dropSearchIndex: "Atlas Search indexes are outside the scope",
  listSearchIndexes: "Atlas Search indexes are outside the scope",
  updateSearchIndex: "Atlas Search indexes are outside the scope",
};

/**
 * Cases the `mongodb` Node driver cannot carry out as the spec asks, whatever the server: its own
 * unified CRUD runner skips them too (the tickets are the driver's). Keyed by case description.
 */
export const DRIVER_LIMITATIONS: Record<string, string> = {
  "inserting _id with type null via insertOne":
    "the Node driver replaces a null _id with a new ObjectId before sending (NODE-6468)",
  "inserting _id with type null via insertMany":
    "the Node driver replaces a null _id with a new ObjectId before sending (NODE-6468)",
  "inserting _id with type null via bulkWrite":
    "the Node driver replaces a null _id with a new ObjectId before sending (NODE-6468)",
  "InsertMany passes bypassDocumentValidation: false":
    "the Node driver does not send bypassDocumentValidation: false (NODE-6484)",
  "FindOneAndUpdate passes bypassDocumentValidation: false":
    "the Node driver does not send bypassDocumentValidation: false (NODE-6484)",
  "FindOneAndReplace passes bypassDocumentValidation: false":
    "the Node driver does not send bypassDocumentValidation: false (NODE-6484)",
  "BulkWrite passes bypassDocumentValidation: false":
    "the Node driver does not send bypassDocumentValidation: false (NODE-6484)",
};

/** One entity of a test: what the spec named, and the driver object behind it. */
export type Entity =
  | { kind: "client"; client: MongoClient }
  | { kind: "database"; db: Db }
  | { kind: "collection"; collection: Collection }
  | { kind: "value"; value: unknown };

type Args = Record<string, unknown>;

/**
 * A copy of `v` with bson numbers turned into JS numbers, for driver *options* (write concern,
 * sort, hint, projection...), whose code expects plain numbers. Documents sent to the server as
 * data (filters, updates, documents) keep their bson types instead.
 */
export function plain(v: unknown): unknown {
  switch (bsonType(v)) {
    case "Int32":
    case "Double":
      return (v as { value: number }).value;
    case "Long":
      return (v as { toNumber(): number }).toNumber();
  }
  if (Array.isArray(v)) return v.map(plain);
  if (isDocument(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

/** Takes the named arguments out of `args`, refusing any not in `allowed`. */
function take(
  operation: string,
  args: Args,
  positional: string[],
  allowed: string[],
): [Record<string, unknown>, Document] {
  const known = new Set([...positional, ...allowed]);
  for (const key of Object.keys(args)) {
    if (!known.has(key)) throw new Error(`Cannot run ${operation}: unsupported argument "${key}"`);
  }
  const data: Record<string, unknown> = {};
  for (const key of positional) data[key] = args[key];
  const options: Document = {};
  for (const key of allowed) {
    if (!(key in args)) continue;
    // Filters and pipelines given as options stay bson-typed; the rest become plain.
    options[key] = key === "arrayFilters" || key === "let" ? args[key] : plain(args[key]);
  }
  if (typeof options.returnDocument === "string") {
    const value = options.returnDocument.toLowerCase();
    if (value !== "before" && value !== "after") {
      throw new Error(`Cannot run ${operation}: returnDocument must be "Before" or "After"`);
    }
    options.returnDocument = value;
  }
  return [data, options];
}

const WRITE_OPTIONS = ["comment", "let", "bypassDocumentValidation"];
const UPDATE_OPTIONS = ["upsert", "arrayFilters", "hint", "collation", "sort", ...WRITE_OPTIONS];
const FIND_OPTIONS = [
  "sort",
  "skip",
  "limit",
  "batchSize",
  "projection",
  "hint",
  "comment",
  "let",
  "min",
  "max",
  "maxTimeMS",
  "maxAwaitTimeMS",
  "returnKey",
  "showRecordId",
  "noCursorTimeout",
  "allowDiskUse",
  "allowPartialResults",
  "collation",
  "singleBatch",
  "timeoutMS",
];

/** The CRUD spec's BulkWriteResult as a plain document. */
export function bulkResult(r: BulkWriteResult): Document {
  return {
    insertedCount: r.insertedCount,
    matchedCount: r.matchedCount,
    modifiedCount: r.modifiedCount,
    deletedCount: r.deletedCount,
    upsertedCount: r.upsertedCount,
    upsertedIds: { ...r.upsertedIds },
    insertedIds: { ...r.insertedIds },
  };
}

function asDocument(value: unknown): Document {
  return { ...(value as Document) };
}

function collectionOp(collection: Collection, name: string, args: Args): Promise<unknown> {
  switch (name) {
    case "aggregate": {
      const [d, o] = take(name, args, ["pipeline"], [
        "batchSize",
        "allowDiskUse",
        "comment",
        "let",
        "hint",
        "maxTimeMS",
        "collation",
        "bypassDocumentValidation",
      ]);
      return collection.aggregate(d.pipeline as Document[], o).toArray();
    }
    case "find": {
      const [d, o] = take(name, args, ["filter"], FIND_OPTIONS);
      return collection.find((d.filter ?? {}) as Document, o).toArray();
    }
    case "findOne": {
      const [d, o] = take(name, args, ["filter"], FIND_OPTIONS);
      return collection.findOne((d.filter ?? {}) as Document, o);
    }
    case "count": {
      const [d, o] = take(name, args, ["filter"], [
        "skip",
        "limit",
        "hint",
        "comment",
        "maxTimeMS",
        "collation",
      ]);
      return collection.count((d.filter ?? {}) as Document, o);
    }
    case "countDocuments": {
      const [d, o] = take(name, args, ["filter"], [
        "skip",
        "limit",
        "hint",
        "comment",
        "maxTimeMS",
        "collation",
      ]);
      return collection.countDocuments((d.filter ?? {}) as Document, o);
    }
    case "estimatedDocumentCount": {
      const [, o] = take(name, args, [], ["comment", "maxTimeMS"]);
      return collection.estimatedDocumentCount(o);
    }
    case "distinct": {
      const [d, o] = take(name, args, ["fieldName", "filter"], [
        "hint",
        "comment",
        "maxTimeMS",
        "collation",
      ]);
      return collection.distinct(d.fieldName as string, (d.filter ?? {}) as Document, o);
    }
    case "insertOne": {
      const [d, o] = take(name, args, ["document"], WRITE_OPTIONS);
      return collection.insertOne(d.document as Document, o).then(asDocument);
    }
    case "insertMany": {
      const [d, o] = take(name, args, ["documents"], ["ordered", ...WRITE_OPTIONS]);
      return collection.insertMany(d.documents as Document[], o).then(asDocument);
    }
    case "updateOne":
    case "updateMany": {
      const [d, o] = take(name, args, ["filter", "update"], UPDATE_OPTIONS);
      const run = name === "updateOne"
        ? collection.updateOne.bind(collection)
        : collection.updateMany.bind(collection);
      return run(d.filter as Document, d.update as Document, o).then(asDocument);
    }
    case "replaceOne": {
      const [d, o] = take(name, args, ["filter", "replacement"], UPDATE_OPTIONS);
      return collection.replaceOne(d.filter as Document, d.replacement as Document, o).then(
        asDocument,
      );
    }
    case "deleteOne":
    case "deleteMany": {
      const [d, o] = take(name, args, ["filter"], ["hint", "collation", ...WRITE_OPTIONS]);
      const run = name === "deleteOne"
        ? collection.deleteOne.bind(collection)
        : collection.deleteMany.bind(collection);
      return run(d.filter as Document, o).then(asDocument);
    }
    case "findOneAndDelete": {
      const [d, o] = take(name, args, ["filter"], [
        "sort",
        "projection",
        "hint",
        "collation",
        "maxTimeMS",
        ...WRITE_OPTIONS,
      ]);
      return collection.findOneAndDelete(d.filter as Document, o);
    }
    case "findOneAndReplace":
    case "findOneAndUpdate": {
      const second = name === "findOneAndReplace" ? "replacement" : "update";
      const [d, o] = take(name, args, ["filter", second], [
        "sort",
        "projection",
        "returnDocument",
        "upsert",
        "hint",
        "collation",
        "maxTimeMS",
        ...(name === "findOneAndUpdate" ? ["arrayFilters"] : []),
        ...WRITE_OPTIONS,
      ]);
      return name === "findOneAndReplace"
        ? collection.findOneAndReplace(d.filter as Document, d.replacement as Document, o)
        : collection.findOneAndUpdate(d.filter as Document, d.update as Document, o);
    }
    case "bulkWrite": {
      const [d, o] = take(name, args, ["requests"], ["ordered", ...WRITE_OPTIONS]);
      const requests = (d.requests as Document[]).map(bulkModel);
      return collection.bulkWrite(requests as never, o).then(bulkResult);
    }
    case "createIndex": {
      const [d, o] = take(name, args, ["keys"], [
        "name",
        "unique",
        "sparse",
        "expireAfterSeconds",
        "partialFilterExpression",
        "hidden",
        "commitQuorum",
        "maxTimeMS",
      ]);
      return collection.createIndex(plain(d.keys) as Document, o);
    }
    case "dropIndex": {
      const [d, o] = take(name, args, ["name"], ["maxTimeMS"]);
      return collection.dropIndex(d.name as string, o).then(() => undefined);
    }
    case "dropIndexes": {
      const [, o] = take(name, args, [], ["maxTimeMS"]);
      return collection.dropIndexes(o).then(() => undefined);
    }
    case "listIndexes": {
      const [, o] = take(name, args, [], ["batchSize"]);
      return collection.listIndexes(o).toArray();
    }
    case "drop": {
      take(name, args, [], []);
      return collection.drop();
    }
  }
  throw new Error(`Cannot run ${name}: unsupported collection operation`);
}

/** A spec write model (`{updateOne: {...}}`) as the driver's, with options made plain. */
function bulkModel(request: Document): Document {
  const [[kind, model]] = Object.entries(request) as [[string, Document]];
  const out: Document = {};
  for (const [key, value] of Object.entries(model)) {
    const data = ["document", "filter", "update", "replacement", "arrayFilters"].includes(key);
    out[key] = data ? value : plain(value);
  }
  return { [kind]: out };
}

function databaseOp(db: Db, name: string, args: Args): Promise<unknown> {
  switch (name) {
    case "runCommand": {
      const [d, o] = take(name, args, ["command", "commandName"], ["readPreference"]);
      return db.command(d.command as Document, o);
    }
    case "aggregate": {
      const [d, o] = take(name, args, ["pipeline"], [
        "batchSize",
        "allowDiskUse",
        "comment",
        "let",
        "maxTimeMS",
      ]);
      return db.aggregate(d.pipeline as Document[], o).toArray();
    }
    case "createCollection": {
      const [d] = take(name, args, ["collection"], []);
      return db.createCollection(d.collection as string).then(() => undefined);
    }
    case "dropCollection": {
      const [d] = take(name, args, ["collection"], []);
      return db.dropCollection(d.collection as string).then(() => undefined);
    }
    case "listCollections": {
      const [d, o] = take(name, args, ["filter"], ["batchSize"]);
      return db.listCollections((d.filter ?? {}) as Document, o).toArray();
    }
    case "listCollectionNames": {
      const [d] = take(name, args, ["filter"], []);
      return db.listCollections((d.filter ?? {}) as Document, { nameOnly: true }).toArray()
        .then((list) => list.map((c) => c.name));
    }
  }
  throw new Error(`Cannot run ${name}: unsupported database operation`);
}

/** Runs one spec operation on its entity and returns the spec-shaped result. */
export function runOperation(entity: Entity, name: string, args: Args): Promise<unknown> {
  switch (entity.kind) {
    case "collection":
      return collectionOp(entity.collection, name, args);
    case "database":
      return databaseOp(entity.db, name, args);
    default:
      return Promise.reject(new Error(`Cannot run ${name}: unsupported on a ${entity.kind}`));
  }
}

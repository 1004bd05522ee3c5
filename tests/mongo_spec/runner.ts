/**
 * Runs unified-format test files (MongoDB driver specs) against one server with the real driver.
 *
 * `SpecServer` describes the server under test (URL, version from `buildInfo`, topology) and holds
 * the internal client used for `initialData` and `outcome`. `planFile()` decides for each case of a
 * file whether it runs or is skipped (by `runOnRequirements`, `skipReason`, or an operation from
 * `UNSUPPORTED_OPERATIONS`), and `runCase()` runs one case: set up data, create entities, run the
 * operations, then check events and outcome. A failing case throws an Error whose message names
 * the operation and the first difference found, with its path.
 */
import { EJSON } from "bson";
import {
  type CommandFailedEvent,
  type CommandStartedEvent,
  type CommandSucceededEvent,
  type Document,
  MongoBulkWriteError,
  MongoClient,
  MongoError,
  MongoServerError,
} from "mongodb";
import {
  describeMismatch,
  match,
  type MatchContext,
  matchExact,
  type Mismatch,
  show,
} from "./match.ts";
import {
  bulkResult,
  DRIVER_LIMITATIONS,
  type Entity,
  plain,
  runOperation,
  UNSUPPORTED_OPERATIONS,
} from "./operations.ts";

type Doc = Record<string, unknown>;

/** The newest schema version this runner understands (major 1). */
const SUPPORTED_SCHEMA_MINOR = 12;

/** Commands whose events are never recorded: runner-internal, or ignored by the format. */
const IGNORED_COMMANDS = new Set([
  "configureFailPoint",
  "killCursors",
  "endSessions",
  "hello",
  "ismaster",
  "isMaster",
  "authenticate",
  "saslStart",
  "saslContinue",
  "getnonce",
  "createUser",
  "updateUser",
  "copydbgetnonce",
  "copydbsaslstart",
  "copydb",
]);

/** The server under test. */
export interface SpecServer {
  url: string;
  version: number[];
  versionText: string;
  topology: "single" | "replicaset" | "sharded" | "load-balanced";
  serverless: boolean;
  internal: MongoClient;
}

/** Connects the internal client and reads what `runOnRequirements` compares against. */
export async function openServer(url: string): Promise<SpecServer> {
  const internal = new MongoClient(url);
  await internal.connect();
  const admin = internal.db("admin");
  const info = await admin.command({ buildInfo: 1 });
  const hello = await admin.command({ hello: 1 });
  const topology = hello.msg === "isdbgrid"
    ? "sharded"
    : hello.setName !== undefined
    ? "replicaset"
    : hello.serviceId !== undefined
    ? "load-balanced"
    : "single";
  const versionText = String(info.version);
  return {
    url,
    version: parseVersion(versionText),
    versionText,
    topology,
    serverless: false,
    internal,
  };
}

/** "4.4.0-rc1" -> [4, 4, 0]. */
export function parseVersion(text: string): number[] {
  return text.split("-")[0].split(".").map((part) => Number.parseInt(part, 10) || 0);
}

/** Compares versions component by component (missing components count as 0). */
export function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length, 3); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** Why one `runOnRequirement` is not met, or null when it is. */
function unmetRequirement(req: Doc, server: SpecServer): string | null {
  for (const key of Object.keys(req)) {
    if (!["minServerVersion", "maxServerVersion", "topologies", "serverless"].includes(key)) {
      return `requirement "${key}" is not supported by this runner`;
    }
  }
  if (typeof req.minServerVersion === "string") {
    if (compareVersions(server.version, parseVersion(req.minServerVersion)) < 0) {
      return `needs server >= ${req.minServerVersion} (server is ${server.versionText})`;
    }
  }
  if (typeof req.maxServerVersion === "string") {
    if (compareVersions(server.version, parseVersion(req.maxServerVersion)) > 0) {
      return `needs server <= ${req.maxServerVersion} (server is ${server.versionText})`;
    }
  }
  if (Array.isArray(req.topologies)) {
    const ok = req.topologies.includes(server.topology) ||
      (server.topology === "sharded" && req.topologies.includes("sharded-replicaset"));
    if (!ok) return `needs topology ${req.topologies.join("/")} (server is ${server.topology})`;
  }
  if (req.serverless === "require" && !server.serverless) return "needs a serverless server";
  if (req.serverless === "forbid" && server.serverless) return "forbids a serverless server";
  return null;
}

/** Null when at least one requirement is met (or there are none), else the reasons. */
function unmetRequirements(reqs: unknown, server: SpecServer): string | null {
  if (!Array.isArray(reqs) || reqs.length === 0) return null;
  const reasons: string[] = [];
  for (const req of reqs) {
    const why = unmetRequirement(req as Doc, server);
    if (why === null) return null;
    reasons.push(why);
  }
  return `runOnRequirements not met: ${[...new Set(reasons)].join("; or ")}`;
}

/** A parsed test file. */
export interface SpecFile {
  name: string;
  description: string;
  schemaVersion: string;
  runOnRequirements?: Doc[];
  createEntities?: Doc[];
  initialData?: Doc[];
  tests: Doc[];
}

/** Reads a test file as canonical Extended JSON (numbers keep their bson types). */
export function parseSpecFile(name: string, text: string): SpecFile {
  const parsed = EJSON.parse(text, { relaxed: false }) as unknown as SpecFile;
  parsed.name = name;
  const [major, minor] = String(parsed.schemaVersion).split(".").map(Number);
  if (major !== 1 || !(minor <= SUPPORTED_SCHEMA_MINOR)) {
    throw new Error(`Cannot run ${name}: unsupported schemaVersion ${parsed.schemaVersion}`);
  }
  return parsed;
}

/** One case of a file and whether it runs. */
export interface PlannedCase {
  description: string;
  test: Doc;
  skip: string | null;
}

/** Decides, for every case of a file, whether it runs or why it is skipped. */
export function planFile(file: SpecFile, server: SpecServer): PlannedCase[] {
  const fileSkip = unmetRequirements(file.runOnRequirements, server);
  return file.tests.map((test) => {
    const description = String(test.description);
    let skip: string | null = fileSkip;
    if (!skip && typeof test.skipReason === "string") skip = `skipReason: ${test.skipReason}`;
    skip ??= unmetRequirements(test.runOnRequirements, server);
    if (!skip && DRIVER_LIMITATIONS[description]) {
      skip = `driver limitation: ${DRIVER_LIMITATIONS[description]}`;
    }
    if (!skip) {
      for (const op of (test.operations as Doc[]) ?? []) {
        const reason = UNSUPPORTED_OPERATIONS[String(op.name)];
        if (reason) {
          skip = `operation ${op.name}: ${reason}`;
          break;
        }
      }
    }
    return { description, test, skip };
  });
}

/** A command monitoring event as recorded for matching. */
interface RecordedEvent {
  type: "commandStartedEvent" | "commandSucceededEvent" | "commandFailedEvent";
  commandName: string;
  databaseName: string;
  command?: Document;
  reply?: Document;
}

interface ClientEntity {
  client: MongoClient;
  events: RecordedEvent[];
}

/** The entities of one running case. */
class EntityMap {
  readonly entities = new Map<string, Entity>();
  readonly clients = new Map<string, ClientEntity>();

  get(name: string): Entity {
    const entity = this.entities.get(name);
    if (!entity) throw new Error(`Cannot find entity "${name}": not defined`);
    return entity;
  }

  add(name: string, entity: Entity): void {
    if (this.entities.has(name)) throw new Error(`Cannot create entity "${name}": name in use`);
    this.entities.set(name, entity);
  }

  async create(defs: Doc[], server: SpecServer): Promise<void> {
    for (const def of defs) {
      const [[kind, spec]] = Object.entries(def) as [[string, Doc]];
      const id = String(spec.id);
      if (kind === "client") {
        for (const key of Object.keys(spec)) {
          if (
            ![
              "id",
              "observeEvents",
              "useMultipleMongoses",
              "ignoreCommandMonitoringEvents",
              "uriOptions",
            ].includes(key)
          ) throw new Error(`Cannot create client "${id}": unsupported option "${key}"`);
        }
        const observe = new Set((spec.observeEvents as string[] | undefined) ?? []);
        const ignore = new Set((spec.ignoreCommandMonitoringEvents as string[] | undefined) ?? []);
        const client = new MongoClient(server.url, {
          ...(plain(spec.uriOptions ?? {}) as Doc),
          monitorCommands: observe.size > 0,
        });
        const events: RecordedEvent[] = [];
        const keep = (name: string) => !IGNORED_COMMANDS.has(name) && !ignore.has(name);
        if (observe.has("commandStartedEvent")) {
          client.on("commandStarted", (e: CommandStartedEvent) => {
            if (keep(e.commandName)) {
              events.push({
                type: "commandStartedEvent",
                commandName: e.commandName,
                databaseName: e.databaseName,
                command: e.command,
              });
            }
          });
        }
        if (observe.has("commandSucceededEvent")) {
          client.on("commandSucceeded", (e: CommandSucceededEvent) => {
            if (keep(e.commandName)) {
              events.push({
                type: "commandSucceededEvent",
                commandName: e.commandName,
                databaseName: e.databaseName,
                reply: e.reply as Document,
              });
            }
          });
        }
        if (observe.has("commandFailedEvent")) {
          client.on("commandFailed", (e: CommandFailedEvent) => {
            if (keep(e.commandName)) {
              events.push({
                type: "commandFailedEvent",
                commandName: e.commandName,
                databaseName: e.databaseName,
              });
            }
          });
        }
        this.add(id, { kind: "client", client });
        this.clients.set(id, { client, events });
        await client.connect();
      } else if (kind === "database") {
        const parent = this.get(String(spec.client));
        if (parent.kind !== "client") throw new Error(`Cannot create database "${id}": bad client`);
        const options = plain(spec.databaseOptions ?? {}) as Doc;
        this.add(id, {
          kind: "database",
          db: parent.client.db(String(spec.databaseName), options),
        });
      } else if (kind === "collection") {
        const parent = this.get(String(spec.database));
        if (parent.kind !== "database") {
          throw new Error(`Cannot create collection "${id}": bad database`);
        }
        const options = plain(spec.collectionOptions ?? {}) as Doc;
        this.add(id, {
          kind: "collection",
          collection: parent.db.collection(String(spec.collectionName), options),
        });
      } else {
        throw new Error(`Cannot create entity "${id}": unsupported entity type "${kind}"`);
      }
    }
  }

  async close(): Promise<void> {
    for (const { client } of this.clients.values()) await client.close().catch(() => {});
  }

  context(): MatchContext {
    return {
      entity: (name) => {
        const entity = this.get(name);
        if (entity.kind !== "value") throw new Error(`Cannot match entity "${name}": not a value`);
        return entity.value;
      },
    };
  }
}

/** Drops each collection, then fills it (or creates it empty), with majority write concern. */
async function loadInitialData(server: SpecServer, data: Doc[] | undefined): Promise<void> {
  for (const item of data ?? []) {
    const db = server.internal.db(String(item.databaseName));
    const name = String(item.collectionName);
    await db.collection(name).drop({ writeConcern: { w: "majority" } }).catch((e) => {
      if (!(e instanceof MongoServerError && (e.code === 26 || /ns not found/i.test(e.message)))) {
        throw e;
      }
    });
    if (item.createOptions) {
      await db.createCollection(name, {
        ...(plain(item.createOptions) as Doc),
        writeConcern: { w: "majority" },
      });
    }
    const documents = (item.documents as Document[] | undefined) ?? [];
    if (documents.length > 0) {
      await db.collection(name).insertMany(documents, { writeConcern: { w: "majority" } });
    } else if (!item.createOptions) {
      await db.createCollection(name, { writeConcern: { w: "majority" } });
    }
  }
}

/** True when an error comes from the driver itself, not from a server reply. */
function isClientError(error: unknown): boolean {
  return error instanceof MongoError && !(error instanceof MongoServerError);
}

function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return show(error);
}

/** Checks an operation's error against `expectError`; throws on the first difference. */
function checkError(expected: Doc, error: unknown, where: string, context: MatchContext): void {
  const fail = (why: string): never => {
    throw new Error(`${where}: ${why} (error was ${errorText(error)})`);
  };
  const server = error instanceof MongoServerError ? error : undefined;
  const writeErrors: Document[] = error instanceof MongoBulkWriteError
    ? ([] as Document[]).concat(error.writeErrors as never)
    : [];
  for (const [key, value] of Object.entries(expected)) {
    switch (key) {
      case "isError":
        break;
      case "isClientError":
        if (isClientError(error) !== value) {
          fail(value ? "expected a client (driver-side) error" : "expected a server error");
        }
        break;
      case "errorCode": {
        const code = Number(plain(value));
        const codes = [server?.code, ...writeErrors.map((w) => w.code)];
        if (!server || !codes.includes(code)) fail(`expected server error code ${code}`);
        break;
      }
      case "errorCodeName": {
        const want = String(value).toLowerCase();
        const names = [server?.codeName, ...writeErrors.map((w) => w.err?.codeName ?? w.codeName)]
          .filter((n) => typeof n === "string").map((n) => n.toLowerCase());
        if (!server || !names.includes(want)) fail(`expected error code name ${value}`);
        break;
      }
      case "errorContains": {
        const want = String(value).toLowerCase();
        const texts = [
          error instanceof Error ? error.message : String(error),
          ...writeErrors.map((w) => String(w.errmsg ?? w.err?.errmsg ?? "")),
        ];
        if (!texts.some((t) => t.toLowerCase().includes(want))) {
          fail(`expected the message to contain "${value}"`);
        }
        break;
      }
      case "errorLabelsContain":
      case "errorLabelsOmit": {
        for (const label of value as string[]) {
          const has = error instanceof MongoError && error.hasErrorLabel(label);
          if (has !== (key === "errorLabelsContain")) {
            fail(`expected the error ${has ? "not " : ""}to have label ${label}`);
          }
        }
        break;
      }
      case "errorResponse": {
        if (!server) fail("expected a server response on the error");
        const m = match(value, server!.errorResponse, { root: true, path: "$", context });
        if (m) fail(describeMismatch("errorResponse", m));
        break;
      }
      case "expectResult": {
        const result = error instanceof MongoBulkWriteError ? bulkResult(error.result) : undefined;
        const m = match(value, result, { root: true, path: "$", context });
        if (m) fail(describeMismatch("error's expectResult", m));
        break;
      }
      default:
        throw new Error(`${where}: expectError key "${key}" is not supported by this runner`);
    }
  }
}

/** Compares the recorded events of each client named in `expectEvents`. */
function checkEvents(expectEvents: Doc[], entities: EntityMap, context: MatchContext): void {
  for (const spec of expectEvents) {
    const clientName = String(spec.client);
    const entry = entities.clients.get(clientName);
    if (!entry) throw new Error(`expectEvents: no client entity "${clientName}"`);
    if (spec.eventType !== undefined && spec.eventType !== "command") {
      throw new Error(
        `expectEvents: eventType "${spec.eventType}" is not supported by this runner`,
      );
    }
    const expected = spec.events as Doc[];
    const actual = entry.events;
    const summary = () =>
      `expected [${expected.map((e) => Object.keys(e)[0]).join(", ")}], actual [${
        actual.map((e) => `${e.type}(${e.commandName})`).join(", ")
      }]`;
    if (
      actual.length < expected.length ||
      (actual.length > expected.length && spec.ignoreExtraEvents !== true)
    ) {
      throw new Error(
        `expectEvents for ${clientName}: expected ${expected.length} events, ` +
          `actual ${actual.length}: ${summary()}`,
      );
    }
    expected.forEach((event, i) => {
      const [[type, want]] = Object.entries(event) as [[string, Doc]];
      const got = actual[i];
      const where = `expectEvents for ${clientName}, event ${i}`;
      if (got.type !== type) {
        throw new Error(`${where}: expected ${type}, actual ${got.type}(${got.commandName})`);
      }
      for (const [key, value] of Object.entries(want)) {
        if (key === "commandName" || key === "databaseName") {
          if (got[key] !== value) {
            throw new Error(`${where}: expected ${key} "${value}", actual "${got[key]}"`);
          }
        } else if (key === "command" || key === "reply") {
          const m = match(value, got[key], { root: true, path: key, context });
          if (m) throw new Error(describeMismatch(`${where} (${got.commandName})`, m));
        } else if (key === "hasServiceId" || key === "hasServerConnectionId") {
          // Not recorded; a single server has no service id. Ignored.
        } else {
          throw new Error(`${where}: key "${key}" is not supported by this runner`);
        }
      }
    });
  }
}

/** Reads each outcome collection (sorted by _id) and compares it exactly. */
async function checkOutcome(server: SpecServer, outcome: Doc[]): Promise<void> {
  for (const item of outcome) {
    const where = `outcome ${item.databaseName}.${item.collectionName}`;
    const docs = await server.internal.db(String(item.databaseName))
      .collection(String(item.collectionName))
      .find({}, { sort: { _id: 1 }, readPreference: "primary", readConcern: { level: "local" } })
      .toArray();
    const m = matchExact(item.documents, docs);
    if (m) throw new Error(describeMismatch(where, m));
  }
}

/** Operations returning an iterable of documents: each element is a root-level document. */
const CURSOR_OPERATIONS = new Set(["find", "aggregate", "listIndexes", "listCollections"]);

function matchResult(
  name: string,
  expected: unknown,
  actual: unknown,
  context: MatchContext,
): Mismatch | null {
  if (CURSOR_OPERATIONS.has(name) && Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length) {
      return {
        path: "result",
        message: `expected ${expected.length} documents, actual ${actual.length}: ` +
          `expected ${show(expected)}, actual ${show(actual)}`,
      };
    }
    for (let i = 0; i < expected.length; i++) {
      const m = match(expected[i], actual[i], { root: true, path: `result[${i}]`, context });
      if (m) return m;
    }
    return null;
  }
  return match(expected, actual, { root: true, path: "result", context });
}

/** Runs one case of a file; throws an Error describing the first failure. */
export async function runCase(file: SpecFile, test: Doc, server: SpecServer): Promise<void> {
  await loadInitialData(server, file.initialData);
  const entities = new EntityMap();
  try {
    await entities.create(file.createEntities ?? [], server);
    const context = entities.context();
    const operations = (test.operations as Doc[]) ?? [];
    for (const [index, op] of operations.entries()) {
      const where = `operation ${index} (${op.name} on ${op.object})`;
      if (op.object === "testRunner") {
        throw new Error(`${where}: special test operations are not supported by this runner`);
      }
      for (const key of Object.keys(op)) {
        if (
          ![
            "name",
            "object",
            "arguments",
            "expectResult",
            "expectError",
            "ignoreResultAndError",
            "saveResultAsEntity",
          ].includes(key)
        ) throw new Error(`${where}: operation key "${key}" is not supported by this runner`);
      }
      let result: unknown;
      let error: unknown;
      let failed = false;
      try {
        result = await runOperation(
          entities.get(String(op.object)),
          String(op.name),
          (op.arguments ?? {}) as Doc,
        );
      } catch (e) {
        failed = true;
        error = e;
      }
      if (op.ignoreResultAndError === true) continue;
      if (op.expectError !== undefined) {
        if (!failed) throw new Error(`${where}: expected an error, got result ${show(result)}`);
        checkError(op.expectError as Doc, error, where, context);
        continue;
      }
      if (failed) throw new Error(`${where}: unexpected error ${errorText(error)}`);
      if (op.expectResult !== undefined) {
        const m = matchResult(String(op.name), op.expectResult, result, context);
        if (m) throw new Error(describeMismatch(where, m));
      }
      if (typeof op.saveResultAsEntity === "string") {
        entities.add(op.saveResultAsEntity, { kind: "value", value: result });
      }
    }
    if (Array.isArray(test.expectEvents)) {
      checkEvents(test.expectEvents as Doc[], entities, context);
    }
    if (Array.isArray(test.outcome)) await checkOutcome(server, test.outcome as Doc[]);
  } finally {
    await entities.close();
  }
}

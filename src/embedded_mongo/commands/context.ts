/**
 * What every command handler gets, and the small argument helpers they share.
 */
import type { Document } from "bson";
import type { CursorRegistry } from "../query/cursors.ts";
import { CommandError, mongoError } from "../errors.ts";
import type { Store } from "../storage/types.ts";

/** What `serverStatus` reads from the server. */
export interface ServerInfo {
  readonly startedAt: Date;
  readonly maxConns: number;
  connections(): { current: number; available: number; totalCreated: number; refused: number };
}

export interface CommandContext {
  store: Store;
  cursors: CursorRegistry;
  connectionId: number;
  /** The server running the command (absent when commands run without one). */
  server?: ServerInfo;
  /** The database the command runs on (`$db`). */
  db: string;
  /** False: `hello` tells this connection that the server has no sessions (default true). */
  sessions?: boolean;
}

export interface Command {
  run(cmd: Document, ctx: CommandContext): Document | Promise<Document>;
  /** Writes: the dispatcher awaits `store.durable()` before replying. */
  write?: boolean;
}

/** The collection name a command names in its first field (`{ find: "users" }`). */
export function collectionName(cmd: Document, field: string): string {
  const name = cmd[field];
  if (typeof name !== "string") {
    throw new CommandError(
      73,
      "InvalidNamespace",
      `Cannot run ${field}: collection name has invalid type ${typeof name}`,
    );
  }
  if (name === "" || name.includes("\0") || name.startsWith("$") || name.startsWith(".")) {
    throw new CommandError(73, "InvalidNamespace", `Cannot run ${field}: invalid collection name`);
  }
  return name;
}

export function optionalDocument(cmd: Document, field: string): Document | undefined {
  const v = cmd[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) {
    throw new CommandError(
      14,
      "TypeMismatch",
      `BSON field '${field}' is the wrong type '${
        Array.isArray(v) ? "array" : typeof v
      }', expected type 'object'`,
    );
  }
  return v as Document;
}

export function optionalInt(cmd: Document, field: string, min = 0): number | undefined {
  const v = cmd[field];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === "number" ? v : Number((v as { valueOf(): unknown }).valueOf?.());
  if (!Number.isFinite(n) || !Number.isInteger(n)) {
    throw new CommandError(14, "TypeMismatch", `BSON field '${field}' must be an integer`);
  }
  if (n < min) {
    throw new CommandError(
      51024,
      "Location51024",
      `BSON field '${field}' value must be >= ${min}, actual value '${n}'`,
    );
  }
  return n;
}

export function documentArray(cmd: Document, field: string): Document[] {
  const v = cmd[field];
  if (!Array.isArray(v)) {
    throw new CommandError(
      40414,
      "Location40414",
      `BSON field '${field}' is missing or not an array`,
    );
  }
  for (const d of v) {
    if (d === null || typeof d !== "object" || Array.isArray(d)) {
      throw new CommandError(14, "TypeMismatch", `BSON field '${field}' must hold documents only`);
    }
  }
  return v as Document[];
}

/** A `writeErrors` entry for a failed statement (an unexpected error is thrown on). */
export function writeError(index: number, e: unknown): Document {
  const known = mongoError(e);
  if (!known) throw e;
  return { index, code: known.code, errmsg: known.message, ...known.extra };
}

/** Turns a storage error into a command error (duplicate key keeps keyPattern/keyValue). */
export function asCommandError(e: unknown): never {
  const known = mongoError(e);
  if (!known || e instanceof CommandError) throw e;
  throw new CommandError(known.code, known.codeName, known.message, known.extra);
}

export function namespace(ctx: CommandContext, coll: string): string {
  return `${ctx.db}.${coll}`;
}

/**
 * The command dispatcher: finds the handler by the command's first field, runs it, awaits
 * durability after writes, and turns every failure into an `ok: 0` reply.
 */
import type { Document } from "bson";
import { mongoError } from "../errors.ts";
import type { Store } from "../storage/types.ts";
import { aggregate } from "./aggregate.ts";
import { buildInfo } from "./buildInfo.ts";
import type { Command, CommandContext } from "./context.ts";
import { count } from "./count.ts";
import { create } from "./create.ts";
import { createIndexes } from "./createIndexes.ts";
import { deleteCommand } from "./delete.ts";
import { distinct } from "./distinct.ts";
import { drop } from "./drop.ts";
import { dropDatabase } from "./dropDatabase.ts";
import { dropIndexes } from "./dropIndexes.ts";
import { endSessions } from "./endSessions.ts";
import { find } from "./find.ts";
import { findAndModify } from "./findAndModify.ts";
import { getMore } from "./getMore.ts";
import { hello } from "./hello.ts";
import { insert } from "./insert.ts";
import { killCursors } from "./killCursors.ts";
import { listCollections } from "./listCollections.ts";
import { listDatabases } from "./listDatabases.ts";
import { listIndexes } from "./listIndexes.ts";
import { ping } from "./ping.ts";
import { serverStatus } from "./serverStatus.ts";
import { update } from "./update.ts";

export type { CommandContext } from "./context.ts";

const COMMANDS: Record<string, Command> = {
  hello,
  isMaster: hello,
  ismaster: hello,
  ping,
  serverStatus,
  buildInfo,
  buildinfo: buildInfo,
  endSessions,
  listDatabases,
  insert,
  find,
  getMore,
  killCursors,
  update,
  delete: deleteCommand,
  findAndModify,
  findandmodify: findAndModify,
  count,
  distinct,
  aggregate,
  createIndexes,
  listIndexes,
  dropIndexes,
  deleteIndexes: dropIndexes,
  drop,
  dropDatabase,
  listCollections,
  create,
};

function errorReply(e: unknown): Document {
  const known = mongoError(e);
  if (known) {
    return {
      ok: 0,
      errmsg: known.message,
      code: known.code,
      codeName: known.codeName,
      ...known.extra,
    };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { ok: 0, errmsg: `Cannot run command: ${message}`, code: 1, codeName: "InternalError" };
}

/** The command's name: its first field. */
export function commandName(cmd: Document): string | undefined {
  for (const k in cmd) return k;
  return undefined;
}

/**
 * Runs one command document; never throws. A read that its handler answers synchronously is
 * answered synchronously (no promise, no microtask between running it and sending its reply);
 * a write resolves once `store.durable()` has.
 */
export function runCommand(
  cmd: Document,
  ctx: Omit<CommandContext, "db">,
): Document | Promise<Document> {
  const name = commandName(cmd);
  const handler = name === undefined
    ? undefined
    : Object.hasOwn(COMMANDS, name)
    ? COMMANDS[name]
    : undefined;
  if (!handler) {
    return {
      ok: 0,
      errmsg: `no such command: '${name ?? ""}'`,
      code: 59,
      codeName: "CommandNotFound",
    };
  }
  const db = cmd.$db;
  if (typeof db !== "string" || db === "" || /[/\\. "$\0]/.test(db)) {
    return {
      ok: 0,
      errmsg: "Cannot run command: invalid or missing $db",
      code: 73,
      codeName: "InvalidNamespace",
    };
  }
  let reply: Document | Promise<Document>;
  try {
    reply = handler.run(cmd, { ...ctx, db });
  } catch (e) {
    reply = errorReply(e);
  }
  if (!handler.write && !(reply instanceof Promise)) return reply;
  return settle(reply, handler.write ? ctx.store : undefined);
}

/** Awaits a handler's reply, then (after a write) the store's durability. */
async function settle(reply: Document | Promise<Document>, written?: Store): Promise<Document> {
  try {
    reply = await reply;
  } catch (e) {
    reply = errorReply(e);
  }
  if (written) {
    try {
      await written.durable();
    } catch (e) {
      return errorReply(e);
    }
  }
  return reply;
}

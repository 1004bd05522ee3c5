/**
 * `hello` / `isMaster`: the handshake. We are a standalone MongoDB 8.0 without compression, with
 * sessions (`lsid` is accepted and ignored) except on a connection opened without them.
 */
import type { Document } from "bson";
import type { Command } from "./context.ts";

export const MAX_WIRE_VERSION = 25;

export const hello: Command = {
  run(cmd, ctx): Document {
    const reply: Document = {
      ...(cmd.hello !== undefined ? { isWritablePrimary: true } : { ismaster: true }),
      ...(cmd.helloOk ? { helloOk: true } : {}),
      maxBsonObjectSize: 16777216,
      maxMessageSizeBytes: 48000000,
      maxWriteBatchSize: 100000,
      localTime: new Date(),
      ...(ctx.sessions === false ? {} : { logicalSessionTimeoutMinutes: 30 }),
      connectionId: ctx.connectionId,
      minWireVersion: 0,
      maxWireVersion: MAX_WIRE_VERSION,
      readOnly: false,
      ok: 1,
    };
    return reply;
  },
};

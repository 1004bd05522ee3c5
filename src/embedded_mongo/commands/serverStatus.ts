/**
 * `serverStatus`: uptime, connections (`current`, `available` under `maxConns`, `totalCreated`,
 * `refused`), `storage`: whether the store takes writes now (`writable`), and if not, why
 * (`error`, `failingSince`), with the count of writes refused so far (`failedWrites`), and, as
 * mongod reports them, `metrics.ttl.deletedDocuments` and `metrics.ttl.passes` (longs) of the
 * TTL monitor, with `metrics.ttl.longestSliceMs`, the longest it has held the event loop.
 */
import { type Document, Long } from "bson";
import { VERSION } from "./buildInfo.ts";
import type { Command } from "./context.ts";

export const serverStatus: Command = {
  run(_cmd, ctx): Document {
    const store = ctx.store.status();
    const storage: Document = {
      persistent: store.persistent,
      writable: store.writable,
      failedWrites: store.failedWrites,
    };
    if (store.error !== undefined) storage.error = store.error;
    if (store.failingSince !== undefined) storage.failingSince = store.failingSince;
    const now = new Date();
    const reply: Document = {
      version: VERSION,
      process: "embedded-mongo",
      pid: Deno.pid,
      localTime: now,
      storageEngine: { name: "embedded", persistent: store.persistent },
      storage,
    };
    const ttl = ctx.store.ttlMetrics();
    reply.metrics = {
      ttl: {
        deletedDocuments: Long.fromNumber(ttl.deletedDocuments),
        passes: Long.fromNumber(ttl.passes),
        longestSliceMs: ttl.longestSliceMs,
      },
    };
    if (ctx.server) {
      const uptimeMs = now.getTime() - ctx.server.startedAt.getTime();
      reply.uptime = Math.floor(uptimeMs / 1000);
      reply.uptimeMillis = uptimeMs;
      reply.connections = { ...ctx.server.connections(), maxConns: ctx.server.maxConns };
    }
    reply.ok = 1;
    return reply;
  },
};

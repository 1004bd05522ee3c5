/** `dropDatabase`: removes every collection of the database. */
import type { Document } from "bson";
import type { Command } from "./context.ts";

export const dropDatabase: Command = {
  write: true,
  run(_cmd, ctx): Document {
    ctx.store.dropDatabase(ctx.db);
    return { dropped: ctx.db, ok: 1 };
  },
};

/** `killCursors`: closes the listed cursors. */
import { type Document, Long } from "bson";
import { CommandError } from "../errors.ts";
import { collectionName, type Command } from "./context.ts";

export const killCursors: Command = {
  run(cmd, ctx): Document {
    collectionName(cmd, "killCursors");
    if (!Array.isArray(cmd.cursors)) {
      throw new CommandError(
        40414,
        "Location40414",
        "BSON field 'cursors' is missing or not an array",
      );
    }
    const cursorsKilled: Long[] = [];
    const cursorsNotFound: Long[] = [];
    for (const raw of cmd.cursors as unknown[]) {
      const id = typeof raw === "number"
        ? raw
        : Number((raw as { valueOf(): unknown })?.valueOf?.());
      (ctx.cursors.kill(id) ? cursorsKilled : cursorsNotFound).push(Long.fromNumber(id));
    }
    return { cursorsKilled, cursorsNotFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
  },
};

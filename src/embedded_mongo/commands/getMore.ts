/** `getMore`: the next batch of an open cursor. */
import type { Document } from "bson";
import { CommandError } from "../errors.ts";
import { collectionName, type Command, namespace, optionalInt } from "./context.ts";

export const getMore: Command = {
  run(cmd, ctx): Document {
    const raw = cmd.getMore;
    const id = typeof raw === "number" ? raw : Number((raw as { valueOf(): unknown })?.valueOf?.());
    if (!Number.isInteger(id)) {
      throw new CommandError(
        14,
        "TypeMismatch",
        "Cannot run getMore: the cursor id must be a long",
      );
    }
    const name = collectionName(cmd, "collection");
    const ns = namespace(ctx, name);
    const batch = ctx.cursors.more(id, ns, optionalInt(cmd, "batchSize", 0));
    if (!batch) {
      throw new CommandError(43, "CursorNotFound", `cursor id ${id} not found`);
    }
    return { cursor: { nextBatch: batch.docs, id: batch.id, ns }, ok: 1 };
  },
};

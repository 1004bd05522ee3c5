/** `distinct`: the distinct values of a field (array elements counted one by one). */
import type { Document } from "bson";
import { compileFilter, decoded, matching } from "../query/engine.ts";
import { CommandError } from "../errors.ts";
import { compareValues } from "../query/values.ts";
import { collectionName, type Command, optionalDocument } from "./context.ts";

function collect(value: unknown, parts: string[], i: number, out: unknown[]): void {
  if (i === parts.length) {
    if (Array.isArray(value)) out.push(...value);
    else if (value !== undefined) out.push(value);
    return;
  }
  if (Array.isArray(value)) {
    if (/^\d+$/.test(parts[i]) && Number(parts[i]) < value.length) {
      collect(value[Number(parts[i])], parts, i + 1, out);
    } else {
      for (const el of value) collect(el, parts, i, out);
    }
    return;
  }
  if (
    value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype
  ) {
    collect((value as Document)[parts[i]], parts, i + 1, out);
  }
}

function primitiveKey(v: unknown): string | undefined {
  switch (typeof v) {
    case "number":
      return `n${v}`;
    case "string":
      return `s${v}`;
    case "boolean":
      return `b${v}`;
  }
  if (v === null) return "null";
  return undefined;
}

export const distinct: Command = {
  run(cmd, ctx): Document {
    const name = collectionName(cmd, "distinct");
    if (typeof cmd.key !== "string" || cmd.key === "") {
      throw new CommandError(
        14,
        "TypeMismatch",
        "Cannot run distinct: 'key' must be a non-empty string",
      );
    }
    const parts = (cmd.key as string).split(".");
    const filter = optionalDocument(cmd, "query");
    const seen = new Set<string>();
    const values: unknown[] = [];
    const others: unknown[] = [];
    const coll = ctx.store.getCollection(ctx.db, name);
    const matcher = compileFilter(filter);
    const docs = coll ? decoded(coll, matching(coll, filter, matcher)) : [];
    for (const doc of docs) {
      const found: unknown[] = [];
      collect(doc, parts, 0, found);
      for (const v of found) {
        const key = primitiveKey(v);
        if (key !== undefined) {
          if (seen.has(key)) continue;
          seen.add(key);
        } else {
          if (others.some((o) => compareValues(o, v) === 0)) continue;
          others.push(v);
        }
        values.push(v);
      }
    }
    return { values, ok: 1 };
  },
};

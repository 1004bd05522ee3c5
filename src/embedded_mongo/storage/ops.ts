/**
 * The mutations of the store, as one typed union (`JournalOp`): what a write hands to the catalog,
 * what the journal records, and what a replay reads back. On disk each is one BSON document
 * (the body of a framed record, `records.ts`), with the short field names of the first version:
 *
 *     i  insert       {op, db, c, d: document}       dc drop collection  {op, db, c}
 *     r  replace      {op, db, c, d: document}       dd drop database    {op, db}
 *     d  delete       {op, db, c, id}                ci create indexes   {op, db, c, specs}
 *     cc create coll. {op, db, c, o: options}        di drop index       {op, db, c, name}
 *
 * Inserts and replacements carry the document as BSON bytes and are framed and read back
 * without building the document as an object.
 */
import { BSON, type Document } from "bson";
import { normalizeValue } from "../query/values.ts";
import { elements, putI32, stringAt } from "./bson_walk.ts";
import { writeUtf8 } from "./text.ts";
import type { IndexSpec } from "./types.ts";

export type JournalOp =
  | { op: "i"; db: string; c: string; doc: Uint8Array }
  | { op: "r"; db: string; c: string; doc: Uint8Array }
  | { op: "d"; db: string; c: string; id: unknown }
  | { op: "cc"; db: string; c: string; options: Document }
  | { op: "dc"; db: string; c: string }
  | { op: "dd"; db: string }
  | { op: "ci"; db: string; c: string; specs: IndexSpec[] }
  | { op: "di"; db: string; c: string; name: string };

/**
 * `{op, db, c, <name>: <value>}` written directly, the last element being a BSON document
 * (type 3, `value` its bytes) or a string (type 2, `value` the string).
 */
function record(op: string, db: string, c: string, name: string, value: Uint8Array | string) {
  const strings: [string, string][] = [["op", op], ["db", db], ["c", c]];
  if (typeof value === "string") strings.push([name, value]);
  let max = 5 + (typeof value === "string" ? 0 : 3 + name.length + value.length);
  for (const [k, v] of strings) max += 7 + k.length + 3 * v.length;
  const out = new Uint8Array(max);
  let o = 4;
  for (const [k, v] of strings) {
    out[o++] = 0x02;
    o = writeUtf8(k, out, o);
    out[o++] = 0;
    const at = o;
    o = writeUtf8(v, out, o + 4);
    putI32(out, at, o - at - 4 + 1);
    out[o++] = 0;
  }
  if (typeof value !== "string") {
    out[o++] = 0x03;
    o = writeUtf8(name, out, o);
    out[o++] = 0;
    out.set(value, o);
    o += value.length;
  }
  out[o++] = 0;
  putI32(out, 0, o);
  return out.subarray(0, o);
}

/** The BSON body of `op`'s record. */
export function encodeOp(op: JournalOp): Uint8Array {
  switch (op.op) {
    case "i":
    case "r":
      return record(op.op, op.db, op.c, "d", op.doc);
    case "d":
      if (typeof op.id === "string") return record("d", op.db, op.c, "id", op.id);
      return BSON.serialize({ op: "d", db: op.db, c: op.c, id: op.id });
    case "cc":
      return BSON.serialize({ op: "cc", db: op.db, c: op.c, o: op.options });
    case "dc":
      return BSON.serialize({ op: "dc", db: op.db, c: op.c });
    case "dd":
      return BSON.serialize({ op: "dd", db: op.db });
    case "ci":
      return BSON.serialize({ op: "ci", db: op.db, c: op.c, specs: op.specs });
    case "di":
      return BSON.serialize({ op: "di", db: op.db, c: op.c, name: op.name });
  }
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`Cannot read record: no ${what}`);
  return v;
}

/** The `op` field of a record body. */
export function opName(body: Uint8Array): string | undefined {
  const els = elements(body);
  const e = els.find((x) => x.name === "op" && x.type === 0x02);
  return e ? stringAt(body, e) : undefined;
}

/**
 * The operation of a record body, or the record as a plain document when it is not a mutation
 * (a snapshot's header, chunks and footer). `d` of an insert or replacement is a view into
 * `body`: copy it before keeping it.
 */
export function decodeOp(body: Uint8Array): JournalOp | { op: "other"; record: Document } {
  const els = elements(body);
  const opEl = els.find((e) => e.name === "op" && e.type === 0x02);
  const op = opEl ? stringAt(body, opEl) : undefined;
  if (op === "i" || op === "r") {
    const dbEl = els.find((e) => e.name === "db" && e.type === 0x02);
    const cEl = els.find((e) => e.name === "c" && e.type === 0x02);
    const dEl = els.find((e) => e.name === "d" && e.type === 0x03);
    return {
      op,
      db: stringAt(body, need(dbEl, "db")),
      c: stringAt(body, need(cEl, "c")),
      doc: body.subarray(need(dEl, "document").start, dEl!.end),
    };
  }
  const record = BSON.deserialize(body.slice());
  normalizeValue(record);
  const { db, c } = record as { db: string; c: string };
  switch (op) {
    case "d":
      return { op, db, c, id: record.id };
    case "cc":
      return { op, db, c, options: record.o ?? {} };
    case "dc":
      return { op, db, c };
    case "dd":
      return { op, db };
    case "ci":
      return { op, db, c, specs: record.specs as IndexSpec[] };
    case "di":
      return { op, db, c, name: record.name };
  }
  return { op: "other", record };
}

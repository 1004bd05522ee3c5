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

const UTF8 = new TextEncoder();

/**
 * `{op, db, c, <name>: <value>}` written directly, the last element being a BSON document
 * (type 3, `value` its bytes) or a string (type 2).
 */
function record(op: string, db: string, c: string, name: string, type: 2 | 3, value: Uint8Array) {
  const parts = [["op", op], ["db", db], ["c", c]].map((
    [k, v],
  ) => [UTF8.encode(k), UTF8.encode(v)]);
  const last = type === 2 ? 4 + value.length + 1 : value.length;
  let size = 4 + 1 + 1 + name.length + 1 + last;
  for (const [k, v] of parts) size += 1 + k.length + 1 + 4 + v.length + 1;
  const out = new Uint8Array(size);
  putI32(out, 0, size);
  let o = 4;
  const string = (k: Uint8Array, v: Uint8Array) => {
    out[o++] = 0x02;
    out.set(k, o);
    o += k.length;
    out[o++] = 0;
    putI32(out, o, v.length + 1);
    out.set(v, o + 4);
    o += 4 + v.length;
    out[o++] = 0;
  };
  for (const [k, v] of parts) string(k, v);
  if (type === 2) string(UTF8.encode(name), value);
  else {
    out[o++] = 0x03;
    out.set(UTF8.encode(name), o);
    o += name.length;
    out[o++] = 0;
    out.set(value, o);
    o += value.length;
  }
  out[o] = 0;
  return out;
}

/** The BSON body of `op`'s record. */
export function encodeOp(op: JournalOp): Uint8Array {
  switch (op.op) {
    case "i":
    case "r":
      return record(op.op, op.db, op.c, "d", 3, op.doc);
    case "d":
      if (typeof op.id === "string") return record("d", op.db, op.c, "id", 2, UTF8.encode(op.id));
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

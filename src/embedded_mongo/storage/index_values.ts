/**
 * The values a document holds at an indexed path, as MongoDB's multikey indexes see them: arrays
 * expanded one level, an empty array indexed as itself, a missing field as `MISSING` (indexed as
 * null unless the index is sparse). Read from a `DocSource`, so that a top-level field of a stored
 * document is read without decoding the rest of it.
 */
import type { Document } from "bson";
import { MISSING } from "./keys.ts";

/** A document as index maintenance reads it. */
export interface DocSource {
  /** The value of a top-level field, or `MISSING`. */
  top(name: string): unknown;
  /** The whole document (decoded on first use). */
  doc(): Document;
  /**
   * What an index needs of a top-level field without building it (`Codec.fieldKey`: a kind,
   * with `fieldKeyValue` set), when the source can tell.
   */
  fieldKey?(name: string): number;
  readonly fieldKeyValue?: number;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function collect(value: unknown, parts: string[], i: number, out: unknown[]): void {
  if (i === parts.length) {
    if (Array.isArray(value)) {
      if (value.length === 0) out.push(value);
      else for (const e of value) out.push(e);
    } else out.push(value);
    return;
  }
  if (Array.isArray(value)) {
    const part = parts[i];
    const before = out.length;
    if (/^\d+$/.test(part)) {
      const idx = Number(part);
      if (idx < value.length) collect(value[idx], parts, i + 1, out);
    }
    for (const e of value) if (isPlainObject(e)) collect(e, parts, i, out);
    if (out.length === before) out.push(MISSING);
    return;
  }
  if (!isPlainObject(value) || !Object.hasOwn(value, parts[i])) {
    out.push(MISSING);
    return;
  }
  const v = value[parts[i]];
  if (v === undefined) out.push(MISSING);
  else collect(v, parts, i + 1, out);
}

/** Every value at `parts` (see the module comment); never empty. */
export function valuesAt(src: DocSource, parts: string[]): unknown[] {
  if (parts.length === 1) {
    const v = src.top(parts[0]);
    if (v === undefined || v === MISSING) return [MISSING];
    if (!Array.isArray(v)) return [v];
    if (v.length === 0) return [v];
    return [...v];
  }
  const out: unknown[] = [];
  collect(src.doc(), parts, 0, out);
  return out;
}

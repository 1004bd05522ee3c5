/**
 * Index specifications: validating one (`validateSpec`), the copy that is journaled and listed
 * (`cleanSpec`), and whether two requests name the same index (`sameKey`, `sameOptions`), with
 * MongoDB's codes for each refusal.
 */
import { IndexError } from "../errors.ts";
import { encodeValue } from "./keys.ts";
import type { IndexSpec } from "./types.ts";

export const ID_SPEC: IndexSpec = { name: "_id_", key: { _id: 1 } };

export function sameOptions(a: IndexSpec, b: IndexSpec): boolean {
  return !!a.unique === !!b.unique && !!a.sparse === !!b.sparse &&
    a.expireAfterSeconds === b.expireAfterSeconds &&
    (a.partialFilterExpression === undefined) === (b.partialFilterExpression === undefined) &&
    (a.partialFilterExpression === undefined ||
      encodeValue(a.partialFilterExpression) === encodeValue(b.partialFilterExpression));
}

function keyText(key: Record<string, unknown>): string {
  let out = "";
  for (const [k, v] of Object.entries(key)) out += `${k}\0${encodeValue(v)}\0`;
  return out;
}

export function sameKey(a: IndexSpec, b: IndexSpec): boolean {
  return keyText(a.key) === keyText(b.key);
}

/** A copy of a spec with only the fields the contract knows (what is journaled and listed). */
export function cleanSpec(spec: IndexSpec): IndexSpec {
  const out: IndexSpec = { name: spec.name, key: { ...spec.key } };
  if (spec.unique) out.unique = true;
  if (spec.sparse) out.sparse = true;
  if (spec.expireAfterSeconds !== undefined) out.expireAfterSeconds = spec.expireAfterSeconds;
  if (spec.partialFilterExpression !== undefined) {
    out.partialFilterExpression = spec.partialFilterExpression;
  }
  return out;
}

/** A copy safe to hand out (the partial filter cloned too). */
export function copySpec(spec: IndexSpec): IndexSpec {
  const out = cleanSpec(spec);
  if (out.partialFilterExpression) {
    out.partialFilterExpression = structuredClone(out.partialFilterExpression);
  }
  return out;
}

function cannotCreate(reason: string): IndexError {
  return new IndexError(67, `Cannot create index: ${reason}`, "CannotCreateIndex");
}

/** Throws `IndexError` 67 for a spec MongoDB refuses on its own. */
export function validateSpec(spec: IndexSpec): void {
  const fields = Object.keys(spec.key ?? {});
  if (typeof spec.name !== "string" || spec.name === "") {
    throw cannotCreate("the index name is empty");
  }
  if (fields.length === 0) throw cannotCreate("the key is empty");
  if (fields.some((f) => f === "" || f.startsWith("$") || f.split(".").includes(""))) {
    throw cannotCreate(`bad field name in ${JSON.stringify(spec.key)}`);
  }
  if (spec.expireAfterSeconds !== undefined && fields.length !== 1) {
    throw cannotCreate(
      "TTL indexes are single-field indexes, compound indexes do not support TTL",
    );
  }
  if (spec.sparse && spec.partialFilterExpression) {
    throw cannotCreate("cannot mix partialFilterExpression and sparse");
  }
  if (spec.unique && fields.length === 1 && fields[0] === "_id") {
    throw cannotCreate("the field 'unique' is not valid for an _id index specification");
  }
}

/**
 * Throws the error MongoDB gives when `spec` clashes with an index in `known` (86: same name,
 * other key or options; 85: same key, other name or options); returns true when an identical
 * index exists (nothing to do), false when `spec` is new.
 */
export function checkAgainst(spec: IndexSpec, known: IndexSpec[]): boolean {
  const same = known.find((k) => k.name === spec.name);
  if (same) {
    if (sameKey(same, spec) && sameOptions(same, spec)) return true;
    throw new IndexError(
      86,
      `An existing index has the same name as the requested index but a different key or options: requested ${
        JSON.stringify(spec)
      }, existing ${JSON.stringify(same)}`,
      "IndexKeySpecsConflict",
    );
  }
  const sameKeyed = known.find((k) => sameKey(k, spec));
  if (sameKeyed) {
    throw new IndexError(
      85,
      sameOptions(sameKeyed, spec)
        ? `Index already exists with a different name: ${sameKeyed.name}`
        : `An index with the same key already exists with different options: ${sameKeyed.name}`,
      "IndexOptionsConflict",
    );
  }
  return false;
}

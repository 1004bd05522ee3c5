/**
 * Frames: the bindings of a sync's variables. A frame maps variable symbols to values; `Frames`
 * is an array of frames with the operations a `where` uses: `query` (join with a concept's
 * query), `collectAs` (group), and the array methods, whose results stay `Frames`.
 */
import type { AnyFunction, PatternDict } from "./actions.ts";
import { deepEqual, isDict, stableKey } from "./values.ts";
import { isVar, varName } from "./vars.ts";

/** Values bound to variables. */
export type Frame = Record<symbol, unknown>;

/** Thrown when a pattern needs a variable that a frame does not bind. */
export class UnboundVariableError extends Error {
  constructor(readonly variable: symbol, readonly place: string) {
    super(`variable '${varName(variable)}' is unbound in ${place}`);
    this.name = "UnboundVariableError";
  }
}

/**
 * `value` with every variable replaced by its value in `frame`, inside plain dictionaries and
 * arrays too. Throws `UnboundVariableError` (naming `place`) for a variable the frame lacks.
 */
export function fill(value: unknown, frame: Frame, place: string): unknown {
  if (isVar(value)) {
    if (!Object.hasOwn(frame, value)) throw new UnboundVariableError(value, place);
    return frame[value];
  }
  if (Array.isArray(value)) return value.map((item) => fill(item, frame, place));
  if (isDict(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = fill(v, frame, place);
    return out;
  }
  return value;
}

/**
 * Binds `pattern` (key -> variable or literal) against `dict`: every key must be present, a
 * literal must be equal, a variable already bound must be equal, and a free variable is bound.
 * Returns the extended frame (`frame` itself when nothing new is bound), or undefined.
 */
export function bindDict(
  pattern: PatternDict,
  dict: Record<string, unknown>,
  frame: Frame,
): Frame | undefined {
  let out: Frame | undefined;
  for (const key of Object.keys(pattern)) {
    if (!Object.hasOwn(dict, key)) return undefined;
    const want = pattern[key];
    const got = dict[key];
    if (isVar(want)) {
      const current = out ?? frame;
      if (Object.hasOwn(current, want)) {
        if (!deepEqual(current[want], got)) return undefined;
      } else {
        out ??= { ...frame };
        out[want] = got;
      }
    } else if (!deepEqual(want, got)) {
      return undefined;
    }
  }
  return out ?? frame;
}

/**
 * `bindDict` for a result: in addition, an error result (one with an `error` key) matches only
 * a pattern that names `error`, so `{}` or `{ user }` never matches `{ error }`.
 */
export function bindOutputs(
  pattern: PatternDict,
  result: Record<string, unknown>,
  frame: Frame,
): Frame | undefined {
  if (Object.hasOwn(result, "error") && !Object.hasOwn(pattern, "error")) return undefined;
  return bindDict(pattern, result, frame);
}

/** An array of frames. Array methods that build arrays (`filter`, `map`, ...) return `Frames`. */
export class Frames extends Array<Frame> {
  /** Frames of the given frames (`new Frames(a, b)`); `new Frames()` is empty. */
  constructor(...frames: Frame[]) {
    // A single number is the length (as for Array): the array methods construct results so.
    super(...(frames as unknown as [number]));
  }

  /** Frames of an array of frames (copied; works for any length). */
  static fromArray(frames: readonly Frame[]): Frames {
    const out = new Frames();
    for (const f of frames) out.push(f);
    return out;
  }

  override filter(predicate: (frame: Frame, index: number, frames: Frame[]) => unknown): Frames {
    const out = new Frames();
    this.forEach((f, i, a) => {
      if (predicate(f, i, a)) out.push(f);
    });
    return out;
  }

  /** Maps each frame to a frame. */
  override map<U>(fn: (frame: Frame, index: number, frames: Frame[]) => U): U[] & Frames {
    const out = new Frames();
    this.forEach((f, i, a) => out.push(fn(f, i, a) as Frame));
    return out as U[] & Frames;
  }

  /**
   * Joins each frame with the results of a query: calls `fn` once per frame (in order) with
   * `input` filled from the frame, and for each result dictionary binds `output` (result key ->
   * variable) as a `when` output pattern does. A frame whose query returns no matching result is
   * dropped. Results with an `error` key match only when `output` names `error`.
   */
  async query(
    fn: AnyFunction,
    input: PatternDict,
    output: Record<string, symbol>,
  ): Promise<Frames> {
    const place = `query ${fn.name || "<query>"}`;
    const out = new Frames();
    for (const frame of this) {
      const filled = fill(input, frame, place) as Record<string, unknown>;
      const results = await (fn as (input: unknown) => unknown)(filled);
      if (!Array.isArray(results)) {
        throw new TypeError(`Cannot ${place}: it returned ${typeof results}, not an array`);
      }
      for (const result of results) {
        if (!isDict(result)) continue;
        const bound = bindOutputs(output, result, frame);
        if (bound !== undefined) out.push(bound);
      }
    }
    return out;
  }

  /**
   * Groups the frames by the values of every variable except `vars`, and gives each group one
   * frame whose `as` is an array of `{ name: value }` for `vars` (names from the variables).
   * Groups keep the order of their first frame. No frames give no frames.
   */
  collectAs(vars: symbol[], as: symbol): Frames {
    const collected = new Set<symbol>(vars);
    const groups = new Map<string, { frame: Frame; items: Record<string, unknown>[] }>();
    for (const frame of this) {
      const kept: Frame = {};
      const keyParts: string[] = [];
      for (const sym of Object.getOwnPropertySymbols(frame)) {
        if (collected.has(sym) || sym === as) continue;
        kept[sym] = frame[sym];
        keyParts.push(`${String(sym)}=${stableKey(frame[sym])}`);
      }
      // Several variables may share a description; their order in the frame tells them apart.
      const key = keyParts.join("\u0000");
      const item: Record<string, unknown> = {};
      for (const v of vars) {
        if (!Object.hasOwn(frame, v)) throw new UnboundVariableError(v, "collectAs");
        item[varName(v)] = frame[v];
      }
      let group = groups.get(key);
      if (!group) {
        group = { frame: kept, items: [] };
        groups.set(key, group);
      }
      group.items.push(item);
    }
    const out = new Frames();
    for (const { frame, items } of groups.values()) out.push({ ...frame, [as]: items });
    return out;
  }
}

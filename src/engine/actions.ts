/**
 * The declarative side of a synchronization: `actions(...)` builds the action patterns of a
 * `when` or `then`, and `Sync` is the shape of a sync (a function of its variables returning
 * `{ when, where?, then }`).
 */
import type { Frame, Frames } from "./frames.ts";
import type { Vars } from "./vars.ts";

/**
 * Any action or query function. (`never` as the parameter accepts every one-argument function,
 * whatever its input type.)
 */
export type AnyFunction = (input: never) => unknown;

/** A pattern's dictionary: literal values, or variables (symbols) to bind or to fill in. */
export type PatternDict = Record<string, unknown>;

/** One pattern as written: `[Concept.action, input, output?]`. */
export type ActionTuple = readonly [action: AnyFunction, input: PatternDict, output?: PatternDict];

/** One pattern as the engine keeps it. */
export interface ActionPattern {
  action: AnyFunction;
  input: PatternDict;
  /** Absent in a `then`; in a `when`, an absent output matches like `{}`. */
  output?: PatternDict;
}

/** The action patterns of a `when` or a `then`, in order. */
export type ActionList = ActionPattern[];

/** Builds action patterns: `actions([Requesting.request, { path: "/x" }, { request }], ...)`. */
export function actions(...tuples: ActionTuple[]): ActionList {
  return tuples.map((tuple, i) => {
    if (Array.isArray(tuple) && tuple[0] === undefined) {
      throw new TypeError(
        `Cannot build actions: pattern ${i + 1} names undefined: a misspelt name, or a ` +
          "concept's private helper (only a concept's actions can be named)",
      );
    }
    if (!Array.isArray(tuple) || typeof tuple[0] !== "function") {
      throw new TypeError(
        `Cannot build actions: pattern ${i + 1} must be [Concept.action, input, output?]`,
      );
    }
    const [action, input, output] = tuple;
    if (typeof input !== "object" || input === null || Array.isArray(input)) {
      throw new TypeError(
        `Cannot build actions: the input of pattern ${i + 1} must be a dictionary`,
      );
    }
    if (output !== undefined && (typeof output !== "object" || output === null)) {
      throw new TypeError(
        `Cannot build actions: the output of pattern ${i + 1} must be a dictionary`,
      );
    }
    return output === undefined ? { action, input } : { action, input, output };
  });
}

/** What `where` may return: frames (or a plain array of frames), at once or as a promise. */
export type WhereResult = Frames | Frame[] | Promise<Frames | Frame[]>;

/** The body of a synchronization. */
export interface SyncDeclaration {
  /** Every pattern must match a record of the same flow. */
  when: ActionList;
  /** Refines the frames of the matches: queries, filters, collections. */
  where?: (frames: Frames) => WhereResult;
  /** Invoked once per frame left after `where`, in order. */
  then: ActionList;
}

/** A synchronization: a function of its variables. Its name is its key in `register`. */
export type Sync = (vars: Vars) => SyncDeclaration;

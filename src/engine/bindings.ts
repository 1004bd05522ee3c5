/**
 * Concept stand-ins for syncs written in the course template's style, where a sync file imports
 * concept instances by name (`import { Requesting, Sessioning } from "./concepts.ts"`) and
 * mentions them in `when`, `where` and `then`.
 *
 * `bound<T>("Sessioning")` is such a stand-in: a fixed, immutable object that resolves every
 * property against the concept named `Sessioning` of the engine that is registering or running
 * the sync at that moment. The engine sets that scope (an AsyncLocalStorage) while it compiles a
 * sync and while it runs the sync's `where`, so two engines in one process each see their own
 * concepts, `where` clauses included, and no module holds mutable wiring state.
 */
import { AsyncLocalStorage } from "node:async_hooks";

/** The concepts an engine has instrumented, by name (`Sessioning`, not `SessioningConcept`). */
export type ConceptScope = ReadonlyMap<string, object>;

const scope = new AsyncLocalStorage<ConceptScope>();

/** What an engine's scope holds for a name that two of its concepts share. */
export const AMBIGUOUS: object = Object.freeze({});

/** Runs `fn` with `concepts` as the scope of every stand-in. */
export function inConceptScope<R>(concepts: ConceptScope, fn: () => R): R {
  return scope.run(concepts, fn);
}

/** A stand-in for the concept called `name` (see the module comment). */
export function bound<T extends object>(name: string): T {
  const resolve = (): object => {
    const concepts = scope.getStore();
    if (!concepts) {
      throw new Error(
        `Cannot use ${name} here: concept stand-ins work only inside syncs an engine registers`,
      );
    }
    const concept = concepts.get(name);
    if (!concept) throw new Error(`Cannot use ${name}: this engine has no concept of that name`);
    if (concept === AMBIGUOUS) {
      throw new Error(`Cannot use ${name}: this engine has two concepts of that name`);
    }
    return concept;
  };
  return new Proxy(Object.freeze({}), {
    get: (_, prop) => prop === Symbol.toStringTag ? `bound ${name}` : Reflect.get(resolve(), prop),
    has: (_, prop) => Reflect.has(resolve(), prop),
    set: () => false,
    defineProperty: () => false,
  }) as T;
}

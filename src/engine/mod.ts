/**
 * The sync engine's public API: `actions`, `Sync`, `Frames`, `Vars`, `Logging`, and the engine
 * (`SyncConcept`, `createEngine`) with its concept hooks. See design/syncs.md.
 */
export {
  type ActionList,
  type ActionPattern,
  actions,
  type ActionTuple,
  type AnyFunction,
  type PatternDict,
  type Sync,
  type SyncDeclaration,
  type WhereResult,
} from "./actions.ts";
export { bound, type ConceptScope } from "./bindings.ts";
export { type Frame, Frames, UnboundVariableError } from "./frames.ts";
export {
  type LogEntry,
  Logger,
  Logging,
  type LogLevel,
  memoryLogger,
  redactSecrets,
} from "./logging.ts";
export {
  type CascadeReport,
  type ConceptHooks,
  createEngine,
  ENGINE_HOOKS,
  type EngineOptions,
  type EngineStats,
  type InstrumentOptions,
  SyncConcept,
  type SyncFailure,
} from "./sync.ts";
export { freshVars, type Vars } from "./vars.ts";

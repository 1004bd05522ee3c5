/**
 * The sync engine. `instrumentConcept` wraps a concept's actions so that each completed action
 * becomes a record of a flow; `register` adds synchronizations; after each record the engine
 * runs the syncs whose `when` mentions that action, joining their patterns over the records of
 * the same flow, refining with `where`, and invoking `then` (whose records join the flow).
 *
 * Flows: an action called from outside starts a flow; its call resolves once the whole cascade
 * has run (or, for a concept with `cascadeTimeoutMs`, at that deadline), and the flow is then
 * dropped, so finished flows cost no memory. Records are indexed by flow and action, and a set
 * of records is considered exactly once (when its newest record arrives), so a sync fires at
 * most once for one set of matched records without any "already fired" bookkeeping.
 *
 * Failures: an exception in a `then` action, in `where`, or an unbound variable stops that one
 * sync firing; it is logged with the sync's name and the flow's correlation id, the rest of the
 * cascade goes on, and the root concept's `cascadeDone` hook hears of it.
 */
import { describeError } from "../utils/log.ts";
import { AMBIGUOUS, inConceptScope } from "./bindings.ts";
import type { ActionPattern, AnyFunction, PatternDict, Sync } from "./actions.ts";
import { bindDict, bindOutputs, fill, type Frame, Frames, UnboundVariableError } from "./frames.ts";
import { Logger, Logging } from "./logging.ts";
import { isDict } from "./values.ts";
import { freshVars, isVar } from "./vars.ts";

/**
 * The key of a concept's engine hooks (`Symbol.for`, so a concept declares them without
 * importing the engine). See `ConceptHooks`.
 */
export const ENGINE_HOOKS: unique symbol = Symbol.for("syncEngine.hooks") as never;

/** A sync failure within a flow. */
export interface SyncFailure {
  sync: string;
  message: string;
  /** What was thrown (the action's or the `where`'s error), for the root concept to classify. */
  cause?: unknown;
  /** True when the failure is the flow's action cutoff: an action not started, too late. */
  cutoff?: boolean;
}

/** What the engine tells a concept when a cascade started by one of its actions ends. */
export interface CascadeReport {
  /** The action called from outside (`"request"`). */
  action: string;
  input: Record<string, unknown>;
  output: Record<string, unknown>;
  /** The flow's id: the correlation id of its log lines. */
  flow: string;
  /** Whether the root record completed the `when` of at least one sync. */
  matched: boolean;
  /** Syncs that failed in this flow (at most the first 20). */
  failures: SyncFailure[];
}

/** Optional hooks a concept offers the engine under `ENGINE_HOOKS`. */
export interface ConceptHooks {
  /**
   * An outside call of this concept's actions resolves at most this long after the action
   * itself returned, even when its cascade is still running (the cascade goes on).
   */
  cascadeTimeoutMs?: number;
  /**
   * Called once the cascade of an outside call of this concept's actions has run. A returned
   * string is logged as a warning under the flow's correlation id.
   */
  cascadeDone?(report: CascadeReport): string | void | Promise<string | void>;
  /**
   * No action of a cascade started by an outside call of this concept starts later than this
   * many milliseconds after the call: a sync that would fire one after it fails instead (a
   * `cutoff` failure). Set below `cascadeTimeoutMs` by at least the store's operation deadline,
   * no write starts that could land after the caller was answered.
   */
  cascadeCutoffMs?: number;
}

/** Options of `instrumentConcept`. */
export interface InstrumentOptions {
  /** The concept's name in logs; default: its class name without `Concept`. */
  name?: string;
  /** Overrides the concept's own `cascadeTimeoutMs` hook. */
  cascadeTimeoutMs?: number;
}

/** Options of the engine. */
export interface EngineOptions {
  logging?: Logging;
  logger?: Logger;
  /** A flow stops invoking actions past this many records (a sync loop): default 100,000. */
  maxFlowRecords?: number;
}

/** The engine's live state, for tests and health checks. */
export interface EngineStats {
  /** Flows whose cascade has not finished. */
  flows: number;
  /** Records held by those flows. */
  records: number;
  /** Registered syncs. */
  syncs: number;
}

interface ActionInfo {
  label: string;
  name: string;
  fn: (input: unknown) => unknown;
  hooks?: ConceptHooks;
  cascadeTimeoutMs?: number;
}

interface ActionRecord {
  id: number;
  action: ActionInfo;
  input: Record<string, unknown>;
  output: Record<string, unknown>;
  flow: Flow;
  /** Took part in a complete `when` match. */
  matched: boolean;
}

interface Flow {
  id: string;
  byAction: Map<ActionInfo, ActionRecord[]>;
  size: number;
  failures: SyncFailure[];
  /** Epoch milliseconds after which the flow starts no action (see `cascadeCutoffMs`). */
  cutoffAt?: number;
}

interface CompiledPattern {
  action: ActionInfo;
  input: PatternDict;
  output: PatternDict;
}

interface CompiledSync {
  name: string;
  when: CompiledPattern[];
  where?: (frames: Frames) => unknown;
  then: Array<{ action: ActionInfo; input: PatternDict }>;
}

/** Where `then` actions and `where` failures are reported from. */
class FiringError extends Error {}

/** An action of a flow not started because the flow's cutoff passed. */
class CutoffError extends FiringError {}

const MAX_FAILURES_KEPT = 20;

/** A short description of something thrown, token-shaped text redacted. */
const describe = describeError;

/** The action names of a concept: methods on its prototype chain not starting with `_`. */
function actionNames(concept: object): string[] {
  const names: string[] = [];
  const seen = new Set<string>();
  for (
    let proto = Object.getPrototypeOf(concept);
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (seen.has(name)) continue;
      seen.add(name);
      if (name === "constructor" || name.startsWith("_") || name.startsWith("#")) continue;
      const desc = Object.getOwnPropertyDescriptor(proto, name);
      if (desc && typeof desc.value === "function") names.push(name);
    }
  }
  return names;
}

/** Names a function for messages (`Sessioning._getUser`). */
function named<F extends object>(fn: F, name: string): F {
  Object.defineProperty(fn, "name", { value: name });
  return fn;
}

/** The sync engine (the template's name is kept so its wiring moves over unchanged). */
export class SyncConcept {
  /** How much the engine logs; failures are logged at every level. */
  logging: Logging;
  /** Where the engine's lines go. */
  logger: Logger;
  readonly maxFlowRecords: number;

  #actions = new WeakMap<AnyFunction, ActionInfo>();
  #instrumented = new WeakMap<object, object>();
  /** The instrumented concepts by name: what stand-ins (`bound`) resolve to in this engine. */
  #byName = new Map<string, object>();
  #syncs = new Map<string, CompiledSync>();
  /** For each action, the (sync, pattern index) pairs whose `when` mentions it, in order. */
  #index = new Map<ActionInfo, Array<{ sync: CompiledSync; index: number }>>();
  #flows = new Map<string, Flow>();
  #records = 0;
  #seq = 0;

  constructor(options: EngineOptions = {}) {
    this.logging = options.logging ?? Logging.OFF;
    this.logger = options.logger ?? new Logger();
    this.maxFlowRecords = options.maxFlowRecords ?? 100_000;
  }

  /** Live flows and records (both return to 0 once every cascade has run), and syncs. */
  stats(): EngineStats {
    return { flows: this.#flows.size, records: this.#records, syncs: this.#syncs.size };
  }

  /**
   * The concept with its actions (methods not starting with `_`) instrumented: each call from
   * outside starts a flow and resolves, with the action's own result, after its cascade. Queries
   * (`_name`) and every other property are the concept's own (methods bound to it).
   */
  instrumentConcept<T extends object>(concept: T, options: InstrumentOptions = {}): T {
    const known = this.#instrumented.get(concept);
    if (known) return known as T;
    const conceptName = options.name ?? concept.constructor.name.replace(/Concept$/, "");
    const hooks = (concept as { [ENGINE_HOOKS]?: ConceptHooks })[ENGINE_HOOKS];
    const cascadeTimeoutMs = options.cascadeTimeoutMs ?? hooks?.cascadeTimeoutMs;
    const wrappers = new Map<PropertyKey, unknown>();
    for (const name of actionNames(concept)) {
      const label = `${conceptName}.${name}`;
      const target = concept as Record<string, (input: unknown) => unknown>;
      const info: ActionInfo = {
        label,
        name,
        // Looked up at each call, so a method replaced on the instance (a test double) is used.
        fn: (input) => target[name](input),
        hooks,
        cascadeTimeoutMs,
      };
      const wrapper = named((input: unknown) => this.#callFromOutside(info, input), label);
      this.#actions.set(wrapper, info);
      wrappers.set(name, wrapper);
    }
    const bound = new Map<PropertyKey, unknown>();
    const proxy = new Proxy(concept, {
      get(target, prop) {
        const wrapper = wrappers.get(prop);
        if (wrapper) return wrapper;
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function" || typeof prop !== "string") return value;
        let fn = bound.get(prop);
        if (!fn) {
          fn = named(value.bind(target), `${conceptName}.${prop}`);
          bound.set(prop, fn);
        }
        return fn;
      },
    });
    this.#instrumented.set(concept, proxy);
    this.#instrumented.set(proxy, proxy);
    // Two concepts of one name: stand-ins cannot tell them apart (give one `options.name`).
    this.#byName.set(conceptName, this.#byName.has(conceptName) ? AMBIGUOUS : proxy);
    return proxy;
  }

  /**
   * Registers syncs (name -> sync; the name appears in logs). All are checked before any is
   * added: each pattern must name an instrumented action, and a `when` may use variables only
   * as top-level values. Throws `Cannot register sync <name>: <reason>`.
   */
  register(syncs: Record<string, Sync>): void {
    const compiled: CompiledSync[] = [];
    for (const [name, sync] of Object.entries(syncs)) {
      if (this.#syncs.has(name) || compiled.some((c) => c.name === name)) {
        throw new Error(`Cannot register sync ${name}: a sync of that name is registered`);
      }
      compiled.push(this.#compile(name, sync));
    }
    for (const sync of compiled) {
      this.#syncs.set(sync.name, sync);
      sync.when.forEach((pattern, index) => {
        let list = this.#index.get(pattern.action);
        if (!list) this.#index.set(pattern.action, list = []);
        list.push({ sync, index });
      });
    }
  }

  #compile(name: string, sync: Sync): CompiledSync {
    const fail = (reason: string) => new Error(`Cannot register sync ${name}: ${reason}`);
    if (typeof sync !== "function") throw fail("it is not a function of its variables");
    let decl: ReturnType<Sync>;
    try {
      decl = inConceptScope(this.#byName, () => sync(freshVars()));
    } catch (e) {
      throw fail(e instanceof Error ? e.message : String(e));
    }
    if (!isDict(decl) || !Array.isArray(decl.when) || !Array.isArray(decl.then)) {
      throw fail("it must return { when, where?, then }");
    }
    if (decl.when.length === 0) throw fail("its when has no patterns");
    if (decl.then.length === 0) throw fail("its then has no actions");
    if (decl.where !== undefined && typeof decl.where !== "function") {
      throw fail("its where is not a function");
    }
    const resolve = (p: ActionPattern, place: string): ActionInfo => {
      const info = this.#actions.get(p.action);
      if (info) return info;
      const label = p.action?.name || "<anonymous>";
      const what = label.includes("._") ? "a query" : "not an instrumented action";
      throw fail(`${label} in ${place} is ${what}`);
    };
    const when = decl.when.map((p, i): CompiledPattern => {
      const input = p.input;
      const output = p.output ?? {};
      for (const [key, value] of [...Object.entries(input), ...Object.entries(output)]) {
        if (!isVar(value) && containsVar(value)) {
          throw fail(`when pattern ${i + 1} has a variable nested under '${key}'`);
        }
      }
      return { action: resolve(p, "when"), input, output };
    });
    const then = decl.then.map((p) => {
      if (p.output !== undefined) throw fail("a then pattern has an output pattern");
      return { action: resolve(p, "then"), input: p.input };
    });
    return { name, when, where: decl.where, then };
  }

  async #callFromOutside(info: ActionInfo, input: unknown): Promise<unknown> {
    const flow: Flow = { id: crypto.randomUUID(), byAction: new Map(), size: 0, failures: [] };
    const cutoffMs = info.hooks?.cascadeCutoffMs;
    if (cutoffMs !== undefined) flow.cutoffAt = Date.now() + cutoffMs;
    this.#flows.set(flow.id, flow);
    let performed: { record: ActionRecord; raw: unknown };
    try {
      performed = await this.#perform(info, input, flow);
    } catch (e) {
      this.#closeFlow(flow);
      throw e;
    }
    const cascade = this.#cascade(performed.record);
    const deadline = info.cascadeTimeoutMs;
    if (deadline === undefined) {
      await cascade;
    } else {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), deadline);
      });
      const isLate = await Promise.race([cascade.then(() => false), late]);
      clearTimeout(timer);
      if (isLate) {
        this.logger.warn(`Cascade of ${info.label} still running after ${deadline} ms`, {
          correlationId: flow.id,
        });
      }
    }
    return performed.raw;
  }

  /** Runs the cascade of a root record, drops the flow, and tells the concept. Never rejects. */
  async #cascade(record: ActionRecord): Promise<void> {
    const flow = record.flow;
    try {
      await this.#synchronize(record);
    } catch (e) {
      // #synchronize contains every failure; this is a last guard.
      this.logger.error(`Cannot finish cascade of ${record.action.label}: ${describe(e)}`, {
        correlationId: flow.id,
      });
    }
    this.#closeFlow(flow);
    const hook = record.action.hooks?.cascadeDone;
    if (!hook) return;
    try {
      const note = await hook({
        action: record.action.name,
        input: record.input,
        output: record.output,
        flow: flow.id,
        matched: record.matched,
        failures: flow.failures,
      });
      if (typeof note === "string") this.logger.warn(note, { correlationId: flow.id });
    } catch (e) {
      this.logger.error(`Cannot report cascade of ${record.action.label}: ${describe(e)}`, {
        correlationId: flow.id,
      });
    }
  }

  #closeFlow(flow: Flow): void {
    if (this.#flows.delete(flow.id)) this.#records -= flow.size;
    flow.byAction.clear();
  }

  /** Runs one action and records it in the flow. Rethrows what the action throws. */
  async #perform(
    info: ActionInfo,
    input: unknown,
    flow: Flow,
  ): Promise<{ record: ActionRecord; raw: unknown }> {
    if (flow.size >= this.maxFlowRecords) {
      throw new Error(
        `Cannot run ${info.label}: the flow has ${this.maxFlowRecords} records (a sync loop?)`,
      );
    }
    const raw = await info.fn(input);
    const record: ActionRecord = {
      id: ++this.#seq,
      action: info,
      input: isDict(input) ? input : {},
      output: isDict(raw) ? raw : {},
      flow,
      matched: false,
    };
    if (this.#flows.has(flow.id)) {
      let list = flow.byAction.get(info);
      if (!list) flow.byAction.set(info, list = []);
      list.push(record);
      flow.size++;
      this.#records++;
    }
    if (this.logging >= Logging.TRACE) {
      this.logger.trace(info.label, {
        correlationId: flow.id,
        input: record.input,
        output: record.output,
      });
    }
    return { record, raw };
  }

  /** Runs every sync whose `when` mentions the record's action, in registration order. */
  async #synchronize(record: ActionRecord): Promise<void> {
    const entries = this.#index.get(record.action);
    if (!entries) return;
    for (const { sync, index } of entries) await this.#fire(sync, index, record);
  }

  /**
   * The frames of `sync` for the sets of records that include `record` at pattern `index`
   * with every other pattern matched by an older record of the flow (each record used once).
   * Frames are ordered by pattern, then by record age.
   */
  #match(sync: CompiledSync, index: number, record: ActionRecord): Frames {
    const first = matchRecord(sync.when[index], record, {});
    if (!first) return new Frames();
    let partial: Array<{ frame: Frame; used: ActionRecord[] }> = [{ frame: first, used: [record] }];
    for (let j = 0; j < sync.when.length && partial.length > 0; j++) {
      if (j === index) continue;
      const pattern = sync.when[j];
      const candidates = record.flow.byAction.get(pattern.action) ?? [];
      const next: typeof partial = [];
      for (const { frame, used } of partial) {
        for (const candidate of candidates) {
          if (candidate.id >= record.id) break;
          if (used.includes(candidate)) continue;
          const extended = matchRecord(pattern, candidate, frame);
          if (extended) next.push({ frame: extended, used: [...used, candidate] });
        }
      }
      partial = next;
    }
    const frames = new Frames();
    for (const { frame, used } of partial) {
      for (const r of used) r.matched = true;
      frames.push(frame);
    }
    return frames;
  }

  async #fire(sync: CompiledSync, index: number, record: ActionRecord): Promise<void> {
    const flow = record.flow;
    let frames = this.#match(sync, index, record);
    if (this.logging >= Logging.VERBOSE) {
      this.logger.debug(`Matched sync ${sync.name}`, {
        correlationId: flow.id,
        action: record.action.label,
        frames: frames.length,
      });
    }
    if (frames.length === 0) return;
    try {
      if (sync.where) {
        let result: unknown;
        try {
          const where = sync.where;
          result = await inConceptScope(this.#byName, () => where(frames));
        } catch (e) {
          if (e instanceof UnboundVariableError) throw new FiringError(e.message);
          throw new FiringError(`where threw ${describe(e)}`, { cause: e });
        }
        if (!Array.isArray(result)) throw new FiringError("where returned no array of frames");
        frames = result instanceof Frames ? result : Frames.fromArray(result as Frame[]);
        if (this.logging >= Logging.VERBOSE) {
          this.logger.debug(`Where of sync ${sync.name}`, {
            correlationId: flow.id,
            frames: frames.length,
          });
        }
      }
      // Fill every invocation first, so an unbound variable fires none of them.
      const calls: Array<{ action: ActionInfo; input: unknown }> = [];
      for (const frame of frames) {
        for (const pattern of sync.then) {
          try {
            calls.push({ action: pattern.action, input: fill(pattern.input, frame, "then") });
          } catch (e) {
            throw new FiringError(e instanceof Error ? e.message : String(e));
          }
        }
      }
      if (calls.length > 0 && this.logging >= Logging.TRACE) {
        this.logger.trace(`Sync ${sync.name} fires`, {
          correlationId: flow.id,
          frames: frames.length,
          actions: calls.length,
        });
      }
      for (const call of calls) {
        if (flow.cutoffAt !== undefined && Date.now() > flow.cutoffAt) {
          throw new CutoffError(`${call.action.label} not started: the flow's cutoff passed`);
        }
        let performed: { record: ActionRecord };
        try {
          performed = await this.#perform(call.action, call.input, flow);
        } catch (e) {
          throw new FiringError(`${call.action.label} threw ${describe(e)}`, { cause: e });
        }
        await this.#synchronize(performed.record);
      }
    } catch (e) {
      const message = `Cannot fire sync ${sync.name}: ${
        e instanceof FiringError ? e.message : describe(e)
      }`;
      const cause = e instanceof FiringError ? e.cause : e;
      const fields: Record<string, unknown> = { sync: sync.name, correlationId: flow.id };
      if (cause instanceof Error && cause.stack) fields.stack = cause.stack.slice(0, 2000);
      this.logger.error(message, fields);
      if (flow.failures.length < MAX_FAILURES_KEPT) {
        const failure: SyncFailure = { sync: sync.name, message };
        if (cause !== undefined) failure.cause = cause;
        if (e instanceof CutoffError) failure.cutoff = true;
        flow.failures.push(failure);
      }
    }
  }
}

/** Matches one `when` pattern against one record, extending `frame`. */
function matchRecord(
  pattern: CompiledPattern,
  record: ActionRecord,
  frame: Frame,
): Frame | undefined {
  const withInput = bindDict(pattern.input, record.input, frame);
  return withInput && bindOutputs(pattern.output, record.output, withInput);
}

/** Whether a value holds a variable anywhere inside (plain dictionaries and arrays). */
function containsVar(value: unknown): boolean {
  if (isVar(value)) return true;
  if (Array.isArray(value)) return value.some(containsVar);
  if (isDict(value)) return Object.values(value).some(containsVar);
  return false;
}

/** A new engine (the same as `new SyncConcept(options)`). */
export function createEngine(options: EngineOptions = {}): SyncConcept {
  return new SyncConcept(options);
}

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
import { freshID } from "../utils/ids.ts";
import { AMBIGUOUS, inConceptScope } from "./bindings.ts";
import type { ActionPattern, AnyFunction, PatternDict, Sync } from "./actions.ts";
import { type Deadlined, DeadlineQueue } from "../utils/deadlines.ts";
import { fill, type Frame, Frames, UnboundVariableError } from "./frames.ts";
import { Logger, Logging } from "./logging.ts";
import { deepEqual, isDict } from "./values.ts";
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
  /** What the action returned (`output` is it when it is a dictionary, else `{}`). */
  raw: unknown;
  flow: Flow;
  /** Took part in a complete `when` match. */
  matched: boolean;
}

interface Flow {
  id: string;
  byAction: Map<ActionInfo, ActionRecord[]>;
  size: number;
  failures: SyncFailure[];
  /** Until the flow is dropped (its cascade ended, or its root action threw). */
  open: boolean;
  /** Epoch milliseconds after which the flow starts no action (see `cascadeCutoffMs`). */
  cutoffAt?: number;
}

/** An outside call of an action with `cascadeTimeoutMs`, waiting for its cascade or deadline. */
interface OutsideCall extends Deadlined {
  label: string;
  timeoutMs: number;
  flow: Flow;
  raw: unknown;
  resolve: (raw: unknown) => void;
  queue: DeadlineQueue<OutsideCall>;
}

/**
 * One dictionary of a `when` pattern, taken apart at registration so that matching reads
 * arrays instead of enumerating the pattern's keys for every record.
 */
interface CompiledDict {
  keys: string[];
  /** The pattern's value of each key: a variable (symbol) or a literal. */
  values: unknown[];
}

interface CompiledPattern {
  action: ActionInfo;
  input: PatternDict;
  output: PatternDict;
  compiledInput: CompiledDict;
  compiledOutput: CompiledDict;
  /** The output pattern names `error` (else an error result never matches). */
  namesError: boolean;
  /** The input's primitive literals (`path: "/auth/me"`), which a matching record must hold. */
  literals: Array<[string, unknown]>;
}

/** A `then` pattern; `keys` and `values` are its input's top level (see `fillInput`). */
interface CompiledThen {
  action: ActionInfo;
  input: PatternDict;
  keys: string[];
  values: unknown[];
}

interface CompiledSync {
  name: string;
  when: CompiledPattern[];
  where?: (frames: Frames) => unknown;
  then: CompiledThen[];
}

/** A pattern of a registered sync's `when`: what the index lists for an action. */
interface IndexEntry {
  sync: CompiledSync;
  index: number;
}

/**
 * The patterns that mention one action, in registration order, and the same list narrowed by
 * the value of one input key (`key`, e.g. `path`): `byValue` holds, for each primitive literal
 * that patterns give that key, the patterns whose literal is that value or who give the key no
 * primitive literal; `rest` holds the latter alone, for any other value. It only skips patterns
 * that cannot match, so order and results are those of `all`.
 */
interface ActionIndex {
  all: IndexEntry[];
  key?: string;
  byValue?: Map<unknown, IndexEntry[]>;
  rest?: IndexEntry[];
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
  #index = new Map<ActionInfo, ActionIndex>();
  /** Flows open now (a count: a `Set` of them churned a table per few requests; see `StringMap`). */
  #openFlows = 0;
  #records = 0;
  #seq = 0;
  /** Outside calls waiting on a cascade past `cascadeTimeoutMs`, one queue per value. */
  #late = new Map<number, DeadlineQueue<OutsideCall>>();

  constructor(options: EngineOptions = {}) {
    this.logging = options.logging ?? Logging.OFF;
    this.logger = options.logger ?? new Logger();
    this.maxFlowRecords = options.maxFlowRecords ?? 100_000;
  }

  /** Live flows and records (both return to 0 once every cascade has run), and syncs. */
  stats(): EngineStats {
    return { flows: this.#openFlows, records: this.#records, syncs: this.#syncs.size };
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
    const changed = new Set<ActionInfo>();
    for (const sync of compiled) {
      this.#syncs.set(sync.name, sync);
      sync.when.forEach((pattern, index) => {
        const all = this.#index.get(pattern.action)?.all ?? [];
        all.push({ sync, index });
        this.#index.set(pattern.action, { all });
        changed.add(pattern.action);
      });
    }
    for (const action of changed) {
      this.#index.set(action, narrowIndex(this.#index.get(action)!.all));
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
      return {
        action: resolve(p, "when"),
        input,
        output,
        compiledInput: compileDict(input),
        compiledOutput: compileDict(output),
        namesError: Object.hasOwn(output, "error"),
        literals: Object.entries(input).filter(([, v]) => isPrimitive(v)),
      };
    });
    const then = decl.then.map((p): CompiledThen => {
      if (p.output !== undefined) throw fail("a then pattern has an output pattern");
      const { keys, values } = compileDict(p.input);
      return { action: resolve(p, "then"), input: p.input, keys, values };
    });
    return { name, when, where: decl.where, then };
  }

  async #callFromOutside(info: ActionInfo, input: unknown): Promise<unknown> {
    const flow: Flow = {
      id: freshID(),
      byAction: new Map(),
      size: 0,
      failures: [],
      open: true,
    };
    const cutoffMs = info.hooks?.cascadeCutoffMs;
    if (cutoffMs !== undefined) flow.cutoffAt = Date.now() + cutoffMs;
    this.#openFlows++;
    let record: ActionRecord;
    try {
      record = await this.#perform(info, input, flow);
    } catch (e) {
      this.#closeFlow(flow);
      throw e;
    }
    const timeoutMs = info.cascadeTimeoutMs;
    if (timeoutMs === undefined) {
      const cascade = this.#cascade(record, undefined);
      if (cascade !== undefined) await cascade;
      return record.raw;
    }
    // The call resolves when its cascade ends or at the deadline, whichever comes first: a
    // shared queue of deadlines (one timer) stands in for a timer raced against each cascade.
    let queue = this.#late.get(timeoutMs);
    if (!queue) {
      queue = new DeadlineQueue<OutsideCall>((call) => this.#callLate(call));
      this.#late.set(timeoutMs, queue);
    }
    let resolve!: (raw: unknown) => void;
    let reject!: (e: unknown) => void;
    const answer = new Promise<unknown>((ok, fail) => {
      resolve = ok;
      reject = fail;
    });
    const call: OutsideCall = {
      dueAt: performance.now() + timeoutMs,
      done: false,
      label: info.label,
      timeoutMs,
      flow,
      raw: record.raw,
      resolve,
      queue,
    };
    queue.push(call);
    // The cascade contains its failures; should the last guard's own logging throw, the
    // caller hears of it (as it would awaiting the cascade).
    this.#cascade(record, call)?.then(undefined, (e) => {
      if (call.done) return;
      call.done = true;
      queue.settle();
      reject(e);
    });
    return answer;
  }

  /** The deadline of an outside call passed with its cascade still running: return now. */
  #callLate(call: OutsideCall): void {
    call.done = true;
    this.logger.warn(`Cascade of ${call.label} still running after ${call.timeoutMs} ms`, {
      correlationId: call.flow.id,
    });
    call.resolve(call.raw);
  }

  /**
   * Runs the cascade of a root record, drops the flow, tells the concept, and then resolves
   * `call` (when the call has a deadline). Never rejects; undefined when nothing was async.
   */
  #cascade(record: ActionRecord, call: OutsideCall | undefined): Promise<void> | undefined {
    let running: Promise<void> | undefined;
    try {
      running = this.#synchronize(record, 0);
    } catch (e) {
      this.#cascadeFailed(record, e);
    }
    if (running === undefined) return this.#endCascade(record, call);
    return running.then(
      () => this.#endCascade(record, call),
      (e) => {
        this.#cascadeFailed(record, e);
        return this.#endCascade(record, call);
      },
    );
  }

  /** #synchronize contains every failure; this is a last guard. */
  #cascadeFailed(record: ActionRecord, e: unknown): void {
    this.logger.error(`Cannot finish cascade of ${record.action.label}: ${describe(e)}`, {
      correlationId: record.flow.id,
    });
  }

  /** Drops the flow, calls the concept's `cascadeDone` hook, then resolves `call`. */
  #endCascade(record: ActionRecord, call: OutsideCall | undefined): Promise<void> | undefined {
    const flow = record.flow;
    this.#closeFlow(flow);
    const hook = record.action.hooks?.cascadeDone;
    if (!hook) return this.#callDone(call);
    let note: unknown;
    try {
      note = hook({
        action: record.action.name,
        input: record.input,
        output: record.output,
        flow: flow.id,
        matched: record.matched,
        failures: flow.failures,
      });
      if (isThenable(note)) return this.#awaitHook(record, note, call);
      this.#hookNote(record, note);
    } catch (e) {
      this.#hookFailed(record, e);
    }
    return this.#callDone(call);
  }

  async #awaitHook(
    record: ActionRecord,
    note: PromiseLike<unknown>,
    call: OutsideCall | undefined,
  ): Promise<void> {
    try {
      this.#hookNote(record, await note);
    } catch (e) {
      this.#hookFailed(record, e);
    }
    this.#callDone(call);
  }

  #hookNote(record: ActionRecord, note: unknown): void {
    if (typeof note === "string") this.logger.warn(note, { correlationId: record.flow.id });
  }

  #hookFailed(record: ActionRecord, e: unknown): void {
    this.logger.error(`Cannot report cascade of ${record.action.label}: ${describe(e)}`, {
      correlationId: record.flow.id,
    });
  }

  /** The cascade of an outside call with a deadline has ended: resolve it, unless late. */
  #callDone(call: OutsideCall | undefined): undefined {
    if (call === undefined || call.done) return undefined;
    call.done = true;
    call.queue.settle();
    call.resolve(call.raw);
    return undefined;
  }

  #closeFlow(flow: Flow): void {
    if (flow.open) {
      flow.open = false;
      this.#openFlows--;
      this.#records -= flow.size;
    }
    flow.byAction.clear();
  }

  /** Runs one action and records it in the flow. Rethrows what the action throws. */
  async #perform(info: ActionInfo, input: unknown, flow: Flow): Promise<ActionRecord> {
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
      raw,
      flow,
      matched: false,
    };
    if (flow.open) {
      const list = flow.byAction.get(info);
      if (list) list.push(record);
      else flow.byAction.set(info, [record]);
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
    return record;
  }

  /**
   * Runs every sync whose `when` mentions the record's action, in registration order, from
   * entry `from` of its list. Synchronous while no sync fires (most syncs of an action do not
   * match a given record); a promise once one does.
   */
  #synchronize(record: ActionRecord, from: number): Promise<void> | undefined {
    const entries = this.#entriesFor(record);
    if (entries === undefined) return undefined;
    for (let i = from; i < entries.length; i++) {
      const { sync, index } = entries[i];
      const firing = this.#fire(sync, index, record);
      if (firing !== undefined) return this.#synchronizeAfter(firing, record, entries, i + 1);
    }
    return undefined;
  }

  async #synchronizeAfter(
    firing: Promise<void>,
    record: ActionRecord,
    entries: IndexEntry[],
    from: number,
  ): Promise<void> {
    await firing;
    for (let i = from; i < entries.length; i++) {
      const { sync, index } = entries[i];
      const next = this.#fire(sync, index, record);
      if (next !== undefined) await next;
    }
  }

  /**
   * The index entries that may match `record` (see `ActionIndex`); at `Logging.VERBOSE`, all
   * of them, so that every attempt is logged as before the narrowing.
   */
  #entriesFor(record: ActionRecord): IndexEntry[] | undefined {
    const entry = this.#index.get(record.action);
    if (entry === undefined) return undefined;
    const key = entry.key;
    if (key === undefined || this.logging >= Logging.VERBOSE) return entry.all;
    const input = record.input;
    if (!Object.hasOwn(input, key)) return entry.rest;
    return entry.byValue!.get(input[key]) ?? entry.rest;
  }

  /**
   * The frames of `sync` for the sets of records that include `record` at pattern `index`
   * with every other pattern matched by an older record of the flow (each record used once).
   * Frames are ordered by pattern, then by record age. Undefined when there are none; a
   * `Frames` when the sync has a `where` (which receives them), else a plain array.
   */
  #match(sync: CompiledSync, index: number, record: ActionRecord): Frame[] | undefined {
    const when = sync.when;
    // A pattern whose action the flow has not run, or has run only with other literal inputs,
    // cannot match: no need to match this record. A touch meets this: every authenticated
    // route's sync joins on it, and only the one whose request `path` is the flow's can match.
    for (let j = 0; j < when.length; j++) {
      if (j === index) continue;
      const records = record.flow.byAction.get(when[j].action);
      if (records === undefined) return undefined;
      const literals = when[j].literals;
      if (literals.length > 0 && !hasOlderWith(records, record.id, literals)) return undefined;
    }
    let first = matchRecord(when[index], record, NO_BINDINGS);
    if (!first) return undefined;
    if (first === NO_BINDINGS) first = {};
    if (sync.when.length === 1) {
      record.matched = true;
      const frames: Frame[] = sync.where ? new Frames() : [];
      frames.push(first);
      return frames;
    }
    let partial: Array<{ frame: Frame; used: ActionRecord[] }> = [{ frame: first, used: [record] }];
    for (let j = 0; j < sync.when.length && partial.length > 0; j++) {
      if (j === index) continue;
      const pattern = sync.when[j];
      const candidates = record.flow.byAction.get(pattern.action);
      if (candidates === undefined) return undefined;
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
    if (partial.length === 0) return undefined;
    const frames: Frame[] = sync.where ? new Frames() : [];
    for (const { frame, used } of partial) {
      for (const r of used) r.matched = true;
      frames.push(frame);
    }
    return frames;
  }

  /** Fires `sync` for `record` at pattern `index`: undefined when it does not match. */
  #fire(sync: CompiledSync, index: number, record: ActionRecord): Promise<void> | undefined {
    const frames = this.#match(sync, index, record);
    if (this.logging >= Logging.VERBOSE) {
      this.logger.debug(`Matched sync ${sync.name}`, {
        correlationId: record.flow.id,
        action: record.action.label,
        frames: frames?.length ?? 0,
      });
    }
    if (frames === undefined) return undefined;
    return this.#fireFrames(sync, record.flow, frames);
  }

  async #fireFrames(sync: CompiledSync, flow: Flow, matched: Frame[]): Promise<void> {
    let frames: Frame[] = matched;
    try {
      if (sync.where) {
        let result: unknown;
        try {
          const where = sync.where;
          result = await inConceptScope(this.#byName, () => where(matched as Frames));
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
      // Fill every invocation first, so an unbound variable fires none of them. The inputs
      // go frame by frame, pattern by pattern: input i is for `sync.then[i % then.length]`.
      const then = sync.then;
      const inputs: unknown[] = [];
      for (const frame of frames) {
        for (const pattern of then) {
          try {
            inputs.push(fillInput(pattern, frame));
          } catch (e) {
            throw new FiringError(e instanceof Error ? e.message : String(e));
          }
        }
      }
      if (inputs.length > 0 && this.logging >= Logging.TRACE) {
        this.logger.trace(`Sync ${sync.name} fires`, {
          correlationId: flow.id,
          frames: frames.length,
          actions: inputs.length,
        });
      }
      for (let i = 0; i < inputs.length; i++) {
        const action = then[i % then.length].action;
        if (flow.cutoffAt !== undefined && Date.now() > flow.cutoffAt) {
          throw new CutoffError(`${action.label} not started: the flow's cutoff passed`);
        }
        let record: ActionRecord;
        try {
          record = await this.#perform(action, inputs[i], flow);
        } catch (e) {
          throw new FiringError(`${action.label} threw ${describe(e)}`, { cause: e });
        }
        const cascade = this.#synchronize(record, 0);
        if (cascade !== undefined) await cascade;
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

/** The frame a `when` match starts from; never handed out (a copy is, when nothing binds). */
const NO_BINDINGS: Frame = Object.freeze({});

/** A pattern dictionary's keys and values, in the order `Object.keys` gives them. */
function compileDict(dict: PatternDict): CompiledDict {
  const keys = Object.keys(dict);
  return { keys, values: keys.map((k) => dict[k]) };
}

/**
 * Matches one `when` pattern against one record, extending `frame`: every key of the pattern
 * must be present, a literal equal, a variable already bound equal, and a free variable is
 * bound; an error result matches only a pattern that names `error`. Returns `frame` itself
 * when nothing new is bound, else an extended copy, or undefined. The same rules as `bindDict` and `bindOutputs` (frames.ts), on the compiled
 * pattern.
 */
function matchRecord(
  pattern: CompiledPattern,
  record: ActionRecord,
  frame: Frame,
): Frame | undefined {
  const output = record.output;
  if (!pattern.namesError && Object.hasOwn(output, "error")) return undefined;
  let out: Frame | undefined;
  for (let side = 0; side < 2; side++) {
    const { keys, values } = side === 0 ? pattern.compiledInput : pattern.compiledOutput;
    const dict = side === 0 ? record.input : output;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (!Object.hasOwn(dict, key)) return undefined;
      const want = values[i];
      const got = dict[key];
      if (typeof want === "symbol") {
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
  }
  return out ?? frame;
}

/**
 * A `then` pattern's input filled from `frame`: the top level read from the compiled pattern,
 * nested dictionaries and arrays through `fill` (each firing gets fresh copies, as before).
 */
function fillInput(pattern: CompiledThen, frame: Frame): Record<string, unknown> {
  const { keys, values } = pattern;
  const out: Record<string, unknown> = {};
  for (let i = 0; i < keys.length; i++) {
    const value = values[i];
    if (typeof value === "symbol") {
      if (!Object.hasOwn(frame, value)) throw new UnboundVariableError(value, "then");
      out[keys[i]] = frame[value];
    } else {
      out[keys[i]] = typeof value === "object" && value !== null
        ? fill(value, frame, "then")
        : value;
    }
  }
  return out;
}

/** Whether one of `records` older than `id` holds every literal input of `literals`. */
function hasOlderWith(
  records: ActionRecord[],
  id: number,
  literals: Array<[string, unknown]>,
): boolean {
  outer: for (const r of records) {
    if (r.id >= id) break;
    for (const [key, want] of literals) {
      if (!Object.hasOwn(r.input, key) || !deepEqual(want, r.input[key])) continue outer;
    }
    return true;
  }
  return false;
}

/** Whether a literal can key the per-value index (`deepEqual` to it means `Object.is`). */
function isPrimitive(value: unknown): boolean {
  return value === null || (typeof value !== "object" && typeof value !== "function" &&
    typeof value !== "symbol");
}

/**
 * The index of one action's patterns (see `ActionIndex`): narrowed by the input key that the
 * most patterns give a primitive literal, when any does.
 */
function narrowIndex(all: IndexEntry[]): ActionIndex {
  const counts = new Map<string, number>();
  for (const { sync, index } of all) {
    const input = sync.when[index].compiledInput;
    input.keys.forEach((key, i) => {
      if (isPrimitive(input.values[i])) counts.set(key, (counts.get(key) ?? 0) + 1);
    });
  }
  let key: string | undefined;
  let best = 1;
  for (const [k, n] of counts) {
    if (n > best) [key, best] = [k, n];
  }
  if (key === undefined) return { all };
  const literalOf = (entry: IndexEntry): { has: boolean; value?: unknown } => {
    const input = entry.sync.when[entry.index].compiledInput;
    const i = input.keys.indexOf(key);
    return i >= 0 && isPrimitive(input.values[i])
      ? { has: true, value: input.values[i] }
      : { has: false };
  };
  const literals = all.map(literalOf);
  const rest = all.filter((_, i) => !literals[i].has);
  const byValue = new Map<unknown, IndexEntry[]>();
  for (const { has, value } of literals) {
    if (!has || byValue.has(value)) continue;
    // SameValueZero, as Map keys compare: a superset of the `Object.is`-equal literals.
    byValue.set(
      value,
      all.filter((_, i) => !literals[i].has || sameValueZero(literals[i].value, value)),
    );
  }
  return { all, key, byValue, rest };
}

function sameValueZero(a: unknown, b: unknown): boolean {
  return a === b || (a !== a && b !== b);
}

/** Whether a value is a promise or another thenable (what `await` would wait for). */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === "object" || typeof value === "function") && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
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

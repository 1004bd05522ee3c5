/**
 * Tests of the sync engine: matching, joins within a flow, where/query/collectAs, error routing,
 * containment of failures, bounded memory, deterministic order, messages and redaction.
 */
import assert from "node:assert/strict";
import {
  actions,
  type CascadeReport,
  ENGINE_HOOKS,
  type Frame,
  Frames,
  type LogEntry,
  Logging,
  memoryLogger,
  type Sync,
  SyncConcept,
} from "./mod.ts";
import {
  AuthConcept,
  CounterConcept,
  RequestsConcept,
} from "../../tests/support/engine_concepts.ts";

function setup(logging = Logging.OFF) {
  const { logger, entries } = memoryLogger();
  const Engine = new SyncConcept({ logging, logger });
  const rawRequests = new RequestsConcept();
  const rawAuth = new AuthConcept();
  const Requests = Engine.instrumentConcept(rawRequests);
  const Auth = Engine.instrumentConcept(rawAuth);
  const rawCounter = new CounterConcept();
  const Counter = Engine.instrumentConcept(rawCounter);
  return { Engine, Requests, Auth, Counter, rawRequests, rawAuth, rawCounter, entries };
}

type Setup = ReturnType<typeof setup>;

/** The login syncs of the template, on the test concepts. */
function loginSyncs({ Requests, Auth }: Setup): Record<string, Sync> {
  const LoginRequest: Sync = ({ request, username, password }) => ({
    when: actions([Requests.request, { path: "/login", username, password }, { request }]),
    then: actions([Auth.authenticate, { username, password }]),
  });
  const LoginResponse: Sync = ({ request, user }) => ({
    when: actions(
      [Requests.request, { path: "/login" }, { request }],
      [Auth.authenticate, {}, { user }],
    ),
    then: actions([Requests.respond, { request, user }]),
  });
  const LoginError: Sync = ({ request, error }) => ({
    when: actions(
      [Requests.request, { path: "/login" }, { request }],
      [Auth.authenticate, {}, { error }],
    ),
    then: actions([Requests.respond, { request, error, status: 401 }]),
  });
  return { LoginRequest, LoginResponse, LoginError };
}

function errors(entries: LogEntry[]): string[] {
  return entries.filter((e) => e.level === "error").map((e) => e.msg);
}

Deno.test("actions() builds patterns and rejects malformed ones", () => {
  const s = setup();
  const request = Symbol("request");
  assert.deepEqual(actions([s.Requests.request, { path: "/x" }, { request }]), [
    { action: s.Requests.request, input: { path: "/x" }, output: { request } },
  ]);
  assert.deepEqual(actions([s.Auth.authenticate, {}]), [{
    action: s.Auth.authenticate,
    input: {},
  }]);
  assert.throws(
    () => actions([s.Auth.authenticate, null as never]),
    { message: "Cannot build actions: the input of pattern 1 must be a dictionary" },
  );
  assert.throws(
    () => actions(["nope" as never, {}]),
    { message: "Cannot build actions: pattern 1 must be [Concept.action, input, output?]" },
  );
});

Deno.test("instrumentConcept() wraps public methods only; queries, fields and # helpers stay the concept's", async () => {
  const s = setup();
  // Actions are wrappers named Concept.action; a query is the concept's method, bound to it.
  assert.equal(s.Auth.authenticate.name, "Auth.authenticate");
  assert.deepEqual(await s.Auth._getRoles({ user: "bob" }), [{ role: "dev" }]);
  assert.equal(s.Auth._helper(), 1);
  assert.deepEqual(await s.Auth.usesSecretHelper(), { n: 2 });
  assert.equal(s.Auth.users.size, 2);
  assert.equal(s.Engine.instrumentConcept(s.rawAuth), s.Auth);
  // Only actions can appear in a pattern: a query or a foreign function is refused by name.
  const UsesQuery: Sync = ({ user }) => ({
    when: actions([s.Auth._getRoles, { user }]),
    then: actions([s.Counter.step, { n: 1 }]),
  });
  assert.throws(() => s.Engine.register({ UsesQuery }), {
    message: "Cannot register sync UsesQuery: Auth._getRoles in when is a query",
  });
  const raw = new CounterConcept();
  const Raw: Sync = () => ({
    when: actions([s.Counter.start, {}]),
    then: actions([raw.step, { n: 1 }]),
  });
  assert.throws(() => s.Engine.register({ Raw }), {
    message: "Cannot register sync Raw: step in then is not an instrumented action",
  });
  // A # helper is not even visible: naming it is naming undefined, refused with a clear error.
  const Helper: Sync = () => ({
    when: actions([s.Counter.start, {}]),
    then: actions([(s.Auth as unknown as Record<string, never>).secretHelper, {}]),
  });
  assert.throws(() => s.Engine.register({ Helper }), {
    message: "Cannot register sync Helper: Cannot build actions: pattern 1 names undefined: a " +
      "misspelt name, or a concept's private helper (only a concept's actions can be named)",
  });
  assert.equal(s.Engine.stats().syncs, 0);
});

Deno.test("register() refuses a duplicate name and variables nested in a when pattern", () => {
  const s = setup();
  s.Engine.register(loginSyncs(s));
  assert.throws(() => s.Engine.register({ LoginRequest: loginSyncs(s).LoginRequest }), {
    message: "Cannot register sync LoginRequest: a sync of that name is registered",
  });
  const Nested: Sync = ({ user }) => ({
    when: actions([s.Requests.request, { path: "/x", body: { user } }]),
    then: actions([s.Counter.step, { n: 1 }]),
  });
  assert.throws(() => s.Engine.register({ Nested }), {
    message: "Cannot register sync Nested: when pattern 1 has a variable nested under 'body'",
  });
  assert.equal(s.Engine.stats().syncs, 3);
});

Deno.test("register() matches inputs as a subset, binds outputs, and awaits the cascade", async () => {
  const s = setup();
  s.Engine.register(loginSyncs(s));
  const { request } = await s.Requests.request({
    path: "/login",
    username: "ada",
    password: "pw-ada",
    extra: "ignored",
  });
  // The call resolved after its cascade: the response is already there.
  assert.deepEqual(s.rawRequests.responses.get(request), { user: "ada" });
  // Another path matches none of the syncs.
  const other = await s.Requests.request({ path: "/other", username: "ada", password: "pw-ada" });
  assert.equal(s.rawRequests.responses.has(other.request), false);
  assert.deepEqual(s.Engine.stats(), { flows: 0, records: 0, syncs: 3 });
});

Deno.test("register() routes an error output only to the pattern that names error", async () => {
  const s = setup();
  s.Engine.register(loginSyncs(s));
  const Any: Sync = ({ request }) => ({
    when: actions(
      [s.Requests.request, { path: "/login" }, { request }],
      [s.Auth.authenticate, {}, {}],
    ),
    then: actions([s.Counter.step, { n: 1 }]),
  });
  s.Engine.register({ Any });
  const bad = await s.Requests.request({ path: "/login", username: "ada", password: "nope" });
  assert.deepEqual(s.rawRequests.responses.get(bad.request), {
    error: "Cannot authenticate: wrong username or password",
    status: 401,
  });
  assert.equal(s.rawCounter.count, 0);
  const good = await s.Requests.request({ path: "/login", username: "bob", password: "pw-bob" });
  assert.deepEqual(s.rawRequests.responses.get(good.request), { user: "bob" });
  // `{}` matched the success once and the error never.
  assert.equal(s.rawCounter.count, 1);
  assert.deepEqual(errors(s.entries), []);
});

Deno.test("register() joins when patterns within one flow only, even for concurrent flows", async () => {
  const s = setup();
  s.Engine.register(loginSyncs(s));
  const [a, b, c] = await Promise.all([
    s.Requests.request({ path: "/login", username: "ada", password: "pw-ada" }),
    s.Requests.request({ path: "/login", username: "bob", password: "pw-bob" }),
    s.Requests.request({ path: "/login", username: "bob", password: "wrong" }),
  ]);
  assert.deepEqual(s.rawRequests.responses.get(a.request), { user: "ada" });
  assert.deepEqual(s.rawRequests.responses.get(b.request), { user: "bob" });
  assert.deepEqual(s.rawRequests.responses.get(c.request), {
    error: "Cannot authenticate: wrong username or password",
    status: 401,
  });
  assert.equal(s.rawRequests.responses.size, 3);
});

Deno.test("register() fires a sync once per set of matched records, never again for later records", async () => {
  const s = setup();
  const raw = new CounterConcept();
  const Counter = s.Engine.instrumentConcept(raw);
  const fired: number[] = [];
  const Fan: Sync = ({ times }) => ({
    when: actions([Counter.start, {}, { times }]),
    where: (frames) => {
      const out = new Frames();
      for (const f of frames) {
        for (let n = 1; n <= (f[times] as number); n++) out.push({ ...f, [times]: n });
      }
      return out;
    },
    then: actions([Counter.step, { n: times }]),
  });
  // Joins start with each step: three steps, three sets, three firings (not 1+2+3).
  const Pair: Sync = ({ n }) => ({
    when: actions([Counter.start, {}, {}], [Counter.step, {}, { n }]),
    then: actions([s.Requests.respond, { request: "log", n }]),
  });
  s.Engine.register({ Fan, Pair });
  const original = s.rawRequests.respond.bind(s.rawRequests);
  s.rawRequests.respond = (input) => {
    fired.push(input.n as number);
    return original({ ...input, request: `log${input.n}` });
  };
  await Counter.start({ times: 3 });
  assert.equal(raw.count, 3);
  assert.deepEqual(fired, [1, 2, 3]);
});

Deno.test("register() uses where with query and collectAs, and drops error results", async () => {
  const s = setup();
  const Roles: Sync = ({ request, user, role, roles }) => ({
    when: actions([s.Requests.request, { path: "/roles", user }, { request }]),
    where: async (frames) => {
      const withRoles = await frames.query(s.Auth._getRoles, { user }, { role });
      return withRoles.collectAs([role], roles);
    },
    then: actions([s.Requests.respond, { request, roles }]),
  });
  s.Engine.register({ Roles });
  const ada = await s.Requests.request({ path: "/roles", user: "ada" });
  assert.deepEqual(s.rawRequests.responses.get(ada.request), {
    roles: [{ role: "admin" }, { role: "dev" }],
  });
  // `_getRoles` answers [{ error }] for an unknown user: no frame, so no response.
  const nobody = await s.Requests.request({ path: "/roles", user: "zed" });
  assert.equal(s.rawRequests.responses.has(nobody.request), false);
});

Deno.test("register() narrows the syncs of an action by a literal input without changing which fire, nor their order", async () => {
  for (const logging of [Logging.OFF, Logging.VERBOSE]) {
    const s = setup(logging);
    const seen: string[] = [];
    const Probe = s.Engine.instrumentConcept(
      new (class ProbeConcept {
        hit(input: { name: string }): Promise<Record<string, never>> {
          seen.push(input.name);
          return Promise.resolve({});
        }
      })(),
    );
    const Starts = s.Engine.instrumentConcept(
      new (class StartsConcept {
        start(input: Record<string, unknown>): Promise<{ error?: string }> {
          return Promise.resolve(input.fail ? { error: "no" } : {});
        }
      })(),
    );
    const on = (input: Record<string, unknown>, name: string, output = {}): Sync => () => ({
      when: actions([Starts.start, input, output]),
      then: actions([Probe.hit, { name }]),
    });
    s.Engine.register({
      Zero: on({ k: 0 }, "zero"),
      Any: on({}, "any"),
      MinusZero: on({ k: -0 }, "minusZero"),
      NaN: on({ k: NaN }, "nan"),
      One: on({ k: 1, other: "x" }, "one"),
      Text: on({ k: "1" }, "text"),
      Null: on({ k: null }, "null"),
      Dict: on({ k: { a: 1 } }, "dict"),
      Bound: (({ k }) => on({ k }, "bound")({})) as Sync,
      Error: on({ k: 1 }, "error", { error: "no" }),
    });
    const fired = async (input: Record<string, unknown>) => {
      seen.length = 0;
      await Starts.start(input);
      return [...seen];
    };
    assert.deepEqual(await fired({ k: 0 }), ["zero", "any", "bound"]);
    assert.deepEqual(await fired({ k: -0 }), ["any", "minusZero", "bound"]);
    assert.deepEqual(await fired({ k: NaN }), ["any", "nan", "bound"]);
    assert.deepEqual(await fired({ k: 1, other: "x" }), ["any", "one", "bound"]);
    assert.deepEqual(await fired({ k: 1, fail: true }), ["error"]);
    assert.deepEqual(await fired({ k: "1" }), ["any", "text", "bound"]);
    assert.deepEqual(await fired({ k: null }), ["any", "null", "bound"]);
    assert.deepEqual(await fired({ k: { a: 1 } }), ["any", "dict", "bound"]);
    assert.deepEqual(await fired({ k: 2 }), ["any", "bound"]);
    assert.deepEqual(await fired({}), ["any"]);
    const attempts = s.entries.filter((e) => e.msg.startsWith("Matched sync")).length;
    // VERBOSE logs an attempt for every sync of the action, as without the narrowing.
    assert.equal(attempts, logging === Logging.VERBOSE ? 10 * 10 : 0);
  }
});

Deno.test("register() fires then actions in a deterministic order: frames, then patterns", async () => {
  const s = setup();
  const seen: string[] = [];
  const original = s.rawRequests.respond.bind(s.rawRequests);
  s.rawRequests.respond = (input) => {
    seen.push(`${input.request}:${input.role ?? input.tag}`);
    return original({ ...input, request: `${input.request}-${seen.length}` });
  };
  const PerRole: Sync = ({ request, user, role }) => ({
    when: actions([s.Requests.request, { path: "/each", user }, { request }]),
    where: (frames) => frames.query(s.Auth._getRoles, { user }, { role }),
    then: actions(
      [s.Requests.respond, { request, role }],
      [s.Requests.respond, { request, tag: "after" }],
    ),
  });
  s.Engine.register({ PerRole });
  await s.Requests.request({ path: "/each", user: "ada" });
  assert.deepEqual(seen, ["r1:admin", "r1:after", "r1:dev", "r1:after"]);
});

Deno.test("register() names the unbound variable instead of firing with a hole", async () => {
  const s = setup();
  const LoginResponse: Sync = ({ request, user }) => ({
    when: actions([s.Requests.request, { path: "/login" }, { request }]),
    then: actions([s.Requests.respond, { request, user }]),
  });
  s.Engine.register({ LoginResponse });
  const { request } = await s.Requests.request({ path: "/login" });
  assert.equal(s.rawRequests.responses.has(request), false);
  assert.deepEqual(errors(s.entries), [
    "Cannot fire sync LoginResponse: variable 'user' is unbound in then",
  ]);
  const entry = s.entries.find((e) => e.level === "error")!;
  assert.equal(entry.sync, "LoginResponse");
  assert.equal(typeof entry.correlationId, "string");
});

Deno.test("register() contains an exception in an action or a where, logs the sync, keeps serving", async () => {
  const s = setup();
  const reports: CascadeReport[] = [];
  const rawRequests = new RequestsConcept() as RequestsConcept & { [ENGINE_HOOKS]: unknown };
  rawRequests[ENGINE_HOOKS] = { cascadeDone: (r: CascadeReport) => void reports.push(r) };
  const Requests = s.Engine.instrumentConcept(rawRequests);
  const Boom: Sync = ({ request, username, password }) => ({
    when: actions([Requests.request, { path: "/login", username, password }, { request }]),
    then: actions([s.Auth.authenticate, { username, password }]),
  });
  const WhereBoom: Sync = ({ request }) => ({
    when: actions([Requests.request, { path: "/where" }, { request }]),
    where: () => {
      throw new Error("where broke");
    },
    then: actions([Requests.respond, { request }]),
  });
  const Answer: Sync = ({ request, user }) => ({
    when: actions([Requests.request, {}, { request }], [s.Auth.authenticate, {}, { user }]),
    then: actions([Requests.respond, { request, user }]),
  });
  s.Engine.register({ Boom, WhereBoom, Answer });
  s.rawAuth.failWith = new Error("store fault");
  const first = await Requests.request({ path: "/login", username: "ada", password: "pw-ada" });
  await Requests.request({ path: "/where" });
  s.rawAuth.failWith = undefined;
  const second = await Requests.request({ path: "/login", username: "ada", password: "pw-ada" });
  assert.equal(rawRequests.responses.has(first.request), false);
  assert.deepEqual(rawRequests.responses.get(second.request), { user: "ada" });
  assert.deepEqual(errors(s.entries), [
    "Cannot fire sync Boom: Auth.authenticate threw Error: store fault",
    "Cannot fire sync WhereBoom: where threw Error: where broke",
  ]);
  assert.deepEqual(
    reports.map((r) => [r.action, r.matched, r.failures.map((f) => f.sync)]),
    [["request", true, ["Boom"]], ["request", true, ["WhereBoom"]], ["request", true, []]],
  );
  // The failure's log line carries the flow id the concept was told.
  const logged = s.entries.filter((e) => e.level === "error").map((e) => e.correlationId);
  assert.deepEqual(logged, [reports[0].flow, reports[1].flow]);
  assert.deepEqual(s.Engine.stats(), { flows: 0, records: 0, syncs: 3 });
});

Deno.test("instrumentConcept() rethrows an exception of an action called from outside and drops its flow", async () => {
  const s = setup();
  s.rawAuth.failWith = new Error("store fault");
  await assert.rejects(() => s.Auth.authenticate({ username: "a", password: "b" }), {
    message: "store fault",
  });
  assert.deepEqual(s.Engine.stats(), { flows: 0, records: 0, syncs: 0 });
});

Deno.test("register() keeps no memory of finished flows: 100,000 requests leave 0 flows and records", async () => {
  const s = setup();
  s.Engine.register(loginSyncs(s));
  const during: Array<{ flows: number; records: number }> = [];
  const original = s.rawRequests.respond.bind(s.rawRequests);
  s.rawRequests.respond = (input) => {
    const { flows, records } = s.Engine.stats();
    if (during.length < 1) during.push({ flows, records });
    s.rawRequests.responses.delete(input.request);
    return original(input).then((r) => {
      s.rawRequests.responses.delete(input.request);
      return r;
    });
  };
  for (let batch = 0; batch < 100; batch++) {
    const calls = [];
    for (let i = 0; i < 1000; i++) {
      calls.push(s.Requests.request({ path: "/login", username: "ada", password: "pw-ada" }));
    }
    await Promise.all(calls);
  }
  // While a flow runs, its records are held (so this test can fail)...
  assert.ok(during[0].flows >= 1 && during[0].records >= 3, JSON.stringify(during));
  // ...and once all have run, nothing is left.
  assert.deepEqual(s.Engine.stats(), { flows: 0, records: 0, syncs: 3 });
});

Deno.test("instrumentConcept() tells the concept when a cascade ends, matched or not", async () => {
  const s = setup();
  const reports: CascadeReport[] = [];
  const raw = new RequestsConcept() as RequestsConcept & { [ENGINE_HOOKS]: unknown };
  raw[ENGINE_HOOKS] = {
    cascadeDone: (r: CascadeReport) => {
      reports.push(r);
      return r.matched ? undefined : `Nothing handles ${r.input.path}`;
    },
  };
  const Requests = s.Engine.instrumentConcept(raw);
  const Ping: Sync = ({ request }) => ({
    when: actions([Requests.request, { path: "/ping" }, { request }]),
    then: actions([Requests.respond, { request, pong: true }]),
  });
  s.Engine.register({ Ping });
  await Requests.request({ path: "/ping" });
  await Requests.request({ path: "/nowhere" });
  assert.deepEqual(
    reports.map((r) => [r.action, r.input, r.output, r.matched]),
    [
      ["request", { path: "/ping" }, { request: "r1" }, true],
      ["request", { path: "/nowhere" }, { request: "r2" }, false],
    ],
  );
  const warn = s.entries.filter((e) => e.level === "warn");
  assert.deepEqual(warn.map((e) => [e.msg, e.correlationId]), [
    ["Nothing handles /nowhere", reports[1].flow],
  ]);
});

Deno.test("instrumentConcept() with cascadeTimeoutMs returns by the deadline while the cascade goes on", async () => {
  const s = setup();
  const raw = new CounterConcept();
  let open!: () => void;
  raw.gate = new Promise((resolve) => open = resolve);
  let done!: () => void;
  const finished = new Promise<void>((resolve) => done = resolve);
  const hooked = Object.assign(new CounterConcept(), {
    [ENGINE_HOOKS]: { cascadeTimeoutMs: 5, cascadeDone: () => void done() },
  });
  const Slow = s.Engine.instrumentConcept(raw);
  const Starter = s.Engine.instrumentConcept(hooked);
  const Chain: Sync = ({ times }) => ({
    when: actions([Starter.start, {}, { times }]),
    then: actions([Slow.step, { n: times }]),
  });
  s.Engine.register({ Chain });
  const result = await Starter.start({ times: 7 });
  assert.deepEqual(result, { times: 7 });
  assert.equal(raw.count, 0);
  assert.equal(s.Engine.stats().flows, 1);
  open();
  await finished;
  assert.equal(raw.count, 1);
  assert.deepEqual(s.Engine.stats(), { flows: 0, records: 0, syncs: 1 });
  assert.deepEqual(s.entries.map((e) => [e.level, e.msg]), [
    ["warn", "Cascade of Counter.start still running after 5 ms"],
  ]);
});

Deno.test("instrumentConcept() with cascadeTimeoutMs: calls done in time return after their cascade, only a late one returns at its deadline", async () => {
  const s = setup();
  // Step n of the cascade waits on gate n (when there is one).
  const gates = new Map<number, Promise<void>>();
  const finished: number[] = [];
  const Gated = s.Engine.instrumentConcept(
    new (class GatedConcept {
      async work(input: { n: number }): Promise<{ n: number }> {
        await gates.get(input.n);
        finished.push(input.n);
        return { n: input.n };
      }
    })(),
  );
  const reports: CascadeReport[] = [];
  let allReported!: () => void;
  const reported = new Promise<void>((resolve) => allReported = resolve);
  const cascadeDone = (r: CascadeReport) => {
    if (reports.push(r) === 4) allReported();
  };
  const hooked = Object.assign(new CounterConcept(), {
    [ENGINE_HOOKS]: { cascadeTimeoutMs: 300, cascadeDone },
  });
  const Starter = s.Engine.instrumentConcept(hooked);
  const Chain: Sync = ({ n }) => ({
    when: actions([Starter.step, {}, { n }]),
    then: actions([Gated.work, { n }]),
  });
  s.Engine.register({ Chain });
  let open!: () => void;
  gates.set(0, new Promise((resolve) => open = resolve));
  // Ends well before the deadline, but not at once: a deadline passed early would cut it short.
  gates.set(3, new Promise((resolve) => setTimeout(resolve, 20)));
  const results = await Promise.all([1, 0, 2, 3].map((n) => Starter.step({ n })));
  assert.deepEqual(results, [{ n: 1 }, { n: 0 }, { n: 2 }, { n: 3 }]);
  // Every call but the gated one returned after its cascade had run.
  assert.deepEqual(finished, [1, 2, 3]);
  assert.equal(s.Engine.stats().flows, 1);
  open();
  await reported;
  const late = reports.find((r) => r.input.n === 0)!;
  assert.deepEqual(s.entries.map((e) => [e.level, e.msg, e.correlationId]), [
    ["warn", "Cascade of Counter.step still running after 300 ms", late.flow],
  ]);
  assert.equal(new Set(reports.map((r) => r.flow)).size, 4);
  assert.deepEqual(s.Engine.stats(), { flows: 0, records: 0, syncs: 1 });
});

Deno.test("register() stops a sync loop at maxFlowRecords and reports it", async () => {
  const { logger, entries } = memoryLogger();
  const Engine = new SyncConcept({ logger, maxFlowRecords: 50 });
  const raw = new CounterConcept();
  const Counter = Engine.instrumentConcept(raw);
  const Loop: Sync = ({ n }) => ({
    when: actions([Counter.step, {}, { n }]),
    then: actions([Counter.step, { n }]),
  });
  Engine.register({ Loop });
  await Counter.step({ n: 1 });
  assert.equal(raw.count, 50);
  // The innermost firing fails; the ones around it had already run their action.
  assert.equal(entries.filter((e) => e.level === "error").length, 1);
  assert.equal(
    entries[0].msg,
    "Cannot fire sync Loop: Counter.step threw Error: Cannot run Counter.step: the flow has 50 records (a sync loop?)",
  );
  assert.deepEqual(Engine.stats(), { flows: 0, records: 0, syncs: 1 });
});

Deno.test("register() at TRACE logs every action and firing with secrets redacted, nested and in any case", async () => {
  const s = setup(Logging.TRACE);
  s.Engine.register(loginSyncs(s));
  const token = "AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
  await s.Requests.request({
    path: "/login",
    username: "ada",
    password: "pw-ada",
    Session: "sess-1",
    profile: { apiToken: "tok-1", note: `see ${token}`, list: [{ newPassword: "np" }] },
  });
  const text = JSON.stringify(s.entries);
  for (const secret of ["pw-ada", "sess-1", "tok-1", 'np"', token]) {
    assert.equal(text.includes(secret), false, secret);
  }
  const first = s.entries[0];
  assert.deepEqual([first.level, first.msg], ["trace", "Requests.request"]);
  assert.deepEqual(first.input, {
    path: "/login",
    username: "ada",
    password: "[redacted]",
    Session: "[redacted]",
    profile: {
      apiToken: "[redacted]",
      note: "see AAAAAAAAAAAAAAAAAAAAAA.[redacted]",
      list: [{ newPassword: "[redacted]" }],
    },
  });
  assert.deepEqual(s.entries.map((e) => e.msg), [
    "Requests.request",
    "Sync LoginRequest fires",
    "Auth.authenticate",
    "Sync LoginResponse fires",
    "Requests.respond",
  ]);
  const ids = new Set(s.entries.map((e) => e.correlationId));
  assert.equal(ids.size, 1);
});

Deno.test("Frames keep their class through filter and map, and query joins on bound variables", async () => {
  const user = Symbol("user");
  const role = Symbol("role");
  const frames = new Frames({ [user]: "ada" }, { [user]: "bob" }, { [user]: "zed" });
  const filtered = frames.filter((f) => f[user] !== "zed");
  assert.ok(filtered instanceof Frames);
  const mapped = filtered.map((f): Frame => ({ ...f, [role]: "dev" }));
  assert.ok(mapped instanceof Frames);
  assert.deepEqual([...mapped].map((f) => [f[user], f[role]]), [["ada", "dev"], ["bob", "dev"]]);
  // `role` is already bound to "dev": the query keeps only results equal to it.
  const auth = new AuthConcept();
  const joined = await mapped.query(auth._getRoles.bind(auth), { user }, { role });
  assert.deepEqual([...joined].map((f) => [f[user], f[role]]), [["ada", "dev"], ["bob", "dev"]]);
  const error = Symbol("error");
  const errs = await new Frames({ [user]: "zed" }).query(
    auth._getRoles.bind(auth),
    { user },
    { error },
  );
  assert.deepEqual([...errs].map((f) => f[error]), ["Cannot get roles: no such user"]);
  await assert.rejects(() => new Frames({}).query(auth._getRoles.bind(auth), { user }, { role }), {
    message: "variable 'user' is unbound in query bound _getRoles",
  });
});

Deno.test("Frames.collectAs() groups by the other variables in first-seen order", () => {
  const user = Symbol("user");
  const role = Symbol("role");
  const since = Symbol("since");
  const roles = Symbol("roles");
  const frames = new Frames(
    { [user]: "bob", [role]: "dev", [since]: 2 },
    { [user]: "ada", [role]: "admin", [since]: 1 },
    { [user]: "bob", [role]: "ops", [since]: 3 },
  );
  const grouped = frames.collectAs([role, since], roles);
  assert.deepEqual([...grouped].map((f) => [f[user], f[roles]]), [
    ["bob", [{ role: "dev", since: 2 }, { role: "ops", since: 3 }]],
    ["ada", [{ role: "admin", since: 1 }]],
  ]);
  assert.equal(Object.hasOwn(grouped[0], role), false);
  assert.deepEqual(new Frames().collectAs([role], roles).length, 0);
});

/**
 * Tests of Requesting: the principle, each action's requires/effects and errors, the timeout,
 * saved requests (off by default, redacted, expiring), and what the engine tells it: no route
 * (404), a failed sync (500 with the logged correlation id), syncs that never responded.
 */
import assert from "node:assert/strict";
import { type Db, MongoNetworkError } from "mongodb";
import { actions, memoryLogger, type Sync, SyncConcept } from "../../engine/mod.ts";
import { testDb } from "../../../tests/support/test_db.ts";
import RequestingConcept, {
  internalErrorResponse,
  noRouteResponse,
  type RequestingOptions,
  storeUnavailableResponse,
  timeoutResponse,
} from "./RequestingConcept.ts";

/** A fresh database, Requesting on it, and an engine with a captured log. */
async function withRequesting(
  options: RequestingOptions,
  body: (
    ctx: { db: Db; raw: RequestingConcept; Requesting: RequestingConcept; Engine: SyncConcept } & {
      entries: ReturnType<typeof memoryLogger>["entries"];
    },
  ) => Promise<void>,
): Promise<void> {
  const [db, client] = await testDb();
  const { logger, entries } = memoryLogger();
  const Engine = new SyncConcept({ logger });
  const raw = new RequestingConcept(db, options);
  try {
    const Requesting = Engine.instrumentConcept(raw);
    await body({ db, raw, Requesting, Engine, entries });
  } finally {
    raw[Symbol.dispose]();
    await client.close();
  }
}

Deno.test("request() principle: a request is answered by the response a sync gives it", async () => {
  await withRequesting({}, async ({ Requesting, Engine, raw }) => {
    const Echo: Sync = ({ request, word }) => ({
      when: actions([Requesting.request, { path: "/echo", word }, { request }]),
      then: actions([Requesting.respond, { request, echoed: word }]),
    });
    Engine.register({ Echo });
    const started = await Requesting.request({ path: "/echo", word: "hi" });
    assert.ok("request" in started);
    assert.equal(raw.pendingCount, 1);
    assert.deepEqual(await Requesting._awaitResponse({ request: started.request }), [
      { response: { echoed: "hi" } },
    ]);
    // Collected: the entry is gone, and collecting again finds nothing.
    assert.equal(raw.pendingCount, 0);
    assert.deepEqual(await Requesting._awaitResponse({ request: started.request }), []);
  });
});

Deno.test("request() gives fresh ids and refuses a path that is not a string starting with /", async () => {
  await withRequesting({}, async ({ raw }) => {
    const a = await raw.request({ path: "/a" });
    const b = await raw.request({ path: "/a" });
    assert.ok("request" in a && "request" in b);
    assert.notEqual(a.request, b.request);
    for (const path of ["a", "", 42, undefined, { $ne: null }, `/${"x".repeat(2048)}`]) {
      assert.deepEqual(await raw.request({ path } as never), {
        error: "Cannot request: path must be a string starting with /",
      });
    }
    assert.equal(raw.pendingCount, 2);
  });
});

Deno.test("respond() answers once: a second respond, an unknown or a malformed request is an error", async () => {
  await withRequesting({}, async ({ raw }) => {
    const started = await raw.request({ path: "/x" });
    assert.ok("request" in started);
    const { request } = started;
    assert.deepEqual(await raw.respond({ request, ok: 1 }), { request });
    assert.deepEqual(await raw.respond({ request, ok: 2 }), {
      error: "Cannot respond: request already answered",
    });
    assert.deepEqual(await raw.respond({ request: "nope" }), {
      error: "Cannot respond: no such request",
    });
    assert.deepEqual(await raw.respond({ request: { $ne: null } } as never), {
      error: "Cannot respond: request must be a request id",
    });
    assert.deepEqual(await raw._awaitResponse({ request }), [{ response: { ok: 1 } }]);
    assert.deepEqual(await raw.respond({ request, ok: 3 }), {
      error: "Cannot respond: no such request",
    });
  });
});

Deno.test("_awaitResponse() waits for a response given later", async () => {
  await withRequesting({}, async ({ raw }) => {
    const started = await raw.request({ path: "/later" });
    assert.ok("request" in started);
    const waiting = raw._awaitResponse({ request: started.request });
    assert.deepEqual(await raw.respond({ request: started.request, n: 1 }), {
      request: started.request,
    });
    assert.deepEqual(await waiting, [{ response: { n: 1 } }]);
    assert.equal(raw.pendingCount, 0);
  });
});

Deno.test("_awaitResponse() resolves with the timeout marker after timeoutMs; a late respond is refused", async () => {
  await withRequesting({ timeoutMs: 20 }, async ({ raw }) => {
    const first = await raw.request({ path: "/slow" });
    const second = await raw.request({ path: "/slow" });
    assert.ok("request" in first && "request" in second);
    // Equal timeouts fire in order: once the second has timed out, so has the first.
    assert.deepEqual(await raw._awaitResponse({ request: second.request }), [
      { response: { error: "Cannot answer request: timed out", kind: "timeout" } },
    ]);
    assert.deepEqual(await raw.respond({ request: first.request, late: true }), {
      error: "Cannot respond: request timed out",
    });
    // A collector that comes late (its cascade ran past the deadline) still gets the 504.
    assert.deepEqual(await raw._awaitResponse({ request: first.request }), [
      { response: timeoutResponse() },
    ]);
    assert.equal(raw.pendingCount, 0);
  });
});

Deno.test("request() times out at its own deadline: not with an older request, and not never", async () => {
  await withRequesting({ timeoutMs: 1000 }, async ({ raw }) => {
    const first = await raw.request({ path: "/slow" });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const second = await raw.request({ path: "/slow" });
    const third = await raw.request({ path: "/slow" });
    assert.ok("request" in first && "request" in second && "request" in third);
    assert.deepEqual(await raw._awaitResponse({ request: first.request }), [
      { response: timeoutResponse() },
    ]);
    // Half a timeout later, the second is still pending: it can be answered...
    assert.deepEqual(await raw.respond({ request: second.request, ok: true }), {
      request: second.request,
    });
    assert.deepEqual(await raw._awaitResponse({ request: second.request }), [
      { response: { ok: true } },
    ]);
    // ...and the third, never answered, times out in its turn.
    assert.deepEqual(await raw._awaitResponse({ request: third.request }), [
      { response: timeoutResponse() },
    ]);
    assert.equal(raw.pendingCount, 0);
  });
});

Deno.test("request() never collected is forgotten: answered at its deadline, timed out one timeout later", async () => {
  await withRequesting({ timeoutMs: 20 }, async ({ raw }) => {
    const answered = await raw.request({ path: "/a" });
    const unanswered = await raw.request({ path: "/b" });
    assert.ok("request" in answered && "request" in unanswered);
    await raw.respond({ request: answered.request, ok: true });
    assert.equal(raw.pendingCount, 2);
    // A third request times out after both deadlines and is collected: the other two remain
    // until forgotten (the answered one at its deadline, the other after its grace).
    const last = await raw.request({ path: "/c" });
    assert.ok("request" in last);
    assert.deepEqual(await raw._awaitResponse({ request: last.request }), [
      { response: timeoutResponse() },
    ]);
    assert.equal(raw.pendingCount, 1);
    assert.deepEqual(await raw._getInput({ request: answered.request }), []);
    const forgotten = Date.now() + 5000;
    while (raw.pendingCount > 0 && Date.now() < forgotten) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.equal(raw.pendingCount, 0);
    assert.deepEqual(await raw._awaitResponse({ request: unanswered.request }), []);
  });
});

Deno.test("request() stores nothing by default", async () => {
  await withRequesting({}, async ({ db, raw }) => {
    const started = await raw.request({ path: "/login", password: "pw" });
    assert.ok("request" in started);
    await raw.respond({ request: started.request, ok: true });
    assert.equal(await db.collection("Requesting.requests").countDocuments(), 0);
    assert.deepEqual(await db.listCollections({ name: "Requesting.requests" }).toArray(), []);
  });
});

Deno.test("request() with saveResponses stores request and response, secrets redacted, with a TTL", async () => {
  const now = new Date("2030-01-02T03:04:05.000Z");
  await withRequesting(
    { saveResponses: true, savedTtlMs: 60_000, now: () => now },
    async ({ db, raw }) => {
      const started = await raw.request({
        path: "/auth/password",
        username: "ada",
        currentPassword: "old-pw",
        newPassword: "new-pw",
        nested: { SessionToken: "tok", keep: 1 },
      });
      assert.ok("request" in started);
      const { request } = started;
      await raw.respond({ request, user: "u1", session: "id.secret", status: 200 });
      const docs = await db.collection("Requesting.requests").find().toArray();
      assert.deepEqual(docs, [{
        _id: request,
        path: "/auth/password",
        input: {
          username: "ada",
          currentPassword: "[redacted]",
          newPassword: "[redacted]",
          nested: { SessionToken: "[redacted]", keep: 1 },
        },
        createdAt: now,
        expiresAt: new Date(now.getTime() + 60_000),
        response: { user: "u1", session: "[redacted]", status: 200 },
        respondedAt: now,
      }]);
      const indexes = await db.collection("Requesting.requests").listIndexes().toArray();
      const ttl = indexes.find((i) => i.name === "expiresAt_ttl");
      assert.deepEqual([ttl?.key, ttl?.expireAfterSeconds], [{ expiresAt: 1 }, 0]);
    },
  );
});

Deno.test("request() through the engine: no sync matching the request answers 404 at once", async () => {
  await withRequesting({}, async ({ Requesting, Engine, raw }) => {
    const Ping: Sync = ({ request }) => ({
      when: actions([Requesting.request, { path: "/ping" }, { request }]),
      then: actions([Requesting.respond, { request, pong: true }]),
    });
    Engine.register({ Ping });
    const started = await Requesting.request({ path: "/nowhere" });
    assert.ok("request" in started);
    assert.deepEqual(await Requesting._awaitResponse({ request: started.request }), [
      { response: noRouteResponse("/nowhere") },
    ]);
    assert.deepEqual(noRouteResponse("/nowhere"), {
      error: "Cannot find route: no sync handles /nowhere",
      kind: "not_found",
    });
    assert.equal(raw.pendingCount, 0);
  });
});

Deno.test("request() through the engine: a failing sync answers 500 with the logged correlation id", async () => {
  await withRequesting({}, async ({ Requesting, Engine, entries }) => {
    const Broken: Sync = ({ request, user }) => ({
      when: actions([Requesting.request, { path: "/me" }, { request }]),
      then: actions([Requesting.respond, { request, user }]),
    });
    Engine.register({ Broken });
    const started = await Requesting.request({ path: "/me" });
    assert.ok("request" in started);
    const [{ response }] = await Requesting._awaitResponse({ request: started.request });
    const logged = entries.filter((e) => e.level === "error");
    assert.deepEqual(logged.map((e) => e.msg), [
      "Cannot fire sync Broken: variable 'user' is unbound in then",
    ]);
    assert.deepEqual(response, internalErrorResponse(logged[0].correlationId as string));
    assert.deepEqual(Object.keys(response), ["error", "kind", "correlationId"]);
  });
});

Deno.test("request() through the engine: syncs that matched but never responded answer 500 at once", async () => {
  await withRequesting({}, async ({ Requesting, Engine, entries }) => {
    // A sync answers only on success; nothing handles the other case.
    const OnlyOk: Sync = ({ request, n }) => ({
      when: actions([Requesting.request, { path: "/n", n }, { request }]),
      where: (frames) => frames.filter((f) => f[n] === 1),
      then: actions([Requesting.respond, { request, ok: true }]),
    });
    Engine.register({ OnlyOk });
    const ok = await Requesting.request({ path: "/n", n: 1 });
    const unanswered = await Requesting.request({ path: "/n", n: 2 });
    assert.ok("request" in ok && "request" in unanswered);
    assert.deepEqual(await Requesting._awaitResponse({ request: ok.request }), [
      { response: { ok: true } },
    ]);
    const [{ response }] = await Requesting._awaitResponse({ request: unanswered.request });
    const warned = entries.filter((e) => e.level === "warn");
    assert.deepEqual(warned.map((e) => e.msg), [
      "Cannot answer request: syncs matched /n but none responded",
    ]);
    assert.deepEqual(response, internalErrorResponse(warned[0].correlationId as string));
  });
});

Deno.test("request() through the engine: the timeout covers the whole cascade", async () => {
  await withRequesting({ timeoutMs: 30 }, async ({ Requesting, Engine, raw }) => {
    // A slow concept action in the cascade: it waits on a gate opened only after the 504.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => open = resolve);
    const Slow = Engine.instrumentConcept(
      new (class SlowConcept {
        async work(_: Record<string, never>): Promise<{ done: true }> {
          await gate;
          return { done: true };
        }
      })(),
    );
    const Start: Sync = ({ request }) => ({
      when: actions([Requesting.request, { path: "/slow" }, { request }]),
      then: actions([Slow.work, {}]),
    });
    const Finish: Sync = ({ request }) => ({
      when: actions([Requesting.request, { path: "/slow" }, { request }], [Slow.work, {}, {}]),
      then: actions([Requesting.respond, { request, finished: true }]),
    });
    Engine.register({ Start, Finish });
    // Hear when the cascade has ended (the engine calls the hook after dropping the flow).
    const hooks = (raw as unknown as Record<symbol, { cascadeDone: (r: unknown) => unknown }>)[
      Symbol.for("syncEngine.hooks")
    ];
    const report = hooks.cascadeDone;
    let ended!: () => void;
    const cascadeEnded = new Promise<void>((resolve) => ended = resolve);
    hooks.cascadeDone = (r) => {
      const note = report(r);
      ended();
      return note;
    };
    // `request` resolves at the deadline, though its cascade still waits on the gate.
    const started = await Requesting.request({ path: "/slow" });
    assert.ok("request" in started);
    assert.deepEqual(await Requesting._awaitResponse({ request: started.request }), [
      { response: timeoutResponse() },
    ]);
    assert.equal(Engine.stats().flows, 1);
    open();
    await cascadeEnded;
    // The cascade's late respond was refused (the request was gone), and the flow is dropped.
    assert.deepEqual(Engine.stats(), { flows: 0, records: 0, syncs: 2 });
    assert.equal(raw.pendingCount, 0);
  });
});

Deno.test("request() round trips leave no pending requests and no engine records", async () => {
  await withRequesting({}, async ({ Requesting, Engine, raw }) => {
    const Ping: Sync = ({ request }) => ({
      when: actions([Requesting.request, { path: "/ping" }, { request }]),
      then: actions([Requesting.respond, { request, pong: true }]),
    });
    Engine.register({ Ping });
    const answers = await Promise.all(
      Array.from({ length: 1000 }, async () => {
        const started = await Requesting.request({ path: "/ping" });
        if (!("request" in started)) throw new Error(started.error);
        return (await Requesting._awaitResponse({ request: started.request }))[0].response;
      }),
    );
    assert.equal(answers.filter((a) => a.pong === true).length, 1000);
    assert.equal(raw.pendingCount, 0);
    assert.deepEqual(Engine.stats(), { flows: 0, records: 0, syncs: 1 });
  });
});

Deno.test("_getInput() gives a pending request's inputs without its path, and [] once collected", async () => {
  await withRequesting({}, async ({ raw }) => {
    const started = await raw.request({ path: "/x", username: "alice", extra: { a: 1 } });
    assert.ok("request" in started);
    assert.deepEqual(await raw._getInput({ request: started.request }), [
      { input: { username: "alice", extra: { a: 1 } } },
    ]);
    await raw.respond({ request: started.request, ok: true });
    await raw._awaitResponse({ request: started.request });
    assert.deepEqual(await raw._getInput({ request: started.request }), []);
    assert.deepEqual(await raw._getInput({ request: { $ne: null } as never }), []);
  });
});

/** A concept whose action counts its calls, or throws what it is given to throw. */
class ProbeConcept {
  calls = 0;
  fail?: Error;
  note(_: Record<string, unknown>): Promise<Record<string, never>> {
    this.calls++;
    return this.fail ? Promise.reject(this.fail) : Promise.resolve({});
  }
}

Deno.test("request() through the engine: a store that cannot be reached answers 503, not 500", async () => {
  await withRequesting({}, async ({ Requesting, Engine }) => {
    const probe = new ProbeConcept();
    probe.fail = new MongoNetworkError("connection 1 to 127.0.0.1:1 closed");
    const Probe = Engine.instrumentConcept(probe);
    const Write: Sync = ({ request }) => ({
      when: actions([Requesting.request, { path: "/write" }, { request }]),
      then: actions([Probe.note, {}]),
    });
    Engine.register({ Write });
    const started = await Requesting.request({ path: "/write" });
    assert.ok("request" in started);
    const [{ response }] = await Requesting._awaitResponse({ request: started.request });
    assert.deepEqual(response, storeUnavailableResponse());
    assert.deepEqual(response, {
      error: "Cannot answer request: store unavailable",
      kind: "store_unavailable",
    });
  });
});

Deno.test("request() through the engine: no action starts after the cutoff (timeout less store timeout)", async () => {
  await withRequesting({ timeoutMs: 400, storeTimeoutMs: 350 }, async ({ Requesting, Engine }) => {
    const probe = new ProbeConcept();
    const Probe = Engine.instrumentConcept(probe);
    // The where outlasts the 50 ms cutoff: the write it leads to must not start.
    const Late: Sync = ({ request }) => ({
      when: actions([Requesting.request, { path: "/late" }, { request }]),
      where: async (frames) => {
        await new Promise((r) => setTimeout(r, 120));
        return frames;
      },
      then: actions([Probe.note, {}]),
    });
    const Early: Sync = ({ request }) => ({
      when: actions([Requesting.request, { path: "/early" }, { request }]),
      then: actions([Probe.note, {}], [Requesting.respond, { request, ok: true }]),
    });
    Engine.register({ Late, Early });
    const early = await Requesting.request({ path: "/early" });
    assert.ok("request" in early);
    assert.deepEqual(await Requesting._awaitResponse({ request: early.request }), [
      { response: { ok: true } },
    ]);
    assert.equal(probe.calls, 1);
    const late = await Requesting.request({ path: "/late" });
    assert.ok("request" in late);
    const [{ response }] = await Requesting._awaitResponse({ request: late.request });
    assert.deepEqual(response, timeoutResponse());
    // Without the cutoff the where (120 ms) ends well before the 400 ms timeout and the action
    // starts; with it (50 ms), the action is never started.
    assert.equal(probe.calls, 1, "the action after the cutoff was not started");
  });
});

Deno.test("new RequestingConcept() refuses a store timeout not below the request timeout", async () => {
  const [db, client] = await testDb();
  try {
    assert.throws(
      () => new RequestingConcept(db, { timeoutMs: 100, storeTimeoutMs: 100 }),
      /storeTimeoutMs must be below timeoutMs/,
    );
  } finally {
    await client.close();
  }
});

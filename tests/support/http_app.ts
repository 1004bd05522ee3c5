/**
 * Test doubles for the HTTP tests: a typed fake Requesting that answers from a function and
 * records the inputs it got, a fake Sessioning, and an app builder that captures the access log.
 * The end-to-end tests use the real concepts instead.
 */
import { createApp } from "../../src/http/app.ts";
import type {
  AccessLogEntry,
  AppDeps,
  HttpConfig,
  RequestingPort,
  SessioningPort,
} from "../../src/http/types.ts";

export const TOKEN = "AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
export const TOKEN_ID = "AAAAAAAAAAAAAAAAAAAAAA";
export const OTHER_TOKEN = "CCCCCCCCCCCCCCCCCCCCCC.DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD";

export type FakeRequesting = RequestingPort & { calls: Array<Record<string, unknown>> };

/** A Requesting whose response to each request is `answer(inputs)`. */
export function fakeRequesting(
  answer: (inputs: Record<string, unknown>) => unknown,
): FakeRequesting {
  const responses = new Map<string, unknown>();
  const calls: Array<Record<string, unknown>> = [];
  return {
    calls,
    async request(inputs) {
      calls.push(inputs);
      const request = `req-${calls.length}`;
      responses.set(request, await answer(inputs));
      return { request };
    },
    _awaitResponse({ request }) {
      return Promise.resolve([{ response: responses.get(request) }]);
    },
  };
}

/** A Sessioning that knows exactly one live token, for user "u1". */
export function fakeSessioning(live = TOKEN): SessioningPort & { deleted: string[] } {
  const deleted: string[] = [];
  return {
    deleted,
    touch({ session }) {
      return Promise.resolve(
        session === live && !deleted.includes(session)
          ? { user: "u1", id: session.split(".")[0], expiresAt: new Date(0) }
          : { error: "Cannot touch session: no such session" },
      );
    },
    delete({ session }) {
      if (session !== live || deleted.includes(session)) {
        return Promise.resolve({ error: "Cannot delete session: no such session" });
      }
      deleted.push(session);
      return Promise.resolve({});
    },
  };
}

export const SECURE: HttpConfig = { cookieSecure: true, appOrigins: [], trustProxy: false };

/** An app on fakes (unless given), with its access log captured in `logs`. */
export function testApp(
  overrides: Partial<Omit<AppDeps, "config">> & { config?: Partial<HttpConfig> } = {},
) {
  const logs: AccessLogEntry[] = [];
  const requesting = fakeRequesting((inputs) => ({ echo: inputs.path }));
  const deps: AppDeps = {
    Requesting: requesting,
    Sessioning: fakeSessioning(),
    health: () => Promise.resolve(true),
    store: "embedded",
    log: (entry) => logs.push(entry),
    ...overrides,
    config: { ...SECURE, ...overrides.config },
  };
  return { app: createApp(deps), logs, requesting };
}

/** Request options for a JSON POST. */
export function postJson(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  };
}

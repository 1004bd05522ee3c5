/**
 * The harness of the /api/auth tests: the HTTP app on the real engine, syncs and concepts, on a
 * database of its own, called through `app.request()` with the cookie jar done by hand, as a
 * browser would. Argon2 runs with weak parameters to keep the suites fast (the concept's own
 * tests cover the OWASP defaults), through a hasher that counts verifications; with `spy`, the
 * concepts reach the store through a second client that records every command.
 */
import { MongoClient } from "mongodb";
import { createConcepts } from "../src/app/concepts.ts";
import {
  argon2Hasher,
  type PasswordHasher,
} from "../src/concepts/PasswordAuthentication/hashing.ts";
import { createApp } from "../src/http/app.ts";
import type { AccessLogEntry, AppDeps } from "../src/http/types.ts";
import type { SessionEvent } from "../src/concepts/Sessioning/SessioningConcept.ts";
import { syncs } from "../src/syncs/mod.ts";
import { serverUrl, testDb } from "./support/test_db.ts";
import { Logging } from "../src/engine/mod.ts";
import { type LogEntry, Logger } from "../src/utils/log.ts";
import type { Db } from "mongodb";

export const WEAK = { memoryCost: 256, timeCost: 1, parallelism: 1 };
export const PASSWORD = "correct horse battery";

export interface Answer {
  status: number;
  json: unknown;
  headers: Headers;
}

export interface Harness {
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Answer>;
  /** Access-log lines and the engine's TRACE lines, as JSON text. */
  logs: string[];
  /** The clock of the concepts. */
  now: { ms: number };
  /** Password verifications done so far (Argon2id `verify` calls). */
  verifications(): number;
  /** With `spy`: the commands sent to the store so far, as `<command> <collection>`. */
  commands: string[];
  db: Db;
}

export interface HarnessOptions {
  /** Attempts per key and window (LOGIN_MAX_FAILURES); default 10. */
  limit?: number;
  /** Wraps each verification (after it is counted); default: the weak Argon2id verify. */
  verify?: (phc: string, password: string, real: PasswordHasher["verify"]) => Promise<boolean>;
  /** REQUESTING_SAVE_RESPONSES. */
  saveResponses?: boolean;
  /** Record the store commands in `commands`. */
  spy?: boolean;
  /** SESSION_COOKIE_SECURE; default true. */
  cookieSecure?: boolean;
  /** Told each Sessioning event (created, rotated, ended, ...). */
  onSessionEvent?: (event: SessionEvent) => void;
  /** Told the figures of each HTTP request (the metrics' hook). */
  observe?: AppDeps["observe"];
}

export async function withApi(
  fn: (h: Harness) => Promise<void>,
  options: HarnessOptions = {},
): Promise<void> {
  const [testDatabase, client] = await testDb();
  const logs: string[] = [];
  const commands: string[] = [];
  const now = { ms: Date.parse("2026-11-22T12:00:00Z") };
  let verifications = 0;
  const hasher: PasswordHasher = {
    hash: argon2Hasher.hash,
    verify(phc, password) {
      verifications++;
      return options.verify
        ? options.verify(phc, password, argon2Hasher.verify)
        : argon2Hasher.verify(phc, password);
    },
  };
  let spy: MongoClient | undefined;
  let db = testDatabase;
  if (options.spy) {
    const url = Deno.env.get("MONGODB_URL") ?? serverUrl(client);
    spy = new MongoClient(url, { monitorCommands: true });
    spy.on("commandStarted", (e) => {
      const target = (e.command as Record<string, unknown>)[e.commandName];
      commands.push(`${e.commandName} ${typeof target === "string" ? target : ""}`.trim());
    });
    db = spy.db(testDatabase.databaseName);
  }
  try {
    const { Engine, Requesting, Sessioning } = createConcepts(db, {
      engine: {
        logging: Logging.TRACE,
        logger: new Logger((e: LogEntry) => logs.push(JSON.stringify(e))),
      },
      requesting: { timeoutMs: 20_000, saveResponses: options.saveResponses },
      sessioning: { now: () => now.ms, onEvent: options.onSessionEvent },
      passwordAuthentication: { argon2: WEAK, hasher },
      rateLimiting: { limit: options.limit ?? 10, windowMs: 600_000, now: () => now.ms },
      deviceTrust: { now: () => now.ms },
    });
    Engine.register(syncs);
    const app = createApp({
      Requesting,
      Sessioning,
      health: () => Promise.resolve(true),
      store: "embedded",
      config: { cookieSecure: options.cookieSecure ?? true, appOrigins: [], trustProxy: false },
      log: (e: AccessLogEntry) => logs.push(JSON.stringify(e)),
      observe: options.observe,
    });
    await fn({
      logs,
      now,
      commands,
      db: testDatabase,
      verifications: () => verifications,
      async call(method, path, body, headers = {}) {
        const init: RequestInit = { method, headers: { ...headers } };
        if (method === "POST") {
          (init.headers as Record<string, string>)["content-type"] = "application/json";
          init.body = typeof body === "string" ? body : JSON.stringify(body ?? {});
        }
        const res = await app.request(`http://localhost${path}`, init, {
          remoteAddr: { hostname: headers["x-test-ip"] ?? "192.0.2.1" },
        });
        return { status: res.status, json: await res.json(), headers: res.headers };
      },
    });
  } finally {
    await spy?.close();
    await client.close();
  }
}

/** The value a response sets for the cookie `name` (`__Host-session`, `__Host-device`), if any. */
export function cookieOf(headers: Headers, name = "__Host-session"): string | undefined {
  for (const c of headers.getSetCookie()) {
    if (!c.startsWith(`${name}=`)) continue;
    const value = c.slice(name.length + 1).split(";", 1)[0];
    if (value !== "") return value;
  }
  return undefined;
}

/** The device cookie a response sets, if any. */
export const deviceOf = (headers: Headers) => cookieOf(headers, "__Host-device");

export const asCookie = (token: string) => ({ cookie: `__Host-session=${token}` });
export const asBearer = (token: string) => ({ authorization: `Bearer ${token}` });
/** A Cookie header with the device cookie (and a session cookie, when given). */
export const withDevice = (device: string, session?: string) => ({
  cookie: session
    ? `__Host-device=${device}; __Host-session=${session}`
    : `__Host-device=${device}`,
});

/** `n` resolved in order: `fn(0)`, ..., `fn(n - 1)`, all started at once. */
export function burst<T>(n: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => fn(i)));
}

/** How many answers have each status, e.g. `{ 401: 10, 429: 50 }`. */
export function statuses(answers: Answer[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const a of answers) out[a.status] = (out[a.status] ?? 0) + 1;
  return out;
}

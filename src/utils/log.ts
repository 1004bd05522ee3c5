/**
 * The service's structured logger: one JSON object per line, every field passed through
 * `redactSecrets` first, so a value kept under a key like `password`, `token`, `secret` or
 * `session` (any case, at any depth) never reaches a log. The sink is injectable; tests capture
 * entries in an array, the default writes one JSON line on stdout.
 */
import { TOKEN_IN_TEXT } from "./token.ts";

/** How much a log line matters. */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";

/** One log line. */
export interface LogEntry {
  time: string;
  level: LogLevel;
  msg: string;
  [field: string]: unknown;
}

/** Where log lines go. */
export type LogSink = (entry: LogEntry) => void;

/** Key fragments whose values are never logged or stored (compared case-insensitively). */
const SECRET_KEY_PARTS = [
  "password",
  "passwd",
  "token",
  "secret",
  "session",
  "authorization",
  "cookie",
  "apikey",
  "api_key",
  "credential",
];

/** What a secret value is replaced with. */
export const REDACTED = "[redacted]";

/** Whether a value kept under `key` is a secret (`newPassword`, `SessionToken`, `x_secret`...). */
export function isSecretKey(key: string): boolean {
  const lower = key.toLowerCase();
  return SECRET_KEY_PARTS.some((part) => lower.includes(part));
}

/**
 * A copy of `value` with the values under secret keys replaced by `"[redacted]"` at any depth,
 * and token-shaped substrings of strings cut to their public id. Dates and other non-plain
 * objects are kept as they are; cycles and depth beyond 8 become `"[...]"`.
 */
export function redactSecrets(value: unknown): unknown {
  return redactValue(value, 0, new WeakSet());
}

function redactValue(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === "string") {
    // A token has a dot in it: most strings have none, and skip the search.
    return value.includes(".") ? value.replace(TOKEN_IN_TEXT, `$1.${REDACTED}`) : value;
  }
  if (typeof value !== "object" || value === null) return value;
  if (seen.has(value) || depth >= 8) return "[...]";
  if (Array.isArray(value)) {
    seen.add(value);
    const out = value.map((item) => redactValue(item, depth + 1, seen));
    seen.delete(value);
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  seen.add(value);
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = isSecretKey(key) ? REDACTED : redactValue(item, depth + 1, seen);
  }
  seen.delete(value);
  return out;
}

/** The millisecond of the last `logTime()`, and its text. */
let lastLogMs = Number.NaN;
let lastLogTime = "";

/**
 * Now as an ISO 8601 string (`new Date().toISOString()`), made once per millisecond: a busy
 * server logs several lines a millisecond, and formatting a date costs more than the rest of an
 * access-log entry but its JSON.
 */
export function logTime(): string {
  const ms = Date.now();
  if (ms !== lastLogMs) {
    lastLogMs = ms;
    lastLogTime = new Date(ms).toISOString();
  }
  return lastLogTime;
}

/** JSON text of a log entry; bigints become strings, and an unserialisable entry says so. */
export function formatEntry(entry: LogEntry): string {
  try {
    // Without a replacer first: it costs a call per field, and only bigints need it.
    return JSON.stringify(entry);
  } catch {
    // A bigint somewhere (or a cycle, answered below).
  }
  try {
    return JSON.stringify(entry, (_key, v) => typeof v === "bigint" ? v.toString() : v);
  } catch {
    return JSON.stringify({ time: entry.time, level: entry.level, msg: entry.msg });
  }
}

/**
 * Lines bound for stdout, written together once the current task is done (or at 64 KiB, or when
 * the process ends): one write for many access-log lines instead of one `console.log` each, which
 * cost a busy server several per cent of its CPU. The buffer is the process's stdout's, not state
 * of the service.
 */
const stdoutLines = {
  pending: [] as string[],
  size: 0,
  scheduled: false,
  encoder: new TextEncoder(),
  add(line: string): void {
    this.pending.push(line);
    this.size += line.length + 1;
    if (this.size >= 65_536) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setTimeout(() => this.flush(), 0);
    }
  },
  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const bytes = this.encoder.encode(this.pending.join("\n") + "\n");
    this.pending = [];
    this.size = 0;
    try {
      for (let offset = 0; offset < bytes.length;) {
        offset += Deno.stdout.writeSync(bytes.subarray(offset));
      }
    } catch {
      // stdout is gone (a closed pipe): logging must not take the service down.
    }
  },
};
globalThis.addEventListener("unload", () => stdoutLines.flush());

/** Writes the log lines still waiting for stdout now (tests, and before a hard exit). */
export function flushLogLines(): void {
  stdoutLines.flush();
}

/** The default sink: one JSON line on stdout (warnings and errors on stderr, at once). */
export const jsonLineSink: LogSink = (entry) => {
  if (entry.level === "warn" || entry.level === "error") {
    stdoutLines.flush();
    console.error(formatEntry(entry));
  } else stdoutLines.add(formatEntry(entry));
};

/** A logger writing redacted entries to a sink, with fields added to every line. */
export class Logger {
  constructor(
    readonly sink: LogSink = jsonLineSink,
    readonly fields: Record<string, unknown> = {},
  ) {}

  /** Writes one entry; a failing sink never disturbs the caller. */
  log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
    const redacted = redactSecrets({ ...this.fields, ...fields }) as Record<string, unknown>;
    try {
      const time = logTime();
      // The three fixed fields come first and cannot be overwritten by `fields`.
      this.sink(Object.assign({ time, level, msg }, redacted, { time, level, msg }));
    } catch {
      // Logging must not change what the service does.
    }
  }

  trace(msg: string, fields?: Record<string, unknown>): void {
    this.log("trace", msg, fields);
  }
  debug(msg: string, fields?: Record<string, unknown>): void {
    this.log("debug", msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.log("info", msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.log("warn", msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.log("error", msg, fields);
  }

  /** A logger with more fields on every line. */
  child(fields: Record<string, unknown>): Logger {
    return new Logger(this.sink, { ...this.fields, ...fields });
  }
}

/** A logger that keeps its entries in an array (tests). */
export function memoryLogger(): { logger: Logger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  return { logger: new Logger((e) => entries.push(e)), entries };
}

/** A short description of something thrown (name and message), token-shaped text redacted. */
export function describeError(e: unknown): string {
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return String(redactSecrets(text)).slice(0, 300);
}

/**
 * The service's metrics, in memory, exposed in the Prometheus text format (prom-client): what a
 * node did (sessions created and ended by reason, token checks by result and their latency,
 * logins and registrations by result, store errors by operation, HTTP requests by route), what it
 * holds (the engine's live flows, Requesting's pending requests, the driver's pool, memory,
 * event-loop lag), and what the store says (live sessions, the TTL sweep's deletions).
 *
 * One source for each fact: session counters move only on the Sessioning events (`observe`), the
 * same events the log gets; login and registration outcomes are counted where their answer is
 * final, at the HTTP boundary (`httpRequest`). Each node counts what it did (sum over nodes);
 * `sessions_active` and the TTL figures come from the store, so every node reports the same.
 * Nothing here writes to the store; a scrape reads it at most once per `storeCacheMs`.
 */
import client from "prom-client";
import type { SessionEvent } from "../concepts/Sessioning/SessioningConcept.ts";
import { type ProcessMetrics, processMetrics } from "./process_metrics.ts";
import { storeMetrics, type StoreReader } from "./store_metrics.ts";

/** Why a session ended, as `sessions_ended_total{reason}` tells it. */
export const END_REASONS = ["logout", "expired", "revoked", "forced", "rotated"] as const;

/** Results of a login as `logins_total{result}` tells them. */
export const LOGIN_RESULTS = [
  "ok",
  "bad_credentials",
  "throttled",
  "interrupted",
  "error",
] as const;
/** Results of a registration as `registrations_total{result}` tells them. */
export const REGISTRATION_RESULTS = ["ok", "taken", "invalid", "error"] as const;

/** Methods kept as a label; any other is `other` (labels stay bounded). */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

export interface MetricsOptions {
  /** The store's figures (live sessions, TTL sweep); omitted in unit tests of the counters. */
  store?: StoreReader;
  /** The engine's live flows and records. */
  engineStats?: () => { flows: number; records: number };
  /** Requesting's pending requests. */
  pendingRequests?: () => number;
  /** How long the store's figures are kept before a scrape reads them again; default 15 s. */
  storeCacheMs?: number;
  /** The clock of the cache (ms); tests inject one. */
  now?: () => number;
  /** Whether to sample event-loop lag and process figures (default true). */
  process?: boolean;
}

/** The counters, gauges and histograms of one service, in one registry. */
export class ServiceMetrics {
  readonly registry = new client.Registry();
  readonly contentType = this.registry.contentType;
  readonly #created;
  readonly #ended;
  readonly #validations;
  readonly #validationSeconds;
  readonly #logins;
  readonly #registrations;
  readonly #storeErrors;
  readonly #httpSeconds;
  readonly #process?: ProcessMetrics;

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    this.#created = new client.Counter({
      name: "sessions_created_total",
      help: "Sessions started by this node",
      registers,
    });
    this.#ended = new client.Counter({
      name: "sessions_ended_total",
      help:
        "Sessions ended by this node, by reason (rotated: a token replaced, the session goes on)",
      labelNames: ["reason"],
      registers,
    });
    this.#validations = new client.Counter({
      name: "session_validations_total",
      help: "Token checks by this node, by result",
      labelNames: ["result"],
      registers,
    });
    this.#validationSeconds = new client.Histogram({
      name: "session_validation_duration_seconds",
      help: "How long a token check took (one store read, and a delete for an expired session)",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.#logins = new client.Counter({
      name: "logins_total",
      help: "Login requests answered by this node, by result",
      labelNames: ["result"],
      registers,
    });
    this.#registrations = new client.Counter({
      name: "registrations_total",
      help: "Registration requests answered by this node, by result",
      labelNames: ["result"],
      registers,
    });
    this.#storeErrors = new client.Counter({
      name: "store_errors_total",
      help: "Failed store operations: a command's name, checkout, heartbeat, request (answered " +
        "503) or scrape",
      labelNames: ["operation"],
      registers,
    });
    this.#httpSeconds = new client.Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP requests by route-table name (pages, unmatched), method and status",
      labelNames: ["route", "method", "status"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    for (const reason of END_REASONS) this.#ended.inc({ reason }, 0);
    for (const result of ["ok", "unknown", "bad_secret", "expired", "malformed"]) {
      this.#validations.inc({ result }, 0);
    }
    for (const result of LOGIN_RESULTS) this.#logins.inc({ result }, 0);
    for (const result of REGISTRATION_RESULTS) this.#registrations.inc({ result }, 0);

    const { engineStats, pendingRequests } = options;
    if (engineStats) {
      new client.Gauge({
        name: "engine_flows",
        help: "Sync-engine flows whose cascade has not finished",
        registers,
        collect() {
          this.set(engineStats().flows);
        },
      });
      new client.Gauge({
        name: "engine_flow_records",
        help: "Records held by those flows",
        registers,
        collect() {
          this.set(engineStats().records);
        },
      });
    }
    if (pendingRequests) {
      new client.Gauge({
        name: "requesting_pending_requests",
        help: "HTTP requests waiting for their syncs' response",
        registers,
        collect() {
          this.set(pendingRequests());
        },
      });
    }
    if (options.store) {
      storeMetrics(this.registry, options.store, {
        cacheMs: options.storeCacheMs ?? 15_000,
        now: options.now ?? Date.now,
        onError: () => this.storeError("scrape"),
      });
    }
    if (options.process !== false) this.#process = processMetrics(this.registry);
  }

  /** Counts a Sessioning event (the same stream the log gets). */
  observe(event: SessionEvent): void {
    switch (event.type) {
      case "created":
        this.#created.inc();
        return;
      case "deleted":
        this.#ended.inc({ reason: "logout" });
        return;
      case "expired":
      case "rotated":
        this.#ended.inc({ reason: event.type });
        return;
      case "revoked":
        this.#ended.inc({ reason: event.reason });
        return;
      case "validated":
        this.#validations.inc({ result: event.result });
        this.#validationSeconds.observe(event.seconds);
        return;
    }
  }

  /**
   * Counts one answered HTTP request: its duration by route, method and status; for the login
   * and register routes, the outcome from the status and the error kind the answer carried; a
   * 503 (store unavailable) on any route but readiness as a store error.
   */
  httpRequest(
    route: string,
    method: string,
    status: number,
    seconds: number,
    kind?: string,
  ): void {
    this.#httpSeconds.observe(
      { route, method: METHODS.has(method) ? method : "other", status: String(status) },
      seconds,
    );
    if (route === "login") this.#logins.inc({ result: loginResult(status, kind) });
    else if (route === "register") {
      this.#registrations.inc({ result: registrationResult(status, kind) });
    }
    if (status === 503 && route !== "readyz" && route !== "healthz") this.storeError("request");
  }

  /** Counts a failed store operation. */
  storeError(operation: string): void {
    this.#storeErrors.inc({ operation });
  }

  /** The exposition text. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Stops the event-loop lag sampler. */
  close(): void {
    this.#process?.close();
  }
}

function loginResult(status: number, kind?: string): (typeof LOGIN_RESULTS)[number] {
  if (status < 400) return "ok";
  if (kind === "bad_credentials" || kind === "throttled" || kind === "interrupted") return kind;
  return "error";
}

function registrationResult(
  status: number,
  kind?: string,
): (typeof REGISTRATION_RESULTS)[number] {
  if (status < 400) return "ok";
  if (kind === "taken") return "taken";
  if (status === 400) return "invalid";
  return "error";
}

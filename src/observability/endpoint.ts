/**
 * The metrics listener: a second HTTP server (src/http/server.ts) on `METRICS_HOST:METRICS_PORT`
 * (loopback unless configured otherwise) that answers `GET /metrics` with the exposition and
 * nothing else (404). With `METRICS_TOKEN` set, a request must carry `Authorization: Bearer
 * <token>` (compared in constant time), else 401. The service's own port never serves metrics.
 */
import { timingSafeEqual } from "node:crypto";
import { NO_STORE_SECURITY_HEADERS } from "../http/security_headers.ts";
import { type HttpServer, type HttpServerLimits, serveHttp } from "../http/server.ts";
import type { ServiceMetrics } from "./metrics.ts";

/** Whether `header` is `Bearer <token>`, compared in constant time. */
function bearerMatches(header: string | null, token: string): boolean {
  const m = /^Bearer +(\S+)\s*$/i.exec(header ?? "");
  if (!m) return false;
  const given = new TextEncoder().encode(m[1]);
  const want = new TextEncoder().encode(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

const json = (status: number, error: string, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ error }), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });

/** The listener's request handler. */
export function metricsHandler(
  metrics: ServiceMetrics,
  token?: string,
): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    if (url.pathname !== "/metrics") return json(404, "Cannot find route: no such path");
    if (request.method !== "GET" && request.method !== "HEAD") {
      return json(405, `Cannot ${request.method} this path: method not allowed`, {
        allow: "GET, HEAD",
      });
    }
    if (token !== undefined && !bearerMatches(request.headers.get("authorization"), token)) {
      return json(401, "Cannot read metrics: a valid bearer token is needed", {
        "www-authenticate": 'Bearer realm="metrics"',
      });
    }
    const text = await metrics.text();
    return new Response(request.method === "HEAD" ? null : text, {
      status: 200,
      headers: { "content-type": metrics.contentType, "cache-control": "no-store" },
    });
  };
}

/** Starts the metrics listener. */
export function serveMetrics(options: {
  hostname: string;
  port: number;
  token?: string;
  metrics: ServiceMetrics;
  limits: Omit<HttpServerLimits, "maxBodyBytes">;
  log?: (event: { level: "info" | "warn" | "error"; msg: string; [k: string]: unknown }) => void;
}): HttpServer {
  return serveHttp({
    hostname: options.hostname,
    port: options.port,
    ...options.limits,
    maxConnections: Math.min(options.limits.maxConnections, 64),
    maxBodyBytes: 0,
    handler: metricsHandler(options.metrics, options.token),
    answerHeaders: () => NO_STORE_SECURITY_HEADERS,
    log: options.log,
  });
}

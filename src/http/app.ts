/**
 * The HTTP app, closed by default: it answers the routes of the route table
 * (src/syncs/routes.ts) and the web pages (pages/), and nothing else (404; a known path with
 * another method is 405 with `Allow`).
 *
 * | handler of the route | served by                                                          |
 * | -------------------- | ------------------------------------------------------------------ |
 * | `requesting`         | requesting.ts: `Requesting.request`, answered from the syncs' response |
 * | `sessioning`         | sessioning.ts: `/api/Sessioning/_getUser` (renews) and `delete`    |
 * | `health`             | health.ts: `/livez`, `/readyz`, `/healthz`                          |
 * | `openapi`            | openapi.ts: the document made from the table                       |
 *
 * Any other `/api/Sessioning/<name>` is 404 "not exposed over HTTP".
 *
 * Around every route, in one middleware: the access log (access_log.ts) and the request metrics
 * (request_metrics.ts). The security headers and `Cache-Control: no-store` (on `/api/*` and the
 * health routes) are put on every answer by the HTTP server (security_headers.ts, server.ts).
 * On `/api/*`: CORS when APP_ORIGIN is set (origin.ts); on POST
 * `/api/*`: the CSRF guard (origin.ts) and the 64 KiB body limit (body.ts). Every error answer is
 * JSON `{ "error": "..." }`; an unexpected exception is 500 `{ "error": "Internal error",
 * "correlationId": ... }`, logged with that id.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { logAccess, startAccess, writeJsonLine } from "./access_log.ts";
import { readJsonObject } from "./body.ts";
import { describeThrown, HttpError } from "./errors.ts";
import { livez, readyz } from "./health.ts";
import { corsFor, csrfGuard } from "./origin.ts";
import { mountPages } from "./pages/mod.ts";
import { openApiDocument } from "./openapi.ts";
import { handleRequest } from "./requesting.ts";
import { requestObserver } from "./request_metrics.ts";
import { deleteSession, getUser, notExposed } from "./sessioning.ts";
import { trackHeaders } from "./wire_response.ts";
import type { AppDeps, AppEnv } from "./types.ts";
import { type Handler, type Route, routes, urlPath } from "../syncs/routes.ts";
import { isStoreUnavailable, STORE_UNAVAILABLE } from "../utils/store_errors.ts";

export type {
  AccessLogEntry,
  AppDeps,
  HealthCheck,
  HttpConfig,
  RequestingPort,
  SessioningPort,
} from "./types.ts";

/** Builds the app. */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const { Requesting, Sessioning, config } = deps;
  const app = new Hono<AppEnv>();

  // One middleware around every request (each layer of middleware costs a frame and a promise):
  // the header tracking of jsonAnswer (wire_response.ts), the correlation id, then, once
  // answered, the metrics and the access-log line. (The security headers and no-store are put
  // on by the HTTP server: security_headers.ts.)
  const log = deps.log ?? writeJsonLine;
  const record = deps.observe ? requestObserver(deps.observe) : undefined;
  app.use("*", async (c, next) => {
    trackHeaders(c);
    const started = startAccess(c);
    try {
      await next();
    } finally {
      record?.(c, started);
      logAccess(c, started, log);
    }
  });
  const cors = corsFor(config);
  if (cors) app.use("/api/*", cors);
  app.post("/api/*", csrfGuard(config));

  const document = openApiDocument();
  const serve: Record<Handler, (name: string, c: Context<AppEnv>) => Promise<Response> | Response> =
    {
      requesting: async (_, c) =>
        handleRequest(
          c,
          config,
          Requesting,
          c.req.method === "POST" ? await readJsonObject(c.req.raw) : {},
        ),
      sessioning: async (name, c) => {
        const body = await readJsonObject(c.req.raw);
        return name === "sessioningGetUser"
          ? getUser(c, config, Sessioning, body)
          : deleteSession(c, config, Sessioning, body);
      },
      health: (name, c) => name === "livez" ? livez(c) : readyz(c, deps.health, deps.store),
      openapi: (_, c) => c.json(document, 200),
    };
  for (const [name, route] of Object.entries(routes) as Array<[string, Route]>) {
    const url = urlPath(route);
    const handler = (c: Context<AppEnv>) => serve[route.handler](name, c);
    if (route.method === "POST") app.post(url, handler);
    if (route.method === "GET" || route.alsoGet) app.get(url, handler);
    const allow = route.method === "POST"
      ? (route.alsoGet ? "GET, HEAD, POST" : "POST")
      : "GET, HEAD";
    app.all(url, (c) => methodNotAllowed(c, allow));
  }
  app.post("/api/Sessioning", notExposed);
  app.post("/api/Sessioning/*", notExposed);

  mountPages(app);

  app.notFound((c) => c.json({ error: "Cannot find route: no such path" }, 404));
  app.onError((e, c) => {
    if (e instanceof HttpError) return c.json({ error: e.message }, e.status);
    if (e instanceof HTTPException && e.status < 500) {
      return c.json({ error: `Cannot handle request: ${e.message || "bad request"}` }, e.status);
    }
    c.set("failure", describeThrown(e));
    if (isStoreUnavailable(e)) {
      return c.json({ error: `Cannot answer request: ${STORE_UNAVAILABLE}` }, 503);
    }
    return c.json({ error: "Internal error", correlationId: c.get("correlationId") }, 500);
  });
  return app;
}

function methodNotAllowed(c: Context<AppEnv>, allow: string): Response {
  c.header("Allow", allow);
  return c.json({ error: `Cannot ${c.req.method} this path: method not allowed` }, 405);
}

/**
 * The HTTP app: one explicit route table, closed by default. Nothing is reachable that is not
 * listed here.
 *
 * | Method | Path                          | What                                              |
 * | ------ | ----------------------------- | ------------------------------------------------- |
 * | GET    | /livez                        | the process is up (health.ts)                     |
 * | GET    | /readyz, /healthz (alias)     | the store takes reads and writes (health.ts)      |
 * | POST   | /api/Sessioning/_getUser      | Sessioning._getUser (sessioning.ts)               |
 * | POST   | /api/Sessioning/delete        | Sessioning.delete (sessioning.ts)                 |
 * | POST   | /api/Sessioning, /api/Sessioning/* | 404: not exposed over HTTP                   |
 * | GET    | GET_ROUTES (/api/auth/me, ...) | Requesting, as a POST with an empty body         |
 * | POST   | /api/*                        | Requesting.request (requesting.ts)                |
 * | other  | /api/*, /livez, /readyz, /healthz | 405                                           |
 * | GET    | /, /login, /signup, /assets/* | the web pages (pages/mod.ts, pages/routes.ts)     |
 * | any    | anything else                 | 404                                               |
 *
 * Around every route: the access log (access_log.ts), security headers (security_headers.ts);
 * on `/api/*`: `Cache-Control: no-store`, CORS when APP_ORIGIN is set (origin.ts); on POST
 * `/api/*`: the CSRF guard (origin.ts) and the 64 KiB body limit (body.ts). Every error answer is
 * JSON `{ "error": "..." }`; an unexpected exception is 500 `{ "error": "Internal error",
 * "correlationId": ... }`, logged with that id.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { accessLog } from "./access_log.ts";
import { limitBody, readJsonObject } from "./body.ts";
import { describeThrown, HttpError } from "./errors.ts";
import { livez, readyz } from "./health.ts";
import { corsFor, csrfGuard } from "./origin.ts";
import { mountPages } from "./pages/mod.ts";
import { handleRequest } from "./requesting.ts";
import { noStore, securityHeaders } from "./security_headers.ts";
import { deleteSession, getUser, notExposed } from "./sessioning.ts";
import type { AppDeps, AppEnv } from "./types.ts";
import { isStoreUnavailable, STORE_UNAVAILABLE } from "../utils/store_errors.ts";

export type {
  AccessLogEntry,
  AppDeps,
  HealthCheck,
  HttpConfig,
  RequestingPort,
  SessioningPort,
} from "./types.ts";

/** Liveness, readiness, and readiness's old name. */
const HEALTH_PATHS = ["/livez", "/readyz", "/healthz"];

/** The Requesting paths also answered on GET (with an empty body). */
export const GET_ROUTES: readonly string[] = ["/api/auth/me", "/api/auth/sessions"];

/** Builds the app. */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const { Requesting, Sessioning, config } = deps;
  const app = new Hono<AppEnv>();

  app.use("*", accessLog(deps.log));
  app.use("*", securityHeaders());
  for (const path of HEALTH_PATHS) app.use(path, noStore());
  app.use("/api/*", noStore());
  const cors = corsFor(config);
  if (cors) app.use("/api/*", cors);
  app.post("/api/*", csrfGuard(config), limitBody());

  app.get("/livez", livez);
  app.get("/readyz", (c) => readyz(c, deps.health, deps.store));
  app.get("/healthz", (c) => readyz(c, deps.health, deps.store));

  app.post(
    "/api/Sessioning/_getUser",
    async (c) => getUser(c, config, Sessioning, await readJsonObject(c.req.raw)),
  );
  app.post(
    "/api/Sessioning/delete",
    async (c) => deleteSession(c, config, Sessioning, await readJsonObject(c.req.raw)),
  );
  app.post("/api/Sessioning", notExposed);
  app.post("/api/Sessioning/*", notExposed);

  for (const path of GET_ROUTES) {
    app.get(path, (c) => handleRequest(c, config, Requesting, {}));
  }
  app.post(
    "/api/*",
    async (c) => handleRequest(c, config, Requesting, await readJsonObject(c.req.raw)),
  );

  for (const path of HEALTH_PATHS) app.all(path, (c) => methodNotAllowed(c, "GET, HEAD"));
  app.all("/api/*", (c) => {
    const allow = GET_ROUTES.includes(c.req.path) ? "GET, HEAD, POST" : "POST";
    return methodNotAllowed(c, allow);
  });

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

/**
 * Per-request figures for the metrics: a middleware that, once a request is answered, hands
 * its route's name in the route table (never the raw path, so labels stay bounded), method,
 * status, duration and the error kind its answer carried to an observer. A path outside the table
 * is `pages` when the web pages answered it and `unmatched` otherwise (404, 405).
 */
import type { Context, MiddlewareHandler } from "hono";
import { type Route, routes, urlPath } from "../syncs/routes.ts";
import type { AppEnv } from "./types.ts";

/** One answered request, as the metrics take it. */
export interface RequestFigures {
  /** The route-table name (`login`), `pages` or `unmatched`. */
  route: string;
  method: string;
  status: number;
  seconds: number;
  /** The error kind of a Requesting answer (`bad_credentials`, `throttled`, ...). */
  kind?: string;
}

/** The URL path of each route of the table, to its name. */
function routeNames(): Map<string, string> {
  const names = new Map<string, string>();
  for (const [name, route] of Object.entries(routes) as Array<[string, Route]>) {
    names.set(urlPath(route), name);
  }
  return names;
}

/** The middleware; what `observe` throws is ignored. */
export function requestMetrics(
  observe: (figures: RequestFigures) => void,
): MiddlewareHandler<AppEnv> {
  const record = requestObserver(observe);
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      record(c, started);
    }
  };
}

/** What the middleware does once a request started at `started` is answered. */
export function requestObserver(
  observe: (figures: RequestFigures) => void,
): (c: Context<AppEnv>, started: number) => void {
  const names = routeNames();
  return (c, started) => {
    const status = c.res.status;
    const route = names.get(c.req.path) ??
      (status === 404 || status === 405 ? "unmatched" : "pages");
    try {
      observe({
        route,
        method: c.req.method,
        status,
        seconds: (performance.now() - started) / 1000,
        kind: c.get("errorKind"),
      });
    } catch {
      // Metrics must not change the answer.
    }
  };
}

/**
 * The OpenAPI 3.1 document of the service, made from the route table (src/syncs/routes.ts) and
 * served at `GET /openapi.json`: every route with its method, body, success answer, the error
 * statuses its kinds map to, and whether it needs a session (cookie or bearer).
 */
import {
  COMMON_ERRORS,
  ERROR_STATUS,
  type ErrorKind,
  type Route,
  routes,
  urlPath,
} from "../syncs/routes.ts";

const ERROR_BODY = {
  type: "object",
  properties: {
    error: { type: "string", description: "Cannot <action>: <reason>" },
    correlationId: { type: "string", description: "the log's id of an internal error" },
  },
  required: ["error"],
};

/** The error kinds of a route, with the shared ones of its kind of handler. */
function kindsOf(route: Route): ErrorKind[] {
  const own = [...route.errors];
  if (route.handler === "requesting" || route.handler === "sessioning") {
    own.push(...COMMON_ERRORS, "forbidden");
  }
  return [...new Set(own)];
}

function operation(name: string, route: Route, method: "get" | "post") {
  const responses: Record<string, unknown> = {
    [String(route.ok.status)]: {
      description: "success",
      content: { "application/json": { schema: route.ok.body } },
    },
  };
  for (const kind of kindsOf(route)) {
    const status = String(ERROR_STATUS[kind]);
    const entry = responses[status] as { description: string } | undefined;
    if (entry) entry.description += `, ${kind}`;
    else {
      responses[status] = {
        description: kind,
        content: { "application/json": { schema: ERROR_BODY } },
      };
    }
  }
  const op: Record<string, unknown> = {
    operationId: method === "get" && route.method === "POST" ? `${name}Get` : name,
    summary: route.summary,
    responses,
  };
  if (route.session) op.security = [{ sessionCookie: [] }, { bearer: [] }];
  if (method === "post" && route.body) {
    op.requestBody = {
      required: true,
      content: { "application/json": { schema: route.body } },
    };
  }
  return op;
}

/** The document. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [name, route] of Object.entries(routes) as Array<[string, Route]>) {
    const item: Record<string, unknown> = {};
    item[route.method.toLowerCase()] = operation(
      name,
      route,
      route.method === "GET" ? "get" : "post",
    );
    if (route.alsoGet) item.get = operation(name, route, "get");
    paths[urlPath(route)] = item;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Session service",
      version: "1.0.0",
      description: "Sessions, passwords and login throttling, composed by syncs. Errors are " +
        '`{"error": "Cannot <action>: <reason>"}`; cookie requests must be same-origin.',
    },
    paths,
    components: {
      securitySchemes: {
        sessionCookie: { type: "apiKey", in: "cookie", name: "__Host-session" },
        bearer: { type: "http", scheme: "bearer" },
      },
    },
  };
}

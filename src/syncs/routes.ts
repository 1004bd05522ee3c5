/**
 * The route table: every HTTP route of the service, in one place. The syncs match on `path`,
 * the HTTP boundary mounts each route and chooses its status from the error `kind` a response
 * carries, and the OpenAPI document (src/http/openapi.ts) and the README's API table are made
 * from it. A route that is not here is not answered (closed by default).
 *
 * `path` is the Requesting path (`/auth/login`); the URL is `/api` + path for Requesting and
 * Sessioning routes, and `path` itself for the others (`/livez`).
 */

/** A JSON Schema (the subset the table uses), as OpenAPI 3.1 takes it. */
export type Schema = Record<string, unknown>;

/** How a route is served at the boundary. */
export type Handler = "requesting" | "sessioning" | "health" | "openapi";

/**
 * What an error response can be, and its status. A concept's or a sync's error carries one of
 * these as `kind`; an error without a kind is `invalid`.
 */
export const ERROR_STATUS = {
  /** The request broke a requirement (shape, length, policy). */
  invalid: 400,
  /** No session, or not a live one. */
  unauthenticated: 401,
  /** Wrong username or password. */
  bad_credentials: 401,
  /** A login whose user's sessions were ended while it ran (password change, logout-all). */
  interrupted: 401,
  /** The origin check refused a cookie request, or the user lacks the role the route needs. */
  forbidden: 403,
  /** Sudo mode: re-enter the password (POST /auth/reauthenticate) first; the answer says so. */
  sudo_required: 403,
  /** No such thing (of this user's). */
  not_found: 404,
  /** The name is taken. */
  taken: 409,
  /** Too many attempts: wait `retryAfterMs`. */
  throttled: 429,
  /** A failure of the service (logged with the `correlationId` it answers). */
  internal: 500,
  /** The store could not be reached, or could not write. */
  store_unavailable: 503,
  /** The request's syncs did not answer in time. */
  timeout: 504,
} as const;

export type ErrorKind = keyof typeof ERROR_STATUS;

/** Error kinds every Requesting route can answer besides its own. */
export const COMMON_ERRORS: readonly ErrorKind[] = [
  "invalid",
  "internal",
  "store_unavailable",
  "timeout",
];

export interface Route {
  method: "GET" | "POST";
  /** Also answered on GET (with an empty body), for a POST route. */
  alsoGet?: boolean;
  path: string;
  handler: Handler;
  /** Whether a session is needed (cookie or bearer). */
  session: boolean;
  summary: string;
  /** The JSON body's schema (POST). */
  body?: Schema;
  /** The success status and the JSON body's schema. */
  ok: { status: number; body: Schema };
  /** The error kinds this route answers, besides `COMMON_ERRORS`. */
  errors: readonly ErrorKind[];
}

const str = (description: string, extra: Schema = {}): Schema => ({
  type: "string",
  description,
  ...extra,
});
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({
  type: "object",
  properties,
  required,
});
const date = (description: string) => str(description, { format: "date-time" });

const USERNAME = str("3-64 letters, digits, marks or . _ - @; compared case-folded (NFKC)", {
  minLength: 1,
  maxLength: 256,
});
const PASSWORD = str("8-256 characters", { minLength: 1, maxLength: 1024 });
const TRANSPORT = str('"bearer": tokens in the JSON answer instead of cookies', {
  enum: ["bearer"],
});
const DEVICE_TOKEN = str("a bearer client's device token (OWASP device cookies)");
/** What a successful login or registration answers (tokens only to bearer clients). */
const LOGGED_IN = obj({
  user: str("the user's id"),
  session: str("the session token (bearer clients only; cookie clients get a cookie)"),
  deviceToken: str("the device token (bearer clients only)"),
  deviceExpiresAt: date("when the device token expires (bearer clients only)"),
}, ["user"]);
const EMPTY = obj({});
const COUNT = obj({ count: { type: "integer", minimum: 0 } }, ["count"]);
const SESSION_INFO = obj({
  id: str("the session's public id"),
  createdAt: date("when it started"),
  lastSeenAt: date("when it was last used (to the touch interval)"),
  expiresAt: date("when it ends unless used again"),
  userAgent: { type: ["string", "null"], description: "the client's User-Agent" },
  device: str("a friendly device name (browser and OS)"),
  current: { type: "boolean", description: "whether it is the session of this request" },
}, ["id", "createdAt", "lastSeenAt", "expiresAt", "current"]);
/** A session as the administrator's list shows it: never a token or hash. */
const ADMIN_SESSION = obj({
  id: str("the session's public id"),
  user: str("the user's id"),
  username: { type: ["string", "null"], description: "the user's username (null if unknown)" },
  device: str("a friendly device name (browser and OS)"),
  userAgent: { type: ["string", "null"], description: "the client's User-Agent" },
  ip: { type: ["string", "null"], description: "the client's IP at login" },
  createdAt: date("when it started"),
  lastSeenAt: date("when it was last used (to the touch interval)"),
  expiresAt: date("when it ends unless used again"),
}, ["id", "user", "username", "device", "createdAt", "lastSeenAt", "expiresAt"]);
const ADMIN_PAGE = {
  limit: { type: "integer", minimum: 1, maximum: 100, description: "page size; default 20" },
  before: str("the `next` cursor of the previous page"),
  username: str("only this user's sessions", { minLength: 1, maxLength: 256 }),
};
/** The errors every administrator route answers besides the common ones. */
const ADMIN_ERRORS = ["unauthenticated", "forbidden", "sudo_required"] as const;

const HEALTH = obj({
  ok: { type: "boolean" },
  store: str("where the data lives", { enum: ["embedded", "mongodb"] }),
  error: str("why not ready"),
}, ["ok"]);

/** Every route, by name. */
export const routes = {
  register: {
    method: "POST",
    path: "/auth/register",
    handler: "requesting",
    session: false,
    summary:
      "Create an account and start a session: session and device cookies (bearer: tokens in the JSON)",
    body: obj({ username: USERNAME, password: PASSWORD, transport: TRANSPORT }, [
      "username",
      "password",
    ]),
    ok: { status: 201, body: LOGGED_IN },
    errors: ["taken"],
  },
  login: {
    method: "POST",
    path: "/auth/login",
    handler: "requesting",
    session: false,
    summary:
      "Log in: session and device cookies (bearer: tokens in the JSON); 429 carries Retry-After",
    body: obj({
      username: USERNAME,
      password: PASSWORD,
      transport: TRANSPORT,
      deviceToken: DEVICE_TOKEN,
    }, ["username", "password"]),
    ok: { status: 200, body: LOGGED_IN },
    errors: ["bad_credentials", "interrupted", "throttled"],
  },
  logout: {
    method: "POST",
    path: "/auth/logout",
    handler: "requesting",
    session: true,
    summary: "End this session; clears the cookie",
    body: EMPTY,
    ok: { status: 200, body: EMPTY },
    errors: ["unauthenticated"],
  },
  me: {
    method: "POST",
    alsoGet: true,
    path: "/auth/me",
    handler: "requesting",
    session: true,
    summary: "Who this session belongs to",
    body: EMPTY,
    ok: { status: 200, body: obj({ user: str("the user's id"), username: str("") }) },
    errors: ["unauthenticated"],
  },
  roles: {
    method: "POST",
    alsoGet: true,
    path: "/auth/roles",
    handler: "requesting",
    session: true,
    summary: "Whether this session's user is an administrator (what the pages show)",
    body: EMPTY,
    ok: { status: 200, body: obj({ admin: { type: "boolean" } }, ["admin"]) },
    errors: ["unauthenticated"],
  },
  sessions: {
    method: "POST",
    alsoGet: true,
    path: "/auth/sessions",
    handler: "requesting",
    session: true,
    summary:
      "This user's live sessions, newest first: id, createdAt, lastSeenAt, expiresAt, device, current",
    body: EMPTY,
    ok: { status: 200, body: obj({ sessions: { type: "array", items: SESSION_INFO } }) },
    errors: ["unauthenticated"],
  },
  revoke: {
    method: "POST",
    path: "/auth/sessions/revoke",
    handler: "requesting",
    session: true,
    summary: "End one of this user's sessions by its public id",
    body: obj({ id: str("the session's public id") }, ["id"]),
    ok: { status: 200, body: EMPTY },
    errors: ["unauthenticated", "not_found"],
  },
  logoutOthers: {
    method: "POST",
    path: "/auth/logout-others",
    handler: "requesting",
    session: true,
    summary: "End every other session of this user",
    body: EMPTY,
    ok: { status: 200, body: COUNT },
    errors: ["unauthenticated"],
  },
  logoutAll: {
    method: "POST",
    path: "/auth/logout-all",
    handler: "requesting",
    session: true,
    summary: "End every session of this user, this one included; clears the cookie",
    body: EMPTY,
    ok: { status: 200, body: COUNT },
    errors: ["unauthenticated"],
  },
  password: {
    method: "POST",
    path: "/auth/password",
    handler: "requesting",
    session: true,
    summary:
      "Change the password: the other sessions end, this one gets a new token (cookie, or JSON)",
    body: obj({ currentPassword: PASSWORD, newPassword: PASSWORD }, [
      "currentPassword",
      "newPassword",
    ]),
    ok: {
      status: 200,
      body: obj({ session: str("the new token (bearer clients only)") }),
    },
    errors: ["unauthenticated", "bad_credentials"],
  },
  reauthenticate: {
    method: "POST",
    path: "/auth/reauthenticate",
    handler: "requesting",
    session: true,
    summary:
      "Re-enter the password: this session counts as recently authenticated for SUDO_TTL (throttled like login)",
    body: obj({ password: PASSWORD }, ["password"]),
    ok: {
      status: 200,
      body: obj({
        authenticatedAt: date("when the password was checked"),
        sudoUntil: date("until when administrator actions need no new check"),
      }, ["authenticatedAt", "sudoUntil"]),
    },
    errors: ["unauthenticated", "bad_credentials", "throttled"],
  },
  adminSessions: {
    method: "POST",
    alsoGet: true,
    path: "/admin/sessions",
    handler: "requesting",
    session: true,
    summary:
      "Administrators: live sessions of every user (or of `username`), newest first, a page at a time",
    body: obj(ADMIN_PAGE),
    ok: {
      status: 200,
      body: obj({
        sessions: { type: "array", items: ADMIN_SESSION },
        next: { type: ["string", "null"], description: "the cursor of the next page, or null" },
      }, ["sessions", "next"]),
    },
    errors: [...ADMIN_ERRORS, "not_found"],
  },
  adminCount: {
    method: "POST",
    alsoGet: true,
    path: "/admin/sessions/count",
    handler: "requesting",
    session: true,
    summary: "Administrators: how many live sessions there are (of every user, or of `username`)",
    body: obj({ username: ADMIN_PAGE.username }),
    ok: { status: 200, body: COUNT },
    errors: [...ADMIN_ERRORS, "not_found"],
  },
  adminEndSession: {
    method: "POST",
    path: "/admin/sessions/end",
    handler: "requesting",
    session: true,
    summary: "Administrators: end any user's session by its public id",
    body: obj({ id: str("the session's public id") }, ["id"]),
    ok: { status: 200, body: obj({ user: str("whose session it was") }, ["user"]) },
    errors: [...ADMIN_ERRORS, "not_found"],
  },
  adminLogoutUser: {
    method: "POST",
    path: "/admin/users/logout",
    handler: "requesting",
    session: true,
    summary:
      "Administrators: end every session of a user (forced logout; logins in flight end too)",
    body: obj({ username: ADMIN_PAGE.username }, ["username"]),
    ok: {
      status: 200,
      body: obj({
        user: str("the user's id"),
        count: { type: "integer", minimum: 0, description: "how many sessions ended" },
      }, ["user", "count"]),
    },
    errors: [...ADMIN_ERRORS, "not_found"],
  },
  ping: {
    method: "POST",
    path: "/ping",
    handler: "requesting",
    session: false,
    summary: "The sample sync: answers { pong: true }",
    body: EMPTY,
    ok: { status: 200, body: obj({ pong: { type: "boolean" } }, ["pong"]) },
    errors: [],
  },
  sessioningGetUser: {
    method: "POST",
    path: "/Sessioning/_getUser",
    handler: "sessioning",
    session: true,
    summary: "Sessioning._getUser: the user of this session (and renews it)",
    body: obj({ session: str("the token, when neither a bearer header nor a cookie has it") }),
    ok: {
      status: 200,
      body: { type: "array", items: obj({ user: str("the user's id") }, ["user"]) },
    },
    errors: ["unauthenticated"],
  },
  sessioningDelete: {
    method: "POST",
    path: "/Sessioning/delete",
    handler: "sessioning",
    session: true,
    summary: "Sessioning.delete: end this session",
    body: obj({ session: str("the token, when neither a bearer header nor a cookie has it") }),
    ok: { status: 200, body: EMPTY },
    errors: ["unauthenticated"],
  },
  livez: {
    method: "GET",
    path: "/livez",
    handler: "health",
    session: false,
    summary: "The process serves HTTP",
    ok: { status: 200, body: obj({ ok: { type: "boolean" } }, ["ok"]) },
    errors: [],
  },
  readyz: {
    method: "GET",
    path: "/readyz",
    handler: "health",
    session: false,
    summary: "The store takes reads and writes (503 with the reason when not)",
    ok: { status: 200, body: HEALTH },
    errors: ["store_unavailable"],
  },
  healthz: {
    method: "GET",
    path: "/healthz",
    handler: "health",
    session: false,
    summary: "The old name of /readyz",
    ok: { status: 200, body: HEALTH },
    errors: ["store_unavailable"],
  },
  openapi: {
    method: "GET",
    path: "/openapi.json",
    handler: "openapi",
    session: false,
    summary: "This document",
    ok: { status: 200, body: { type: "object" } },
    errors: [],
  },
} as const satisfies Record<string, Route>;

export type RouteName = keyof typeof routes;

/** The URL path of a route: `/api` + path for Requesting and Sessioning routes. */
export function urlPath(route: Route): string {
  return route.handler === "requesting" || route.handler === "sessioning"
    ? `/api${route.path}`
    : route.path;
}

/** The status for an error `kind` (anything else, or none, is `invalid`: 400). */
export function errorStatus(kind: unknown): number {
  return typeof kind === "string" && Object.hasOwn(ERROR_STATUS, kind)
    ? ERROR_STATUS[kind as ErrorKind]
    : ERROR_STATUS.invalid;
}

/** The Requesting routes of the table by path (made at the first lookup). */
let requestingRoutes: Map<string, Route> | undefined;

/** The Requesting route of a Requesting path, if the table has one. */
export function requestingRoute(path: string): Route | undefined {
  if (!requestingRoutes) {
    requestingRoutes = new Map();
    for (const route of Object.values(routes) as Route[]) {
      if (route.handler === "requesting" && !requestingRoutes.has(route.path)) {
        requestingRoutes.set(route.path, route);
      }
    }
  }
  return requestingRoutes.get(path);
}

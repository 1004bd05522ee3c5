/**
 * The administrators' API (`/api/admin/*`): every user's live sessions, their count, ending one
 * session, and ending every session of a user (forced logout). Each route is a protected route
 * (its session touched first; no session: 401) that also needs the `admin` role (Roles; without
 * it: 403 `forbidden`) and a password check within SUDO_TTL on this session (Sessioning's
 * `authenticatedAt`; otherwise 403 `sudo_required` with `reauthenticate: true`, and the client
 * calls POST /api/auth/reauthenticate). Every action is recorded in the AuditLog (who, what, to
 * whom; never a token), before its answer.
 */
import { AuditLog, PasswordAuthentication, Requesting, Roles, Sessioning } from "./concepts.ts";
import { actions, Frames, type Sync } from "../engine/mod.ts";
import type { ID } from "../utils/types.ts";
import { deviceName } from "../utils/user_agent.ts";
import { routes } from "./routes.ts";
import { authenticateRoute, withInputs } from "./authenticated.ts";
import { ADMIN_ROLE, MAX_PAGE_SIZE, NOT_ADMIN, PAGE_SIZE, SUDO_REQUIRED } from "./admin.ts";

const ADMIN_PATHS: ReadonlySet<string> = new Set([
  routes.adminSessions.path,
  routes.adminCount.path,
  routes.adminEndSession.path,
  routes.adminLogoutUser.path,
]);

type Frame = Record<symbol, unknown>;

/** Frames whose request is to an administrator route. */
function adminPaths(frames: Frames, path: symbol): Frames {
  return frames.filter((f) => ADMIN_PATHS.has(f[path] as string)) as Frames;
}

/** What a frame's user (and its session `id`) may do: not an admin, admin without sudo, or go. */
async function standing(f: Frame, user: symbol, id: symbol) {
  const [role] = await Roles._hasRole({ user: f[user] as ID, role: ADMIN_ROLE });
  if (!role || !("hasRole" in role) || !role.hasRole) return "forbidden" as const;
  const [sudo] = await Sessioning._getSudo({ id: f[id] as string });
  return sudo && "recent" in sudo && sudo.recent ? "allowed" as const : "sudo" as const;
}

async function withStanding(
  frames: Frames,
  user: symbol,
  id: symbol,
  want: "forbidden" | "sudo" | "allowed",
): Promise<Frames> {
  const out = new Frames();
  for (const f of frames) if (await standing(f, user, id) === want) out.push(f);
  return out;
}

type Invalid = { error: string; kind: "invalid" | "not_found" };

/** The user named `username`, or the error to answer; `undefined` username: no filter. */
async function userNamed(
  username: unknown,
  action: string,
): Promise<{ user?: ID } | Invalid> {
  if (username === undefined || username === null || username === "") return {};
  if (typeof username !== "string") {
    return { error: `Cannot ${action}: username must be a string`, kind: "invalid" };
  }
  const [found] = await PasswordAuthentication._getUserByUsername({ username });
  if (!found || !("user" in found)) {
    return { error: `Cannot ${action}: no such user`, kind: "not_found" };
  }
  return { user: found.user };
}

/** A page's size from `limit` (default PAGE_SIZE), or the error. */
function pageSize(limit: unknown): number | Invalid {
  if (limit === undefined || limit === null) return PAGE_SIZE;
  const n = typeof limit === "string" && /^\d{1,4}$/.test(limit) ? Number(limit) : limit;
  if (!Number.isSafeInteger(n) || (n as number) < 1 || (n as number) > MAX_PAGE_SIZE) {
    return {
      error: `Cannot list sessions: limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`,
      kind: "invalid",
    };
  }
  return n as number;
}

/** A session row for the administrator: public facts, a device name and the username. */
interface AdminSession {
  id: string;
  user: ID;
  username: string | null;
  device: string;
  userAgent: string | null;
  ip: string | null;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
}

/**
 * One page of the listing for `input` (`limit`, `before`, `username`): the sessions, the next
 * cursor and what to record in the audit log; or the error to answer.
 */
async function listPage(
  input: Record<string, unknown>,
): Promise<
  | { sessions: AdminSession[]; next: string | null; details: Record<string, string | number> }
  | Invalid
> {
  const size = pageSize(input.limit);
  if (typeof size !== "number") return size;
  const named = await userNamed(input.username, "list sessions");
  if ("error" in named) return named;
  const before = input.before === null || input.before === "" ? undefined : input.before;
  const rows = await Sessioning._listSessions({
    limit: size + 1,
    before: before as string | undefined,
    user: named.user,
  });
  const names = new Map<ID, string | null>();
  const sessions: AdminSession[] = [];
  for (const row of rows.slice(0, size)) {
    if ("error" in row) return { error: row.error, kind: "invalid" };
    if (!names.has(row.user)) {
      const [u] = await PasswordAuthentication._getUsername({ user: row.user });
      names.set(row.user, u && "username" in u ? u.username : null);
    }
    sessions.push({
      id: row.id,
      user: row.user,
      username: names.get(row.user) ?? null,
      device: deviceName(row.userAgent),
      userAgent: row.userAgent ?? null,
      ip: row.ip ?? null,
      createdAt: row.createdAt,
      lastSeenAt: row.lastSeenAt,
      expiresAt: row.expiresAt,
    });
  }
  const last = rows[size - 1];
  const next = rows.length > size && last && "cursor" in last ? last.cursor : null;
  const details: Record<string, string | number> = { shown: sessions.length };
  if (named.user) details.user = named.user;
  return { sessions, next, details };
}

// ---------------------------------------------------------------------------------------------
// Every administrator route: touched session (401 without one), then role and sudo checks.

export const AuthenticateAdminSessions = authenticateRoute(routes.adminSessions.path);
export const AuthenticateAdminCount = authenticateRoute(routes.adminCount.path);
export const AuthenticateAdminEndSession = authenticateRoute(routes.adminEndSession.path);
export const AuthenticateAdminLogoutUser = authenticateRoute(routes.adminLogoutUser.path);

export const AdminForbidden: Sync = ({ request, path, user, id }) => ({
  when: actions(
    [Requesting.request, { path }, { request }],
    [Sessioning.touch, {}, { user, id }],
  ),
  where: (frames) => withStanding(adminPaths(frames, path), user, id, "forbidden"),
  then: actions([Requesting.respond, { request, error: NOT_ADMIN, kind: "forbidden" }]),
});

export const AdminSudoRequired: Sync = ({ request, path, user, id }) => ({
  when: actions(
    [Requesting.request, { path }, { request }],
    [Sessioning.touch, {}, { user, id }],
  ),
  where: (frames) => withStanding(adminPaths(frames, path), user, id, "sudo"),
  then: actions([
    Requesting.respond,
    { request, error: SUDO_REQUIRED, kind: "sudo_required", reauthenticate: true },
  ]),
});

// ---------------------------------------------------------------------------------------------
// List and count: computed in `where` (queries only), recorded in the audit log, then answered.
// A malformed or unknown filter is answered by the `...Invalid` sync of the route instead.

/** The administrator frames of `frames`, each with `compute`'s result under `result`. */
async function computed<T>(
  frames: Frames,
  request: symbol,
  user: symbol,
  id: symbol,
  fields: Record<string, symbol>,
  compute: (input: Record<string, unknown>) => Promise<T | Invalid>,
): Promise<Array<{ frame: Frame; result: T | Invalid }>> {
  const out = [];
  const allowed = await withStanding(frames, user, id, "allowed");
  for (const f of await withInputs(allowed, request, fields)) {
    const input: Record<string, unknown> = {};
    for (const [name, v] of Object.entries(fields)) input[name] = f[v];
    out.push({ frame: f, result: await compute(input) });
  }
  return out;
}

function isInvalid(x: unknown): x is Invalid {
  return typeof x === "object" && x !== null && "error" in x;
}

/** Frames of the invalid results, with `error` and `kind` bound. */
function invalidFrames(
  results: Array<{ frame: Frame; result: unknown }>,
  error: symbol,
  kind: symbol,
): Frames {
  const out = new Frames();
  for (const { frame, result } of results) {
    if (isInvalid(result)) out.push({ ...frame, [error]: result.error, [kind]: result.kind });
  }
  return out;
}

type Counted = { count: number; details: Record<string, string> };

async function countFor(input: Record<string, unknown>): Promise<Counted | Invalid> {
  const named = await userNamed(input.username, "count sessions");
  if ("error" in named) return named;
  const [counted] = await Sessioning._countSessions(named.user ? { user: named.user } : {});
  if (!counted || !("count" in counted)) {
    return { error: counted?.error ?? "Cannot count sessions: no answer", kind: "invalid" };
  }
  return { count: counted.count, details: named.user ? { user: named.user } : {} };
}

export const AdminListSessions: Sync = (
  { request, user, id, limit, before, username, sessions, next, details },
) => ({
  when: actions(
    [Requesting.request, { path: routes.adminSessions.path }, { request }],
    [Sessioning.touch, {}, { user, id }],
  ),
  where: async (frames) => {
    const out = new Frames();
    const fields = { limit, before, username };
    for (const { frame, result } of await computed(frames, request, user, id, fields, listPage)) {
      if (isInvalid(result)) continue;
      out.push({
        ...frame,
        [sessions]: result.sessions,
        [next]: result.next,
        [details]: result.details,
      });
    }
    return out;
  },
  then: actions(
    [AuditLog.record, { actor: user, action: "admin.sessions.list", details }],
    [Requesting.respond, { request, sessions, next }],
  ),
});

export const AdminListSessionsInvalid: Sync = (
  { request, user, id, limit, before, username, error, kind },
) => ({
  when: actions(
    [Requesting.request, { path: routes.adminSessions.path }, { request }],
    [Sessioning.touch, {}, { user, id }],
  ),
  where: async (frames) =>
    invalidFrames(
      await computed(frames, request, user, id, { limit, before, username }, listPage),
      error,
      kind,
    ),
  then: actions([Requesting.respond, { request, error, kind }]),
});

export const AdminCountSessions: Sync = ({ request, user, id, username, count, details }) => ({
  when: actions(
    [Requesting.request, { path: routes.adminCount.path }, { request }],
    [Sessioning.touch, {}, { user, id }],
  ),
  where: async (frames) => {
    const out = new Frames();
    for (
      const { frame, result } of await computed(frames, request, user, id, { username }, countFor)
    ) {
      if (!isInvalid(result)) {
        out.push({ ...frame, [count]: result.count, [details]: result.details });
      }
    }
    return out;
  },
  then: actions(
    [AuditLog.record, { actor: user, action: "admin.sessions.count", details }],
    [Requesting.respond, { request, count }],
  ),
});

export const AdminCountSessionsInvalid: Sync = ({ request, user, id, username, error, kind }) => ({
  when: actions(
    [Requesting.request, { path: routes.adminCount.path }, { request }],
    [Sessioning.touch, {}, { user, id }],
  ),
  where: async (frames) =>
    invalidFrames(await computed(frames, request, user, id, { username }, countFor), error, kind),
  then: actions([Requesting.respond, { request, error, kind }]),
});

// ---------------------------------------------------------------------------------------------
// End one session by public id (any user's).

export const AdminEndSession: Sync = ({ request, user, id, target }) => ({
  when: actions(
    [Requesting.request, { path: routes.adminEndSession.path }, { request }],
    [Sessioning.touch, {}, { user, id }],
  ),
  where: async (frames) =>
    withInputs(await withStanding(frames, user, id, "allowed"), request, { id: target }),
  then: actions([Sessioning.revokeById, { id: target }]),
});

export const AdminEndSessionDone: Sync = ({ request, user, target, owner }) => ({
  when: actions(
    [Requesting.request, { path: routes.adminEndSession.path }, { request }],
    [Sessioning.touch, {}, { user }],
    [Sessioning.revokeById, { id: target }, { user: owner }],
  ),
  then: actions(
    [AuditLog.record, {
      actor: user,
      action: "admin.sessions.end",
      target,
      details: { user: owner },
    }],
    [Requesting.respond, { request, user: owner }],
  ),
});

export const AdminEndSessionMissing: Sync = ({ request, error }) => ({
  when: actions(
    [Requesting.request, { path: routes.adminEndSession.path }, { request }],
    [Sessioning.revokeById, {}, { error }],
  ),
  then: actions([Requesting.respond, { request, error, kind: "not_found" }]),
});

// ---------------------------------------------------------------------------------------------
// Forced logout: every session of a user ends (and logins of theirs in flight: the epoch), with
// the reason `forced`. The next request with any of their tokens, on any node, is a 401.

/**
 * The user a forced logout names, bound to `target`; or, for a missing, malformed or unknown
 * username, the `error` and its `kind`. Only an administrator's request in good standing counts.
 */
async function withLogoutTarget(
  frames: Frames,
  vars: { request: symbol; user: symbol; id: symbol; target: symbol; error: symbol; kind: symbol },
): Promise<Frames> {
  const username = Symbol("username");
  const out = new Frames();
  const allowed = await withStanding(frames, vars.user, vars.id, "allowed");
  for (const f of await withInputs(allowed, vars.request, { username })) {
    const named = await userNamed(f[username], "log out user");
    if ("error" in named) out.push({ ...f, [vars.error]: named.error, [vars.kind]: named.kind });
    else if (!named.user) {
      out.push({
        ...f,
        [vars.error]: "Cannot log out user: username is required",
        [vars.kind]: "invalid",
      });
    } else out.push({ ...f, [vars.target]: named.user });
  }
  return out;
}

export const AdminLogoutUser: Sync = ({ request, user, id, target, error, kind }) => ({
  when: actions(
    [Requesting.request, { path: routes.adminLogoutUser.path }, { request }],
    [Sessioning.touch, {}, { user, id }],
  ),
  where: async (frames) =>
    (await withLogoutTarget(frames, { request, user, id, target, error, kind })).filter((f) =>
      f[target] !== undefined
    ) as Frames,
  then: actions([Sessioning.deleteAllForUser, { user: target, reason: "forced" }]),
});

export const AdminLogoutUserInvalid: Sync = ({ request, user, id, target, error, kind }) => ({
  when: actions(
    [Requesting.request, { path: routes.adminLogoutUser.path }, { request }],
    [Sessioning.touch, {}, { user, id }],
  ),
  where: async (frames) =>
    (await withLogoutTarget(frames, { request, user, id, target, error, kind })).filter((f) =>
      f[error] !== undefined
    ) as Frames,
  then: actions([Requesting.respond, { request, error, kind }]),
});

export const AdminLogoutUserDone: Sync = ({ request, user, target, count }) => ({
  when: actions(
    [Requesting.request, { path: routes.adminLogoutUser.path }, { request }],
    [Sessioning.touch, {}, { user }],
    [Sessioning.deleteAllForUser, { user: target }, { count }],
  ),
  then: actions(
    [AuditLog.record, {
      actor: user,
      action: "admin.users.logout",
      target,
      details: { count },
    }],
    [Requesting.respond, { request, user: target, count }],
  ),
});

/**
 * The `/api/auth/*` API: PasswordAuthentication proves who a user is, RateLimiting throttles
 * login attempts (per device for a device the user logged in from before, per username and per
 * client IP otherwise), DeviceTrust remembers those devices, Sessioning keeps the session. Paths
 * here are without `/api` (the HTTP boundary strips it). Responses follow the Requesting
 * conventions of design/syncs.md: `status`, `session` and `deviceToken` (cookies, or JSON fields
 * for bearer clients), `clearSession`, `retryAfterMs` (sent as Retry-After).
 */
import {
  DeviceTrust,
  PasswordAuthentication,
  RateLimiting,
  Requesting,
  Roles,
  Sessioning,
} from "./concepts.ts";
import { actions, Frames, type Sync } from "../engine/mod.ts";
import { freshID } from "../utils/ids.ts";
import type { ID } from "../utils/types.ts";
import { deviceName } from "../utils/user_agent.ts";
import { routes } from "./routes.ts";
import {
  authenticateRoute,
  LOGIN_INTERRUPTED,
  loginKeys,
  THROTTLED,
  UNAUTHENTICATED,
  withInputs,
  withLoginKeys,
} from "./authenticated.ts";

/** The answer to a wrong password at reauthentication (sudo mode). */
const REAUTH_FAILED = "Cannot reauthenticate: incorrect password";
/** The answer while reauthentication is throttled. */
const REAUTH_THROTTLED = "Cannot reauthenticate: too many failed attempts, try again later";

/** Binds `value` to `variable` in every frame, computed from the frame. */
function bind(
  frames: Frames,
  variable: symbol,
  value: (frame: Record<symbol, unknown>) => unknown,
) {
  return frames.map((f) => ({ ...f, [variable]: value(f) })) as Frames;
}

/** Keeps frames whose session token is a string (one was presented with the request). */
function presented(frames: Frames, session: symbol): Frames {
  return frames.filter((f) => typeof f[session] === "string") as Frames;
}

// ---------------------------------------------------------------------------------------------
// Register: 201 { user }, a session and a device token (the registering client proved the user
// as a login does), 400 invalid, 409 taken.
//
// The account is the last thing written: the user id is chosen here, the session and the device
// token are made for it first, and only then is the user registered under that id. So a store
// that fails part-way leaves no account behind a 503 (only a session and a device token that
// name no user, which nobody holds and which expire), and a client that retries is not told 409.

export const RegisterStartsSession: Sync = ({ request, user, userAgent, ip }) => ({
  when: actions([Requesting.request, { path: routes.register.path }, { request }]),
  where: async (frames) =>
    bind(await withInputs(frames, request, { userAgent, ip }), user, () => freshID()),
  then: actions([Sessioning.create, { user, userAgent, ip }]),
});

export const RegisterTrustsDevice: Sync = ({ request, user, session, deviceToken }) => ({
  when: actions(
    [Requesting.request, { path: routes.register.path }, { request }],
    [Sessioning.create, { user }, { session }],
  ),
  where: (frames) => withInputs(frames, request, { deviceToken }),
  then: actions([DeviceTrust.issue, { user, deviceToken }]),
});

export const RegisterRequest: Sync = ({ request, user, username, password }) => ({
  when: actions(
    [Requesting.request, { path: routes.register.path }, { request }],
    [Sessioning.create, { user }, {}],
    [DeviceTrust.issue, { user }, {}],
  ),
  where: (frames) => withInputs(frames, request, { username, password }),
  then: actions([PasswordAuthentication.register, { user, username, password }]),
});

export const RegisterResponse: Sync = (
  { request, user, session, deviceToken, deviceExpiresAt },
) => ({
  when: actions(
    [Requesting.request, { path: routes.register.path }, { request }],
    [Sessioning.create, { user }, { session }],
    [DeviceTrust.issue, { user }, { deviceToken, expiresAt: deviceExpiresAt }],
    [PasswordAuthentication.register, { user }, { user }],
  ),
  then: actions([Requesting.respond, { request, user, session, deviceToken, deviceExpiresAt }]),
});

// Registered after the response: a store failing here cannot turn a made account into a 5xx.
export const RegisterEndsPresentedSession: Sync = ({ request, user, session }) => ({
  when: actions(
    [Requesting.request, { path: routes.register.path }, { request }],
    [PasswordAuthentication.register, { user }, { user }],
  ),
  where: async (frames) => presented(await withInputs(frames, request, { session }), session),
  then: actions([Sessioning.delete, { session }]),
});

export const RegisterError: Sync = ({ request, user, session, error, kind }) => ({
  when: actions(
    [Requesting.request, { path: routes.register.path }, { request }],
    [Sessioning.create, { user }, { session }],
    [PasswordAuthentication.register, { user }, { error, kind }],
  ),
  // The session made for the account that was not created is ended too.
  then: actions([Requesting.respond, { request, error, kind }], [Sessioning.delete, {
    session,
  }]),
});

// ---------------------------------------------------------------------------------------------
// Login. Throttling first, and atomic: the attempt takes a slot of each of its keys
// (RateLimiting.take) before any password is verified, so however many attempts arrive at once
// at most the limit of them are verified per key and window; a refused take is a 429. The keys
// follow OWASP's device cookies: a device token presented for the user it proved puts the attempt
// under that device's own key, so strangers guessing the password cannot lock the owner out of
// a browser that logged in before; every other attempt counts under its username and its IP.
// Then Sessioning.begin (the epoch, read before the password is verified) and authenticate. A
// success ends a presented session (fixation defence), creates the session from that epoch
// (refused if the user's sessions were ended meanwhile: a password change, a logout-all), gives
// the slots back, and trusts the device (renewing its token, or issuing one). A failure keeps the
// slots: it counts.

export const LoginRequest: Sync = ({ request, keys }) => ({
  when: actions([Requesting.request, { path: routes.login.path }, { request }]),
  where: (frames) => withLoginKeys(frames, request, keys),
  then: actions([RateLimiting.take, { keys }]),
});

export const LoginThrottled: Sync = ({ request, error, retryAfterMs }) => ({
  when: actions(
    [Requesting.request, { path: routes.login.path }, { request }],
    [RateLimiting.take, {}, { error, retryAfterMs }],
  ),
  then: actions([
    Requesting.respond,
    { request, error: THROTTLED, kind: "throttled", retryAfterMs },
  ]),
});

export const LoginVerify: Sync = ({ request, window, username, password }) => ({
  when: actions(
    [Requesting.request, { path: routes.login.path }, { request }],
    [RateLimiting.take, {}, { window }],
  ),
  where: (frames) => withInputs(frames, request, { username, password }),
  then: actions(
    [Sessioning.begin, {}],
    [PasswordAuthentication.authenticate, { username, password }],
  ),
});

export const LoginEndsPresentedSession: Sync = ({ request, user, session }) => ({
  when: actions(
    [Requesting.request, { path: routes.login.path }, { request }],
    [PasswordAuthentication.authenticate, {}, { user }],
  ),
  where: async (frames) => presented(await withInputs(frames, request, { session }), session),
  then: actions([Sessioning.delete, { session }]),
});

export const LoginGivesSlotsBack: Sync = ({ request, keys, window, user }) => ({
  when: actions(
    [Requesting.request, { path: routes.login.path }, { request }],
    [RateLimiting.take, { keys }, { window }],
    [PasswordAuthentication.authenticate, {}, { user }],
  ),
  then: actions([RateLimiting.giveBack, { keys, window }]),
});

export const LoginStartsSession: Sync = ({ request, epoch, user, userAgent, ip }) => ({
  when: actions(
    [Requesting.request, { path: routes.login.path }, { request }],
    [Sessioning.begin, {}, { epoch }],
    [PasswordAuthentication.authenticate, {}, { user }],
  ),
  where: (frames) => withInputs(frames, request, { userAgent, ip }),
  then: actions([Sessioning.create, { user, userAgent, ip, epoch }]),
});

export const LoginTrustsDevice: Sync = ({ request, user, session, deviceToken }) => ({
  when: actions(
    [Requesting.request, { path: routes.login.path }, { request }],
    [Sessioning.create, { user }, { session }],
  ),
  where: (frames) => withInputs(frames, request, { deviceToken }),
  then: actions([DeviceTrust.issue, { user, deviceToken }]),
});

export const LoginResponse: Sync = (
  { request, user, session, deviceToken, deviceExpiresAt },
) => ({
  when: actions(
    [Requesting.request, { path: routes.login.path }, { request }],
    [Sessioning.create, { user }, { session }],
    [DeviceTrust.issue, { user }, { deviceToken, expiresAt: deviceExpiresAt }],
  ),
  then: actions([Requesting.respond, { request, user, session, deviceToken, deviceExpiresAt }]),
});

export const LoginInterrupted: Sync = ({ request, error }) => ({
  when: actions(
    [Requesting.request, { path: routes.login.path }, { request }],
    [Sessioning.create, {}, { error }],
  ),
  then: actions([Requesting.respond, { request, error: LOGIN_INTERRUPTED, kind: "interrupted" }]),
});

export const LoginFailed: Sync = ({ request, error, kind }) => ({
  when: actions(
    [Requesting.request, { path: routes.login.path }, { request }],
    [PasswordAuthentication.authenticate, {}, { error, kind }],
  ),
  then: actions([Requesting.respond, { request, error, kind }]),
});

// ---------------------------------------------------------------------------------------------
// Routes that need a session: each touches it first (sliding expiry); a failed touch is a 401.

export const AuthenticateLogout = authenticateRoute(routes.logout.path);
export const AuthenticateMe = authenticateRoute(routes.me.path);
export const AuthenticateSessions = authenticateRoute(routes.sessions.path);
export const AuthenticateRevoke = authenticateRoute(routes.revoke.path);
export const AuthenticateLogoutOthers = authenticateRoute(routes.logoutOthers.path);
export const AuthenticateLogoutAll = authenticateRoute(routes.logoutAll.path);
export const AuthenticatePassword = authenticateRoute(routes.password.path);

export const Unauthenticated: Sync = ({ request, error }) => ({
  when: actions(
    [Requesting.request, {}, { request }],
    [Sessioning.touch, {}, { error }],
  ),
  then: actions([Requesting.respond, { request, error: UNAUTHENTICATED, kind: "unauthenticated" }]),
});

export const Me: Sync = ({ request, user, username }) => ({
  when: actions(
    [Requesting.request, { path: routes.me.path }, { request }],
    [Sessioning.touch, {}, { user }],
  ),
  // Sessions serve any user id: a user this service has no account for (another way of signing
  // in, composed by an app) is answered without a username rather than not at all (a 500).
  where: async (frames) => {
    const out = new Frames();
    for (const frame of frames) {
      const [named] = await PasswordAuthentication._getUsername({ user: frame[user] as ID });
      out.push({ ...frame, [username]: named && "username" in named ? named.username : undefined });
    }
    return out;
  },
  then: actions([Requesting.respond, { request, user, username }]),
});

export const AuthenticateRoles = authenticateRoute(routes.roles.path);

/** Whether the user is an administrator: lets a page offer its link without an admin call. */
export const MyRoles: Sync = ({ request, user, admin }) => ({
  when: actions(
    [Requesting.request, { path: routes.roles.path }, { request }],
    [Sessioning.touch, {}, { user }],
  ),
  where: async (frames) => {
    const out = new Frames();
    for (const f of frames) {
      const [found] = await Roles._hasRole({ user: f[user] as never, role: "admin" });
      out.push({ ...f, [admin]: Boolean(found && "hasRole" in found && found.hasRole) });
    }
    return out;
  },
  then: actions([Requesting.respond, { request, admin }]),
});

export const ListSessions: Sync = ({ request, id, user, sessions }) => ({
  when: actions(
    [Requesting.request, { path: routes.sessions.path }, { request }],
    [Sessioning.touch, {}, { user, id }],
  ),
  where: async (frames) => {
    const out = new Frames();
    for (const f of frames) {
      const current = f[id];
      const list = await Sessioning._getSessions({ user: f[user] as never });
      const shown = [];
      for (const s of list) {
        if ("error" in s) continue;
        shown.push({
          id: s.id,
          createdAt: s.createdAt,
          lastSeenAt: s.lastSeenAt,
          expiresAt: s.expiresAt,
          userAgent: s.userAgent ?? null,
          device: deviceName(s.userAgent),
          current: s.id === current,
        });
      }
      out.push({ ...f, [sessions]: shown });
    }
    return out;
  },
  then: actions([Requesting.respond, { request, sessions }]),
});

export const RevokeRequest: Sync = ({ request, user, id }) => ({
  when: actions(
    [Requesting.request, { path: routes.revoke.path }, { request }],
    [Sessioning.touch, {}, { user }],
  ),
  where: (frames) => withInputs(frames, request, { id }),
  then: actions([Sessioning.revoke, { user, id }]),
});

export const RevokeResponse: Sync = ({ request }) => ({
  when: actions(
    [Requesting.request, { path: routes.revoke.path }, { request }],
    [Sessioning.revoke, {}, {}],
  ),
  then: actions([Requesting.respond, { request }]),
});

export const RevokeError: Sync = ({ request, error }) => ({
  when: actions(
    [Requesting.request, { path: routes.revoke.path }, { request }],
    [Sessioning.revoke, {}, { error }],
  ),
  then: actions([Requesting.respond, { request, error, kind: "not_found" }]),
});

export const LogoutRequest: Sync = ({ request, session }) => ({
  when: actions(
    [Requesting.request, { path: routes.logout.path }, { request }],
    [Sessioning.touch, { session }, {}],
  ),
  then: actions([Sessioning.delete, { session }]),
});

export const LogoutResponse: Sync = ({ request }) => ({
  when: actions(
    [Requesting.request, { path: routes.logout.path }, { request }],
    [Sessioning.delete, {}, {}],
  ),
  then: actions([Requesting.respond, { request, clearSession: true }]),
});

export const LogoutOthersRequest: Sync = ({ request, session }) => ({
  when: actions(
    [Requesting.request, { path: routes.logoutOthers.path }, { request }],
    [Sessioning.touch, { session }, {}],
  ),
  then: actions([Sessioning.deleteOthers, { session, reason: "revoked" }]),
});

export const LogoutOthersResponse: Sync = ({ request, count }) => ({
  when: actions(
    [Requesting.request, { path: routes.logoutOthers.path }, { request }],
    [Sessioning.deleteOthers, {}, { count }],
  ),
  then: actions([Requesting.respond, { request, count }]),
});

export const LogoutAllRequest: Sync = ({ request, user }) => ({
  when: actions(
    [Requesting.request, { path: routes.logoutAll.path }, { request }],
    [Sessioning.touch, {}, { user }],
  ),
  then: actions([Sessioning.deleteAllForUser, { user, reason: "forced" }]),
});

export const LogoutAllResponse: Sync = ({ request, count }) => ({
  when: actions(
    [Requesting.request, { path: routes.logoutAll.path }, { request }],
    [Sessioning.deleteAllForUser, {}, { count }],
  ),
  then: actions([Requesting.respond, { request, count, clearSession: true }]),
});

/** A session that vanished between the touch and the action (a racing logout): 401. */
export const SessionGoneError: Sync = ({ request, error }) => ({
  when: actions(
    [Requesting.request, {}, { request }],
    [Sessioning.touch, {}, {}],
    [Sessioning.delete, {}, { error }],
  ),
  then: actions([Requesting.respond, { request, error: UNAUTHENTICATED, kind: "unauthenticated" }]),
});

export const PasswordRequest: Sync = ({ request, user, currentPassword, newPassword }) => ({
  when: actions(
    [Requesting.request, { path: routes.password.path }, { request }],
    [Sessioning.touch, {}, { user }],
  ),
  where: (frames) => withInputs(frames, request, { currentPassword, newPassword }),
  then: actions([PasswordAuthentication.changePassword, { user, currentPassword, newPassword }]),
});

export const PasswordChanged: Sync = ({ request, session }) => ({
  when: actions(
    [Requesting.request, { path: routes.password.path }, { request }],
    [Sessioning.touch, { session }, {}],
    [PasswordAuthentication.changePassword, {}, {}],
  ),
  then: actions(
    [Sessioning.deleteOthers, { session, reason: "forced" }],
    [Sessioning.rotate, { session }],
  ),
});

export const PasswordResponse: Sync = ({ request, session }) => ({
  when: actions(
    [Requesting.request, { path: routes.password.path }, { request }],
    [Sessioning.rotate, {}, { session }],
  ),
  then: actions([Requesting.respond, { request, session }]),
});

export const PasswordError: Sync = ({ request, error, kind }) => ({
  when: actions(
    [Requesting.request, { path: routes.password.path }, { request }],
    [PasswordAuthentication.changePassword, {}, { error, kind }],
  ),
  then: actions([Requesting.respond, { request, error, kind }]),
});

// ---------------------------------------------------------------------------------------------
// Reauthenticate (sudo mode): the session's user re-enters the password; on success the session
// counts as recently authenticated for SUDO_TTL (administrator routes need that). Throttled like
// a login, under the same username and IP keys, so guesses here and at login add up; a success
// gives its slots back. 200 { authenticatedAt, sudoUntil }; 401 wrong password; 429 throttled.

export const AuthenticateReauthenticate = authenticateRoute(routes.reauthenticate.path);

export const ReauthenticateRequest: Sync = ({ request, user, username, ip, keys }) => ({
  when: actions(
    [Requesting.request, { path: routes.reauthenticate.path }, { request }],
    [Sessioning.touch, {}, { user }],
  ),
  where: async (frames) => {
    const named = await frames.query(PasswordAuthentication._getUsername, { user }, { username });
    const out = new Frames();
    for (const f of await withInputs(named, request, { ip })) {
      out.push({ ...f, [keys]: await loginKeys(f[username], f[ip]) });
    }
    return out;
  },
  then: actions([RateLimiting.take, { keys }]),
});

export const ReauthenticateThrottled: Sync = ({ request, error, retryAfterMs }) => ({
  when: actions(
    [Requesting.request, { path: routes.reauthenticate.path }, { request }],
    [RateLimiting.take, {}, { error, retryAfterMs }],
  ),
  then: actions([
    Requesting.respond,
    { request, error: REAUTH_THROTTLED, kind: "throttled", retryAfterMs },
  ]),
});

export const ReauthenticateVerify: Sync = ({ request, user, window, username, password }) => ({
  when: actions(
    [Requesting.request, { path: routes.reauthenticate.path }, { request }],
    [Sessioning.touch, {}, { user }],
    [RateLimiting.take, {}, { window }],
  ),
  where: async (frames) =>
    withInputs(
      await frames.query(PasswordAuthentication._getUsername, { user }, { username }),
      request,
      { password },
    ),
  then: actions([PasswordAuthentication.authenticate, { username, password }]),
});

export const ReauthenticateConfirmed: Sync = ({ request, session, user, keys, window }) => ({
  when: actions(
    [Requesting.request, { path: routes.reauthenticate.path }, { request }],
    [Sessioning.touch, { session }, { user }],
    [RateLimiting.take, { keys }, { window }],
    [PasswordAuthentication.authenticate, {}, { user }],
  ),
  then: actions(
    [RateLimiting.giveBack, { keys, window }],
    [Sessioning.reauthenticate, { session }],
  ),
});

export const ReauthenticateResponse: Sync = ({ request, id, authenticatedAt, sudoUntil }) => ({
  when: actions(
    [Requesting.request, { path: routes.reauthenticate.path }, { request }],
    [Sessioning.reauthenticate, {}, { id, authenticatedAt }],
  ),
  where: (frames) => frames.query(Sessioning._getSudo, { id }, { until: sudoUntil }),
  then: actions([Requesting.respond, { request, authenticatedAt, sudoUntil }]),
});

export const ReauthenticateFailed: Sync = ({ request, error, kind }) => ({
  when: actions(
    [Requesting.request, { path: routes.reauthenticate.path }, { request }],
    [PasswordAuthentication.authenticate, {}, { error, kind }],
  ),
  then: actions([Requesting.respond, { request, error: REAUTH_FAILED, kind }]),
});

/** A session that ended between the touch and the reauthentication: 401. */
export const ReauthenticateGone: Sync = ({ request, error }) => ({
  when: actions(
    [Requesting.request, { path: routes.reauthenticate.path }, { request }],
    [Sessioning.reauthenticate, {}, { error }],
  ),
  then: actions([Requesting.respond, { request, error: UNAUTHENTICATED, kind: "unauthenticated" }]),
});

/**
 * Helpers for syncs that serve authenticated routes, so that no application sync copies the
 * session lookup:
 *
 * - `withInputs(frames, request, { field: variable })` binds fields of the request's inputs
 *   (read with `Requesting._getInput`), `undefined` when the client left one out, so a sync that
 *   matches on the path alone can answer a malformed body with 400.
 * - `authenticateRoute(path)` makes the sync that touches the presented session (sliding expiry)
 *   on every request to `path`. `Unauthenticated` (in auth.sync.ts) answers 401 when the touch
 *   fails, with one message for a missing, unknown, expired or revoked session.
 * - `withLoginKeys(frames, request, keys)` binds a login attempt's throttling keys (its device's,
 *   or its username's and IP's: OWASP's device cookies, design/concepts/DeviceTrust.md).
 *
 * A protected route is then `authenticateRoute(routes.notes.path)` plus a sync that joins the
 * request with a successful touch, whose output names the session's `user` and public `id`: one
 * session read per request. See design/syncs.md, "Authenticated routes".
 */
import { DeviceTrust, PasswordAuthentication, Requesting, Sessioning } from "./concepts.ts";
import { actions, Frames, type Sync } from "../engine/mod.ts";

/** The one answer for a missing, unknown, expired or revoked session. */
export const UNAUTHENTICATED = "Cannot authenticate request: invalid or expired session";
/** The answer while a username, client IP or device is throttled. */
export const THROTTLED = "Cannot log in: too many failed attempts, try again later";
/** The answer to a login whose user's sessions were ended (password change, logout-all) meanwhile. */
export const LOGIN_INTERRUPTED =
  "Cannot log in: the account's sessions were ended during this login, try again";

/** Throttling keys of a login attempt from an unknown client: the normalised username and the IP. */
export async function loginKeys(username: unknown, ip: unknown): Promise<[string, string]> {
  const [normal] = await PasswordAuthentication._normalizeUsername({
    username: username as string,
  });
  const name = normal && "username" in normal ? normal.username : "(invalid)";
  const addr = typeof ip === "string" && ip !== "" ? ip.slice(0, 64) : "(unknown)";
  return [`login:user:${name}`, `login:ip:${addr}`];
}

/** The throttling key of a login attempt from a device known to the user it names. */
export function deviceKey(device: string): string {
  return `login:device:${device}`;
}

/**
 * The public id of the device `deviceToken` names when it is a live device of the user called
 * `username`; undefined for no token, a forged, expired or malformed one, and another user's.
 */
export async function trustedDevice(
  username: unknown,
  deviceToken: unknown,
): Promise<string | undefined> {
  if (typeof deviceToken !== "string" || typeof username !== "string") return undefined;
  // The two reads are independent: made together, a known device's login waits for one.
  const [[known], [named]] = await Promise.all([
    DeviceTrust._recognize({ deviceToken }),
    PasswordAuthentication._getUserByUsername({ username }),
  ]);
  if (!known) return undefined;
  return named && "user" in named && named.user === known.user ? known.device : undefined;
}

/**
 * Binds `keys` to the throttling keys of each frame's login attempt (OWASP's device cookies): a
 * device token presented for the user it proved puts the attempt under that device's own key;
 * any other attempt is counted under its username and its client IP.
 */
export async function withLoginKeys(
  frames: Frames,
  request: symbol,
  keys: symbol,
): Promise<Frames> {
  const [username, ip, deviceToken] = [Symbol("username"), Symbol("ip"), Symbol("deviceToken")];
  const out = new Frames();
  for (const f of await withInputs(frames, request, { username, ip, deviceToken })) {
    const device = await trustedDevice(f[username], f[deviceToken]);
    out.push({
      ...f,
      [keys]: device ? [deviceKey(device)] : await loginKeys(f[username], f[ip]),
    });
  }
  return out;
}

/** Binds request inputs to variables, frame by frame; a frame whose request is gone is dropped. */
export async function withInputs(
  frames: Frames,
  request: symbol,
  fields: Record<string, symbol>,
): Promise<Frames> {
  const out = new Frames();
  for (const frame of frames) {
    const [found] = await Requesting._getInput({ request: frame[request] as string });
    if (!found) continue;
    const bound: Record<symbol, unknown> = { ...frame };
    for (const [name, variable] of Object.entries(fields)) {
      bound[variable] = Object.hasOwn(found.input, name) ? found.input[name] : undefined;
    }
    out.push(bound);
  }
  return out;
}

/** The sync that authenticates (and touches) the session of every request to `path`. */
export function authenticateRoute(path: string): Sync {
  return ({ request, session }) => ({
    when: actions([Requesting.request, { path }, { request }]),
    where: (frames) => withInputs(frames, request, { session }),
    then: actions([Sessioning.touch, { session }]),
  });
}

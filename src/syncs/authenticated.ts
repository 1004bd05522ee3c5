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
 * - `withUser(frames, session, user)` binds the session's user in a `where`.
 *
 * A protected route is then `authenticateRoute("/notes")` plus a sync that joins the request
 * with a successful touch: see design/syncs.md, "Authenticated routes".
 */
import { Requesting, Sessioning } from "../concepts/mod.ts";
import { normalizeUsername } from "../concepts/PasswordAuthentication/PasswordAuthenticationConcept.ts";
import { actions, Frames, type Sync } from "../engine/mod.ts";

/** The one answer for a missing, unknown, expired or revoked session. */
export const UNAUTHENTICATED = "Cannot authenticate request: invalid or expired session";
/** The answer while a username or client IP is throttled. */
export const THROTTLED = "Cannot log in: too many failed attempts, try again later";

/** Throttling keys of a login attempt: the normalised username and the client IP. */
export function loginKeys(username: unknown, ip: unknown): [string, string] {
  const name = normalizeUsername(username) ?? "(invalid)";
  const addr = typeof ip === "string" && ip !== "" ? ip.slice(0, 64) : "(unknown)";
  return [`login:user:${name}`, `login:ip:${addr}`];
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

/** Keeps the frames whose `session` belongs to a user, binding `user`. */
export function withUser(frames: Frames, session: symbol, user: symbol): Promise<Frames> {
  return frames.query(Sessioning._getUser, { session }, { user });
}

/** The sync that authenticates (and touches) the session of every request to `path`. */
export function authenticateRoute(path: string): Sync {
  return ({ request, session }) => ({
    when: actions([Requesting.request, { path }, { request }]),
    where: (frames) => withInputs(frames, request, { session }),
    then: actions([Sessioning.touch, { session }]),
  });
}

/**
 * The two Sessioning routes, and the refusal of every other one.
 *
 * - `POST /api/Sessioning/_getUser`: 200 `[{ "user": ... }]` for a live session, 401
 *   `{ "error": ... }` otherwise. It validates through `Sessioning.touch`, so it renews the session
 *   (sliding expiry) like every other authenticated route, with the same one session read.
 * - `POST /api/Sessioning/delete`: 200 `{}` for a live session (which is deleted), 401 otherwise;
 *   either way a cookie client's session cookie is cleared (after a 401 it is no use).
 * - any other `POST /api/Sessioning/<name>`: 404, so nobody can, say, `create` a session for a
 *   user of their choosing.
 *
 * The token comes from the bearer header, the session cookie, or the body's `session` field (in
 * that order; see credentials.ts).
 */
import type { Context } from "hono";
import { clearSessionCookie, credentials, publicId } from "./credentials.ts";
import type { AppEnv, HttpConfig, SessioningPort } from "./types.ts";
import { jsonAnswer } from "./wire_response.ts";

function isDict(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function errorText(value: unknown, fallback: string): string {
  return typeof value === "string" && value !== "" ? value : fallback;
}

/** `POST /api/Sessioning/_getUser`. */
export async function getUser(
  c: Context<AppEnv>,
  config: HttpConfig,
  Sessioning: SessioningPort,
  body: Record<string, unknown>,
): Promise<Response> {
  const found = credentials(c, config, body);
  if (!found) return jsonAnswer(c, { error: "Cannot get user: no session" }, 401);
  const id = publicId(found.token);
  if (id) c.set("sessionId", id);
  const touched = await Sessioning.touch({ session: found.token });
  if (isDict(touched) && "user" in touched && !("error" in touched)) {
    return jsonAnswer(c, [{ user: touched.user }], 200);
  }
  return jsonAnswer(c, { error: "Cannot get user: invalid or expired session" }, 401);
}

/** `POST /api/Sessioning/delete`. */
export async function deleteSession(
  c: Context<AppEnv>,
  config: HttpConfig,
  Sessioning: SessioningPort,
  body: Record<string, unknown>,
): Promise<Response> {
  const found = credentials(c, config, body);
  if (!found) return c.json({ error: "Cannot delete session: no session" }, 401);
  const id = publicId(found.token);
  if (id) c.set("sessionId", id);
  const result = await Sessioning.delete({ session: found.token });
  if (found.source !== "bearer") clearSessionCookie(c, config);
  if (isDict(result) && !("error" in result)) return c.json({}, 200);
  const fallback = "Cannot delete session: no such session";
  return c.json({ error: errorText(isDict(result) ? result.error : undefined, fallback) }, 401);
}

/** Any other `POST /api/Sessioning/...`: 404. */
export function notExposed(c: Context<AppEnv>): Response {
  const rest = c.req.path.slice("/api/Sessioning".length).replace(/^\//, "");
  const name = /^[A-Za-z0-9_]{1,64}$/.test(rest) ? rest : "<action>";
  return c.json({ error: `Cannot call Sessioning.${name}: not exposed over HTTP` }, 404);
}

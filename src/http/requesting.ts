/**
 * The Requesting adapter: turns `POST /api/<path>` (and the GET routes of the table) into
 * `Requesting.request`, waits for the response the syncs gave, and turns it into an HTTP answer.
 *
 * Inputs of the request: the JSON body's fields, then, set by the boundary and never taken from
 * the body:
 * - `path`: the URL path without `/api` (`/auth/login`); a body `path` is dropped;
 * - `session`: the token of the `Authorization: Bearer` header (when there is an Authorization
 *   header it is the only route: without a usable bearer token the answer is 401) or else of the
 *   cookie; it replaces a body `session`; with neither, a string body `session` is passed on;
 * - `ip` and `userAgent`: see client.ts (body fields of those names are dropped);
 * - `transport: "bearer"` when the request has a bearer header; a body `transport` is passed on
 *   only when it is `"bearer"` (how a client asks for bearer transport at login);
 * - `deviceToken`: the device token, from the device cookie, or for bearer clients from the body.
 *
 * The answer, from the response's fields (Requesting conventions, design/syncs.md):
 * - status: for an `error`, the status of its `kind` in the route table (src/syncs/routes.ts:
 *   `throttled` 429, `unauthenticated` 401, ...; none or an unknown one: 400); otherwise the
 *   route's success status (201 for register, else 200).
 * - `session` (a token): cookie clients get it as Set-Cookie and not in the JSON; bearer clients
 *   (bearer header, or body `transport: "bearer"`) get it in the JSON and no cookie.
 * - `clearSession: true`: cookie clients get a Set-Cookie that clears the cookie.
 * - `deviceToken` (with `deviceExpiresAt`): cookie clients get the device cookie and neither
 *   field in the JSON; bearer clients get both fields in the JSON.
 * - `retryAfterMs` (a positive number): also sent as a `Retry-After` header, in whole seconds.
 * - `kind` and `clearSession` are never sent in the JSON (the status says the kind).
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { errorStatus, requestingRoute } from "../syncs/routes.ts";
import { clientIp, userAgent } from "./client.ts";
import {
  clearSessionCookie,
  hasBearerHeader,
  headerCredentials,
  presentedDeviceToken,
  publicId,
  setDeviceCookie,
  setSessionCookie,
} from "./credentials.ts";
import { HttpError } from "./errors.ts";
import { jsonAnswer } from "./wire_response.ts";
import type { AppEnv, HttpConfig, RequestingPort } from "./types.ts";

/** Body fields the boundary sets itself; the client's values are dropped. */
const RESERVED = new Set(["path", "session", "ip", "userAgent", "transport", "deviceToken"]);
/** The longest token-ish body `session` passed on. */
const MAX_BODY_SESSION = 512;
/** The shape of a path passed to Requesting; anything else is answered 404 here. */
const PATH_SHAPE = /^\/[A-Za-z0-9_.~\-/]{1,256}$/;

/** The Requesting path of an `/api/...` URL path, or undefined when it cannot be one. */
export function requestingPath(urlPath: string): string | undefined {
  if (!urlPath.startsWith("/api/")) return undefined;
  const path = urlPath.slice("/api".length);
  return PATH_SHAPE.test(path) ? path : undefined;
}

/** The inputs of `Requesting.request` for this HTTP request and body. */
export function requestInputs(
  c: Context<AppEnv>,
  config: HttpConfig,
  path: string,
  body: Record<string, unknown>,
): { path: string } & Record<string, unknown> {
  const inputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (!RESERVED.has(key)) inputs[key] = value;
  }
  const fromHeaders = headerCredentials(c, config);
  if (fromHeaders) {
    inputs.session = fromHeaders.token;
  } else if (
    typeof body.session === "string" && body.session !== "" &&
    body.session.length <= MAX_BODY_SESSION
  ) {
    inputs.session = body.session;
  }
  const ip = clientIp(c, config);
  if (ip !== undefined) inputs.ip = ip;
  const agent = userAgent(c);
  if (agent !== undefined) inputs.userAgent = agent;
  if (hasBearerHeader(c) || body.transport === "bearer") inputs.transport = "bearer";
  const device = presentedDeviceToken(c, config, body, inputs.transport === "bearer");
  if (device !== undefined) inputs.deviceToken = device;
  return { ...inputs, path };
}

/** Whether a response value is a plain dictionary. */
function isDict(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/**
 * Writes the answer for a Requesting response to `path`: status, cookie, JSON body (see the
 * module doc).
 * `bearerClient`: the client gets tokens in JSON rather than as a cookie.
 */
export function answerResponse(
  c: Context<AppEnv>,
  config: HttpConfig,
  path: string,
  response: unknown,
  bearerClient: boolean,
): Response {
  if (!isDict(response)) throw new Error("Cannot answer request: the response is not an object");
  const { kind, clearSession, session, deviceToken, deviceExpiresAt, ...rest } = response;
  const code =
    ("error" in rest
      ? errorStatus(kind)
      : requestingRoute(path)?.ok.status ?? 200) as ContentfulStatusCode;
  if ("error" in rest && typeof kind === "string") c.set("errorKind", kind);
  const json: Record<string, unknown> = rest;
  if (typeof session === "string" && session !== "") {
    c.set("sessionId", publicId(session) ?? c.get("sessionId"));
    if (bearerClient) json.session = session;
    else setSessionCookie(c, config, session);
  }
  if (clearSession === true && !bearerClient) clearSessionCookie(c, config);
  if (typeof deviceToken === "string" && deviceToken !== "") {
    if (bearerClient) Object.assign(json, { deviceToken, deviceExpiresAt });
    else setDeviceCookie(c, config, deviceToken, deviceExpiresAt);
  }
  if (typeof json.retryAfterMs === "number" && json.retryAfterMs > 0) {
    c.header("Retry-After", String(Math.ceil(json.retryAfterMs / 1000)));
  }
  if (typeof json.correlationId === "string" && code >= 500) {
    // An internal error the engine recorded: log its id, so the answer and the log line match.
    c.set("correlationId", json.correlationId.slice(0, 100));
  }
  return jsonAnswer(c, json, code);
}

/** Runs a request through Requesting and answers it. */
export async function handleRequest(
  c: Context<AppEnv>,
  config: HttpConfig,
  Requesting: RequestingPort,
  body: Record<string, unknown>,
): Promise<Response> {
  const path = requestingPath(c.req.path);
  if (path === undefined) throw new HttpError(404, "Cannot find route: no such path");
  const inputs = requestInputs(c, config, path, body);
  const sessionId = publicId(inputs.session);
  if (sessionId) c.set("sessionId", sessionId);
  const started = await Requesting.request(inputs);
  if (typeof started.request !== "string") {
    if (typeof started.error === "string") return answerResponse(c, config, path, started, false);
    throw new Error("Cannot start request: Requesting.request returned no request id");
  }
  const [first] = await Requesting._awaitResponse({ request: started.request });
  if (!first) throw new Error("Cannot answer request: no response");
  const response = "response" in first ? first.response : first;
  const bearerClient = inputs.transport === "bearer";
  return answerResponse(c, config, path, response, bearerClient);
}

/**
 * The caller's session token, the session cookie, and the device cookie.
 *
 * Session token. One route only: when the request has an `Authorization` header, that header
 * is the only credential looked at. It must be `Bearer <token>`; any other value (another scheme,
 * no token, junk) is answered 401 here and never falls back to the cookie or the body. Without the
 * header: the session cookie, then (for the Sessioning routes, and for Requesting paths without a
 * cookie) the body's `session` field; a body field never overrides a cookie token.
 *
 * The session cookie is `__Host-session=<token>; Path=/; HttpOnly; Secure; SameSite=Lax` (the
 * `__Host-` prefix pins it to this host and path `/`). With `cookieSecure: false` (plain-HTTP
 * localhost development, where browsers drop Secure cookies) it is `session=<token>; Path=/;
 * HttpOnly; SameSite=Lax`. With `sessionCookieMaxAgeSec` it carries `Max-Age` (capped at 400
 * days); without, it is a browser-session cookie.
 *
 * The device cookie (OWASP's device cookies; design/concepts/DeviceTrust.md) holds the device
 * token a login or registration gave this browser: `__Host-device=<token>; Max-Age=<until the
 * device expires, at most 400 days>; Path=/; HttpOnly; Secure; SameSite=Strict`, or `device=...`
 * without `Secure` when `cookieSecure` is false. Only logins read it. Bearer clients get the
 * device token as the JSON field `deviceToken` and send it back in the login body.
 *
 * Only a token's public id (the part before the dot, and only of a well-formed token) is ever
 * exposed for logging.
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { CookieOptions } from "hono/utils/cookie";
import { publicIdOf } from "../utils/token.ts";
import { HttpError } from "./errors.ts";
import type { AppEnv, HttpConfig } from "./types.ts";

/** Where the token of a request came from. */
export type TokenSource = "bearer" | "cookie" | "body";

export interface Credentials {
  token: string;
  source: TokenSource;
}

const COOKIE_BASE = "session";
const DEVICE_COOKIE_BASE = "device";
/** The answer to an `Authorization` header that holds no usable bearer token. */
export const BAD_AUTHORIZATION =
  "Cannot authenticate request: Authorization must be Bearer <token>";
/** Browsers refuse a Max-Age over 400 days; hono throws on one. */
const MAX_COOKIE_AGE_SEC = 400 * 24 * 3600;
/** The longest token-ish string taken from a request; longer ones are ignored. */
const MAX_TOKEN_LENGTH = 512;

/** The cookie's name under `config`: `__Host-session`, or `session` in the dev setting. */
export function sessionCookieName(config: HttpConfig): string {
  return config.cookieSecure ? `__Host-${COOKIE_BASE}` : COOKIE_BASE;
}

function usable(value: unknown): value is string {
  return typeof value === "string" && value !== "" && value.length <= MAX_TOKEN_LENGTH;
}

/** The token of an `Authorization: Bearer` header, if the request has one. */
export function bearerToken(c: Context<AppEnv>): string | undefined {
  const header = c.req.header("authorization");
  if (!header) return undefined;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m && usable(m[1]) ? m[1] : undefined;
}

/** Whether the request carries an `Authorization: Bearer` header at all. */
export function hasBearerHeader(c: Context<AppEnv>): boolean {
  return /^Bearer(\s|$)/i.test(c.req.header("authorization") ?? "");
}

/** The token of the session cookie, if the request has one. */
export function cookieToken(c: Context<AppEnv>, config: HttpConfig): string | undefined {
  const value = config.cookieSecure ? getCookie(c, COOKIE_BASE, "host") : getCookie(c, COOKIE_BASE);
  return usable(value) ? value : undefined;
}

/**
 * The request's token from the `Authorization` header or, when there is no such header, the
 * cookie. Throws `HttpError` 401 when the header is present without a usable bearer token.
 */
export function headerCredentials(
  c: Context<AppEnv>,
  config: HttpConfig,
): Credentials | undefined {
  if (c.req.header("authorization") !== undefined) {
    const bearer = bearerToken(c);
    if (!bearer) throw new HttpError(401, BAD_AUTHORIZATION);
    return { token: bearer, source: "bearer" };
  }
  const cookie = cookieToken(c, config);
  if (cookie) return { token: cookie, source: "cookie" };
  return undefined;
}

/**
 * The request's token: the `Authorization` header alone when there is one (401 unless it is a
 * usable bearer token), else the cookie, then the body's `session` field.
 */
export function credentials(
  c: Context<AppEnv>,
  config: HttpConfig,
  body: Record<string, unknown>,
): Credentials | undefined {
  const fromHeaders = headerCredentials(c, config);
  if (fromHeaders) return fromHeaders;
  return usable(body.session) ? { token: body.session, source: "body" } : undefined;
}

/** The public id of a well-formed token (the part before the dot); undefined otherwise. */
export const publicId = publicIdOf;

function cookieOptions(config: HttpConfig): CookieOptions {
  const options: CookieOptions = { path: "/", httpOnly: true, sameSite: "Lax" };
  if (config.cookieSecure) options.prefix = "host";
  return options;
}

/** Adds a Set-Cookie header that stores `token` in the session cookie. */
export function setSessionCookie(c: Context<AppEnv>, config: HttpConfig, token: string): void {
  const options = cookieOptions(config);
  const age = config.sessionCookieMaxAgeSec;
  if (age !== undefined && Number.isFinite(age) && age > 0) {
    options.maxAge = Math.min(Math.floor(age), MAX_COOKIE_AGE_SEC);
  }
  setCookie(c, COOKIE_BASE, token, options);
}

/** Adds a Set-Cookie header that clears the session cookie. */
export function clearSessionCookie(c: Context<AppEnv>, config: HttpConfig): void {
  deleteCookie(c, COOKIE_BASE, cookieOptions(config));
}

function deviceCookieOptions(config: HttpConfig): CookieOptions {
  const options: CookieOptions = { path: "/", httpOnly: true, sameSite: "Strict" };
  if (config.cookieSecure) options.prefix = "host";
  return options;
}

/** The device cookie's name under `config`: `__Host-device`, or `device` in the dev setting. */
export function deviceCookieName(config: HttpConfig): string {
  return config.cookieSecure ? `__Host-${DEVICE_COOKIE_BASE}` : DEVICE_COOKIE_BASE;
}

/**
 * The device token the request presents: bearer clients send it as the body field
 * `deviceToken`, browsers in the device cookie (one route each, chosen by the transport).
 */
export function presentedDeviceToken(
  c: Context<AppEnv>,
  config: HttpConfig,
  body: Record<string, unknown>,
  bearerClient: boolean,
): string | undefined {
  if (bearerClient) return usable(body.deviceToken) ? body.deviceToken : undefined;
  const value = config.cookieSecure
    ? getCookie(c, DEVICE_COOKIE_BASE, "host")
    : getCookie(c, DEVICE_COOKIE_BASE);
  return usable(value) ? value : undefined;
}

/** Adds a Set-Cookie header that stores `token` in the device cookie until `expiresAt`. */
export function setDeviceCookie(
  c: Context<AppEnv>,
  config: HttpConfig,
  token: string,
  expiresAt: unknown,
): void {
  const options = deviceCookieOptions(config);
  const until = expiresAt instanceof Date ? expiresAt.getTime() : Number.NaN;
  const age = Math.floor((until - Date.now()) / 1000);
  // A missing or past expiry still sets the cookie, for this browser session only.
  if (Number.isFinite(age) && age > 0) options.maxAge = Math.min(age, MAX_COOKIE_AGE_SEC);
  setCookie(c, DEVICE_COOKIE_BASE, token, options);
}

/**
 * The caller's session token and the session cookie.
 *
 * A token arrives in an `Authorization: Bearer <token>` header, in the session cookie, or (for
 * the Sessioning routes, and for Requesting paths when neither header nor cookie carries one) in
 * the body's `session` field. Precedence: bearer header, then cookie, then body; a body field
 * never overrides a header or cookie token.
 *
 * The cookie is `__Host-session=<token>; Path=/; HttpOnly; Secure; SameSite=Lax` (the `__Host-`
 * prefix pins it to this host and path `/`). With `cookieSecure: false` (plain-HTTP localhost
 * development, where browsers drop Secure cookies) it is `session=<token>; Path=/; HttpOnly;
 * SameSite=Lax`. With `sessionCookieMaxAgeSec` it carries `Max-Age` (capped at 400 days);
 * without, it is a browser-session cookie.
 *
 * Only a token's public id (the part before the dot, and only of a well-formed token) is ever
 * exposed for logging.
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { CookieOptions } from "hono/utils/cookie";
import type { AppEnv, HttpConfig } from "./types.ts";

/** Where the token of a request came from. */
export type TokenSource = "bearer" | "cookie" | "body";

export interface Credentials {
  token: string;
  source: TokenSource;
}

const COOKIE_BASE = "session";
/** Browsers refuse a Max-Age over 400 days; hono throws on one. */
const MAX_COOKIE_AGE_SEC = 400 * 24 * 3600;
const TOKEN_SHAPE = /^([A-Za-z0-9_-]{22})\.[A-Za-z0-9_-]{43}$/;
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

/** The request's token from the bearer header or the cookie (in that order). */
export function headerCredentials(
  c: Context<AppEnv>,
  config: HttpConfig,
): Credentials | undefined {
  const bearer = bearerToken(c);
  if (bearer) return { token: bearer, source: "bearer" };
  const cookie = cookieToken(c, config);
  if (cookie) return { token: cookie, source: "cookie" };
  return undefined;
}

/** The request's token: bearer header, cookie, then the body's `session` field. */
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
export function publicId(token: unknown): string | undefined {
  if (typeof token !== "string") return undefined;
  return TOKEN_SHAPE.exec(token)?.[1];
}

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

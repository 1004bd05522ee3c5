/**
 * JSON calls from the pages to the service's API: same origin, with the session cookie, which the
 * browser sends by itself and this code never sees (it is HttpOnly). Nothing is kept in
 * localStorage or sessionStorage. POSTs carry the page's Origin, which the CSRF guard checks.
 */
import { retryAfterSeconds } from "./text.js";

/**
 * @typedef {object} ApiResult
 * @property {boolean} ok
 * @property {number} status 0 when the service could not be reached
 * @property {any} data the JSON answer, or null
 * @property {number} [retryAfter] seconds, from a Retry-After header
 */

/**
 * GETs `path`, or POSTs `body` as JSON to it.
 * @param {string} path
 * @param {Record<string, unknown>} [body]
 * @returns {Promise<ApiResult>}
 */
export async function api(path, body) {
  /** @type {Record<string, string>} */
  const headers = { accept: "application/json" };
  /** @type {RequestInit} */
  const init = { credentials: "same-origin", cache: "no-store", headers };
  if (body !== undefined) {
    init.method = "POST";
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    return { ok: false, status: 0, data: null };
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  const retryAfter = retryAfterSeconds(response.headers.get("retry-after"), Date.now());
  return retryAfter === undefined
    ? { ok: response.ok, status: response.status, data }
    : { ok: response.ok, status: response.status, data, retryAfter };
}

/** Why the login page was opened: the keys its notice can show (see login.js). */
export const LOGIN_NOTICES = Object.freeze({
  logout: "You have logged out.",
  everywhere: "You have logged out of every session.",
  ended: "Your session has ended. Please log in again.",
});

/**
 * Leaves for the login page, optionally saying why (one of LOGIN_NOTICES' keys).
 * @param {keyof typeof LOGIN_NOTICES} [why]
 */
export function toLogin(why) {
  location.replace(why ? `/login?notice=${why}` : "/login");
}

/**
 * After a 401 from an action: whether this page's session is still alive (the 401 may be about
 * a wrong password rather than the session). Leaves for the login page when it is not.
 * @returns {Promise<boolean>}
 */
export async function stillLoggedIn() {
  const me = await api("/api/auth/me");
  if (me.status === 401) {
    toLogin("ended");
    return false;
  }
  return true;
}

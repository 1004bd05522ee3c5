/**
 * The login page: sends username and password to POST /api/auth/login, shows the API's error
 * (with the wait when throttled: 429 and Retry-After), and opens the sessions page on success.
 */
import { api, LOGIN_NOTICES } from "./api.js";
import { byId, field, say, whileBusy } from "./dom.js";
import { failureMessage } from "./text.js";

const form = /** @type {HTMLFormElement} */ (byId("login-form"));
const error = byId("error");
const notice = byId("notice");

const why = new URLSearchParams(location.search).get("notice");
if (why && Object.hasOwn(LOGIN_NOTICES, why)) {
  say(notice, LOGIN_NOTICES[/** @type {keyof typeof LOGIN_NOTICES} */ (why)]);
  history.replaceState(null, "", "/login");
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  say(error, "");
  const result = await whileBusy(form, () =>
    api("/api/auth/login", {
      username: field(form, "username"),
      password: field(form, "password"),
    }));
  if (result.ok) {
    location.assign("/");
    return;
  }
  say(notice, "");
  say(error, failureMessage(result));
  const password = /** @type {HTMLInputElement} */ (byId("password"));
  password.value = "";
  password.focus();
});

// Someone already logged in has nothing to do here.
const me = await api("/api/auth/me");
if (me.ok) location.replace("/");

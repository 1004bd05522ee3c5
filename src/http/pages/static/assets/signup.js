/**
 * The sign-up page: sends username and password to POST /api/auth/register (which also logs in)
 * and opens the sessions page; shows the API's error otherwise.
 */
import { api } from "./api.js";
import { byId, field, say, whileBusy } from "./dom.js";
import { failureMessage } from "./text.js";

const form = /** @type {HTMLFormElement} */ (byId("signup-form"));
const error = byId("error");
const repeat = /** @type {HTMLInputElement} */ (byId("repeat-password"));

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  say(error, "");
  if (field(form, "password") !== field(form, "repeat")) {
    repeat.setAttribute("aria-invalid", "true");
    say(error, "The two passwords differ: type the same password twice.");
    repeat.focus();
    return;
  }
  repeat.removeAttribute("aria-invalid");
  const result = await whileBusy(form, () =>
    api("/api/auth/register", {
      username: field(form, "username"),
      password: field(form, "password"),
    }));
  if (result.ok) {
    location.assign("/");
    return;
  }
  say(error, failureMessage(result));
  byId("username").focus();
});

/**
 * "Your sessions": who is logged in, every live session of theirs (device, started, last seen,
 * expires; this device marked), ending one, the others or all, logging out, and changing the
 * password, and a link to the administrator's page for administrators. Everything goes through
 * the JSON API with the session cookie.
 */
import { api, stillLoggedIn, toLogin } from "./api.js";
import { byId, field, say, whileBusy } from "./dom.js";
import {
  deviceLabel,
  done,
  endButton,
  leaveOnClick,
  offerLogout,
  sessionTimes,
  showFailure,
} from "./sessions.js";
import { activeSessions, failureMessage } from "./text.js";

/**
 * One session as GET /api/auth/sessions lists it.
 * @typedef {object} Session
 * @property {string} id the public id (never the token)
 * @property {string} createdAt
 * @property {string} lastSeenAt
 * @property {string} expiresAt
 * @property {string | null} [userAgent]
 * @property {string} [device] a friendly name, when the service gives one
 * @property {boolean} current
 */

const who = byId("who");
const list = byId("sessions");
const count = byId("count");
const status = byId("status");
const endOthers = /** @type {HTMLButtonElement} */ (byId("end-others"));
const endAll = /** @type {HTMLButtonElement} */ (byId("end-all"));
const passwordForm = /** @type {HTMLFormElement} */ (byId("password-form"));
const passwordError = byId("password-error");
const repeat = /** @type {HTMLInputElement} */ (byId("repeat-password"));

/** @type {Session[]} */
let shown = [];

/** @param {Session} session */
function deviceOf(session) {
  return deviceLabel(session).name;
}

/**
 * One row of the list.
 * @param {Session} session
 * @param {number} now
 */
function row(session, now) {
  const item = document.createElement("li");
  item.className = session.current ? "session current" : "session";
  item.dataset.sessionId = session.id;
  const head = document.createElement("div");
  head.className = "session-head";
  const label = deviceLabel(session);
  const name = document.createElement("p");
  name.className = label.raw ? "device raw" : "device";
  name.textContent = label.name;
  head.append(name);
  if (session.current) {
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = "This device";
    head.append(badge);
  }
  item.append(head);
  const times = document.createElement("dl");
  times.className = "times";
  for (const [label, value] of sessionTimes(session, now)) {
    const pair = document.createElement("div");
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.append(value);
    pair.append(dt, dd);
    times.append(pair);
  }
  item.append(times);
  if (!session.current) {
    const more = ` on ${deviceOf(session)}`;
    item.append(endButton("End session", "secondary end", more, (end) => endOne(session, end)));
  }
  return item;
}

/** @param {Session[]} sessions */
function render(sessions) {
  const now = Date.now();
  shown = [...sessions].sort((a, b) =>
    Number(b.current) - Number(a.current) || Date.parse(b.lastSeenAt) - Date.parse(a.lastSeenAt)
  );
  list.replaceChildren(...shown.map((s) => row(s, now)));
  list.removeAttribute("aria-busy");
  const n = shown.length;
  count.textContent = activeSessions(n);
  endOthers.disabled = n < 2;
}

/** Loads who is logged in and their sessions; leaves for the login page without a session. */
async function load() {
  const [me, sessions] = await Promise.all([api("/api/auth/me"), api("/api/auth/sessions")]);
  if (me.status === 401 || sessions.status === 401) {
    toLogin();
    return false;
  }
  if (!me.ok || !sessions.ok) {
    showFailure(me.ok ? sessions : me);
    return false;
  }
  who.textContent = me.data.username;
  render(sessions.data.sessions);
  return true;
}

/**
 * @param {Session} session
 * @param {HTMLButtonElement} button
 */
async function endOne(session, button) {
  button.disabled = true;
  const result = await api("/api/auth/sessions/revoke", { id: session.id });
  if (result.status === 401 && !(await stillLoggedIn())) return;
  if (!result.ok && result.status !== 404) {
    button.disabled = false;
    showFailure(result);
    return;
  }
  if (await load()) done(`Ended the session on ${deviceOf(session)}.`);
}

endOthers.addEventListener("click", async () => {
  endOthers.disabled = true;
  const result = await api("/api/auth/logout-others", {});
  if (result.status === 401) return toLogin("ended");
  if (!result.ok) {
    endOthers.disabled = false;
    showFailure(result);
    return;
  }
  const n = Number(result.data?.count ?? 0);
  if (await load()) done(n === 1 ? "Ended 1 other session." : `Ended ${n} other sessions.`);
});

leaveOnClick(endAll, "/api/auth/logout-all", "everywhere");
offerLogout();

passwordForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  say(passwordError, "");
  say(status, "");
  const newPassword = field(passwordForm, "newPassword");
  if (newPassword !== field(passwordForm, "repeat")) {
    repeat.setAttribute("aria-invalid", "true");
    say(passwordError, "The two new passwords differ: type the same password twice.");
    repeat.focus();
    return;
  }
  repeat.removeAttribute("aria-invalid");
  const others = shown.filter((s) => !s.current).length;
  const result = await whileBusy(
    passwordForm,
    () =>
      api("/api/auth/password", {
        currentPassword: field(passwordForm, "currentPassword"),
        newPassword,
      }),
  );
  if (!result.ok) {
    if (result.status === 401 && !(await stillLoggedIn())) return;
    say(passwordError, failureMessage(result));
    byId("current-password").focus();
    return;
  }
  passwordForm.reset();
  if (await load()) {
    const ended = others === 0
      ? "No other session was open."
      : others === 1
      ? "Your other session was logged out."
      : `Your ${others} other sessions were logged out.`;
    done(`Password changed. ${ended}`);
  }
});

byId("refresh").addEventListener("click", async () => {
  if (await load()) done("Session list updated.");
});

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") load();
});

/** Shows the link to the administrator's page to administrators (`/api/auth/roles`). */
async function offerAdministration() {
  const roles = await api("/api/auth/roles");
  if (roles.ok && roles.data?.admin === true) byId("admin-link").hidden = false;
}

if (await load()) await offerAdministration();

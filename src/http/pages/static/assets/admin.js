/**
 * The administrator's page: the live sessions of every user (newest first, a page at a time,
 * optionally of one username) and their count, ending one session, and forced logout of a user.
 * Everything goes through the administrator API with the session cookie:
 *
 * - 401 (no session): the login page.
 * - 403 with `reauthenticate: true` (sudo mode: the password check is older than SUDO_TTL): a
 *   password form; POST /api/auth/reauthenticate, then the call that was refused is made again.
 * - 403 otherwise (not an administrator): the "Administrators only" message, with the API's words.
 */
import { api, stillLoggedIn, toLogin } from "./api.js";
import { byId, field, say, whileBusy } from "./dom.js";
import {
  deviceLabel,
  done,
  endButton,
  offerLogout,
  sessionTimes,
  showFailure,
} from "./sessions.js";
import { activeSessions, failureMessage } from "./text.js";

/**
 * One session as POST /api/admin/sessions lists it (never a token or hash).
 * @typedef {object} AdminSession
 * @property {string} id the public id
 * @property {string} user the user's id
 * @property {string | null} username
 * @property {string} device a friendly name (browser and OS)
 * @property {string | null} [userAgent]
 * @property {string | null} [ip]
 * @property {string} createdAt
 * @property {string} lastSeenAt
 * @property {string} expiresAt
 */

/** Sessions a page. */
const PAGE_SIZE = 20;

const heading = byId("title");
const who = byId("who");
const adminCard = byId("admin");
const forceCard = byId("force");
const forbidden = byId("forbidden");
const list = byId("sessions");
const count = byId("count");
const empty = byId("empty");
const status = byId("status");
const error = byId("error");
const pager = byId("pager");
const pageLabel = byId("page");
const newer = /** @type {HTMLButtonElement} */ (byId("newer"));
const older = /** @type {HTMLButtonElement} */ (byId("older"));
const filterForm = /** @type {HTMLFormElement} */ (byId("filter-form"));
const filterInput = /** @type {HTMLInputElement} */ (byId("filter-username"));
const forceForm = /** @type {HTMLFormElement} */ (byId("force-form"));
const forceError = byId("force-error");
const sudo = byId("sudo");
const sudoForm = /** @type {HTMLFormElement} */ (byId("sudo-form"));
const sudoError = byId("sudo-error");
const sudoPassword = /** @type {HTMLInputElement} */ (byId("sudo-password"));

/** What is shown: whose sessions (empty: everyone's), and the cursors of the pages seen so far. */
const view = {
  username: "",
  /** @type {Array<string | undefined>} cursors[i] is the `before` of page i */
  cursors: [undefined],
  page: 0,
  /** @type {string | null} */
  next: null,
};

/** Whether the page has shown the list once (a later 401 means the session ended). */
let loaded = false;

// ---- Calls to the administrator API, with sudo mode and the refusals handled ----

/** @type {((confirmed: boolean) => void) | undefined} */
let answerPrompt;
/** @type {Promise<boolean> | undefined} */
let prompting;
/** @type {HTMLElement | null} */
let focusBeforePrompt = null;

/**
 * Shows the password form and resolves true once the password is confirmed, false on cancel.
 * Calls refused at the same time share one prompt.
 * @returns {Promise<boolean>}
 */
function askPassword() {
  prompting ??= new Promise((resolve) => {
    focusBeforePrompt = document.activeElement instanceof HTMLElement
      ? document.activeElement
      : null;
    answerPrompt = (confirmed) => {
      sudo.hidden = true;
      sudoForm.reset();
      say(sudoError, "");
      prompting = undefined;
      answerPrompt = undefined;
      if (confirmed) {
        say(status, "Password confirmed.");
        heading.focus();
      } else if (focusBeforePrompt?.isConnected) {
        focusBeforePrompt.focus();
      }
      resolve(confirmed);
    };
    sudo.hidden = false;
    sudo.scrollIntoView({ block: "nearest" });
    sudoPassword.focus();
  });
  return prompting;
}

sudoForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  say(sudoError, "");
  const result = await whileBusy(
    sudoForm,
    () => api("/api/auth/reauthenticate", { password: field(sudoForm, "password") }),
  );
  if (result.ok) {
    answerPrompt?.(true);
    return;
  }
  if (result.status === 401 && !(await stillLoggedIn())) return;
  say(sudoError, failureMessage(result));
  sudoPassword.value = "";
  sudoPassword.focus();
});

byId("sudo-cancel").addEventListener("click", () => {
  answerPrompt?.(false);
  say(error, "Cancelled: administrator actions need your password.");
});

/**
 * Shows the "Administrators only" message in place of the page.
 * @param {import("./api.js").ApiResult} result
 */
function showForbidden(result) {
  adminCard.hidden = true;
  forceCard.hidden = true;
  sudo.hidden = true;
  say(byId("forbidden-detail"), failureMessage(result));
  forbidden.hidden = false;
  document.title = "Administrators only · Sessions";
  byId("forbidden-title").focus();
}

/**
 * Calls an administrator route; asks for the password and calls again when sudo mode requires
 * it. Returns the answer, or null when the page has been handed over (login page, forbidden
 * message, or a cancelled password prompt).
 * @param {string} path
 * @param {Record<string, unknown>} body
 * @returns {Promise<import("./api.js").ApiResult | null>}
 */
async function adminApi(path, body) {
  for (;;) {
    const result = await api(path, body);
    if (result.status === 401) {
      toLogin(loaded ? "ended" : undefined);
      return null;
    }
    if (result.status === 403 && result.data?.reauthenticate === true) {
      if (!(await askPassword())) return null;
      continue;
    }
    if (result.status === 403) {
      showForbidden(result);
      return null;
    }
    return result;
  }
}

// ---- The list ----

/**
 * A table cell, labelled for the stacked (phone) layout.
 * @param {string} label
 * @param {string | Node} content
 * @param {string} [className]
 */
function cell(label, content, className) {
  const td = document.createElement("td");
  td.dataset.label = label;
  if (className) td.className = className;
  td.append(content);
  return td;
}

/**
 * One row of the table.
 * @param {AdminSession} session
 * @param {number} now
 */
function row(session, now) {
  const tr = document.createElement("tr");
  tr.dataset.sessionId = session.id;
  const name = session.username ?? session.user;
  const device = deviceLabel(session).name;
  const deviceText = document.createElement("span");
  deviceText.textContent = device;
  if (session.userAgent) deviceText.title = session.userAgent;
  const id = document.createElement("code");
  id.textContent = session.id;
  const more = ` the session of ${name} on ${device}`;
  const end = endButton("End", "danger small end", more, (end) => endOne(session, end));
  tr.append(
    cell("User", name, "user"),
    cell("Device", deviceText),
    cell("IP", session.ip ?? "unknown", "ip"),
    ...sessionTimes(session, now).map(([label, time]) => cell(label, time)),
    cell("Session id", id, "id"),
    cell("Actions", end, "actions-cell"),
  );
  return tr;
}

/**
 * @param {number} n
 * @param {string} username
 */
function countText(n, username) {
  const sessions = activeSessions(n);
  return username ? `${sessions} of ${username}` : `${sessions} in all`;
}

/**
 * Loads the current page of sessions and the count. Returns false when the page was handed
 * over (login, forbidden, cancelled prompt) or the API failed (the error shown).
 */
async function load() {
  const body = /** @type {Record<string, unknown>} */ ({ limit: PAGE_SIZE });
  if (view.username) body.username = view.username;
  const before = view.cursors[view.page];
  if (before) body.before = before;
  list.setAttribute("aria-busy", "true");
  const sessions = await adminApi("/api/admin/sessions", body);
  if (!sessions) return false;
  if (!sessions.ok) {
    showFailure(sessions);
    list.removeAttribute("aria-busy");
    return false;
  }
  const counted = await adminApi(
    "/api/admin/sessions/count",
    view.username ? { username: view.username } : {},
  );
  if (!counted) return false;
  /** @type {AdminSession[]} */
  const shown = sessions.data.sessions;
  if (shown.length === 0 && view.page > 0) {
    // The sessions of this page ended meanwhile: show the one before.
    view.page--;
    return await load();
  }
  loaded = true;
  const now = Date.now();
  list.replaceChildren(...shown.map((s) => row(s, now)));
  list.removeAttribute("aria-busy");
  empty.hidden = shown.length > 0;
  empty.textContent = view.username
    ? `${view.username} has no active session.`
    : "No active sessions.";
  view.next = sessions.data.next;
  count.textContent = counted.ok
    ? countText(Number(counted.data.count), view.username)
    : failureMessage(counted);
  const first = view.page * PAGE_SIZE + 1;
  pageLabel.textContent = shown.length === 0
    ? `Page ${view.page + 1}`
    : `Page ${view.page + 1}: sessions ${first} to ${first + shown.length - 1}`;
  newer.disabled = view.page === 0;
  older.disabled = !view.next;
  pager.hidden = view.page === 0 && !view.next;
  return true;
}

/**
 * @param {AdminSession} session
 * @param {HTMLButtonElement} button
 */
async function endOne(session, button) {
  button.disabled = true;
  say(status, "");
  const result = await adminApi("/api/admin/sessions/end", { id: session.id });
  if (!result) {
    button.disabled = false;
    return;
  }
  if (!result.ok && result.status !== 404) {
    button.disabled = false;
    showFailure(result);
    return;
  }
  const name = session.username ?? session.user;
  const what = result.ok
    ? `Ended the session of ${name} on ${session.device || "an unknown device"}.`
    : `That session of ${name} had already ended.`;
  if (await load()) done(what);
}

// ---- Filter and pages ----

/** @param {string} username */
async function showUser(username) {
  view.username = username;
  view.cursors = [undefined];
  view.page = 0;
  say(status, "");
  say(error, "");
  if (await load()) {
    say(
      status,
      username ? `Showing the sessions of ${username}.` : "Showing the sessions of every user.",
    );
  }
}

filterForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const username = filterInput.value.trim();
  await whileBusy(filterForm, () => showUser(username));
});

byId("show-all").addEventListener("click", async () => {
  filterInput.value = "";
  await whileBusy(filterForm, () => showUser(""));
});

older.addEventListener("click", async () => {
  if (!view.next) return;
  view.cursors[view.page + 1] = view.next;
  view.page++;
  if (await load()) (older.disabled ? newer : older).focus();
});

newer.addEventListener("click", async () => {
  if (view.page === 0) return;
  view.page--;
  if (await load()) (newer.disabled ? older : newer).focus();
});

byId("refresh").addEventListener("click", async () => {
  say(status, "");
  if (await load()) done("Session list updated.");
});

// ---- Forced logout ----

forceForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  say(forceError, "");
  say(status, "");
  const username = field(forceForm, "username").trim();
  const result = await whileBusy(
    forceForm,
    () => adminApi("/api/admin/users/logout", { username }),
  );
  if (!result) return;
  if (!result.ok) {
    say(forceError, failureMessage(result));
    byId("force-username").focus();
    return;
  }
  forceForm.reset();
  const n = Number(result.data?.count ?? 0);
  const ended = n === 0
    ? `${username} had no active session.`
    : `Logged out ${username} everywhere: ${n === 1 ? "1 session" : `${n} sessions`} ended.`;
  if (await load()) done(ended);
});

// ---- Who is logged in ----

offerLogout();

const me = await api("/api/auth/me");
if (me.status === 401) {
  toLogin();
} else {
  if (me.ok) who.textContent = me.data.username;
  else showFailure(me);
  await load();
}

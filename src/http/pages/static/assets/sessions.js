/**
 * What the two pages of sessions (account.js: yours; admin.js: everyone's) show and do alike: a
 * session's device name and times, its End button, the message after an action, a failed call's
 * message, and the buttons that leave for the login page (log out, log out everywhere).
 */
import { api, toLogin } from "./api.js";
import { byId, say } from "./dom.js";
import { failureMessage, formatDateTime, relativeTime } from "./text.js";

/**
 * The name shown for a session's device: the service's `device`, else the raw user agent.
 * @param {{ device?: string, userAgent?: string | null }} session
 * @returns {{ name: string, raw: boolean }}
 */
export function deviceLabel(session) {
  if (typeof session.device === "string" && session.device !== "") {
    return { name: session.device, raw: false };
  }
  if (typeof session.userAgent === "string" && session.userAgent !== "") {
    return { name: session.userAgent, raw: true };
  }
  return { name: "Unknown device", raw: false };
}

/**
 * A <time> with the given text and the full date as its tooltip.
 * @param {string} iso
 * @param {string} text
 */
function timeElement(iso, text) {
  const time = document.createElement("time");
  time.dateTime = iso;
  time.textContent = text;
  time.title = formatDateTime(iso);
  return time;
}

/**
 * A session's times, labelled: started and expires as dates, last seen as how long ago.
 * @param {{ createdAt: string, lastSeenAt: string, expiresAt: string }} session
 * @param {number} now milliseconds since the epoch
 * @returns {Array<[string, HTMLElement]>}
 */
export function sessionTimes(session, now) {
  return [
    ["Started", timeElement(session.createdAt, formatDateTime(session.createdAt))],
    ["Last seen", timeElement(session.lastSeenAt, relativeTime(session.lastSeenAt, now))],
    ["Expires", timeElement(session.expiresAt, formatDateTime(session.expiresAt))],
  ];
}

/**
 * A button that ends a session: `text` on sight, `more` added for screen readers (which session),
 * and `onClick` given the button.
 * @param {string} text
 * @param {string} className
 * @param {string} more
 * @param {(button: HTMLButtonElement) => void} onClick
 */
export function endButton(text, className, more, onClick) {
  const end = document.createElement("button");
  end.type = "button";
  end.className = className;
  end.textContent = text;
  const hidden = document.createElement("span");
  hidden.className = "visually-hidden";
  hidden.textContent = more;
  end.append(hidden);
  end.addEventListener("click", () => onClick(end));
  return end;
}

/**
 * Shows what an action did in #status (clearing #error), and moves focus to the page's heading
 * (#title) so it is not lost with a removed button.
 * @param {string} text
 */
export function done(text) {
  say(byId("error"), "");
  say(byId("status"), text);
  byId("title").focus();
}

/**
 * Shows in #error what to tell the person about a failed call.
 * @param {import("./api.js").ApiResult} result
 */
export function showFailure(result) {
  say(byId("error"), failureMessage(result));
}

/**
 * Makes `button` POST to `path` and leave for the login page saying `why` (also on 401: the
 * session had ended anyway); when the call fails otherwise, the button comes back with the error.
 * @param {HTMLButtonElement} button
 * @param {string} path
 * @param {keyof typeof import("./api.js").LOGIN_NOTICES} why
 */
export function leaveOnClick(button, path, why) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    const result = await api(path, {});
    if (result.ok || result.status === 401) return toLogin(why);
    button.disabled = false;
    showFailure(result);
  });
}

/** The page's "Log out" button (#logout). */
export function offerLogout() {
  leaveOnClick(/** @type {HTMLButtonElement} */ (byId("logout")), "/api/auth/logout", "logout");
}

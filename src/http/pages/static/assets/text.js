/**
 * Words for the pages: waits, counts, dates and times, and the message shown for a failed API call.
 * Pure functions (no DOM), so they are unit-tested under Deno as well as used in the browser.
 */

/**
 * A wait of `seconds` as people say it: "30 seconds", "about 2 minutes", "about 1 hour and 5
 * minutes". Rounded up, since trying again early only fails again.
 * @param {number} seconds
 * @returns {string}
 */
export function humanWait(seconds) {
  const s = Math.max(1, Math.ceil(Number.isFinite(seconds) ? seconds : 1));
  if (s < 60) return `${s} ${s === 1 ? "second" : "seconds"}`;
  const minutes = Math.ceil(s / 60);
  if (minutes < 60) return `about ${minutes} ${minutes === 1 ? "minute" : "minutes"}`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  const h = `${hours} ${hours === 1 ? "hour" : "hours"}`;
  return rest === 0 ? `about ${h}` : `about ${h} and ${rest} ${rest === 1 ? "minute" : "minutes"}`;
}

/**
 * The seconds of a `Retry-After` header (whole seconds, or an HTTP date), or undefined.
 * @param {string | null} header
 * @param {number} now milliseconds since the epoch
 * @returns {number | undefined}
 */
export function retryAfterSeconds(header, now) {
  if (header === null || header.trim() === "") return undefined;
  const text = header.trim();
  if (/^[0-9]+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/**
 * What to tell a person about a failed API call.
 * @param {{ status: number, data: unknown, retryAfter?: number }} result
 * @returns {string}
 */
export function failureMessage(result) {
  const data = /** @type {{ error?: unknown }} */ (result.data ?? {});
  let text = typeof data.error === "string" && data.error !== ""
    ? data.error
    : result.status === 0
    ? "Cannot reach the service: check your connection and try again."
    : `Something went wrong (HTTP ${result.status}). Please try again.`;
  if (!/[.!?]$/.test(text)) text += ".";
  if (result.retryAfter !== undefined) {
    text += ` You can try again in ${humanWait(result.retryAfter)}.`;
  }
  return text;
}

/**
 * How many sessions are active: "1 active session", "3 active sessions".
 * @param {number} n
 * @returns {string}
 */
export function activeSessions(n) {
  return n === 1 ? "1 active session" : `${n} active sessions`;
}

/**
 * A date and time in the reader's locale and time zone: "21 Nov 2026, 14:03".
 * @param {string | number | Date} when
 * @param {string | undefined} [locale]
 * @param {string | undefined} [timeZone]
 * @returns {string}
 */
export function formatDateTime(when, locale, timeZone) {
  const date = new Date(when);
  if (Number.isNaN(date.getTime())) return "unknown";
  return new Intl.DateTimeFormat(locale, {
    dateStyle: "medium",
    timeStyle: "short",
    timeZone,
  }).format(date);
}

/**
 * How long ago or from now: "just now", "5 minutes ago", "in 7 days".
 * @param {string | number | Date} when
 * @param {number} now milliseconds since the epoch
 * @param {string | undefined} [locale]
 * @returns {string}
 */
export function relativeTime(when, now, locale) {
  const at = new Date(when).getTime();
  if (Number.isNaN(at)) return "unknown";
  const seconds = Math.round((at - now) / 1000);
  if (Math.abs(seconds) < 45) return "just now";
  const format = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  /** @type {Array<[Intl.RelativeTimeFormatUnit, number]>} */
  const units = [["day", 86400], ["hour", 3600], ["minute", 60]];
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size || unit === "minute") {
      return format.format(Math.round(seconds / size), unit);
    }
  }
  return "just now";
}

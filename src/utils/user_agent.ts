/**
 * A friendly device name for a session, from its User-Agent header: "Chrome 120 on Linux",
 * "Safari 17 on iPhone", "curl 8" for a non-browser client, "Unknown device" when there is none.
 *
 * Browser and OS come from `bowser` (MIT, maintained); this module only chooses the words. Since
 * the parser falls back to the client's own product token for browsers it does not know, every
 * part is cut to 40 characters of letters, digits, spaces and `._()+-`, and the whole name to 80:
 * plain text, whatever the header held.
 */
import Bowser from "bowser";

/** What a missing or unreadable user agent is called. */
export const UNKNOWN_DEVICE = "Unknown device";

/** Longer headers are cut before parsing (the HTTP boundary passes on at most 256 characters). */
const MAX_PARSED = 512;
const MAX_NAME = 80;
const MAX_PART = 40;
/** Anything but letters, digits, spaces and a little punctuation. */
const UNSAFE = /[^\p{L}\p{N} ._()+-]+/gu;
/** A product token such as `curl/8.5.0` or `python-requests/2.31.0`. */
const PRODUCT = /^([A-Za-z][A-Za-z0-9._-]{0,39})(?:\/v?([0-9]{1,6}))?/;

/** A part of the name as safe plain text, or undefined when nothing is left. */
function clean(part: string | undefined): string | undefined {
  const text = (part ?? "").replace(UNSAFE, "").replace(/\s+/g, " ").trim().slice(0, MAX_PART)
    .trim();
  return text === "" ? undefined : text;
}

/** "Chrome 120" from a name and a version such as "120.0.6099.119"; the name alone without one. */
function withMajor(name: string, version: string | undefined): string {
  const major = /^[0-9]{1,6}/.exec(version ?? "")?.[0];
  return major ? `${name} ${major}` : name;
}

/** The browser's name as people say it: "Samsung Internet", not "Samsung Internet for Android". */
function browserName(name: string): string {
  return name.replace(/ for (?:Android|iOS)$/, "");
}

/** A friendly name for the device a session was started from. */
export function deviceName(userAgent: string | undefined): string {
  const ua = (userAgent ?? "").slice(0, MAX_PARSED).trim();
  if (ua === "") return UNKNOWN_DEVICE;
  let parsed: Bowser.Parser.ParsedResult;
  try {
    parsed = Bowser.parse(ua);
  } catch {
    return UNKNOWN_DEVICE;
  }
  const browserPart = clean(browserName(parsed.browser.name ?? ""));
  const browser = browserPart ? withMajor(browserPart, parsed.browser.version) : undefined;
  const { type, model } = parsed.platform;
  const handheld = type === "mobile" || type === "tablet" ? clean(model) : undefined;
  const os = handheld ?? clean(parsed.os.name);
  let name: string;
  if (browser && os) name = `${browser} on ${os}`;
  else if (browser) name = browser;
  else if (os) name = `Unknown browser on ${os}`;
  else {
    const product = PRODUCT.exec(ua);
    if (!product) return UNKNOWN_DEVICE;
    name = withMajor(product[1], product[2]);
  }
  return name.slice(0, MAX_NAME);
}

/**
 * Transport facts about the caller that syncs may need: the client's IP address and user agent.
 *
 * The IP is the socket's remote address. With `trustProxy` (TRUST_PROXY=true, only behind a
 * reverse proxy that sets the header), it is the last address of `X-Forwarded-For`: the one our
 * proxy appended, which the client cannot forge (earlier entries can be). One proxy hop is
 * assumed. A value that is not a plausible address is ignored.
 */
import type { Context } from "hono";
import type { AppEnv, HttpConfig } from "./types.ts";

/** The longest user agent passed on; longer ones are cut. */
export const MAX_USER_AGENT = 256;
const MAX_IP = 64;
const IP_SHAPE = /^[0-9A-Fa-f:.]{2,64}$|^[0-9A-Fa-f:.]+%[A-Za-z0-9]{1,16}$/;
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/g;

function plausibleIp(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v && v.length <= MAX_IP && IP_SHAPE.test(v) ? v : undefined;
}

/** The client's IP address, or undefined when unknown (e.g. in `app.request()` tests). */
export function clientIp(c: Context<AppEnv>, config: HttpConfig): string | undefined {
  if (config.trustProxy) {
    const forwarded = c.req.header("x-forwarded-for");
    if (forwarded) {
      const parts = forwarded.split(",");
      const last = plausibleIp(parts[parts.length - 1]);
      if (last) return last;
    }
  }
  const env = c.env as AppEnv["Bindings"] | undefined;
  return plausibleIp(env?.remoteAddr?.hostname);
}

/** The User-Agent header, without control characters, cut to 256 characters. */
export function userAgent(c: Context<AppEnv>): string | undefined {
  const ua = c.req.header("user-agent");
  if (!ua) return undefined;
  const clean = ua.slice(0, MAX_USER_AGENT * 2).replace(CONTROL, "").slice(0, MAX_USER_AGENT);
  return clean === "" ? undefined : clean;
}

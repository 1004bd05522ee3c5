/**
 * `GET /healthz`: 200 `{ "ok": true, "store": ... }` while the store answers, 503
 * `{ "ok": false, "store": ..., "error": "Cannot reach store: ..." }` while it does not. The
 * check itself (a ping with a short timeout) is a dependency; what it throws is not echoed.
 */
import type { Context } from "hono";
import { describeThrown } from "./errors.ts";
import type { AppEnv, StoreKind } from "./types.ts";

/** Answers the health check. */
export async function healthz(
  c: Context<AppEnv>,
  health: () => Promise<boolean>,
  store: StoreKind,
): Promise<Response> {
  let reason: string;
  try {
    if (await health() === true) return c.json({ ok: true, store }, 200);
    reason = "no answer to ping";
  } catch (e) {
    reason = "ping failed";
    c.set("failure", describeThrown(e));
  }
  return c.json({ ok: false, store, error: `Cannot reach store: ${reason}` }, 503);
}

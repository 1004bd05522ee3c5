/**
 * Liveness and readiness.
 *
 * - `GET /livez`: 200 `{ "ok": true }` while the process serves HTTP at all.
 * - `GET /readyz`: 200 `{ "ok": true, "store": ... }` while the store answers reads and takes
 *   writes; 503 `{ "ok": false, "store": ..., "error": "Cannot ...: ..." }` with the reason
 *   while it does not. `GET /healthz` is the same check, kept as an alias.
 *
 * The check itself is a dependency (main.ts passes a ping and a small write, each with a short
 * deadline). It resolves `true` when ready, `false` when the ping got no answer, or a
 * client-safe reason; what it throws is not echoed.
 */
import type { Context } from "hono";
import { describeThrown } from "./errors.ts";
import type { AppEnv, HealthCheck, StoreKind } from "./types.ts";

/** `GET /livez`. */
export function livez(c: Context<AppEnv>): Response {
  return c.json({ ok: true }, 200);
}

/** `GET /readyz` and `GET /healthz`. */
export async function readyz(
  c: Context<AppEnv>,
  health: HealthCheck,
  store: StoreKind,
): Promise<Response> {
  let reason: string;
  try {
    const result = await health();
    if (result === true) return c.json({ ok: true, store }, 200);
    reason = result === false ? "Cannot reach store: no answer to ping" : result.reason;
  } catch (e) {
    reason = "Cannot reach store: ping failed";
    c.set("failure", describeThrown(e));
  }
  return c.json({ ok: false, store, error: reason }, 503);
}

/**
 * ADMIN_USERNAMES applied at start by the composition root: the named users that exist hold the
 * `admin` role, and no one else does (the variable is the list of administrators, read at each
 * start). A name not registered yet is only reported: it is granted at the first start after that
 * user registers, never by the registration itself, so no stranger can become an administrator by
 * signing up under a name the operator listed before its owner did.
 */
import { ConfigError } from "../config.ts";
import { ADMIN_ROLE } from "../syncs/admin.ts";
import type { Concepts } from "./concepts.ts";

export interface AdminsApplied {
  /** Users who hold the role now (ids), in the order of the list. */
  admins: string[];
  /** Listed names with no user yet. */
  missing: string[];
  /** Users whose role was revoked because they are no longer listed (ids). */
  revoked: string[];
}

/** Grants `admin` to the listed users that exist and revokes it from every other holder. */
export async function applyInitialAdmins(
  concepts: Pick<Concepts, "Roles" | "PasswordAuthentication">,
  usernames: readonly string[],
): Promise<AdminsApplied> {
  const { Roles, PasswordAuthentication } = concepts;
  const admins: string[] = [];
  const missing: string[] = [];
  for (const username of usernames) {
    const [normal] = await PasswordAuthentication._normalizeUsername({ username });
    if (!normal || !("username" in normal)) {
      throw new ConfigError("ADMIN_USERNAMES", `has a name that is no valid username: ${username}`);
    }
    const [found] = await PasswordAuthentication._getUserByUsername({ username });
    if (!found) {
      missing.push(normal.username);
      continue;
    }
    if ("error" in found) throw new Error(found.error);
    const granted = await Roles.grant({ user: found.user, role: ADMIN_ROLE });
    if ("error" in granted) throw new Error(granted.error);
    admins.push(found.user);
  }
  const revoked: string[] = [];
  for (const holder of await Roles._getHolders({ role: ADMIN_ROLE })) {
    if ("error" in holder) throw new Error(holder.error);
    if (admins.includes(holder.user)) continue;
    const result = await Roles.revoke({ user: holder.user, role: ADMIN_ROLE });
    if (!("error" in result)) revoked.push(holder.user);
  }
  return { admins, missing, revoked };
}

/**
 * The administrators' constants, one home each: the role that opens the `/api/admin/*` routes
 * (admin.sync.ts) and that ADMIN_USERNAMES grants at start (src/app/initial_admins.ts), their
 * refusals, and the listing's page sizes. (A `.sync.ts` file exports syncs only.)
 */

/** The role that opens the administrator routes. */
export const ADMIN_ROLE = "admin";
/** The answer to a user without the role. */
export const NOT_ADMIN = "Cannot use administrator route: not an administrator";
/** The answer to an administrator whose password check is older than SUDO_TTL. */
export const SUDO_REQUIRED =
  "Cannot use administrator route: re-enter your password first (POST /api/auth/reauthenticate)";
/** Sessions per page unless `limit` says otherwise, and at most. */
export const PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

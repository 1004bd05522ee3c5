/**
 * The Roles concept: which users hold which named roles ("admin"), so that syncs can allow an
 * action only to the holders of a role. Kept in `Roles.grants`, one document per user and role.
 * It knows users only by their ids. The spec is design/concepts/Roles.md.
 */
import type { Collection, Db } from "mongodb";
import type { Empty, ID } from "../../utils/types.ts";
import { isDict, isUserId, USER_RULE } from "../shared.ts";

/** Longest accepted user id (as in Sessioning). */
/** A role name: a lower-case letter, then up to 31 lower-case letters, digits, `_` or `-`. */
const ROLE = /^[a-z][a-z0-9_-]{0,31}$/;

export interface RolesOptions {
  /** The clock; tests inject one. Returns a Date or epoch milliseconds. */
  now?: () => Date | number;
}

/** One grant: `_id` is `<role>:<user>`, so a grant is one idempotent upsert. */
interface GrantDoc {
  _id: string;
  user: ID;
  role: string;
  grantedAt: Date;
}

/** The error messages of the concept, one home each. */
export const Errors = {
  GRANT_USER: `Cannot grant role: ${USER_RULE}`,
  GRANT_ROLE: "Cannot grant role: role must be 1-32 lower-case letters, digits, _ or -",
  REVOKE_USER: `Cannot revoke role: ${USER_RULE}`,
  REVOKE_ROLE: "Cannot revoke role: role must be 1-32 lower-case letters, digits, _ or -",
  REVOKE_NOT_HELD: "Cannot revoke role: the user does not hold it",
  HAS_ROLE_INVALID: "Cannot check role: expected a valid user and role",
  LIST_INVALID: "Cannot list role holders: role must be 1-32 lower-case letters, digits, _ or -",
} as const;

function isRole(x: unknown): x is string {
  return typeof x === "string" && ROLE.test(x);
}

export default class RolesConcept {
  readonly #grants: Collection<GrantDoc>;
  readonly #clock: () => Date | number;
  #indexes?: Promise<void>;

  constructor(db: Db, options: RolesOptions = {}) {
    this.#grants = db.collection<GrantDoc>("Roles.grants");
    this.#clock = options.now ?? (() => Date.now());
  }

  #now(): Date {
    const t = this.#clock();
    return new Date(t instanceof Date ? t.getTime() : t);
  }

  /** The index on `{ role, user }` for listing a role's holders; once per instance. */
  #ready(): Promise<void> {
    this.#indexes ??= this.#grants.createIndex({ role: 1, user: 1 }, { name: "role_user" })
      .then(() => {})
      .catch((e) => {
        this.#indexes = undefined;
        throw e;
      });
    return this.#indexes;
  }

  /**
   * grant (user: User, role: String): (granted: Boolean)
   *
   * requires: `user` is a non-empty string of at most 128 characters; `role` is 1-32 lower-case
   *   letters, digits, `_` or `-`, starting with a letter.
   * effects: makes `user` a holder of `role`; returns whether that is new (`false` when the user
   *   already held it, which changes nothing: granting is idempotent).
   * errors: `Errors.GRANT_USER`, `Errors.GRANT_ROLE`.
   */
  async grant(
    input: { user: ID; role: string },
  ): Promise<{ granted: boolean } | { error: string }> {
    if (!isDict(input) || !isUserId(input.user)) return { error: Errors.GRANT_USER };
    if (!isRole(input.role)) return { error: Errors.GRANT_ROLE };
    const { user, role } = input;
    await this.#ready();
    const { upsertedCount } = await this.#grants.updateOne(
      { _id: `${role}:${user}` },
      { $setOnInsert: { user, role, grantedAt: this.#now() } },
      { upsert: true },
    ).catch((e) => {
      // Two grants racing on the same new document: the other one made it.
      if ((e as { code?: unknown })?.code === 11000) return { upsertedCount: 0 };
      throw e;
    });
    return { granted: upsertedCount === 1 };
  }

  /**
   * revoke (user: User, role: String): ()
   *
   * requires: `user` and `role` are valid (as for grant) and `user` holds `role`.
   * effects: `user` no longer holds `role`.
   * errors: `Errors.REVOKE_USER`, `Errors.REVOKE_ROLE`, `Errors.REVOKE_NOT_HELD`.
   */
  async revoke(input: { user: ID; role: string }): Promise<Empty | { error: string }> {
    if (!isDict(input) || !isUserId(input.user)) return { error: Errors.REVOKE_USER };
    if (!isRole(input.role)) return { error: Errors.REVOKE_ROLE };
    const { deletedCount } = await this.#grants.deleteOne({ _id: `${input.role}:${input.user}` });
    return deletedCount === 1 ? {} : { error: Errors.REVOKE_NOT_HELD };
  }

  /**
   * _hasRole (user: User, role: String): (hasRole: Boolean)
   *
   * Whether `user` holds `role`: always one result. `[{ error }]` for a malformed user or role.
   */
  async _hasRole(
    input: { user: ID; role: string },
  ): Promise<Array<{ hasRole: boolean } | { error: string }>> {
    if (!isDict(input) || !isUserId(input.user) || !isRole(input.role)) {
      return [{ error: Errors.HAS_ROLE_INVALID }];
    }
    const doc = await this.#grants.findOne(
      { _id: `${input.role}:${input.user}` },
      { projection: { _id: 1 } },
    );
    return [{ hasRole: doc !== null }];
  }

  /**
   * _getHolders (role: String): (user: User, grantedAt: Date)
   *
   * The holders of `role`, earliest grant first (ties by user); `[]` when none.
   * `[{ error }]` for a malformed role.
   */
  async _getHolders(
    input: { role: string },
  ): Promise<Array<{ user: ID; grantedAt: Date } | { error: string }>> {
    if (!isDict(input) || !isRole(input.role)) return [{ error: Errors.LIST_INVALID }];
    await this.#ready();
    const docs = await this.#grants.find({ role: input.role }).sort({ grantedAt: 1, user: 1 })
      .toArray();
    return docs.map((d) => ({ user: d.user, grantedAt: d.grantedAt }));
  }
}

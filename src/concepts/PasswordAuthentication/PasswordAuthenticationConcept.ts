/**
 * The PasswordAuthentication concept: users proved by a username and a password. Usernames are
 * normalised and unique; passwords are kept only as Argon2id hashes in
 * `PasswordAuthentication.users`, upgraded on login when the hashing parameters change. The spec
 * is design/concepts/PasswordAuthentication.md.
 */
import type { Collection, Db } from "mongodb";
import { freshID, randomBase64Url } from "../../utils/ids.ts";
import type { Empty, ID } from "../../utils/types.ts";
import {
  normalizePassword,
  normalizeUsername,
  PASSWORD_MAX,
  PASSWORD_MIN,
  passwordMeetsPolicy,
  USERNAME_MAX,
  USERNAME_MIN,
} from "./credentials.ts";
import {
  argon2Hasher,
  type Argon2Params,
  checkParams,
  needsRehash,
  OWASP_ARGON2ID,
  type PasswordHasher,
} from "./hashing.ts";
import {
  findOneDocument,
  isDict,
  isDuplicateKey,
  isUserId,
  nowFrom,
  once,
  USER_RULE,
} from "../shared.ts";

export { type Argon2Params, OWASP_ARGON2ID, type PasswordHasher } from "./hashing.ts";

const USERNAME_RULE =
  `username must be ${USERNAME_MIN}-${USERNAME_MAX} letters, digits, marks or . _ - @, ` +
  "starting with a letter or digit";
const PASSWORD_RULE = `password must be ${PASSWORD_MIN}-${PASSWORD_MAX} characters`;

/**
 * Every error text the concept returns. Callers tell errors apart by their `kind` (see
 * `ErrorKind`), never by these texts.
 */
export const Errors = Object.freeze({
  REGISTER_MALFORMED: "Cannot register: expected { username, password } strings",
  REGISTER_INVALID_USERNAME: `Cannot register: ${USERNAME_RULE}`,
  REGISTER_INVALID_PASSWORD: `Cannot register: ${PASSWORD_RULE}`,
  REGISTER_TAKEN: "Cannot register: username taken",
  REGISTER_INVALID_USER: `Cannot register: ${USER_RULE}`,
  REGISTER_USER_TAKEN: "Cannot register: user id already in use",
  AUTHENTICATE_MALFORMED: "Cannot authenticate: expected { username, password } strings",
  AUTHENTICATE_INVALID: "Cannot authenticate: invalid username or password",
  CHANGE_MALFORMED:
    "Cannot change password: expected { user, currentPassword, newPassword } strings",
  CHANGE_INVALID_USER: `Cannot change password: ${USER_RULE}`,
  CHANGE_INVALID_NEW_PASSWORD: `Cannot change password: new ${PASSWORD_RULE}`,
  CHANGE_WRONG_PASSWORD: "Cannot change password: incorrect current password",
  CHANGE_NO_USER: "Cannot change password: no such user",
  GET_USERNAME_INVALID: `Cannot get username: ${USER_RULE}`,
  GET_USER_INVALID: `Cannot get user by username: ${USERNAME_RULE}`,
  NORMALIZE_INVALID: `Cannot normalize username: ${USERNAME_RULE}`,
});

/**
 * The kind of each error of `register`, `authenticate` and `changePassword`, returned beside its
 * text as `kind`, so that a caller can tell them apart without reading the text: `taken` (the
 * username is someone's), `bad_credentials` (wrong username or password), `invalid` (anything
 * else: input that breaks a requirement).
 */
export type ErrorKind = "invalid" | "taken" | "bad_credentials";

/** An error of `register`, `authenticate` or `changePassword`. */
export type KindedError = { error: string; kind: ErrorKind };

function fail(error: string): KindedError {
  const kind: ErrorKind = error === Errors.REGISTER_TAKEN
    ? "taken"
    : error === Errors.AUTHENTICATE_INVALID || error === Errors.CHANGE_WRONG_PASSWORD
    ? "bad_credentials"
    : "invalid";
  return { error, kind };
}

export interface PasswordAuthenticationOptions {
  /** The clock; tests inject one. Returns a Date or epoch milliseconds. */
  now?: () => Date | number;
  /** Argon2id parameters for new hashes; default OWASP's (19456 KiB, 2 iterations, 1 lane). */
  argon2?: Argon2Params;
  /** Makes and checks hashes; default Argon2id through `@node-rs/argon2`. Tests inject one. */
  hasher?: PasswordHasher;
}

/** One stored user. `_id` is the user id; `hash` is an Argon2id PHC string. */
interface UserDoc {
  _id: ID;
  username: string;
  hash: string;
  createdAt: Date;
  passwordChangedAt: Date;
}

type Input = Record<string, unknown>;

/** How many usernames `_getUsername` remembers (about 100 bytes each). */
const USERNAME_MEMO = 10_000;

export default class PasswordAuthenticationConcept {
  readonly #db: Db;
  readonly #users: Collection<UserDoc>;
  readonly #clock: () => Date | number;
  readonly #params: Argon2Params;
  readonly #hasher: PasswordHasher;
  #dummy?: Promise<string>;
  /**
   * Users and usernames the queries read, both ways (at most `USERNAME_MEMO` pairs, oldest
   * dropped first). Sound because a user's username never changes and no user is ever removed:
   * this concept has no rename and no delete. Adding either means dropping this memo (every node
   * holds one). An unknown user or username is never remembered.
   */
  readonly #usernames = new Map<ID, string>();
  readonly #usersByName = new Map<string, ID>();

  constructor(db: Db, options: PasswordAuthenticationOptions = {}) {
    this.#db = db;
    this.#users = db.collection<UserDoc>("PasswordAuthentication.users");
    this.#clock = options.now ?? (() => Date.now());
    this.#params = checkParams(options.argon2 ?? OWASP_ARGON2ID);
    this.#hasher = options.hasher ?? argon2Hasher;
  }

  /**
   * Creates the unique index on `username` once per instance; every action and query awaits it.
   * Idempotent on the server; a failure is retried by the next call.
   */
  readonly #ready = once(async () => {
    await this.#users.createIndex({ username: 1 }, { name: "username_unique", unique: true });
  });

  #now(): Date {
    return nowFrom(this.#clock);
  }

  /**
   * A hash of a random password made once per instance with the current parameters. An unknown
   * username is checked against it, so that it costs what a wrong password costs.
   */
  #dummyHash(): Promise<string> {
    this.#dummy ??= this.#hasher.hash(randomBase64Url(24), this.#params).catch((e) => {
      this.#dummy = undefined;
      throw e;
    });
    return this.#dummy;
  }

  /**
   * register (username: String, password: String, user?: User): (user: User)
   *
   * requires: `username` normalises (NFKC, lower case, NFKC) to 3-64 letters, marks, digits or
   *   `.` `_` `-` `@`, starting with a letter or digit; no user has that normalised username;
   *   `password` is 8-256 characters (code points, after NFKC).
   * effects: creates a user with the given id (or a fresh one), the normalised username and an
   *   Argon2id hash of the password (current parameters); returns the id. Of concurrent
   *   registrations of one username exactly one succeeds (a unique index decides). A caller
   *   that must prepare other state first (a session for the new user, so that the account is
   *   the last thing written) chooses the id and passes it as `user`.
   * errors: `Errors.REGISTER_MALFORMED` (not strings), `Errors.REGISTER_INVALID_USERNAME`,
   *   `Errors.REGISTER_INVALID_PASSWORD`, `Errors.REGISTER_TAKEN` ("Cannot register: username
   *   taken"), `Errors.REGISTER_INVALID_USER` (a `user` that is not a 1-128 character string),
   *   `Errors.REGISTER_USER_TAKEN` (a `user` id some user already has). Each with its `kind`:
   *   `taken` for `REGISTER_TAKEN`, `invalid` for the others.
   */
  async register(
    input: { username: string; password: string; user?: ID },
  ): Promise<{ user: ID } | KindedError> {
    if (
      !isDict(input) || typeof input.username !== "string" || typeof input.password !== "string"
    ) {
      return fail(Errors.REGISTER_MALFORMED);
    }
    const username = normalizeUsername(input.username);
    if (username === undefined) return fail(Errors.REGISTER_INVALID_USERNAME);
    const password = normalizePassword(input.password);
    if (password === undefined || !passwordMeetsPolicy(password)) {
      return fail(Errors.REGISTER_INVALID_PASSWORD);
    }
    const chosen = input.user;
    if (chosen !== undefined && !isUserId(chosen)) return fail(Errors.REGISTER_INVALID_USER);
    await this.#ready();
    // Saves a costly hash when the name is plainly taken; the unique index is what decides.
    if (await this.#users.findOne({ username }, { projection: { _id: 1 } })) {
      return fail(Errors.REGISTER_TAKEN);
    }
    const hash = await this.#hasher.hash(password, this.#params);
    const now = this.#now();
    for (let attempt = 0;; attempt++) {
      const user = chosen ?? freshID();
      try {
        await this.#users.insertOne({
          _id: user,
          username,
          hash,
          createdAt: now,
          passwordChangedAt: now,
        });
        return { user };
      } catch (e) {
        if (!isDuplicateKey(e)) throw e;
        // The name was taken meanwhile, or (next to impossible) the random id collided.
        if (await this.#users.findOne({ username }, { projection: { _id: 1 } })) {
          return fail(Errors.REGISTER_TAKEN);
        }
        if (chosen !== undefined) return fail(Errors.REGISTER_USER_TAKEN);
        if (attempt >= 2) throw e;
      }
    }
  }

  /**
   * authenticate (username: String, password: String): (user: User)
   *
   * requires: a user with that (normalised) username whose password is `password`.
   * effects: returns the user. When the stored hash was made with other parameters than the
   *   current ones, replaces it with a hash made with the current ones (only if it has not changed
   *   meanwhile). An unknown username is checked against a dummy hash, so it costs what a wrong
   *   password costs, and gets the same error. A username or password that cannot be valid (bad
   *   shape, too long) is refused with that error at once, without a query or a hash.
   * errors: `Errors.AUTHENTICATE_MALFORMED` (not strings); `Errors.AUTHENTICATE_INVALID`
   *   ("Cannot authenticate: invalid username or password") for every other failure. Kinds:
   *   `bad_credentials` for `AUTHENTICATE_INVALID`, `invalid` for `AUTHENTICATE_MALFORMED`.
   */
  async authenticate(
    input: { username: string; password: string },
  ): Promise<{ user: ID } | KindedError> {
    if (
      !isDict(input) || typeof input.username !== "string" || typeof input.password !== "string"
    ) {
      return fail(Errors.AUTHENTICATE_MALFORMED);
    }
    const invalid = fail(Errors.AUTHENTICATE_INVALID);
    const username = normalizeUsername(input.username);
    const password = normalizePassword(input.password);
    // No length minimum here: a policy raised later must not lock out older passwords.
    if (username === undefined || password === undefined || password === "") return invalid;
    await this.#ready();
    // The whole record (small): the store answers a whole-document lookup by a unique key from
    // its index, a projection through its general path.
    const doc = await findOneDocument(this.#db, this.#users, { username });
    if (!doc) {
      await this.#hasher.verify(await this.#dummyHash(), password);
      return invalid;
    }
    if (!(await this.#hasher.verify(doc.hash, password))) return invalid;
    if (needsRehash(doc.hash, this.#params)) {
      const hash = await this.#hasher.hash(password, this.#params);
      // Conditional on the old hash: a password changed meanwhile is never overwritten.
      await this.#users.updateOne({ _id: doc._id, hash: doc.hash }, { $set: { hash } });
    }
    return { user: doc._id };
  }

  /**
   * changePassword (user: User, currentPassword: String, newPassword: String): ()
   *
   * requires: `user` exists and `currentPassword` is its password; `newPassword` is 8-256
   *   characters (code points, after NFKC).
   * effects: replaces the user's hash with an Argon2id hash of `newPassword` (current parameters)
   *   and sets `passwordChangedAt` to now. The update is conditional on the hash that was
   *   verified, so of two concurrent changes from one current password exactly one wins.
   * errors: `Errors.CHANGE_MALFORMED` (not strings), `Errors.CHANGE_INVALID_USER`,
   *   `Errors.CHANGE_INVALID_NEW_PASSWORD`, `Errors.CHANGE_NO_USER`,
   *   `Errors.CHANGE_WRONG_PASSWORD` ("Cannot change password: incorrect current password").
   *   Kinds: `bad_credentials` for `CHANGE_WRONG_PASSWORD`, `invalid` for the others.
   */
  async changePassword(
    input: { user: ID; currentPassword: string; newPassword: string },
  ): Promise<Empty | KindedError> {
    if (
      !isDict(input) || typeof input.currentPassword !== "string" ||
      typeof input.newPassword !== "string"
    ) {
      return fail(Errors.CHANGE_MALFORMED);
    }
    const { user } = input;
    if (!isUserId(user)) return fail(Errors.CHANGE_INVALID_USER);
    const newPassword = normalizePassword(input.newPassword);
    if (newPassword === undefined || !passwordMeetsPolicy(newPassword)) {
      return fail(Errors.CHANGE_INVALID_NEW_PASSWORD);
    }
    const current = normalizePassword(input.currentPassword);
    if (current === undefined || current === "") return fail(Errors.CHANGE_WRONG_PASSWORD);
    await this.#ready();
    for (let attempt = 0;; attempt++) {
      const doc = await this.#users.findOne({ _id: user }, { projection: { hash: 1 } });
      if (!doc) return fail(Errors.CHANGE_NO_USER);
      if (!(await this.#hasher.verify(doc.hash, current))) {
        return fail(Errors.CHANGE_WRONG_PASSWORD);
      }
      const hash = await this.#hasher.hash(newPassword, this.#params);
      const { matchedCount } = await this.#users.updateOne(
        { _id: user, hash: doc.hash },
        { $set: { hash, passwordChangedAt: this.#now() } },
      );
      if (matchedCount === 1) return {};
      // The hash changed meanwhile: another change (then the current password is now wrong) or a
      // rehash on login (then it still verifies). Look again, a bounded number of times.
      if (attempt >= 2) return fail(Errors.CHANGE_WRONG_PASSWORD);
    }
  }

  /**
   * _normalizeUsername (username: String): (username: String)
   *
   * The form a username is stored and compared in (NFKC, case-folded), for callers that key
   * something by username (login throttling) without reading the store. `[{ error }]` for a
   * value that is no valid username.
   */
  _normalizeUsername(input: { username: string }): Promise<
    Array<{ username: string } | { error: string }>
  > {
    const username = isDict(input) ? normalizeUsername(input.username) : undefined;
    return Promise.resolve(
      username === undefined ? [{ error: Errors.NORMALIZE_INVALID }] : [{ username }],
    );
  }

  /**
   * _getUsername (user: User): (username: String)
   *
   * The user's normalised username: `[{ username }]`, or `[]` for an unknown user;
   * `[{ error }]` for a malformed user id. A username read once is remembered (it never changes):
   * one store read per user and process, not per call (and `_getUserByUsername` shares the memo).
   */
  async _getUsername(
    input: { user: ID },
  ): Promise<Array<{ username: string } | { error: string }>> {
    if (!isDict(input) || !isUserId(input.user)) return [{ error: Errors.GET_USERNAME_INVALID }];
    const known = this.#usernames.get(input.user);
    if (known !== undefined) return [{ username: known }];
    await this.#ready();
    const doc = await findOneDocument(this.#db, this.#users, { _id: input.user }, { username: 1 });
    if (!doc) return [];
    this.#remember(doc._id, doc.username);
    return [{ username: doc.username }];
  }

  /** Remembers that `user` is called `username` (see `#usernames`). */
  #remember(user: ID, username: string): void {
    if (this.#usernames.has(user)) return;
    if (this.#usernames.size >= USERNAME_MEMO) {
      const [oldUser, oldName] = this.#usernames.entries().next().value as [ID, string];
      this.#usernames.delete(oldUser);
      this.#usersByName.delete(oldName);
    }
    this.#usernames.set(user, username);
    this.#usersByName.set(username, user);
  }

  /**
   * _getUserByUsername (username: String): (user: User)
   *
   * The user with that username (normalised first, so "Alice" finds "alice"): `[{ user }]`, or
   * `[]` when there is none; `[{ error }]` for a value that is not a valid username.
   */
  async _getUserByUsername(
    input: { username: string },
  ): Promise<Array<{ user: ID } | { error: string }>> {
    const username = isDict(input) ? normalizeUsername(input.username) : undefined;
    if (username === undefined) return [{ error: Errors.GET_USER_INVALID }];
    const known = this.#usersByName.get(username);
    if (known !== undefined) return [{ user: known }];
    await this.#ready();
    const doc = await findOneDocument(this.#db, this.#users, { username }, { _id: 1, username: 1 });
    if (!doc) return [];
    this.#remember(doc._id, doc.username);
    return [{ user: doc._id }];
  }
}

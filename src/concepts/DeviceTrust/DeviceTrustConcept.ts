/**
 * The DeviceTrust concept: recognises a client (a browser, an app) that has proved a user before,
 * by the long-lived device token `<id>.<secret>` it was given then. Only the SHA-256 of the secret
 * is kept, in `DeviceTrust.devices`. The login syncs use it for OWASP's "device cookies": a known
 * device is throttled on its own, so strangers guessing a user's password cannot lock the user
 * out of the browsers they have used before. The spec is design/concepts/DeviceTrust.md.
 */
import type { Collection, Db } from "mongodb";
import type { ID } from "../../utils/types.ts";
import { hashSecret, newToken, parseToken, secretMatches } from "../../utils/token.ts";
import { findOneDocument, integerOption, isDict, isUserId, once, USER_RULE } from "../shared.ts";

const DAY = 24 * 60 * 60 * 1000;

export interface DeviceTrustOptions {
  /** The clock; tests inject one. Returns a Date or epoch milliseconds. */
  now?: () => Date | number;
  /** How long a device stays known after it was last issued or renewed; default 180 days. */
  ttlMs?: number;
  /** Most devices kept per user; issuing one more forgets the least recently renewed. Default 20. */
  maxPerUser?: number;
}

/** One known device. `_id` is the public id; `hash` is hex(SHA-256(secret)). */
interface DeviceDoc {
  _id: string;
  user: ID;
  hash: string;
  createdAt: Date;
  renewedAt: Date;
  expiresAt: Date;
}

export default class DeviceTrustConcept {
  readonly #db: Db;
  readonly #devices: Collection<DeviceDoc>;
  readonly #clock: () => Date | number;
  readonly #ttlMs: number;
  readonly #maxPerUser: number;

  constructor(db: Db, options: DeviceTrustOptions = {}) {
    this.#db = db;
    this.#devices = db.collection<DeviceDoc>("DeviceTrust.devices");
    this.#clock = options.now ?? (() => Date.now());
    this.#ttlMs = integerOption("DeviceTrust", "ttlMs", options.ttlMs, 180 * DAY);
    this.#maxPerUser = integerOption("DeviceTrust", "maxPerUser", options.maxPerUser, 20);
  }

  /** Creates the indexes (`user`, and the TTL index on `expiresAt`) once per instance. */
  readonly #ready = once(async () => {
    await this.#devices.createIndex({ user: 1 }, { name: "user_1" });
    await this.#devices.createIndex(
      { expiresAt: 1 },
      { name: "expiresAt_ttl", expireAfterSeconds: 0 },
    );
  });

  #now(): Date {
    const t = this.#clock();
    return new Date(t instanceof Date ? t.getTime() : t);
  }

  /**
   * issue (user: User, deviceToken?: String): (deviceToken: String, expiresAt: Date)
   *
   * requires: `user` is a non-empty string of at most 128 characters. `deviceToken` may be
   *   anything: one that is not a live device of `user` is ignored.
   * effects: when `deviceToken` is a live device of `user`, renews it: a fresh secret (the old
   *   token stops working at once: one conditional update on the old hash) and expiry now + TTL;
   *   the public id is kept. Otherwise stores a new device of `user` (fresh id and secret,
   *   expiring now + TTL) and, if `user` then has more than `maxPerUser` devices, forgets the
   *   least recently renewed ones. Returns the token and when it expires.
   * errors: `Cannot issue device: user must be ...`.
   */
  async issue(
    input: { user: ID; deviceToken?: string },
  ): Promise<{ deviceToken: string; expiresAt: Date } | { error: string }> {
    if (!isDict(input) || !isUserId(input.user)) {
      return { error: `Cannot issue device: ${USER_RULE}` };
    }
    const { user } = input;
    const now = this.#now();
    const expiresAt = new Date(now.getTime() + this.#ttlMs);
    await this.#ready();
    const presented = parseToken(input.deviceToken);
    if (presented) {
      const { token, hash } = newToken(presented.id);
      // Equality on the hash of a 256-bit secret leaks nothing worth timing.
      const { matchedCount } = await this.#devices.updateOne(
        { _id: presented.id, user, hash: hashSecret(presented.secret), expiresAt: { $gt: now } },
        { $set: { hash, renewedAt: now, expiresAt } },
      );
      if (matchedCount === 1) return { deviceToken: token, expiresAt };
    }
    for (let attempt = 0;; attempt++) {
      const { id, token, hash } = newToken();
      try {
        await this.#devices.insertOne({
          _id: id,
          user,
          hash,
          createdAt: now,
          renewedAt: now,
          expiresAt,
        });
      } catch (e) {
        // A duplicate of a 128-bit random id is next to impossible; retry a couple of times.
        if ((e as { code?: number }).code === 11000 && attempt < 2) continue;
        throw e;
      }
      await this.#forgetBeyondLimit(user);
      return { deviceToken: token, expiresAt };
    }
  }

  /** Keeps the user's `maxPerUser` most recently renewed devices, forgetting the rest. */
  async #forgetBeyondLimit(user: ID): Promise<void> {
    const extra = await this.#devices
      .find({ user }, { projection: { _id: 1 } })
      .sort({ renewedAt: -1, _id: 1 })
      .skip(this.#maxPerUser)
      .toArray();
    if (extra.length === 0) return;
    await this.#devices.deleteMany({ _id: { $in: extra.map((d) => d._id) }, user });
  }

  /**
   * _recognize (deviceToken: String): (device: String, user: User)
   *
   * The device a token names and the user it proved: `[{ device, user }]` (`device` is the
   * public id) when the token is a live device's; `[]` for anything else (malformed, unknown id,
   * wrong secret, expired), one answer for all. One `findOne` by `_id` and one hash, compared in
   * constant time.
   */
  async _recognize(
    input: { deviceToken: string },
  ): Promise<Array<{ device: string; user: ID }>> {
    const parsed = isDict(input) ? parseToken(input.deviceToken) : undefined;
    if (!parsed) return [];
    await this.#ready();
    const doc = await findOneDocument(this.#db, this.#devices, { _id: parsed.id });
    if (!doc || !secretMatches(parsed.secret, doc.hash)) return [];
    if (!(doc.expiresAt instanceof Date) || doc.expiresAt.getTime() <= this.#now().getTime()) {
      return [];
    }
    return [{ device: doc._id, user: doc.user }];
  }
}

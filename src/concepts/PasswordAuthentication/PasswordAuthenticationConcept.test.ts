/**
 * Tests of the PasswordAuthentication concept: the principle as a trace, each action's requires
 * and effects (seen through the queries and the raw collection), username normalisation, the
 * password policy, hash upgrades, races, junk inputs, and that no plaintext password is stored.
 * Most tests hash with weak Argon2id parameters to stay fast; one uses OWASP's. Each test has a
 * database of its own, so the file runs with --parallel.
 */
import assert from "node:assert/strict";
import type { Db, MongoClient } from "mongodb";
import { testDb } from "../../../tests/support/test_db.ts";
import type { ID } from "../../utils/types.ts";
import PasswordAuthenticationConcept, {
  type Argon2Params,
  Errors,
  OWASP_ARGON2ID,
  type PasswordAuthenticationOptions,
  type PasswordHasher,
} from "./PasswordAuthenticationConcept.ts";
import { normalizeUsername } from "./credentials.ts";
import { argon2Hasher, parsePhc } from "./hashing.ts";

const T0 = Date.UTC(2100, 0, 1);
const WEAK: Argon2Params = { memoryCost: 256, timeCost: 1, parallelism: 1 };
const WEAKER: Argon2Params = { memoryCost: 128, timeCost: 1, parallelism: 1 };
const PW = "correct horse battery";
const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

/** The real hasher, with its calls recorded. */
class CountingHasher implements PasswordHasher {
  hashes: Argon2Params[] = [];
  verified: string[] = [];
  hash(password: string, params: Argon2Params): Promise<string> {
    this.hashes.push(params);
    return argon2Hasher.hash(password, params);
  }
  verify(phc: string, password: string): Promise<boolean> {
    this.verified.push(phc);
    return argon2Hasher.verify(phc, password);
  }
}

interface Ctx {
  c: PasswordAuthenticationConcept;
  db: Db;
  client: MongoClient;
  clock: { t: number };
  hasher: CountingHasher;
  /** A concept on the same database with other options (same clock and hasher). */
  other(options: PasswordAuthenticationOptions): PasswordAuthenticationConcept;
}

async function withConcept(
  fn: (ctx: Ctx) => Promise<void>,
  options: PasswordAuthenticationOptions = {},
) {
  const [db, client] = await testDb();
  try {
    const clock = { t: T0 };
    const hasher = new CountingHasher();
    const make = (o: PasswordAuthenticationOptions) =>
      new PasswordAuthenticationConcept(db, {
        now: () => new Date(clock.t),
        argon2: WEAK,
        hasher,
        ...o,
      });
    await fn({ c: make(options), db, client, clock, hasher, other: make });
  } finally {
    await client.close();
  }
}

function ok<T extends object>(
  result: T | { error: string; kind?: string },
): Exclude<T, { error: string }> {
  if ("error" in result) assert.fail(`unexpected error: ${result.error}`);
  return result as Exclude<T, { error: string }>;
}

async function newUser(c: PasswordAuthenticationConcept, username = "alice", password = PW) {
  return ok(await c.register({ username, password })).user;
}

/** Every document of every collection of the database, as JSON. */
async function dump(db: Db): Promise<string> {
  const out: unknown[] = [];
  for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray()) {
    out.push(name, await db.collection(name).find({}).toArray());
  }
  return JSON.stringify(out);
}

function rawUsers(db: Db) {
  return db.collection<{ _id: string; username: string; hash: string }>(
    "PasswordAuthentication.users",
  );
}

const INVALID = { error: Errors.AUTHENTICATE_INVALID, kind: "bad_credentials" };
const TAKEN = { error: Errors.REGISTER_TAKEN, kind: "taken" };

Deno.test("principle: a registered user is authenticated by their username and password only", () =>
  withConcept(async ({ c }) => {
    // A user registers with a username and a password.
    const { user } = ok(await c.register({ username: "Alice", password: PW }));
    // Later, the same username and password authenticate them as that user.
    assert.deepEqual(await c.authenticate({ username: "alice", password: PW }), { user });
    // Another password does not.
    assert.deepEqual(await c.authenticate({ username: "alice", password: "wrong password" }), {
      ...INVALID,
    });
    // Nor does the password under another username.
    assert.deepEqual(await c.authenticate({ username: "bob", password: PW }), INVALID);
    assert.deepEqual(await c._getUsername({ user }), [{ username: "alice" }]);
    assert.deepEqual(await c._getUserByUsername({ username: "ALICE" }), [{ user }]);
  }));

Deno.test("register() stores the normalised username, an Argon2id hash and the dates", () =>
  withConcept(async ({ c, db }) => {
    const user = await newUser(c, "Ｊｏｓé.Ｄ-ø_1@x");
    assert.equal(typeof user, "string");
    assert.match(user, /^[A-Za-z0-9_-]{22}$/);
    assert.deepEqual(await c._getUsername({ user }), [{ username: "josé.d-ø_1@x" }]);
    const docs = await rawUsers(db).find({}).toArray();
    assert.equal(docs.length, 1);
    const { hash, ...rest } = docs[0];
    assert.deepEqual(rest, {
      _id: user,
      username: "josé.d-ø_1@x",
      createdAt: new Date(T0),
      passwordChangedAt: new Date(T0),
    });
    assert.match(hash, PHC);
    assert.deepEqual(parsePhc(hash)?.params, WEAK);
  }));

Deno.test("register() gives each user a different id and salt", () =>
  withConcept(async ({ c, db }) => {
    const a = await newUser(c, "alice");
    const b = await newUser(c, "bob");
    assert.notEqual(a, b);
    const hashes = (await rawUsers(db).find({}).toArray()).map((d) => d.hash);
    assert.equal(hashes.length, 2);
    assert.notEqual(hashes[0], hashes[1]);
  }));

Deno.test("register() with a chosen user id uses it, and refuses a bad or used one", () =>
  withConcept(async ({ c, db }) => {
    assert.deepEqual(await c.register({ username: "dana", password: PW, user: "chosen-1" as ID }), {
      user: "chosen-1",
    });
    assert.deepEqual(await c._getUsername({ user: "chosen-1" as ID }), [{ username: "dana" }]);
    assert.deepEqual(
      await c.register({ username: "erin", password: PW, user: "chosen-1" as ID }),
      { error: Errors.REGISTER_USER_TAKEN, kind: "invalid" },
    );
    for (const user of ["", "x".repeat(129), 7, { $ne: null }]) {
      assert.deepEqual(
        await c.register({ username: "erin", password: PW, user: user as unknown as ID }),
        { error: Errors.REGISTER_INVALID_USER, kind: "invalid" },
      );
    }
    assert.equal(await rawUsers(db).countDocuments(), 1);
  }));

Deno.test("_getUsername() remembers a username it read, never an unknown user", () =>
  withConcept(async ({ c, db }) => {
    // A registration that chose its id after a lookup missed is still found (no negative memo).
    assert.deepEqual(await c._getUsername({ user: "later-1" as ID }), []);
    await c.register({ username: "fern", password: PW, user: "later-1" as ID });
    assert.deepEqual(await c._getUsername({ user: "later-1" as ID }), [{ username: "fern" }]);
    // Read once, remembered: answered even with the record gone from under the concept (which
    // this concept never does itself: it has no delete).
    await rawUsers(db).deleteOne({ _id: "later-1" as ID });
    assert.deepEqual(await c._getUsername({ user: "later-1" as ID }), [{ username: "fern" }]);
    // The other way too, for any spelling of the name; an unknown name is not remembered.
    assert.deepEqual(await c._getUserByUsername({ username: "FERN" }), [{ user: "later-1" }]);
    assert.deepEqual(await c._getUserByUsername({ username: "gail" }), []);
    await c.register({ username: "gail", password: PW, user: "later-2" as ID });
    assert.deepEqual(await c._getUserByUsername({ username: "gail" }), [{ user: "later-2" }]);
  }));

Deno.test("register() refuses a username taken in any case or width", () =>
  withConcept(async ({ c, db, hasher }) => {
    const alice = await newUser(c, "alice");
    for (const username of ["alice", "ALICE", "Alice", "ａｌｉｃｅ", "ＡＬＩＣＥ"]) {
      assert.deepEqual(await c.register({ username, password: "other password" }), TAKEN);
    }
    assert.equal(hasher.hashes.length, 1, "a plainly taken name costs no hash");
    assert.equal(await rawUsers(db).countDocuments(), 1);
    assert.deepEqual(await c._getUserByUsername({ username: "alice" }), [{ user: alice }]);
    assert.deepEqual(await c.authenticate({ username: "alice", password: PW }), { user: alice });
  }));

Deno.test("register() of one name by many at once: exactly one wins, the others get 'taken'", () =>
  withConcept(async ({ c, db }) => {
    const results = await Promise.all(
      ["carol", "Carol", "CAROL", "carol", "ｃａｒｏｌ"].map((username, i) =>
        c.register({ username, password: `password number ${i}` })
      ),
    );
    const winners = results.filter((r) => "user" in r) as { user: ID }[];
    assert.equal(winners.length, 1);
    assert.deepEqual(results.filter((r) => "error" in r), Array(4).fill(TAKEN));
    assert.equal(await rawUsers(db).countDocuments(), 1);
    assert.deepEqual(await c._getUserByUsername({ username: "carol" }), [{
      user: winners[0].user,
    }]);
  }));

Deno.test("register() of one name through two instances at once: the unique index decides", () =>
  withConcept(async ({ c, other, db }) => {
    const d = other({});
    // Both may pass the pre-check before either inserts; then only the index refuses the second.
    const results = await Promise.all([
      c.register({ username: "dave", password: PW }),
      d.register({ username: "dave", password: PW }),
    ]);
    assert.equal(results.filter((r) => "user" in r).length, 1);
    assert.deepEqual(results.filter((r) => "error" in r), [TAKEN]);
    assert.equal(await rawUsers(db).countDocuments({ username: "dave" }), 1);
  }));

Deno.test("register() accepts usernames at the bounds and in any script", () =>
  withConcept(async ({ c }) => {
    const names: [string, string][] = [
      ["abc", "abc"],
      ["a".repeat(64), "a".repeat(64)],
      ["用户名", "用户名"],
      ["Ωμέγα", "ωμέγα"],
      ["e\u0301cole", "école"], // composed by NFKC
      ["ﬁsh", "fish"], // the ligature is expanded by NFKC
      ["①②③", "123"],
      ["a.b_c-d@e", "a.b_c-d@e"],
      ["7even", "7even"],
    ];
    for (const [raw, normalised] of names) {
      const user = await newUser(c, raw);
      assert.deepEqual(await c._getUsername({ user }), [{ username: normalised }], raw);
      assert.equal(normalizeUsername(raw), normalised);
    }
  }));

Deno.test("register() refuses usernames that are too short, too long or hold other characters", () =>
  withConcept(async ({ c, db }) => {
    const bad = [
      "",
      "ab",
      "a\u0301b", // two code points after NFKC ("áb")
      "a".repeat(65),
      "é".repeat(65),
      "a".repeat(257),
      " alice",
      "alice ",
      "al ice",
      "al\tice",
      "al\u00a0ice", // NFKC makes it a plain space
      "al\u0000ice",
      "al\u007fice",
      "al\u200bice", // zero-width space
      "al\u202eice", // right-to-left override
      "al\ud800ice", // lone surrogate
      ".alice",
      "_alice",
      "-alice",
      "@alice",
      "\u0301alice",
      "al$ice",
      "al/ice",
      "al:ice",
      "al+ice",
      "al😀ice",
      "al\nice",
    ];
    for (const username of bad) {
      assert.deepEqual(
        await c.register({ username, password: PW }),
        { error: Errors.REGISTER_INVALID_USERNAME, kind: "invalid" },
        JSON.stringify(username),
      );
      assert.equal(normalizeUsername(username), undefined, JSON.stringify(username));
    }
    assert.equal(await rawUsers(db).countDocuments(), 0);
  }));

Deno.test("register() checks the password's length in code points and nothing else", () =>
  withConcept(async ({ c }) => {
    const good = [
      "12345678",
      "aaaaaaaa",
      "        ",
      "x".repeat(256),
      "😀".repeat(8),
      "pass word with spaces",
      "ﬃ".repeat(3) + "ab", // 5 code points, 11 after NFKC
      "\u0000".repeat(8),
    ];
    let i = 0;
    for (const password of good) {
      const username = `user${i++}`;
      const user = await newUser(c, username, password);
      assert.deepEqual(await c.authenticate({ username, password }), { user });
    }
    const bad = [
      "",
      "1234567",
      "x".repeat(257),
      "😀".repeat(4), // 8 code units but 4 code points
      "😀".repeat(257),
      "e\u0301e\u0301e\u0301e\u0301", // 8 code points, 4 after NFKC
      "abcdefg\ud800", // lone surrogate
      "x".repeat(1025),
    ];
    for (const password of bad) {
      assert.deepEqual(
        await c.register({ username: `user${i++}`, password }),
        { error: Errors.REGISTER_INVALID_PASSWORD, kind: "invalid" },
        JSON.stringify(password.slice(0, 20)),
      );
    }
  }));

Deno.test("authenticate() finds the user under any form of the username", () =>
  withConcept(async ({ c }) => {
    const user = await newUser(c, "Zoë");
    for (const username of ["zoë", "ZOË", "Zoe\u0308", "ｚｏë"]) {
      assert.deepEqual(await c.authenticate({ username, password: PW }), { user }, username);
    }
  }));

Deno.test("authenticate() normalises the password, so composed and decomposed forms match", () =>
  withConcept(async ({ c }) => {
    const user = await newUser(c, "erin", "caf\u00e9 au lait");
    assert.deepEqual(await c.authenticate({ username: "erin", password: "cafe\u0301 au lait" }), {
      user,
    });
    assert.deepEqual(
      await c.authenticate({ username: "erin", password: "cafe au lait" }),
      INVALID,
    );
  }));

Deno.test("authenticate() gives an unknown username and a wrong password one error and one verify", () =>
  withConcept(async ({ c, hasher }) => {
    await newUser(c, "alice");
    hasher.verified = [];
    hasher.hashes = [];
    assert.deepEqual(await c.authenticate({ username: "alice", password: "wrong password" }), {
      ...INVALID,
    });
    assert.equal(hasher.verified.length, 1);
    assert.deepEqual(await c.authenticate({ username: "mallory", password: "wrong password" }), {
      ...INVALID,
    });
    assert.equal(hasher.verified.length, 2, "the unknown user's path verifies too");
    // Against a dummy hash made once, with the current parameters.
    const dummy = hasher.verified[1];
    assert.deepEqual(parsePhc(dummy)?.params, WEAK);
    assert.deepEqual(hasher.hashes, [WEAK]);
    assert.deepEqual(await c.authenticate({ username: "trent", password: PW }), INVALID);
    assert.equal(hasher.verified[2], dummy);
    assert.deepEqual(hasher.hashes, [WEAK], "the dummy hash is made once");
  }));

Deno.test("authenticate() refuses impossible credentials at once, without a query or a hash", () =>
  withConcept(async ({ c, hasher }) => {
    await newUser(c, "alice");
    hasher.verified = [];
    for (
      const [username, password] of [
        ["al", PW],
        ["al ice", PW],
        ["a".repeat(65), PW],
        ["alice", ""],
        ["alice", "x".repeat(1025)],
        ["alice", "abcdefgh\udc00"],
      ]
    ) {
      assert.deepEqual(await c.authenticate({ username, password }), INVALID);
    }
    assert.equal(hasher.verified.length, 0);
  }));

Deno.test("authenticate() accepts a short password stored before the policy was raised", () =>
  withConcept(async ({ c, db }) => {
    const user = await newUser(c, "alice");
    // An older policy allowed 4 characters: put such a hash in place.
    await rawUsers(db).updateOne({ _id: user }, {
      $set: { hash: await argon2Hasher.hash("1234", WEAK) },
    });
    assert.deepEqual(await c.authenticate({ username: "alice", password: "1234" }), { user });
  }));

Deno.test("authenticate() upgrades a hash made with other parameters, once", () =>
  withConcept(async ({ c, other, db, hasher }) => {
    // Registered while the weaker parameters were current.
    const user = await newUser(other({ argon2: WEAKER }), "alice");
    const before = (await rawUsers(db).findOne({ _id: user }))!.hash;
    assert.deepEqual(parsePhc(before)?.params, WEAKER);
    hasher.hashes = [];
    // The next login with the current (stronger) parameters rehashes.
    assert.deepEqual(await c.authenticate({ username: "alice", password: PW }), { user });
    const after = (await rawUsers(db).findOne({ _id: user }))!.hash;
    assert.match(after, PHC);
    assert.deepEqual(parsePhc(after)?.params, WEAK);
    assert.deepEqual(hasher.hashes, [WEAK]);
    // The upgraded hash works, and is not upgraded again.
    assert.deepEqual(await c.authenticate({ username: "alice", password: PW }), { user });
    assert.equal((await rawUsers(db).findOne({ _id: user }))!.hash, after);
    assert.deepEqual(hasher.hashes, [WEAK]);
  }));

Deno.test("authenticate() upgrades an Argon2i hash to Argon2id", () =>
  withConcept(async ({ c, db }) => {
    const user = await newUser(c, "alice");
    // An Argon2i hash of PW (algorithm 1), as an older deployment might have stored it.
    const { hash } = await import("@node-rs/argon2");
    const argon2i = await hash(PW, { ...WEAK, algorithm: 1 });
    assert.match(argon2i, /^\$argon2i\$/);
    await rawUsers(db).updateOne({ _id: user }, { $set: { hash: argon2i } });
    assert.deepEqual(await c.authenticate({ username: "alice", password: PW }), { user });
    assert.match((await rawUsers(db).findOne({ _id: user }))!.hash, PHC);
  }));

Deno.test("authenticate() with a wrong password leaves an old hash alone", () =>
  withConcept(async ({ c, other, db }) => {
    const user = await newUser(other({ argon2: WEAKER }), "alice");
    const before = (await rawUsers(db).findOne({ _id: user }))!.hash;
    assert.deepEqual(await c.authenticate({ username: "alice", password: "not the one" }), {
      ...INVALID,
    });
    assert.equal((await rawUsers(db).findOne({ _id: user }))!.hash, before);
  }));

Deno.test("authenticate() never overwrites a password changed while it rehashed", () =>
  withConcept(async ({ db, other }) => {
    const weaker = other({ argon2: WEAKER });
    const user = await newUser(weaker, "alice");
    // A hasher whose rehash lets a password change land first.
    let changed: Promise<unknown> | undefined;
    const c = other({
      hasher: {
        verify: (phc, pw) => argon2Hasher.verify(phc, pw),
        async hash(pw, params) {
          changed ??= weaker.changePassword({
            user,
            currentPassword: PW,
            newPassword: "brand new password",
          });
          assert.deepEqual(await changed, {});
          return argon2Hasher.hash(pw, params);
        },
      },
    });
    assert.deepEqual(await c.authenticate({ username: "alice", password: PW }), { user });
    // The change stands: the old password is refused, the new one works.
    assert.deepEqual(await weaker.authenticate({ username: "alice", password: PW }), INVALID);
    assert.deepEqual(
      await weaker.authenticate({ username: "alice", password: "brand new password" }),
      { user },
    );
    assert.equal(await rawUsers(db).countDocuments(), 1);
  }));

Deno.test("changePassword() replaces the password: the old one stops working, the new one works", () =>
  withConcept(async ({ c, db, clock }) => {
    const user = await newUser(c, "alice");
    clock.t = T0 + 60_000;
    assert.deepEqual(
      await c.changePassword({ user, currentPassword: PW, newPassword: "new secret words" }),
      {},
    );
    assert.deepEqual(await c.authenticate({ username: "alice", password: PW }), INVALID);
    assert.deepEqual(
      await c.authenticate({ username: "alice", password: "new secret words" }),
      { user },
    );
    const doc = await db.collection("PasswordAuthentication.users").findOne({ _id: user as never });
    assert.deepEqual(doc?.createdAt, new Date(T0));
    assert.deepEqual(doc?.passwordChangedAt, new Date(T0 + 60_000));
    assert.deepEqual(await c._getUsername({ user }), [{ username: "alice" }]);
  }));

Deno.test("changePassword() hashes the new password with the current parameters", () =>
  withConcept(async ({ c, other, db }) => {
    const user = await newUser(other({ argon2: WEAKER }), "alice");
    assert.deepEqual(
      await c.changePassword({ user, currentPassword: PW, newPassword: "new secret words" }),
      {},
    );
    assert.deepEqual(parsePhc((await rawUsers(db).findOne({ _id: user }))!.hash)?.params, WEAK);
  }));

Deno.test("changePassword() refuses a wrong current password and leaves the password alone", () =>
  withConcept(async ({ c, db }) => {
    const user = await newUser(c, "alice");
    const before = (await rawUsers(db).findOne({ _id: user }))!.hash;
    for (const currentPassword of ["wrong password", "", "x".repeat(2000)]) {
      assert.deepEqual(
        await c.changePassword({ user, currentPassword, newPassword: "new secret words" }),
        { error: Errors.CHANGE_WRONG_PASSWORD, kind: "bad_credentials" },
      );
    }
    assert.equal((await rawUsers(db).findOne({ _id: user }))!.hash, before);
    assert.deepEqual(await c.authenticate({ username: "alice", password: PW }), { user });
  }));

Deno.test("changePassword() refuses an invalid new password with its own error", () =>
  withConcept(async ({ c }) => {
    const user = await newUser(c, "alice");
    for (const newPassword of ["short", "", "x".repeat(257), "😀".repeat(7), "abcdefgh\ud800"]) {
      assert.deepEqual(
        await c.changePassword({ user, currentPassword: PW, newPassword }),
        { error: Errors.CHANGE_INVALID_NEW_PASSWORD, kind: "invalid" },
      );
    }
    assert.notEqual(Errors.CHANGE_INVALID_NEW_PASSWORD, Errors.CHANGE_WRONG_PASSWORD);
    assert.deepEqual(await c.authenticate({ username: "alice", password: PW }), { user });
  }));

Deno.test("changePassword() refuses an unknown or malformed user", () =>
  withConcept(async ({ c }) => {
    await newUser(c, "alice");
    const args = { currentPassword: PW, newPassword: "new secret words" };
    assert.deepEqual(await c.changePassword({ user: "nobody" as ID, ...args }), {
      error: Errors.CHANGE_NO_USER,
      kind: "invalid",
    });
    for (const user of ["", "u".repeat(129)]) {
      assert.deepEqual(await c.changePassword({ user: user as ID, ...args }), {
        error: Errors.CHANGE_INVALID_USER,
        kind: "invalid",
      });
    }
  }));

Deno.test("changePassword() twice at once from one current password: exactly one wins", () =>
  withConcept(async ({ c }) => {
    const user = await newUser(c, "alice");
    const results = await Promise.all(
      ["first new password", "second new password"].map((newPassword) =>
        c.changePassword({ user, currentPassword: PW, newPassword })
      ),
    );
    const won = results.findIndex((r) => !("error" in r));
    assert.notEqual(won, -1);
    assert.deepEqual(results[1 - won], {
      error: Errors.CHANGE_WRONG_PASSWORD,
      kind: "bad_credentials",
    });
    const winner = ["first new password", "second new password"][won];
    const loser = ["first new password", "second new password"][1 - won];
    assert.deepEqual(await c.authenticate({ username: "alice", password: winner }), { user });
    assert.deepEqual(await c.authenticate({ username: "alice", password: loser }), INVALID);
    assert.deepEqual(await c.authenticate({ username: "alice", password: PW }), INVALID);
  }));

Deno.test("_getUsername() and _getUserByUsername() return [] for unknown users", () =>
  withConcept(async ({ c }) => {
    await newUser(c, "alice");
    assert.deepEqual(await c._getUsername({ user: "nobody" as ID }), []);
    assert.deepEqual(await c._getUserByUsername({ username: "bob" }), []);
  }));

/** Values that must never be taken for a username, password or user id. */
const JUNK: unknown[] = [
  { $ne: null },
  { $gt: "" },
  { $regex: ".*" },
  { $exists: true },
  ["alice"],
  [],
  {},
  1,
  0,
  true,
  null,
  undefined,
  "a".repeat(1_000_000),
];

Deno.test("every action and query refuses junk inputs, with a user in place to match", () =>
  withConcept(async ({ c, db, hasher }) => {
    const user = await newUser(c, "alice");
    const before = await dump(db);
    hasher.verified = [];
    hasher.hashes = [];
    for (const junk of JUNK) {
      const label = JSON.stringify(junk)?.slice(0, 20);
      // register
      for (
        const input of [
          { username: junk, password: PW },
          { username: "mallory", password: junk },
        ]
      ) {
        const r = await c.register(input as never);
        assert.ok("error" in r, label);
        assert.ok(
          ([
            Errors.REGISTER_MALFORMED,
            Errors.REGISTER_INVALID_USERNAME,
            Errors.REGISTER_INVALID_PASSWORD,
          ] as string[]).includes(r.error),
          label,
        );
      }
      // authenticate
      for (
        const input of [{ username: junk, password: PW }, { username: "alice", password: junk }]
      ) {
        const r = await c.authenticate(input as never);
        assert.ok("error" in r && !("user" in r), label);
        assert.ok(
          ([Errors.AUTHENTICATE_MALFORMED, Errors.AUTHENTICATE_INVALID] as string[]).includes(
            r.error,
          ),
          label,
        );
      }
      // changePassword
      for (
        const input of [
          { user: junk, currentPassword: PW, newPassword: "new secret words" },
          { user, currentPassword: junk, newPassword: "new secret words" },
          { user, currentPassword: PW, newPassword: junk },
        ]
      ) {
        const r = await c.changePassword(input as never);
        assert.ok("error" in r, label);
      }
      // queries
      const u = await c._getUsername({ user: junk as ID });
      assert.deepEqual(u, [{ error: Errors.GET_USERNAME_INVALID }], label);
      const n = await c._getUserByUsername({ username: junk as string });
      assert.deepEqual(n, [{ error: Errors.GET_USER_INVALID }], label);
    }
    // Whole inputs that are not dictionaries.
    for (const input of [null, undefined, [], "alice", 7, [{ username: "alice", password: PW }]]) {
      assert.deepEqual(await c.register(input as never), {
        error: Errors.REGISTER_MALFORMED,
        kind: "invalid",
      });
      assert.deepEqual(await c.authenticate(input as never), {
        error: Errors.AUTHENTICATE_MALFORMED,
        kind: "invalid",
      });
      assert.deepEqual(await c.changePassword(input as never), {
        error: Errors.CHANGE_MALFORMED,
        kind: "invalid",
      });
      assert.deepEqual(await c._getUsername(input as never), [{
        error: Errors.GET_USERNAME_INVALID,
      }]);
      assert.deepEqual(await c._getUserByUsername(input as never), [{
        error: Errors.GET_USER_INVALID,
      }]);
    }
    assert.equal(hasher.verified.length, 0, "no junk reached a verify");
    assert.equal(hasher.hashes.length, 0, "no junk reached a hash");
    assert.equal(await dump(db), before, "nothing changed");
    assert.deepEqual(await c.authenticate({ username: "alice", password: PW }), { user });
  }));

Deno.test("register() and the others: no plaintext password anywhere in the database", () =>
  withConcept(async ({ c, other, db }) => {
    const secrets = ["first secret password", "second secret password", "third secret password"];
    const user = await newUser(other({ argon2: WEAKER }), "alice", secrets[0]);
    ok(await c.authenticate({ username: "alice", password: secrets[0] })); // rehash
    ok(await c.changePassword({ user, currentPassword: secrets[0], newPassword: secrets[1] }));
    await newUser(c, "bob", secrets[2]);
    await c.authenticate({ username: "nobody", password: secrets[2] });
    const all = await dump(db);
    for (const s of secrets) {
      assert.equal(all.includes(s), false);
      assert.equal(all.includes(btoa(s)), false);
    }
    assert.equal(all.includes("secret"), false);
    for (const doc of await rawUsers(db).find({}).toArray()) assert.match(doc.hash, PHC);
  }));

Deno.test("register() and authenticate() with OWASP's parameters by default", async () => {
  const [db, client] = await testDb();
  try {
    const c = new PasswordAuthenticationConcept(db);
    const user = await newUser(c, "alice");
    const hash = (await rawUsers(db).findOne({ _id: user }))!.hash;
    assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.deepEqual(parsePhc(hash)?.params, OWASP_ARGON2ID);
    assert.deepEqual(await c.authenticate({ username: "alice", password: PW }), { user });
    assert.deepEqual(await c.authenticate({ username: "alice", password: "wrong one" }), INVALID);
    assert.deepEqual(await c.authenticate({ username: "bobby", password: PW }), INVALID);
    assert.equal((await rawUsers(db).findOne({ _id: user }))!.hash, hash, "no rehash needed");
  } finally {
    await client.close();
  }
});

Deno.test("constructor() refuses Argon2 parameters the library would refuse", () => {
  const db = {} as Db;
  db.collection = (() => ({})) as never;
  for (
    const argon2 of [
      { memoryCost: 4, timeCost: 1, parallelism: 1 },
      { memoryCost: 64, timeCost: 0, parallelism: 1 },
      { memoryCost: 64, timeCost: 1, parallelism: 0 },
      { memoryCost: 64, timeCost: 1, parallelism: 16 },
      { memoryCost: 1.5, timeCost: 1, parallelism: 1 },
      { memoryCost: "64", timeCost: 1, parallelism: 1 },
    ]
  ) {
    assert.throws(
      () => new PasswordAuthenticationConcept(db, { argon2: argon2 as never }),
      RangeError,
      JSON.stringify(argon2),
    );
  }
  assert.ok(new PasswordAuthenticationConcept(db, { argon2: WEAK }));
});

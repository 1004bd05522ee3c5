import assert from "node:assert/strict";
import { hashSecret, newToken, parseToken, secretMatches } from "./token.ts";

Deno.test("secretMatches() accepts the secret of a stored hash and nothing else", () => {
  const { token, hash } = newToken();
  const { secret } = parseToken(token)!;
  assert.equal(secretMatches(secret, hash), true);
  // One character off, at either end; another token's secret; the hash of another secret.
  const last = secret.at(-1) === "A" ? "B" : "A";
  assert.equal(secretMatches(secret.slice(0, -1) + last, hash), false);
  assert.equal(secretMatches((secret[0] === "A" ? "B" : "A") + secret.slice(1), hash), false);
  assert.equal(secretMatches(parseToken(newToken().token)!.secret, hash), false);
  assert.equal(secretMatches(secret, hashSecret(secret + "x")), false);
  // A stored value that is not 64 lower-case hex characters never matches.
  for (const stored of [hash.toUpperCase(), hash.slice(1), `${hash}0`, "", null, 7, { $ne: 1 }]) {
    assert.equal(secretMatches(secret, stored), false, String(stored));
  }
});

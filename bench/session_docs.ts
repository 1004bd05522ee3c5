/**
 * Session documents shaped as `src/concepts/Sessioning` stores them (a 22-character base64url
 * `_id`, a 22-character user id, a 64-hex hash, four dates, a ~100-character user agent out of a
 * handful, an ip), made deterministically from a number so a benchmark can find any of them again.
 * Users have 20 sessions each on average (`users`).
 */

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const HEX = "0123456789abcdef";
const AGENTS = [
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148",
];

function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** `n` characters of `alphabet` (of 2^bits letters), pseudo-random from `seed`. */
function chars(seed: number, n: number, alphabet: string, bits: number): string {
  let out = "";
  let x = mix(seed);
  let left = 32;
  for (let i = 0; i < n; i++) {
    if (left < bits) {
      x = mix(x + i + 1);
      left = 32;
    }
    out += alphabet[x & ((1 << bits) - 1)];
    x >>>= bits;
    left -= bits;
  }
  return out;
}

/** The public id of session `i`. */
export function sessionId(i: number): string {
  return chars(i * 2 + 1, 22, B64, 6);
}

/** The id of user `u`. */
export function userId(u: number): string {
  return chars(u * 2 + 2, 22, B64, 6);
}

/** How many users `n` sessions belong to. */
export function userCount(n: number): number {
  return Math.max(1, Math.ceil(n / 20));
}

/** Session `i` of `n`, last seen a minute before `now`, expiring at `expiresAt`. */
export function sessionDoc(i: number, n: number, now: number, expiresAt: number) {
  return {
    _id: sessionId(i),
    user: userId(i % userCount(n)),
    hash: chars(i * 7 + 3, 64, HEX, 4),
    createdAt: new Date(now - 3_600_000),
    lastSeenAt: new Date(now - 60_000),
    absoluteExpiresAt: new Date(now + 7 * 86_400_000),
    expiresAt: new Date(expiresAt),
    userAgent: AGENTS[i % AGENTS.length],
    ip: `203.0.${(i >> 8) & 255}.${i & 255}`,
  };
}

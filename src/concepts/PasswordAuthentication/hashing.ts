/**
 * Password hashing for the PasswordAuthentication concept: Argon2id through `@node-rs/argon2`,
 * its parameters, and reading the parameters back out of a stored PHC string so that hashes made
 * with other parameters are recognised (and upgraded on the next successful login).
 */
import { hash, verify } from "@node-rs/argon2";

/** Argon2id cost parameters. */
export interface Argon2Params {
  /** Memory in KiB. */
  memoryCost: number;
  /** Iterations. */
  timeCost: number;
  /** Lanes. */
  parallelism: number;
}

/** OWASP's recommended Argon2id parameters: 19 MiB, 2 iterations, 1 lane. */
export const OWASP_ARGON2ID: Readonly<Argon2Params> = Object.freeze({
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
});

/** Makes and checks password hashes; tests inject one that counts calls. */
export interface PasswordHasher {
  /** A PHC string (`$argon2id$v=19$m=...,t=...,p=...$salt$hash`) of `password` with a fresh salt. */
  hash(password: string, params: Argon2Params): Promise<string>;
  /** Whether `password` matches the PHC string `phc`. */
  verify(phc: string, password: string): Promise<boolean>;
}

/**
 * Runs at most `limit` of the tasks given to it at once; the others wait, first come first
 * served.
 */
export function limitConcurrency(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError("Cannot limit concurrency: the limit must be a whole number from 1");
  }
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (active < limit) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      // The slot passes to the next waiter, or is freed.
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

/** Hashings at once by default: one per CPU. */
export function defaultHashConcurrency(): number {
  return Math.max(1, navigator.hardwareConcurrency || 1);
}

/**
 * The real hasher: Argon2id (the library's default algorithm), version 0x13, 16-byte salt, with
 * at most `maxConcurrent` hashings or verifications at once. The library runs each on a thread of
 * its own, as many as are asked for: a flood of logins (50 at once) then starved the event loop
 * of CPU until the driver's server monitor timed out (1 s) and cleared the connection pool,
 * failing the store operations in flight. Past the limit, calls wait their turn.
 */
export function argon2HasherWith(maxConcurrent = defaultHashConcurrency()): PasswordHasher {
  const limited = limitConcurrency(maxConcurrent);
  return {
    hash: (password, { memoryCost, timeCost, parallelism }) =>
      limited(() => hash(password, { memoryCost, timeCost, parallelism })),
    verify: (phc, password) => limited(() => verify(phc, password)),
  };
}

/** The real hasher with one hashing at a time per CPU (`argon2HasherWith`). */
export const argon2Hasher: PasswordHasher = argon2HasherWith();

/** Throws a RangeError unless `params` are integers the library accepts. */
export function checkParams(params: Argon2Params): Argon2Params {
  const { memoryCost, timeCost, parallelism } = params;
  const int = (x: unknown, min: number, max: number) =>
    typeof x === "number" && Number.isSafeInteger(x) && x >= min && x <= max;
  if (!int(parallelism, 1, 255)) {
    throw new RangeError("Cannot create PasswordAuthentication: parallelism must be 1-255");
  }
  if (!int(memoryCost, 8 * parallelism, 4 * 1024 * 1024)) {
    throw new RangeError(
      "Cannot create PasswordAuthentication: memoryCost must be 8 * parallelism to 4194304 KiB",
    );
  }
  if (!int(timeCost, 1, 100)) {
    throw new RangeError("Cannot create PasswordAuthentication: timeCost must be 1-100");
  }
  return { memoryCost, timeCost, parallelism };
}

const PHC = /^\$(argon2(?:id|i|d))\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$/;

/** The algorithm, version and parameters of a PHC string, or undefined when it is not one. */
export function parsePhc(
  phc: string,
): { algorithm: string; version: number; params: Argon2Params } | undefined {
  const m = PHC.exec(phc);
  if (!m) return undefined;
  return {
    algorithm: m[1],
    version: Number(m[2]),
    params: { memoryCost: Number(m[3]), timeCost: Number(m[4]), parallelism: Number(m[5]) },
  };
}

/** Whether a stored hash was made otherwise than Argon2id v19 with exactly `params`. */
export function needsRehash(phc: string, params: Argon2Params): boolean {
  const p = parsePhc(phc);
  return !p || p.algorithm !== "argon2id" || p.version !== 19 ||
    p.params.memoryCost !== params.memoryCost || p.params.timeCost !== params.timeCost ||
    p.params.parallelism !== params.parallelism;
}

/**
 * The login benchmark of `deno task bench login` (issue #10: login throughput at least 0.9 of a
 * bare verify loop run in the same process with the same parameters). In one process:
 *
 * - the service, started in-process by the composition root (`startService`, embedded store in a
 *   temporary DATA_DIR, LOGIN_MAX_FAILURES high so that nothing is throttled), with one registered
 *   user;
 * - `POST /api/auth/login` over real HTTP (fetch to the in-process server) by CLIENTS concurrent
 *   clients, each login answering 200: as a new browser (no cookies: a device is issued), and as
 *   a known device (the device cookie of its previous login, renewed each time);
 * - a bare loop of Argon2id `verify` (@node-rs/argon2, OWASP_ARGON2ID, the hash the service
 *   stored) at the same concurrency;
 * - when wrk is installed, new-browser logins sent by `wrk -c CLIENTS` from a process of its own,
 *   so that the client's work is not counted in this process's CPU;
 * - two rows that tell a login's own work from the hashing's: new-browser logins (by wrk when it is
 *   installed) with the service's hasher swapped for a stand-in that uses no CPU, either a wait as
 *   long as a verification's CPU time (in as many slots as Argon2 has) or no wait at all;
 * - the machine's idle penalty: one fixed piece of JavaScript timed back to back and with a short
 *   sleep before each call (a login's main-thread work comes in bursts between idle waits, the
 *   Argon2 threads' does not).
 *
 * First, one login of each kind is replayed on the test harness (tests/auth_harness.ts) through a
 * store client that records commands, to print the store commands a login costs. Then, for each
 * client count, the kinds run in ROUNDS interleaved rounds of SECONDS each after a warm-up; a
 * round's ratio is its logins/s over its verifies/s, and the median of the rounds' ratios is
 * printed. CPU per operation is the whole process's user+system time (Argon2 threads, server,
 * client and store all included; wrk's process not) over the operations done, and that of the
 * main thread alone (all but Argon2: HTTP, engine, concepts, driver and embedded store).
 *
 * Settings: BENCH_LOGIN_ROUNDS (3), BENCH_LOGIN_SECONDS (3), BENCH_LOGIN_CLIENTS (client counts
 * separated by commas, each measured in rounds of its own; default: the number of CPUs, as many
 * verifications as can run at once, and four times that, where a verification slot always has a
 * login waiting for it).
 */
import process from "node:process";
import { hash, verify } from "@node-rs/argon2";
import { loadConfig } from "../src/config.ts";
import { startService } from "../src/app/service.ts";
import {
  argon2HasherWith,
  defaultHashConcurrency,
  limitConcurrency,
  OWASP_ARGON2ID,
  type PasswordHasher,
} from "../src/concepts/PasswordAuthentication/hashing.ts";
import { envInt, median, verdict } from "./stats.ts";
import { withApi } from "../tests/auth_harness.ts";

const CLK_TCK = 100;
const USERNAME = "bench-login";
const PASSWORD = "correct horse battery staple";

/** The rows measured by this process's own clients. */
type OwnKind = "verify" | "login (new browser)" | "login (known device)";
type Kind = OwnKind | typeof WRK | typeof STAND_IN_WAIT | typeof STAND_IN_NONE;
const KINDS: OwnKind[] = ["verify", "login (new browser)", "login (known device)"];
/** New-browser logins sent by wrk, out of this process, when it is installed. */
const WRK = "login (new browser, wrk)";
/** New-browser logins with a hasher that waits as long as a verification, using no CPU. */
const STAND_IN_WAIT = "  hash: CPU-free wait";
/** New-browser logins with a hasher that answers at once. */
const STAND_IN_NONE = "  hash: none";
/** The two stand-in rows: a login's own work, without Argon2 running beside it. */
const STAND_INS = [STAND_IN_WAIT, STAND_IN_NONE] as const;

/** What the service's hasher does during a round. */
type HashMode = "argon2" | "wait" | "none";

/**
 * The bench's hasher for the service: Argon2id (as the service's own) unless the mode says
 * otherwise. The stand-ins accept only the bench's password, and the wait runs in as many slots
 * as Argon2 does, so logins queue for it as they do for Argon2.
 */
class SwitchableHasher implements PasswordHasher {
  mode: HashMode = "argon2";
  /** How long the CPU-free wait lasts: a verification's CPU time, measured by the bench. */
  waitMs = 15;
  readonly #argon2: PasswordHasher;
  readonly #slots: <T>(task: () => Promise<T>) => Promise<T>;

  constructor(concurrency: number) {
    this.#argon2 = argon2HasherWith(concurrency);
    this.#slots = limitConcurrency(concurrency);
  }

  hash(password: string, params: Parameters<PasswordHasher["hash"]>[1]): Promise<string> {
    return this.#argon2.hash(password, params);
  }

  verify(phc: string, password: string): Promise<boolean> {
    if (this.mode === "argon2") return this.#argon2.verify(phc, password);
    if (this.mode === "none") return Promise.resolve(password === PASSWORD);
    return this.#slots(() =>
      new Promise((resolve) => setTimeout(() => resolve(password === PASSWORD), this.waitMs))
    );
  }
}

interface Sample {
  ops: number;
  seconds: number;
  cpuMs: number;
  /** CPU of the main thread alone (JavaScript: HTTP, engine, concepts, driver, store). */
  mainMs: number;
}

/** Process CPU (user + system, every thread) in milliseconds. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** CPU (user + system) of the main thread in milliseconds, from /proc; NaN where there is none. */
function mainThreadMs(): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/self/task/${Deno.pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * (1000 / CLK_TCK);
  } catch {
    return NaN;
  }
}

/** Runs `op` in `clients` loops for `seconds`; every call must resolve. */
async function load(
  clients: number,
  seconds: number,
  op: (client: number) => Promise<void>,
): Promise<Sample> {
  const cpu0 = cpuMs();
  const main0 = mainThreadMs();
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  let ops = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      while (performance.now() < until) {
        await op(c);
        ops++;
      }
    }),
  );
  return {
    ops,
    seconds: (performance.now() - t0) / 1000,
    cpuMs: cpuMs() - cpu0,
    mainMs: mainThreadMs() - main0,
  };
}

/**
 * Logins by wrk (`-t1 -c connections`, C, in a process of its own) for `seconds`: the client's
 * own work is then not in this process's CPU. Undefined when wrk cannot be run.
 */
async function wrkLoad(
  url: string,
  body: string,
  connections: number,
  seconds: number,
): Promise<Sample | undefined> {
  const script = await Deno.makeTempFile({ suffix: ".lua" });
  try {
    await Deno.writeTextFile(
      script,
      `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\n` +
        `wrk.headers["Content-Type"] = "application/json"\n`,
    );
    const cpu0 = cpuMs();
    const main0 = mainThreadMs();
    const out = await new Deno.Command("wrk", {
      args: ["-t1", `-c${connections}`, `-d${seconds}s`, "-s", script, url],
      stdout: "piped",
      stderr: "piped",
    }).output().catch(() => undefined);
    if (!out || out.code !== 0) return undefined;
    const cpu = cpuMs() - cpu0;
    const main = mainThreadMs() - main0;
    const text = new TextDecoder().decode(out.stdout);
    const done = /(\d+) requests in ([\d.]+)s/.exec(text);
    if (!done) return undefined;
    const failed = /Non-2xx or 3xx responses: (\d+)/.exec(text);
    if (failed) throw new Error(`${WRK}: ${failed[1]} answers were not 200`);
    return { ops: Number(done[1]), seconds: Number(done[2]), cpuMs: cpu, mainMs: main };
  } finally {
    await Deno.remove(script).catch(() => {});
  }
}

/** The `name=value` of the Set-Cookie whose name ends with `name`. */
function cookie(res: Response, name: string): string | undefined {
  const set = res.headers.getSetCookie().find((c) => c.split("=", 1)[0].endsWith(name));
  return set?.split(";", 1)[0];
}

/** Store commands of one login of each kind, replayed on the test harness with a spy client. */
async function countCommands(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  await withApi(async ({ call, commands }) => {
    const body = { username: USERNAME, password: PASSWORD };
    const reg = await call("POST", "/api/auth/register", body);
    if (reg.status !== 201) throw new Error(`register answered ${reg.status}`);
    // Warm up (indexes are created once per concept instance).
    await call("POST", "/api/auth/login", body);
    commands.length = 0;
    const fresh = await call("POST", "/api/auth/login", body);
    if (fresh.status !== 200) throw new Error(`login answered ${fresh.status}`);
    out["login (new browser)"] = [...commands];
    const device = fresh.headers.getSetCookie().find((c) => /^(__Host-)?device=/.test(c));
    commands.length = 0;
    const known = await call("POST", "/api/auth/login", body, {
      cookie: device!.split(";", 1)[0],
    });
    if (known.status !== 200) throw new Error(`login answered ${known.status}`);
    out["login (known device)"] = [...commands];
  }, { spy: true, cookieSecure: false });
  return out;
}

/** What one block of rounds needs from the running service. */
interface Setup {
  post: (path: string, body: unknown, cookie?: string) => Promise<Response>;
  credentials: { username: string; password: string };
  /** A hash of PASSWORD made with the service's parameters, for the bare loop. */
  phc: string;
  /** The service's base URL. */
  url: string;
  /** The store commands of one login of each kind. */
  commands: Record<string, string[]>;
  /** The service's hasher, switched for the stand-in rows. */
  hasher: SwitchableHasher;
  rounds: number;
  seconds: number;
  log: (line: string) => void;
}

/**
 * The client counts to measure (BENCH_LOGIN_CLIENTS, whole numbers separated by commas). By
 * default two: as many clients as CPUs (each login's work outside Argon2 leaves its
 * verification slot idle, so this also measures a login's latency), and four times as many (the
 * verifications always have a login waiting: throughput at saturation).
 */
function clientsSetting(): number[] {
  const cpus = navigator.hardwareConcurrency || 2;
  const v = Deno.env.get("BENCH_LOGIN_CLIENTS");
  if (v === undefined || v === "") return [cpus, 4 * cpus];
  const counts = v.split(",").map((x) => Number(x.trim()));
  if (counts.some((n) => !Number.isSafeInteger(n) || n <= 0)) {
    throw new Error("BENCH_LOGIN_CLIENTS must be positive integers separated by commas");
  }
  return counts;
}

/** One block: warm-up, ROUNDS interleaved rounds with `clients` clients, the table, verdicts. */
async function runClients(
  clients: number,
  { post, credentials, phc, url, commands, hasher, rounds, seconds, log }: Setup,
): Promise<void> {
  const devices: (string | undefined)[] = Array(clients).fill(undefined);
  const ops: Record<OwnKind, (client: number) => Promise<void>> = {
    "verify": async () => {
      if (!(await verify(phc, PASSWORD))) throw new Error("verify failed");
    },
    "login (new browser)": async () => {
      const res = await post("/auth/login", credentials);
      if (res.status !== 200) {
        throw new Error(`login answered ${res.status}: ${await res.text()}`);
      }
      await res.body?.cancel();
    },
    "login (known device)": async (c) => {
      const res = await post("/auth/login", credentials, devices[c]);
      if (res.status !== 200) {
        throw new Error(`login answered ${res.status}: ${await res.text()}`);
      }
      devices[c] = cookie(res, "device") ?? devices[c];
      await res.body?.cancel();
    },
  };
  log(
    `\nLogin: ${clients} concurrent clients, ${rounds} rounds of ${seconds} s, Argon2id ` +
      `m=${OWASP_ARGON2ID.memoryCost},t=${OWASP_ARGON2ID.timeCost},p=${OWASP_ARGON2ID.parallelism}`,
  );
  const loginUrl = `${url}/api/auth/login`;
  const body = JSON.stringify(credentials);
  let haveWrk = false;
  const newBrowser = (secs: number) =>
    haveWrk
      ? wrkLoad(loginUrl, body, clients, secs)
      : load(clients, secs, ops["login (new browser)"]);
  const measure = async (kind: Kind, secs: number): Promise<Sample | undefined> => {
    if (kind === WRK) return await wrkLoad(loginUrl, body, clients, secs);
    if (kind === STAND_IN_WAIT || kind === STAND_IN_NONE) {
      hasher.mode = kind === STAND_IN_WAIT ? "wait" : "none";
      try {
        return await newBrowser(secs);
      } finally {
        hasher.mode = "argon2";
      }
    }
    const sample = await load(clients, secs, ops[kind]);
    // The stand-in waits as long as a verification's CPU time, as last measured.
    if (kind === "verify") hasher.waitMs = sample.cpuMs / sample.ops;
    return sample;
  };
  // wrk joins the rounds when it runs (its warm-up says); the stand-ins use it then too.
  const kinds: Kind[] = [...KINDS];
  for (const kind of KINDS) await measure(kind, 1); // warm-up
  if (await measure(WRK, 1)) {
    haveWrk = true;
    kinds.push(WRK);
  }
  for (const kind of STAND_INS) await measure(kind, 1);
  kinds.push(...STAND_INS);
  const samples: Record<Kind, Sample[]> = {
    "verify": [],
    "login (new browser)": [],
    "login (known device)": [],
    [WRK]: [],
    [STAND_IN_WAIT]: [],
    [STAND_IN_NONE]: [],
  };
  for (let r = 0; r < rounds; r++) {
    for (const kind of kinds) {
      const sample = await measure(kind, seconds);
      if (!sample) throw new Error(`${kind}: nothing was measured`);
      samples[kind].push(sample);
    }
  }
  /** The median of the rounds' ratios of `kind`'s operations a second to the verify loop's. */
  const vsVerify = (kind: Kind) =>
    median(
      samples[kind].map((x, i) =>
        (x.ops / x.seconds) / (samples.verify[i].ops / samples.verify[i].seconds)
      ),
    );
  log(
    "operation".padEnd(24) + "ops/s".padStart(8) + "vs verify".padStart(11) +
      "CPU ms/op".padStart(11) + "main ms/op".padStart(12) + "store cmds".padStart(12),
  );
  const standIn = (kind: Kind) => (STAND_INS as readonly Kind[]).includes(kind);
  /** Main-thread CPU per operation over all rounds of `kind`. */
  const mainPerOp = (kind: Kind) =>
    samples[kind].reduce((a, x) => a + x.mainMs, 0) /
    samples[kind].reduce((a, x) => a + x.ops, 0);
  for (const kind of kinds) {
    const s = samples[kind];
    const rate = median(s.map((x) => x.ops / x.seconds));
    // A stand-in's logins/s is not comparable with the verify loop's: it verifies nothing.
    const ratio = standIn(kind) ? "-" : vsVerify(kind).toFixed(3);
    const ops = s.reduce((a, x) => a + x.ops, 0);
    const cpu = s.reduce((a, x) => a + x.cpuMs, 0) / ops;
    const cmds = commands[kind === WRK || standIn(kind) ? "login (new browser)" : kind];
    log(
      kind.padEnd(24) + rate.toFixed(1).padStart(8) + ratio.padStart(11) +
        cpu.toFixed(1).padStart(11) + mainPerOp(kind).toFixed(1).padStart(12) +
        String(cmds?.length ?? "-").padStart(12),
    );
  }
  const real = haveWrk ? WRK : "login (new browser)";
  log(
    `main-thread ms of the same new-browser login${haveWrk ? " (wrk)" : ""}: ` +
      `${mainPerOp(real).toFixed(2)} beside Argon2, ` +
      `${mainPerOp(STAND_IN_WAIT).toFixed(2)} with a CPU-free wait of ` +
      `${hasher.waitMs.toFixed(1)} ms in its place (no Argon2 running), ` +
      `${mainPerOp(STAND_IN_NONE).toFixed(2)} back to back with no wait`,
  );
  log("issue #10's target: logins/s at least 0.9 of the bare verify loop's");
  for (const kind of kinds.filter((k) => k !== "verify" && !standIn(k))) {
    const ratio = vsVerify(kind);
    log(
      `  ${kind.padEnd(24)}${ratio.toFixed(3).padStart(8)}   ${verdict(ratio, "at least", 0.9)}`,
    );
  }
}

/**
 * The machine's idle penalty: the main thread's CPU for one fixed piece of JavaScript (JSON out
 * and back, Map lookups; about 1 ms on the 2-core machine), called back to back and with a sleep of
 * `gapMs` before each call, in interleaved rounds. A login's main-thread work comes in bursts
 * between waits (for Argon2, for the clients); where a CPU loses its warm state while it idles,
 * the same work costs more in bursts than back to back.
 */
async function idlePenalty(
  log: (line: string) => void,
  { rounds = 3, calls = 300, gapMs = 5 } = {},
): Promise<void> {
  const items = Array.from(
    { length: 600 },
    (_, i) => ({ id: `k${i}`, n: i, s: "x".repeat(i % 40) }),
  );
  const table = new Map<string, number>();
  for (let i = 0; i < 100_000; i++) table.set(`key${i}`, i);
  let sink = 0;
  const work = () => {
    sink += (JSON.parse(JSON.stringify(items)) as unknown[]).length;
    for (let i = 0; i < 2000; i++) sink += table.get(`key${(i * 7919) % 100_000}`)!;
  };
  const timed = async (gap: number) => {
    const t0 = mainThreadMs();
    for (let i = 0; i < calls; i++) {
      if (gap > 0) await new Promise((resolve) => setTimeout(resolve, gap));
      work();
    }
    return (mainThreadMs() - t0) / calls;
  };
  await timed(0); // warm-up
  const back: number[] = [], gapped: number[] = [];
  for (let r = 0; r < rounds; r++) {
    back.push(await timed(0));
    gapped.push(await timed(gapMs));
  }
  if (sink < 0) log(""); // keeps the work from being optimised away
  const b = median(back), g = median(gapped);
  log(
    `\nIdle penalty of this machine: one fixed piece of JavaScript costs ${b.toFixed(2)} ms of ` +
      `main-thread CPU back to back and ${g.toFixed(2)} ms with a ${gapMs} ms sleep before each ` +
      `call (x${(g / b).toFixed(2)}; medians of ${rounds} rounds of ${calls} calls)`,
  );
}

/** Runs the benchmark and prints its tables through `log` (default console.log). */
export async function benchLogin(log: (line: string) => void = console.log): Promise<void> {
  const rounds = envInt("BENCH_LOGIN_ROUNDS", 3);
  const seconds = envInt("BENCH_LOGIN_SECONDS", 3);
  const clientCounts = clientsSetting();
  const dataDir = await Deno.makeTempDir({ prefix: "bench-login-" });
  const config = loadConfig({
    PORT: "0",
    DATA_DIR: dataDir,
    SESSION_COOKIE_SECURE: "false",
    LOGIN_MAX_FAILURES: "1000000",
  });
  const hasher = new SwitchableHasher(config.login.hashConcurrency ?? defaultHashConcurrency());
  const service = await startService(config, () => {}, { hasher });
  try {
    const post = (path: string, body: unknown, cookie?: string) =>
      fetch(`${service.url}/api${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
        body: JSON.stringify(body),
      });
    const credentials = { username: USERNAME, password: PASSWORD };
    const reg = await post("/auth/register", credentials);
    if (reg.status !== 201) throw new Error(`register answered ${reg.status}: ${await reg.text()}`);
    await reg.body?.cancel();
    // The bare loop verifies a hash made with the service's parameters (the same cost).
    const phc = await hash(PASSWORD, { ...OWASP_ARGON2ID });
    const commands = await countCommands();
    log(`\nStore commands of one login, counted on the test harness:`);
    for (const kind of ["login (new browser)", "login (known device)"] as const) {
      log(`${kind}: ${commands[kind].join(", ")}`);
    }
    await idlePenalty(log);
    for (const n of clientCounts) {
      await runClients(n, {
        post,
        credentials,
        phc,
        url: service.url,
        commands,
        hasher,
        rounds,
        seconds,
        log,
      });
    }
  } finally {
    await service.close();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await benchLogin();

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
 *   so that the client's work is not counted in this process's CPU.
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
import { OWASP_ARGON2ID } from "../src/concepts/PasswordAuthentication/hashing.ts";
import { envInt, median, verdict } from "./stats.ts";
import { withApi } from "../tests/auth_harness.ts";

const CLK_TCK = 100;
const USERNAME = "bench-login";
const PASSWORD = "correct horse battery staple";

type Kind = "verify" | "login (new browser)" | "login (known device)" | typeof WRK;
const KINDS: Kind[] = ["verify", "login (new browser)", "login (known device)"];
/** New-browser logins sent by wrk, out of this process, when it is installed. */
const WRK = "login (new browser, wrk)";

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
  { post, credentials, phc, url, commands, rounds, seconds, log }: Setup,
): Promise<void> {
  const devices: (string | undefined)[] = Array(clients).fill(undefined);
  const ops: Record<Exclude<Kind, typeof WRK>, (client: number) => Promise<void>> = {
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
  const measure = (kind: Kind, secs: number) =>
    kind === WRK ? wrkLoad(loginUrl, body, clients, secs) : load(clients, secs, ops[kind]);
  // wrk joins the rounds when it runs (its warm-up says).
  const kinds: Kind[] = [...KINDS];
  for (const kind of KINDS) await measure(kind, 1); // warm-up
  if (await measure(WRK, 1)) kinds.push(WRK);
  const samples: Record<Kind, Sample[]> = {
    "verify": [],
    "login (new browser)": [],
    "login (known device)": [],
    [WRK]: [],
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
  for (const kind of kinds) {
    const s = samples[kind];
    const rate = median(s.map((x) => x.ops / x.seconds));
    const ratio = vsVerify(kind);
    const ops = s.reduce((a, x) => a + x.ops, 0);
    const cpu = s.reduce((a, x) => a + x.cpuMs, 0) / ops;
    const main = s.reduce((a, x) => a + x.mainMs, 0) / ops;
    log(
      kind.padEnd(24) + rate.toFixed(1).padStart(8) + ratio.toFixed(3).padStart(11) +
        cpu.toFixed(1).padStart(11) + main.toFixed(1).padStart(12) +
        String(commands[kind === WRK ? "login (new browser)" : kind]?.length ?? "-").padStart(12),
    );
  }
  log("issue #10's target: logins/s at least 0.9 of the bare verify loop's");
  for (const kind of kinds.filter((k) => k !== "verify")) {
    const ratio = vsVerify(kind);
    log(
      `  ${kind.padEnd(24)}${ratio.toFixed(3).padStart(8)}   ${verdict(ratio, "at least", 0.9)}`,
    );
  }
}

/** Runs the benchmark and prints its tables through `log` (default console.log). */
export async function benchLogin(log: (line: string) => void = console.log): Promise<void> {
  const rounds = envInt("BENCH_LOGIN_ROUNDS", 3);
  const seconds = envInt("BENCH_LOGIN_SECONDS", 3);
  const clientCounts = clientsSetting();
  const dataDir = await Deno.makeTempDir({ prefix: "bench-login-" });
  const service = await startService(
    loadConfig({
      PORT: "0",
      DATA_DIR: dataDir,
      SESSION_COOKIE_SECURE: "false",
      LOGIN_MAX_FAILURES: "1000000",
    }),
    () => {},
  );
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
    for (const n of clientCounts) {
      await runClients(n, {
        post,
        credentials,
        phc,
        url: service.url,
        commands,
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

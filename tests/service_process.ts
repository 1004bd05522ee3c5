/**
 * Test helper: the service (src/main.ts) as a real child process, on port 0, with its own data
 * folder unless the test names a store, run with `deno task start`'s permissions. Waits for its
 * "listening" line; stops it with SIGTERM, or kills it with SIGKILL for fault tests.
 */
import { startChild } from "./support/child.ts";

export interface ServiceProcess {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Whether the process has ended. */
  exited(): boolean;
  /** SIGTERM, wait for the end, remove the data folder it was given. */
  stop(): Promise<void>;
  /** SIGKILL, wait for the end. */
  kill(): Promise<void>;
}

export interface ServiceProcessOptions {
  /** Extra environment; PORT, HOST, DATA_DIR and SESSION_COOKIE_SECURE have test defaults. */
  env?: Record<string, string>;
  /** Runs the process under `prlimit --nofile=N:N`. */
  fileLimit?: number;
  /** How long to wait for the "listening" line. */
  startTimeoutMs?: number;
}

const MAIN = new URL("../src/main.ts", import.meta.url).pathname;

/** The permission flags of `deno task start`, so the process runs as the README starts it. */
function startTaskFlags(): string[] {
  const config = JSON.parse(
    Deno.readTextFileSync(new URL("../deno.json", import.meta.url)),
  ) as { tasks: Record<string, string> };
  return config.tasks.start.split(/\s+/).filter((word) => word.startsWith("--"));
}

export async function startServiceProcess(
  options: ServiceProcessOptions = {},
): Promise<ServiceProcess> {
  const env = options.env ?? {};
  const ownDataDir = env.DATA_DIR === undefined && env.MONGODB_URL === undefined
    ? await Deno.makeTempDir({ prefix: "svc-" })
    : undefined;
  const removeDataDir = async () => {
    if (ownDataDir) await Deno.remove(ownDataDir, { recursive: true }).catch(() => {});
  };
  const denoArgs = ["run", ...startTaskFlags(), MAIN];
  const [command, args] = options.fileLimit
    ? ["prlimit", [
      `--nofile=${options.fileLimit}:${options.fileLimit}`,
      Deno.execPath(),
      ...denoArgs,
    ]]
    : [Deno.execPath(), denoArgs];
  let child;
  try {
    child = await startChild(command, args, {
      env: {
        PORT: "0",
        HOST: "127.0.0.1",
        SESSION_COOKIE_SECURE: "false",
        ...(ownDataDir ? { DATA_DIR: ownDataDir } : {}),
        NO_COLOR: "1",
        ...env,
      },
      ready: /"msg":"listening"[^\n]*"url":"([^"]+)"/,
      timeoutMs: options.startTimeoutMs,
    });
  } catch (e) {
    await removeDataDir();
    throw e;
  }
  return {
    url: child.ready[1],
    output: child.output,
    exited: child.exited,
    stop: async () => {
      await child.stop("SIGTERM");
      await removeDataDir();
    },
    kill: () => child.stop("SIGKILL"),
  };
}

/**
 * Test helper: the service (src/main.ts) as a real child process, on port 0, with its own data
 * folder unless the test names a store. Waits for its "listening" line; collects its output;
 * stops it with SIGTERM, or kills it with SIGKILL for fault tests.
 */

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
  const denoArgs = ["run", ...startTaskFlags(), MAIN];
  const [command, args] = options.fileLimit
    ? ["prlimit", [
      `--nofile=${options.fileLimit}:${options.fileLimit}`,
      Deno.execPath(),
      ...denoArgs,
    ]]
    : [Deno.execPath(), denoArgs];
  const child = new Deno.Command(command, {
    args,
    env: {
      PORT: "0",
      HOST: "127.0.0.1",
      SESSION_COOKIE_SECURE: "false",
      ...(ownDataDir ? { DATA_DIR: ownDataDir } : {}),
      NO_COLOR: "1",
      ...env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  let ended = false;
  const status = child.status.then((s) => {
    ended = true;
    return s;
  });
  let resolveUrl!: (url: string) => void;
  const urlFound = new Promise<string>((r) => resolveUrl = r);
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      const m = /"msg":"listening"[^\n]*"url":"([^"]+)"/.exec(text);
      if (m) resolveUrl(m[1]);
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const timeoutMs = options.startTimeoutMs ?? 20_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const url = await Promise.race([
    urlFound,
    status.then(() => null),
    new Promise<null>((r) => timer = setTimeout(() => r(null), timeoutMs)),
  ]);
  clearTimeout(timer);
  const cleanup = async () => {
    await pumps.catch(() => {});
    if (ownDataDir) await Deno.remove(ownDataDir, { recursive: true }).catch(() => {});
  };
  const end = async (signal: Deno.Signal) => {
    if (!ended) {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
    }
    await status;
    await cleanup();
  };
  if (url === null) {
    await end("SIGKILL");
    throw new Error(`Cannot start service process: no "listening" line\n${text.slice(-4000)}`);
  }
  return {
    url,
    output: () => text,
    exited: () => ended,
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
  };
}

/**
 * Test helper: a real child process whose output is collected, started and awaited until a line
 * matches `ready` (or it ends, or `timeoutMs` pass: then it is killed and the start fails with its
 * last output). The service and store process helpers, and the HTTP bench, are built on it.
 */

export interface Child {
  pid: number;
  /** The match of `ready` in the output. */
  ready: RegExpExecArray;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Whether the process has ended. */
  exited(): boolean;
  /** Sends `signal` (unless it has ended) and waits for the end. */
  stop(signal?: Deno.Signal): Promise<void>;
}

export interface ChildOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** What the output must show before the process counts as started. */
  ready: RegExp;
  /** Default 20 s. */
  timeoutMs?: number;
  /**
   * Keep only the last this many characters of output once started (a benchmarked server's
   * access log would otherwise pile up in this process); default: everything.
   */
  keepLast?: number;
}

export async function startChild(
  command: string,
  args: string[],
  options: ChildOptions,
): Promise<Child> {
  const child = new Deno.Command(command, {
    args,
    env: options.env,
    cwd: options.cwd,
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
  let found!: (m: RegExpExecArray) => void;
  const ready = new Promise<RegExpExecArray>((r) => found = r);
  let started = false;
  const keepLast = options.keepLast;
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      if (!started) {
        const m = options.ready.exec(text);
        if (m) {
          started = true;
          found(m);
        }
      } else if (keepLast !== undefined && text.length > 2 * keepLast) {
        text = text.slice(-keepLast);
      }
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const stop = async (signal: Deno.Signal = "SIGTERM") => {
    if (!ended) {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
    }
    await status;
    await pumps.catch(() => {});
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const match = await Promise.race([
    ready,
    status.then(() => null),
    new Promise<null>((r) => timer = setTimeout(() => r(null), options.timeoutMs ?? 20_000)),
  ]);
  clearTimeout(timer);
  if (match === null) {
    await stop("SIGKILL");
    throw new Error(`Cannot start ${command} ${args.join(" ")}\n${text.slice(-4000)}`);
  }
  return { pid: child.pid, ready: match, output: () => text, exited: () => ended, stop };
}

/**
 * Test helper: the standalone embedded store (`deno task db`, src/app/store_cli.ts) as a
 * real child process on a loopback port, which a test can stop, kill and start again on the
 * same data folder and port.
 */

export interface StoreProcess {
  /** `mongodb://127.0.0.1:PORT/?directConnection=true` */
  url: string;
  port: number;
  dbpath: string;
  output(): string;
  /** SIGTERM (or `signal`), and wait for the end. */
  stop(signal?: Deno.Signal): Promise<void>;
}

const CLI = new URL("../src/app/store_cli.ts", import.meta.url).pathname;

/** A port that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Starts the store on `port` (default: a free one) and `dbpath`; waits until it listens. */
export async function startStoreProcess(
  options: { dbpath: string; port?: number; args?: string[] },
): Promise<StoreProcess> {
  const port = options.port ?? freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      CLI,
      "--port",
      String(port),
      "--dbpath",
      options.dbpath,
      ...(options.args ?? []),
    ],
    env: { NO_COLOR: "1" },
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
  let listening!: () => void;
  const started = new Promise<void>((r) => listening = r);
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      if (/"listening"/.test(text)) listening();
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ok = await Promise.race([
    started.then(() => true),
    status.then(() => false),
    new Promise<boolean>((r) => timer = setTimeout(() => r(false), 20_000)),
  ]);
  clearTimeout(timer);
  const stop = async (signal: Deno.Signal = "SIGTERM") => {
    if (!ended) {
      try {
        child.kill(signal);
      } catch { /* gone */ }
    }
    await status;
    await pumps.catch(() => {});
  };
  if (!ok) {
    await stop("SIGKILL");
    throw new Error(`Cannot start store process\n${text.slice(-3000)}`);
  }
  return {
    url: `mongodb://127.0.0.1:${port}/?directConnection=true`,
    port,
    dbpath: options.dbpath,
    output: () => text,
    stop,
  };
}

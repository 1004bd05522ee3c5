/**
 * Test helper: the standalone embedded store (`deno task db`, src/app/store_cli.ts) as a
 * real child process on a loopback port, which a test can stop, kill and start again on the
 * same data folder and port.
 */
import { startChild } from "./support/child.ts";

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
  const child = await startChild(Deno.execPath(), [
    "run",
    "-A",
    CLI,
    "--port",
    String(port),
    "--dbpath",
    options.dbpath,
    ...(options.args ?? []),
  ], { env: { NO_COLOR: "1" }, ready: /"listening"/ });
  return {
    url: `mongodb://127.0.0.1:${port}/?directConnection=true`,
    port,
    dbpath: options.dbpath,
    output: child.output,
    stop: (signal: Deno.Signal = "SIGTERM") => child.stop(signal),
  };
}

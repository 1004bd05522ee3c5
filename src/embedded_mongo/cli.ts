/**
 * The embedded server as a standalone process, so several app processes can share one store:
 *
 *   deno task db --port 27017 --dbpath .data/db [--bind_ip 127.0.0.1]
 *
 * Prints one JSON line once listening, and stops cleanly (data flushed) on SIGINT or SIGTERM.
 * Without `--dbpath` the data lives in memory only.
 */
import { startEmbeddedMongo } from "./mod.ts";

export interface CliOptions {
  port: number;
  dbpath?: string;
  bindIp: string;
}

const USAGE = "usage: cli.ts [--port N] [--dbpath DIR] [--bind_ip HOST]";

/** Parses the command line; throws an Error with a message for a bad one. */
export function parseArgs(args: string[]): CliOptions {
  const options: CliOptions = { port: 27017, bindIp: "127.0.0.1" };
  for (let i = 0; i < args.length; i++) {
    let flag = args[i];
    let value: string | undefined;
    const eq = flag.indexOf("=");
    if (flag.startsWith("--") && eq > 0) {
      value = flag.slice(eq + 1);
      flag = flag.slice(0, eq);
    }
    const take = (): string => {
      if (value !== undefined) return value;
      const next = args[++i];
      if (next === undefined || next.startsWith("--")) {
        throw new Error(`Cannot start: ${flag} needs a value (${USAGE})`);
      }
      return next;
    };
    switch (flag) {
      case "--port": {
        const raw = take();
        const port = Number(raw);
        if (!/^\d+$/.test(raw) || port > 65535) {
          throw new Error(`Cannot start: --port must be an integer from 0 to 65535, got '${raw}'`);
        }
        options.port = port;
        break;
      }
      case "--dbpath":
        options.dbpath = take();
        if (options.dbpath === "") throw new Error("Cannot start: --dbpath must not be empty");
        break;
      case "--bind_ip":
        options.bindIp = take();
        if (options.bindIp === "") throw new Error("Cannot start: --bind_ip must not be empty");
        break;
      default:
        throw new Error(`Cannot start: unknown flag '${flag}' (${USAGE})`);
    }
  }
  return options;
}

async function main(): Promise<void> {
  let options: CliOptions;
  try {
    options = parseArgs(Deno.args);
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(2);
  }
  const log = (event: Record<string, unknown>) =>
    console.log(JSON.stringify({ time: new Date().toISOString(), ...event }));
  let server;
  try {
    server = await startEmbeddedMongo({
      port: options.port,
      dataDir: options.dbpath,
      hostname: options.bindIp,
      log,
    });
  } catch (e) {
    console.error(`Cannot start: ${(e as Error).message}`);
    Deno.exit(1);
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    try {
      await server.close();
      log({ event: "stopped", signal });
      Deno.exit(0);
    } catch (e) {
      console.error(`Cannot stop cleanly: ${(e as Error).message}`);
      Deno.exit(1);
    }
  };
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  log({
    event: "listening",
    url: server.url,
    host: options.bindIp,
    port: server.port,
    dbpath: options.dbpath ?? null,
  });
}

if (import.meta.main) await main();

/**
 * The embedded server as a standalone process, so several app processes can share one store:
 *
 *   deno task db --socket /path/to/db.sock --dbpath .data/db [--maxConns N]
 *   deno task db --port 27017 --dbpath .data/db [--bind_ip 127.0.0.1] [--maxConns N]
 *
 * `--socket` serves on a Unix socket made 0600 (only this user can connect): the way for several
 * service processes of one user to share the store privately. On TCP it listens on loopback only
 * and refuses any other `--bind_ip`, because it has no authentication: to serve other machines,
 * run MongoDB itself (a replica set is how the service grows past one machine). `--maxConns` caps
 * the client connections served at once (default 1000; keep it below `ulimit -n`).
 *
 * Logs one JSON object per line in the service's format (`src/utils/log.ts`), the first once
 * listening; stops cleanly (data flushed) on SIGINT or SIGTERM. Without `--dbpath` the data lives
 * in memory only.
 */
import { resolve } from "node:path";
import { jsonLineSink, Logger } from "../utils/log.ts";
import {
  describeEvent,
  loopbackProblem,
  socketPathProblem,
  startEmbeddedMongo,
} from "../embedded_mongo/mod.ts";

export interface CliOptions {
  port: number;
  dbpath?: string;
  bindIp: string;
  /** An absolute socket path; then there is no TCP port. */
  socket?: string;
  maxConns?: number;
}

const USAGE =
  "usage: deno task db [--socket PATH.sock | --port N [--bind_ip LOOPBACK]] [--dbpath DIR] [--maxConns N]";

/** Parses the command line; throws an Error with a message for a bad one. */
export function parseArgs(args: string[], cwd = Deno.cwd()): CliOptions {
  const options: CliOptions = { port: 27017, bindIp: "127.0.0.1" };
  let tcpFlag: string | undefined;
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
        tcpFlag = flag;
        break;
      }
      case "--dbpath":
        options.dbpath = take();
        if (options.dbpath === "") throw new Error("Cannot start: --dbpath must not be empty");
        break;
      case "--bind_ip": {
        const ip = take();
        if (ip === "") throw new Error("Cannot start: --bind_ip must not be empty");
        const problem = loopbackProblem(ip);
        if (problem) throw new Error(`Cannot start: --bind_ip ${ip}: ${problem}`);
        options.bindIp = ip;
        tcpFlag = flag;
        break;
      }
      case "--socket": {
        const path = take();
        if (path === "") throw new Error("Cannot start: --socket must not be empty");
        options.socket = resolve(cwd, path);
        const problem = socketPathProblem(options.socket);
        if (problem) throw new Error(`Cannot start: --socket ${options.socket}: ${problem}`);
        break;
      }
      case "--maxConns": {
        const raw = take();
        const n = Number(raw);
        if (!/^\d+$/.test(raw) || n < 1 || !Number.isSafeInteger(n)) {
          throw new Error(`Cannot start: --maxConns must be a positive integer, got '${raw}'`);
        }
        options.maxConns = n;
        break;
      }
      default:
        throw new Error(`Cannot start: unknown flag '${flag}' (${USAGE})`);
    }
  }
  if (options.socket !== undefined && tcpFlag !== undefined) {
    throw new Error(`Cannot start: --socket serves no TCP port, so ${tcpFlag} does not apply`);
  }
  return options;
}

async function main(): Promise<void> {
  const logger = new Logger(jsonLineSink);
  let options: CliOptions;
  try {
    options = parseArgs(Deno.args);
  } catch (e) {
    logger.error((e as Error).message);
    Deno.exit(2);
  }
  const log = (event: Record<string, unknown>) => {
    const { level, msg, fields } = describeEvent(event);
    logger.log(level, msg, fields);
  };
  let server;
  try {
    server = await startEmbeddedMongo({
      ...(options.socket !== undefined
        ? { socketPath: options.socket }
        : { port: options.port, hostname: options.bindIp }),
      dataDir: options.dbpath,
      maxConns: options.maxConns,
      log,
    });
  } catch (e) {
    const message = (e as Error).message;
    logger.error(message.startsWith("Cannot ") ? message : `Cannot start: ${message}`);
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
      logger.error(`Cannot stop cleanly: ${(e as Error).message}`);
      Deno.exit(1);
    }
  };
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  log({
    event: "listening",
    url: server.url,
    socket: server.socketPath ?? null,
    host: server.socketPath ? null : options.bindIp,
    port: server.port ?? null,
    dbpath: options.dbpath ?? null,
  });
}

if (import.meta.main) await main();

/**
 * Where the embedded server listens, and only there. It has no authentication, so it never
 * listens where another machine, or another user, can reach it:
 * - a Unix domain socket (the private way): made mode 0600 whatever the umask, so only this user
 *   (and root) can connect. A socket file left by a killed server is replaced; one that a live
 *   server answers on is not. The driver connects to `mongodb://<percent-encoded path>`, which it
 *   reads as a socket path only when it ends in `.sock`.
 * - TCP on a loopback address (127.0.0.0/8, ::1, localhost): any local user can connect, so this
 *   is for a machine of one user (or tests). Any other address is refused with the reason.
 */

/** The longest Unix socket path Linux takes (`sun_path` is 108 bytes with its NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;

export type ListenOptions = { socketPath: string } | { hostname?: string; port: number };

export interface Listening {
  listener: Deno.Listener;
  /** `mongodb://...?directConnection=true` */
  url: string;
  socketPath?: string;
  /** Removes the socket file, unless it is gone or is no longer ours. Idempotent. */
  removeSocket?: () => void;
  hostname?: string;
  port?: number;
}

/** Whether `host` is a loopback address: 127.0.0.0/8, ::1 or localhost. */
export function isLoopback(host: string): boolean {
  if (host === "localhost" || host === "::1" || host === "[::1]") return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return m !== null && m.slice(1).every((part) => Number(part) <= 255);
}

/** Why the server must not listen on TCP address `host`, or undefined when it may. */
export function loopbackProblem(host: string): string | undefined {
  if (isLoopback(host)) return undefined;
  return "it is not a loopback address. The embedded server has no authentication, so it " +
    "serves this machine only (a Unix socket, or 127.0.0.1, ::1, localhost). To serve other " +
    "machines run MongoDB itself: a replica set is how this service grows past one machine";
}

/** Why `path` cannot be the server's socket, or undefined when it can. */
export function socketPathProblem(path: string): string | undefined {
  if (!path.startsWith("/")) return "a socket path must be absolute";
  if (!path.endsWith(".sock")) {
    return "a socket path must end in .sock (the mongodb driver reads only such a host as a " +
      "socket path)";
  }
  const bytes = new TextEncoder().encode(path).length;
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    return `a Unix socket path is at most ${MAX_SOCKET_PATH_BYTES} bytes and this one has ` +
      `${bytes}; choose a shorter path`;
  }
  return undefined;
}

/** The driver URL of a Unix socket. */
export function socketUrl(path: string): string {
  return `mongodb://${encodeURIComponent(path)}/?directConnection=true`;
}

/** Removes a socket file nobody answers on; refuses a live one, or anything else at `path`. */
async function clearStaleSocket(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  if (!info.isSocket) {
    throw new Error(`Cannot listen on ${path}: the path exists and is not a socket`);
  }
  let conn: Deno.Conn;
  try {
    conn = await Deno.connect({ transport: "unix", path });
  } catch (e) {
    if (!(e instanceof Deno.errors.ConnectionRefused)) {
      throw new Error(`Cannot listen on ${path}: ${(e as Error).message}`);
    }
    Deno.removeSync(path); // left by a server that died without closing
    return;
  }
  conn.close();
  throw new Error(`Cannot listen on ${path}: a server is already listening there`);
}

/** Opens the listener: a private Unix socket, or TCP on loopback (port 0 picks a free one). */
export async function listen(options: ListenOptions): Promise<Listening> {
  if ("socketPath" in options) {
    const path = options.socketPath;
    const problem = socketPathProblem(path);
    if (problem) throw new Error(`Cannot listen on ${path}: ${problem}`);
    await clearStaleSocket(path);
    // The socket is born private (owner only: no moment when another user may connect), then
    // set 0600. The umask is process-wide for this one synchronous call; 077 rather than 177, so
    // that a folder some other thread happens to create meanwhile stays usable (0700).
    const umask = Deno.umask(0o077);
    let listener: Deno.Listener;
    try {
      listener = Deno.listen({ transport: "unix", path });
    } finally {
      Deno.umask(umask);
    }
    let ino: number | null;
    try {
      Deno.chmodSync(path, 0o600);
      ino = Deno.lstatSync(path).ino;
    } catch (e) {
      listener.close();
      throw e;
    }
    const removeSocket = () => {
      try {
        if (Deno.lstatSync(path).ino === ino) Deno.removeSync(path);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    };
    return { listener, url: socketUrl(path), socketPath: path, removeSocket };
  }
  const hostname = options.hostname ?? "127.0.0.1";
  const problem = loopbackProblem(hostname);
  if (problem) throw new Error(`Cannot listen on ${hostname}: ${problem}`);
  const listener = Deno.listen({ hostname, port: options.port });
  const addr = listener.addr as Deno.NetAddr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return {
    listener,
    url: `mongodb://${host}:${addr.port}/?directConnection=true`,
    hostname: addr.hostname,
    port: addr.port,
  };
}

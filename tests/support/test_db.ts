/**
 * Test databases: `testDb()` gives every caller a fresh database of its own, so test files run
 * in parallel; `serverUrl(client)` names the server a client talks to, for a second client.
 */
import { type Db, MongoClient } from "mongodb";
import { connectEmbedded, SOCKET_NAME } from "../../src/app/database.ts";
import { type EmbeddedMongo, startEmbeddedMongo } from "../../src/embedded_mongo/mod.ts";
import { freshID } from "../../src/utils/ids.ts";

/**
 * The URL of the server `client` talks to (its first host), for a second client on the same
 * server in a test: `mongodb://<host:port or percent-encoded socket path>/?directConnection=true`.
 */
export function serverUrl(client: MongoClient): string {
  const host = client.options.hosts[0];
  const where = host.socketPath ? encodeURIComponent(host.socketPath) : host.toString();
  return `mongodb://${where}/?directConnection=true`;
}

/**
 * A fresh, uniquely named database for one test. Without `MONGODB_URL` it lives in an in-memory
 * embedded server of its own, on a socket in a fresh private temporary folder; with `MONGODB_URL`
 * it is a `test-...` database on that server. Either way `client.close()` cleans up (stops the
 * server and removes its folder, or drops the database first).
 */
export async function testDb(
  options: { ttlMonitorIntervalMs?: number } = {},
): Promise<[Db, MongoClient]> {
  const url = Deno.env.get("MONGODB_URL");
  const name = `test-${freshID().replace(/[^A-Za-z0-9]/g, "").slice(0, 16)}`;
  if (url) {
    const client = new MongoClient(url);
    await client.connect();
    const db = client.db(name);
    const close = client.close.bind(client);
    let closing: Promise<void> | undefined;
    client.close = (force?: boolean) => {
      closing ??= (async () => {
        try {
          await db.dropDatabase();
        } finally {
          await close(force);
        }
      })();
      return closing;
    };
    return [db, client];
  }
  const dir = await Deno.makeTempDir({ prefix: "testdb-" }); // 0700
  const removeDir = () => Deno.remove(dir, { recursive: true });
  let server: EmbeddedMongo;
  try {
    server = await startEmbeddedMongo({
      socketPath: `${dir}/${SOCKET_NAME}`,
      ttlMonitorIntervalMs: options.ttlMonitorIntervalMs,
    });
  } catch (e) {
    await removeDir();
    throw e;
  }
  const client = await connectEmbedded(server, undefined, removeDir);
  return [client.db(name), client];
}

/**
 * Serves a handler (an app's `fetch`) on loopback with the service's HTTP server and answer
 * headers (src/http/security_headers.ts), for tests of what a client really receives.
 */
import { type FetchHandler, serveHttp } from "../../src/http/server.ts";
import { answerHeadersFor } from "../../src/http/security_headers.ts";

/** Runs `fn` with the base URL (`http://127.0.0.1:PORT`) of `handler` served; then stops. */
export async function withServed(
  handler: FetchHandler,
  fn: (base: string) => Promise<void>,
): Promise<void> {
  const server = serveHttp({
    hostname: "127.0.0.1",
    port: 0,
    headersTimeoutMs: 5000,
    idleTimeoutMs: 5000,
    bodyTimeoutMs: 5000,
    sendTimeoutMs: 5000,
    maxConnections: 64,
    maxBodyBytes: 64 * 1024,
    answerHeaders: answerHeadersFor,
    handler,
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown(100);
  }
}

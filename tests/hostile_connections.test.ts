/**
 * The real service as a child process under a low open-file limit, flooded with idle TCP
 * connections: it must stay up, keep answering, and close what it cannot serve.
 */
import assert from "node:assert/strict";
import { startServiceProcess } from "./service_process.ts";

const FILE_LIMIT = 256;

Deno.test("service under a 256-file limit survives 400 idle connections and answers /healthz again", async () => {
  const service = await startServiceProcess({
    env: { HTTP_HEADERS_TIMEOUT: "2s", HTTP_IDLE_TIMEOUT: "2s" },
    fileLimit: FILE_LIMIT,
  });
  const idle: Deno.TcpConn[] = [];
  try {
    const port = Number(new URL(service.url).port);
    for (let i = 0; i < FILE_LIMIT + 144; i++) {
      try {
        idle.push(await Deno.connect({ hostname: "127.0.0.1", port }));
      } catch {
        break; // the listen backlog is full: flooded enough
      }
    }
    assert.ok(
      idle.length > FILE_LIMIT,
      `opened only ${idle.length} connections (did the service die?)`,
    );

    // While the flood is still open, a real client gets an answer: the cap (fitted under the
    // file limit) closes the longest-waiting idle connection to make room for it.
    const during = await healthzWithin(service.url, 10_000);
    assert.equal(during, 200);

    for (const conn of idle) conn.close();
    idle.length = 0;
    assert.equal(await healthzWithin(service.url, 10_000), 200);
    assert.equal(service.exited(), false, "the service process ended");
    // The accept errors were logged, not thrown out of the process; with the start task's
    // permissions /proc/self/limits cannot be read, so the cap was fitted at the first EMFILE.
    assert.ok(!service.output().includes("Uncaught"), service.output().slice(-2000));
    assert.match(service.output(), /"msg":"http accept failed"/);
    assert.match(service.output(), /"msg":"http connection cap lowered"/);
  } finally {
    for (const conn of idle) conn.close();
    await service.stop();
  }
});

Deno.test("service closes a connection that sends half a header", async () => {
  const service = await startServiceProcess({ env: { HTTP_HEADERS_TIMEOUT: "1s" } });
  try {
    const port = Number(new URL(service.url).port);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Half"));
    const started = Date.now();
    const buf = new Uint8Array(1024);
    const timer = setTimeout(() => conn.close(), 8000);
    let closedByServer = false;
    try {
      closedByServer = await conn.read(buf) === null;
    } catch {
      closedByServer = false; // our own timer closed it: the server did not
    } finally {
      clearTimeout(timer);
    }
    assert.ok(closedByServer, "the server kept a half-sent header open");
    assert.ok(Date.now() - started < 5000);
    try {
      conn.close();
    } catch { /* closed */ }
  } finally {
    await service.stop();
  }
});

/** The status of GET /healthz, retried until it answers or `ms` pass (then 0). */
async function healthzWithin(url: string, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      return res.status;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return 0;
}

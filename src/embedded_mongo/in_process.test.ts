import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Duplex } from "node:stream";
import { deserialize, serialize } from "bson";
import { InProcessSocket } from "./in_process.ts";
import { startEmbeddedMongo } from "./mod.ts";

const OP_MSG = 2013;

/** An OP_MSG frame holding `command` as its body section. */
function opMsg(requestId: number, command: Record<string, unknown>): Uint8Array {
  const body = serialize(command);
  const frame = new Uint8Array(16 + 4 + 1 + body.length);
  const view = new DataView(frame.buffer);
  view.setInt32(0, frame.length, true);
  view.setInt32(4, requestId, true);
  view.setInt32(12, OP_MSG, true);
  frame.set(body, 21);
  return frame;
}

/** Collects a stream's bytes; `reply()` resolves with the body of the next whole OP_MSG reply. */
function replies(socket: Duplex) {
  let bytes = new Uint8Array(0);
  let wake: (() => void) | undefined;
  socket.on("data", (chunk: Buffer) => {
    const next = new Uint8Array(bytes.length + chunk.length);
    next.set(bytes);
    next.set(chunk, bytes.length);
    bytes = next;
    wake?.();
  });
  return {
    async reply(): Promise<{ responseTo: number; body: Record<string, unknown> }> {
      for (;;) {
        if (bytes.length >= 4) {
          const length = new DataView(bytes.buffer, bytes.byteOffset).getInt32(0, true);
          if (bytes.length >= length) {
            const frame = bytes.subarray(0, length);
            bytes = bytes.slice(length);
            const view = new DataView(frame.buffer, frame.byteOffset);
            return { responseTo: view.getInt32(8, true), body: deserialize(frame.subarray(21)) };
          }
        }
        await new Promise<void>((resolve) => wake = resolve);
      }
    },
  };
}

const closed = (socket: Duplex) =>
  new Promise<void>((resolve) => socket.destroyed ? resolve() : socket.once("close", resolve));

Deno.test("connectInProcess(): wire messages in and out with no socket, the writer's buffer reusable", async () => {
  const server = await startEmbeddedMongo({ port: 0 });
  try {
    const socket = server.connectInProcess();
    const { reply } = replies(socket);
    // Two commands in one write, then a third split across two writes of one reused buffer.
    const a = opMsg(1, { insert: "c", documents: [{ _id: 1 }], $db: "t" });
    const b = opMsg(2, { count: "c", $db: "t" });
    socket.write(Buffer.concat([a, b]));
    assert.deepEqual(await reply(), { responseTo: 1, body: { n: 1, ok: 1 } });
    assert.deepEqual(await reply(), { responseTo: 2, body: { n: 1, ok: 1 } });
    const c = opMsg(3, { find: "c", filter: {}, $db: "t" });
    const buffer = Buffer.alloc(c.length);
    buffer.set(c.subarray(0, 10));
    socket.write(buffer.subarray(0, 10));
    buffer.fill(0xff); // a writer may reuse its buffer once written
    buffer.set(c.subarray(10), 0);
    socket.write(buffer.subarray(0, c.length - 10));
    const third = await reply();
    assert.equal(third.responseTo, 3);
    assert.deepEqual((third.body.cursor as { firstBatch: unknown[] }).firstBatch, [{ _id: 1 }]);
    socket.destroy();
  } finally {
    await server.close();
  }
});

Deno.test("connectInProcess({ sessions: false }): hello tells of no sessions; by default it tells of them", async () => {
  const server = await startEmbeddedMongo({ port: 0 });
  try {
    for (
      const [options, minutes] of [[undefined, 30], [{ sessions: true }, 30], [
        { sessions: false },
        undefined,
      ]] as const
    ) {
      const socket = server.connectInProcess(options);
      const { reply } = replies(socket);
      socket.write(opMsg(1, { hello: 1, $db: "admin" }));
      const { body } = await reply();
      assert.equal(body.isWritablePrimary, true);
      assert.equal(body.logicalSessionTimeoutMinutes, minutes, JSON.stringify(options));
      socket.destroy();
    }
  } finally {
    await server.close();
  }
});

Deno.test("connectInProcess(): counts against maxConns, and a closing server closes its streams", async () => {
  const server = await startEmbeddedMongo({ port: 0, maxConns: 1 });
  const first = server.connectInProcess();
  const second = server.connectInProcess();
  await closed(second); // over the limit: destroyed at once, as a refused socket is closed
  assert.equal(first.destroyed, false);
  const { reply } = replies(first);
  first.write(opMsg(7, { serverStatus: 1, $db: "admin" }));
  const status = (await reply()).body as { connections: Record<string, number> };
  assert.equal(status.connections.current, 1);
  assert.equal(status.connections.refused, 1);
  const firstClosed = closed(first);
  await server.close();
  await firstClosed; // the server's end was closed: the client's end sees `close`
  const late = server.connectInProcess();
  await closed(late); // no connection once closed
});

Deno.test("connectInProcess(): a client that goes away frees its place on the server", async () => {
  const server = await startEmbeddedMongo({ port: 0, maxConns: 1 });
  try {
    const first = server.connectInProcess();
    first.destroy();
    await closed(first);
    // The server reads the end of the stream and drops the connection; then there is room.
    const deadline = Date.now() + 5000;
    for (;;) {
      const next = server.connectInProcess();
      if (!next.destroyed) {
        next.destroy();
        break;
      }
      assert.ok(Date.now() < deadline, "the first connection was never dropped");
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    await server.close();
  }
});

Deno.test("InProcessSocket.setTimeout(): 'timeout' after that long with no bytes; activity defers it; 0 disarms it", async () => {
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const idle = new InProcessSocket();
  const started = Date.now();
  const fired = new Promise<number>((resolve) => idle.setTimeout(60, () => resolve(Date.now())));
  const at = await fired;
  assert.ok(at - started >= 55, `timed out after ${at - started} ms`);
  idle.destroy();

  // Bytes every 20 ms for 600 ms keep a 300 ms timeout from firing (wide margins: a loaded
  // machine may run a 20 ms wait late); then it fires.
  const busy = new InProcessSocket();
  let timedOutAt = 0;
  busy.on("timeout", () => timedOutAt = Date.now());
  busy.setTimeout(300);
  for (let i = 0; i < 30; i++) {
    await wait(20);
    busy.write(new Uint8Array([0]));
  }
  assert.equal(timedOutAt, 0, "timed out while bytes were flowing");
  const lastWrite = Date.now();
  while (timedOutAt === 0) await wait(10);
  assert.ok(
    timedOutAt - lastWrite >= 280,
    `timed out ${timedOutAt - lastWrite} ms after the last write`,
  );
  busy.destroy();

  // A shorter timeout set while a longer one's timer is pending fires on its own time.
  const shorter = new InProcessSocket();
  shorter.setTimeout(30_000);
  shorter.setTimeout(0);
  const shortStart = Date.now();
  await new Promise<void>((resolve) => shorter.setTimeout(40, resolve));
  assert.ok(Date.now() - shortStart < 5000, "waited for the longer timer");
  shorter.destroy();

  // setTimeout(0) disarms it.
  const disarmed = new InProcessSocket();
  let timedOut = false;
  disarmed.on("timeout", () => timedOut = true);
  disarmed.setTimeout(30);
  disarmed.setTimeout(0);
  await wait(80);
  assert.equal(timedOut, false);
  disarmed.destroy();
});

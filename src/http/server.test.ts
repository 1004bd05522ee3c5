/**
 * The HTTP/1.1 server over raw sockets: deadlines for heads, bodies and idle keep-alive
 * connections, the connection cap, strict framing, and ordinary requests (keep-alive,
 * pipelining, chunked bodies, HEAD, 100-continue).
 */
import assert from "node:assert/strict";
import {
  bodyOf,
  type HttpServer,
  type HttpServerOptions,
  MAX_HEAD_BYTES,
  serveHttp,
} from "./server.ts";
import { WireResponse } from "./wire_response.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

type Logged = { msg: string; [k: string]: unknown };

function start(
  overrides: Partial<HttpServerOptions> = {},
  logged: Logged[] = [],
): HttpServer {
  return serveHttp({
    hostname: "127.0.0.1",
    port: 0,
    headersTimeoutMs: 300,
    idleTimeoutMs: 400,
    bodyTimeoutMs: 300,
    sendTimeoutMs: 300,
    maxConnections: 100,
    maxBodyBytes: 1024,
    sweepIntervalMs: 50,
    log: (e) => logged.push(e),
    handler: async (req) => {
      const body = req.body ? await req.text() : "";
      return Response.json({ method: req.method, path: new URL(req.url).pathname, body });
    },
    ...overrides,
  });
}

async function connect(server: HttpServer): Promise<Deno.TcpConn> {
  return await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
}

/** Everything the server sends until it closes the connection (or `ms` pass: then null). */
async function readUntilClosed(conn: Deno.Conn, ms = 3000): Promise<string | null> {
  const chunks: string[] = [];
  const buf = new Uint8Array(65536);
  const timer = setTimeout(() => conn.close(), ms);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return chunks.join("");
      chunks.push(decoder.decode(buf.subarray(0, n)));
    }
  } catch {
    return null; // closed by our timer: the server kept it open
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

/** Reads one response (head and Content-Length body) from a kept-alive connection. */
async function readResponse(conn: Deno.Conn, pending: { text: string }): Promise<string> {
  const buf = new Uint8Array(65536);
  for (;;) {
    const headEnd = pending.text.indexOf("\r\n\r\n");
    if (headEnd >= 0) {
      const length = Number(/content-length: (\d+)/i.exec(pending.text.slice(0, headEnd))?.[1]);
      const total = headEnd + 4 + length;
      if (pending.text.length >= total) {
        const response = pending.text.slice(0, total);
        pending.text = pending.text.slice(total);
        return response;
      }
    }
    const n = await conn.read(buf);
    if (n === null) throw new Error("closed before a whole response");
    pending.text += decoder.decode(buf.subarray(0, n));
  }
}

async function send(conn: Deno.Conn, text: string): Promise<void> {
  await conn.write(encoder.encode(text));
}

Deno.test("serveHttp() closes a connection that sends half a header", async () => {
  const logged: Logged[] = [];
  const server = start({}, logged);
  try {
    const conn = await connect(server);
    await send(conn, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    const started = Date.now();
    const got = await readUntilClosed(conn);
    assert.equal(got, "", "the server closed it without an answer");
    assert.ok(Date.now() - started < 2000);
    assert.ok(logged.some((e) => e.msg === "http connection timed out" && e.phase === "head"));
  } finally {
    await server.shutdown();
  }
});

Deno.test("serveHttp() closes a connection that sends nothing, and one trickling its head", async () => {
  const server = start();
  try {
    const idle = await connect(server);
    const trickle = await connect(server);
    let stop = false;
    const trickling = (async () => {
      // One byte every 100 ms never completes the head: the head deadline still applies.
      for (const ch of "GET / HTTP/1.1\r\nHost: x\r\nX-A: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") {
        if (stop) return;
        await trickle.write(encoder.encode(ch)).catch(() => stop = true);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    assert.equal(await readUntilClosed(idle), "");
    const got = await readUntilClosed(trickle);
    stop = true;
    await trickling;
    assert.equal(got, "");
    assert.equal(server.connections, 0);
  } finally {
    await server.shutdown();
  }
});

Deno.test("serveHttp() keeps a connection alive for several and pipelined requests, then closes it when idle", async () => {
  const server = start();
  try {
    const conn = await connect(server);
    const pending = { text: "" };
    await send(conn, "GET /one HTTP/1.1\r\nHost: x\r\n\r\n");
    const one = await readResponse(conn, pending);
    assert.match(one, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(one, /connection: keep-alive/);
    assert.ok(one.endsWith('{"method":"GET","path":"/one","body":""}'));
    await send(
      conn,
      "POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}GET /three HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    assert.ok((await readResponse(conn, pending)).endsWith('"path":"/two","body":"{}"}'));
    assert.ok((await readResponse(conn, pending)).endsWith('"path":"/three","body":""}'));
    // Idle past idleTimeoutMs: closed.
    assert.equal(await readUntilClosed(conn), "");
  } finally {
    await server.shutdown();
  }
});

Deno.test("serveHttp() closes a stalled body and logs a client that abandons its body as an abort", async () => {
  const logged: Logged[] = [];
  let handled = 0;
  const server = start({
    handler: () => {
      handled++;
      return new Response("{}");
    },
  }, logged);
  try {
    const stalled = await connect(server);
    await send(stalled, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"a":');
    assert.equal(await readUntilClosed(stalled), "");
    assert.ok(logged.some((e) => e.msg === "http connection timed out" && e.phase === "body"));

    const abandoned = await connect(server);
    await send(abandoned, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"a":');
    abandoned.close();
    const deadline = Date.now() + 2000;
    while (!logged.some((e) => e.msg === "http client abort") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(logged.some((e) => e.msg === "http client abort" && e.phase === "body"));
    assert.equal(handled, 0, "an incomplete request never reaches the handler");
  } finally {
    await server.shutdown();
  }
});

Deno.test("serveHttp() refuses bad framing with 4xx and closes the connection", async () => {
  let handled = 0;
  const server = start({
    handler: () => {
      handled++;
      return new Response("{}");
    },
  });
  const cases: Array<[string, RegExp]> = [
    ["GET / HTTP/1.1\r\n\r\n", /^HTTP\/1\.1 400 /],
    ["GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", /^HTTP\/1\.1 400 /],
    [
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
      /^HTTP\/1\.1 400 /,
    ],
    [
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
      /^HTTP\/1\.1 400 /,
    ],
    ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", /^HTTP\/1\.1 400 /],
    ["POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", /^HTTP\/1\.1 501 /],
    ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n", /^HTTP\/1\.1 413 /],
    ["GET / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n", /^HTTP\/1\.1 400 /],
    ["GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", /^HTTP\/1\.1 400 /],
    ["GET nothing HTTP/1.1\r\nHost: x\r\n\r\n", /^HTTP\/1\.1 400 /],
    ["GET / HTTP/2.0\r\nHost: x\r\n\r\n", /^HTTP\/1\.1 400 /],
    [
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(MAX_HEAD_BYTES)}\r\n\r\n`,
      /^HTTP\/1\.1 431 /,
    ],
    ["GET / HTTP/1.1\r\nHost: bad host\r\n\r\n", /^HTTP\/1\.1 400 /],
    // A Host that would move the path the app sees ("/admin/...") is refused, not joined in.
    ["GET /api/ping HTTP/1.1\r\nHost: x/admin?\r\n\r\n", /^HTTP\/1\.1 400 /],
    ["GET / HTTP/1.1\r\nHost: x\r\nX-A: a\nb\r\n\r\n", /^HTTP\/1\.1 400 /],
    // Lines ending in LF alone are refused at once, not waited on until the head's deadline.
    ["GET / HTTP/1.1\nHost: x\n\n", /^HTTP\/1\.1 400 /],
    ["\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", /^HTTP\/1\.1 400 /],
    ["GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n", /^HTTP\/1\.1 400 /],
    [
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      /^HTTP\/1\.1 400 /,
    ],
  ];
  try {
    for (const [request, expected] of cases) {
      const conn = await connect(server);
      await send(conn, request);
      const got = await readUntilClosed(conn);
      assert.ok(got !== null, `kept open after ${JSON.stringify(request.slice(0, 60))}`);
      assert.match(got, expected, JSON.stringify(request.slice(0, 60)));
      assert.match(got, /connection: close/);
      assert.match(got, /\{"error":"Cannot read (request|body): /);
    }
    assert.equal(handled, 0);
  } finally {
    await server.shutdown();
  }
});

Deno.test("serveHttp() reads a head sent a byte at a time, its CRLFs split across reads", async () => {
  const server = start({ headersTimeoutMs: 5000 });
  const conn = await connect(server);
  try {
    const request = "GET /slow HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\r\n";
    for (const byte of encoder.encode(request)) {
      await conn.write(Uint8Array.of(byte));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const response = await readResponse(conn, { text: "" });
    assert.match(response, /^HTTP\/1\.1 200 /);
    assert.match(response, /"path":"\/slow"/);
  } finally {
    conn.close();
    await server.shutdown();
  }
});

Deno.test("serveHttp() reads chunked bodies, honours 100-continue, and answers HEAD without a body", async () => {
  const server = start();
  try {
    let conn = await connect(server);
    await send(
      conn,
      "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
        '3;ext=1\r\n{"a\r\n4\r\n":1}\r\n0\r\nX-Trailer: t\r\n\r\n',
    );
    let got = await readUntilClosed(conn);
    assert.ok(got?.endsWith('"body":"{\\"a\\":1}"}'), got ?? "");

    conn = await connect(server);
    await send(
      conn,
      "POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
    );
    const buf = new Uint8Array(1024);
    const n = await conn.read(buf);
    assert.equal(decoder.decode(buf.subarray(0, n!)), "HTTP/1.1 100 Continue\r\n\r\n");
    await send(conn, "{}");
    got = await readUntilClosed(conn);
    assert.match(got ?? "", /^HTTP\/1\.1 200 OK/);

    conn = await connect(server);
    await send(conn, "HEAD /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    got = await readUntilClosed(conn);
    assert.match(got ?? "", /content-length: \d+\r\n/);
    assert.ok(got?.endsWith("\r\n\r\n"), "no body after the head");
  } finally {
    await server.shutdown();
  }
});

Deno.test("serveHttp() at its connection cap closes a waiting connection for a newcomer, or answers 503 when all are busy", async () => {
  const logged: Logged[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  let waiting = 0;
  const server = start({
    maxConnections: 3,
    headersTimeoutMs: 10_000,
    idleTimeoutMs: 10_000,
    handler: async (req) => {
      if (new URL(req.url).pathname === "/wait") {
        waiting++;
        await gate;
      }
      return Response.json({ ok: true });
    },
  }, logged);
  try {
    const idle = await Promise.all([connect(server), connect(server), connect(server)]);
    // A fourth client is served: the oldest idle connection made room.
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/`, {
      headers: { connection: "close" },
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    for (const c of idle) c.close();

    // Three busy connections: a fourth gets 503 and is closed.
    const busy = await Promise.all([connect(server), connect(server), connect(server)]);
    for (const c of busy) {
      await send(c, "GET /wait HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    }
    const deadline = Date.now() + 2000;
    while (waiting < 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const extra = await connect(server);
    const got = await readUntilClosed(extra);
    assert.match(got ?? "", /^HTTP\/1\.1 503 [^]*\r\ndate: [A-Z][a-z]{2}, /);
    assert.ok(logged.some((e) => e.msg === "http connection refused: at the connection cap"));
    release();
    for (const c of busy) assert.match(await readUntilClosed(c) ?? "", /^HTTP\/1\.1 200 /);
  } finally {
    release();
    await server.shutdown();
  }
});

Deno.test("serveHttp() answers 500 when the handler throws, and keeps serving", async () => {
  const logged: Logged[] = [];
  const server = start({
    handler: (req) => {
      if (new URL(req.url).pathname === "/boom") throw new Error("secret detail");
      return Response.json({ ok: true });
    },
  }, logged);
  try {
    const boom = await fetch(`http://127.0.0.1:${server.addr.port}/boom`);
    assert.equal(boom.status, 500);
    assert.deepEqual(await boom.json(), { error: "Internal error" });
    assert.ok(!JSON.stringify(logged).includes("secret detail"));
    const ok = await fetch(`http://127.0.0.1:${server.addr.port}/`);
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
  } finally {
    await server.shutdown();
  }
});

Deno.test("serveHttp() survives random and truncated requests, answering each with a status or a close", async () => {
  const logged: Logged[] = [];
  let handled = 0;
  const server = start({
    headersTimeoutMs: 200,
    bodyTimeoutMs: 200,
    handler: async (req) => {
      handled++;
      await req.arrayBuffer();
      return Response.json({ ok: true });
    },
  }, logged);
  // A deterministic generator, so a failure can be replayed.
  let seed = 0x2545f491;
  const rand = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const pieces = [
    "GET / HTTP/1.1\r\n",
    "POST /x HTTP/1.1\r\n",
    "Host: x\r\n",
    "Content-Length: 5\r\n",
    "Content-Length: 99999999999999999999\r\n",
    "Transfer-Encoding: chunked\r\n",
    "Connection: close\r\n",
    "Expect: 100-continue\r\n",
    "\r\n",
    "5\r\nhello\r\n0\r\n\r\n",
    "hello",
    ":\r\n",
    " \t\r\n",
    "\u0000\u00ff\r\n",
    "GET /%00 HTTP/1.1\r\n",
    "X: " + "y".repeat(300) + "\r\n",
  ];
  try {
    for (let i = 0; i < 80; i++) {
      let text = "";
      for (let k = rand(8); k >= 0; k--) text += pieces[rand(pieces.length)];
      if (rand(4) === 0) text = text.slice(0, rand(text.length + 1));
      if (rand(6) === 0) {
        text += String.fromCharCode(...Array.from({ length: rand(40) }, () => rand(256)));
      }
      const conn = await connect(server);
      await conn.write(new TextEncoder().encode(text)).catch(() => {});
      if (rand(2) === 0) await conn.closeWrite().catch(() => {});
      const got = await readUntilClosed(conn, 2000);
      // Either nothing (closed by a deadline or at end of input) or HTTP answers, never a hang.
      assert.ok(got !== null, `kept open: ${JSON.stringify(text.slice(0, 80))}`);
      if (got !== "") assert.match(got, /^HTTP\/1\.1 (\d{3}) /, JSON.stringify(text.slice(0, 80)));
    }
    // Still serving, and nothing escaped as an unexpected failure.
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/`);
    assert.equal(res.status, 200);
    await res.body?.cancel();
    assert.ok(!logged.some((e) => e.msg === "http handler failed"));
    assert.ok(handled > 0, "no request was ever well formed enough to reach the handler");
  } finally {
    await server.shutdown();
  }
});

Deno.test("bodyOf() gives the handler the body the server read, without its stream", async () => {
  const seen: Array<string | undefined> = [];
  const server = start({
    handler: (req) => {
      const bytes = bodyOf(req);
      seen.push(bytes && new TextDecoder().decode(bytes));
      return Response.json({ ok: true });
    },
  });
  try {
    for (const init of [{ method: "POST", body: '{"a":1}' }, { method: "GET" }]) {
      const res = await fetch(`http://127.0.0.1:${server.addr.port}/`, init);
      await res.body?.cancel();
    }
    assert.deepEqual(seen, ['{"a":1}', undefined]);
    assert.equal(bodyOf(new Request("http://x/", { method: "POST", body: "{}" })), undefined);
  } finally {
    await server.shutdown();
  }
});

Deno.test("serveHttp() hands the handler the method, URL and headers new Request() would make", async () => {
  const seen: Array<{ method: string; url: string; headers: Array<[string, string]> }> = [];
  const server = start({
    handler: (req) => {
      seen.push({ method: req.method, url: req.url, headers: [...req.headers] });
      return Response.json({ ok: true });
    },
  });
  const cases: Array<{ line: string; headers: string; status: number; expected?: Request }> = [
    {
      line: "get /a/./b/../c\\d^{}?x=%7B%20&y={'`|^\" HTTP/1.1",
      headers: "Host: Example.TEST:80\r\nX-Two: 1\r\nx-two: 2\r\nAccept: */*",
      status: 200,
      expected: new Request("http://Example.TEST:80/a/./b/../c\\d^{}?x=%7B%20&y={'`|^\"", {
        method: "get",
        headers: [["Host", "Example.TEST:80"], ["X-Two", "1"], ["x-two", "2"], ["Accept", "*/*"]],
      }),
    },
    {
      line: "PATCH /%2e%2e/p HTTP/1.1",
      headers: "Host: 127.0.0.1:8080",
      status: 200,
      expected: new Request("http://127.0.0.1:8080/%2e%2e/p", {
        method: "PATCH",
        headers: [["Host", "127.0.0.1:8080"]],
      }),
    },
    {
      // UTF-8 in a header value: each byte is one character (U+0000-U+00FF), as Fetch reads
      // header bytes; "ł" and "€" hold bytes 0x80-0x9F, which windows-1252 would turn into
      // characters past U+00FF that no header may hold.
      line: "GET /u HTTP/1.1",
      headers: "Host: a\r\nX-Name: Zażółć ł €\r\nUser-Agent: é\u00e9",
      status: 200,
      expected: new Request("http://a/u", {
        headers: [
          ["Host", "a"],
          ["X-Name", String.fromCharCode(...encoder.encode("Zażółć ł €"))],
          ["User-Agent", String.fromCharCode(...encoder.encode("éé"))],
        ],
      }),
    },
    {
      // Raw UTF-8 in the target: the URL has it percent-encoded.
      line: "GET /ł?q=€ HTTP/1.1",
      headers: "Host: a",
      status: 200,
      expected: new Request("http://a/ł?q=€", { headers: [["Host", "a"]] }),
    },
    { line: "GET /a\x01b HTTP/1.1", headers: "Host: a", status: 400 },
    {
      // Cookie lines are joined as Deno.serve joins them ("; "), so each cookie stays whole.
      line: "GET /c HTTP/1.1",
      headers: "Host: a\r\nCookie: a=1\r\nX-Two: 1\r\ncookie: b=2\r\nX-Two: 2",
      status: 200,
      expected: new Request("http://a/c", {
        headers: [["Host", "a"], ["Cookie", "a=1; b=2"], ["X-Two", "1"], ["X-Two", "2"]],
      }),
    },
    { line: "CONNECT /x HTTP/1.1", headers: "Host: a", status: 400 },
    { line: "TRACE /x HTTP/1.1", headers: "Host: a", status: 400 },
    { line: "GET * HTTP/1.1", headers: "Host: a", status: 400 },
    { line: "GET /x HTTP/1.1", headers: "Host: a:99999", status: 400 },
  ];
  try {
    for (const { line, headers, status, expected } of cases) {
      const before = seen.length;
      const conn = await connect(server);
      await conn.write(encoder.encode(`${line}\r\n${headers}\r\nConnection: close\r\n\r\n`));
      const text = await readUntilClosed(conn);
      assert.match(text ?? "", new RegExp(`^HTTP/1.1 ${status} `), line);
      if (!expected) {
        assert.equal(seen.length, before, `${line}: reached the handler`);
        continue;
      }
      const got = seen[before];
      assert.equal(got.method, expected.method, line);
      assert.equal(got.url, expected.url, line);
      const want = new Headers(expected.headers);
      want.set("connection", "close");
      assert.deepEqual(got.headers, [...want], line);
    }
  } finally {
    await server.shutdown();
  }
});

Deno.test("serveHttp() writes a WireResponse's JSON text with its byte length, for GET and HEAD", async () => {
  const texts = ['{"ascii":true}', '{"name":"Zoë ✓"}'];
  const server = start({
    handler: (req) => new WireResponse(201, texts[Number(new URL(req.url).searchParams.get("i"))]),
  });
  try {
    for (const [i, text] of texts.entries()) {
      const res = await fetch(`http://127.0.0.1:${server.addr.port}/?i=${i}`);
      assert.equal(res.status, 201);
      assert.equal(res.headers.get("content-type"), "application/json");
      assert.equal(Number(res.headers.get("content-length")), encoder.encode(text).length);
      assert.equal(await res.text(), text);
      const head = await fetch(`http://127.0.0.1:${server.addr.port}/?i=${i}`, { method: "HEAD" });
      assert.equal(Number(head.headers.get("content-length")), encoder.encode(text).length);
      assert.equal(await head.text(), "");
    }
  } finally {
    await server.shutdown();
  }
});

Deno.test("serveHttp() frames each answer of a kept-alive connection whole, small after large after small", async () => {
  // One connection's answers share a buffer: each must carry its own bytes only, whatever came
  // before it (a longer answer, or one too large for the kept buffer). Non-ASCII text is framed
  // apart from its head, ASCII text with it: both are tried.
  // Odd sizes answer ASCII text, even ones text with an "é".
  const sizes = [3001, 5, 40_000, 7, 20_000, 2, 3, 4, 1];
  const text = (n: number) => JSON.stringify((n % 2 ? "" : "é") + "x".repeat(n));
  const server = start({
    handler: (req) => new WireResponse(200, text(Number(new URL(req.url).searchParams.get("n")))),
  });
  const conn = await connect(server);
  try {
    let bytes = new Uint8Array(0);
    const buf = new Uint8Array(65536);
    for (const n of sizes) {
      await send(conn, `GET /?n=${n} HTTP/1.1\r\nHost: x\r\n\r\n`);
      let total = -1;
      let headEnd = -1;
      while (total < 0 || bytes.length < total) {
        const got = await conn.read(buf);
        if (got === null) throw new Error(`closed before the answer of ${n}`);
        const next = new Uint8Array(bytes.length + got);
        next.set(bytes);
        next.set(buf.subarray(0, got), bytes.length);
        bytes = next;
        const head = new TextDecoder("latin1").decode(bytes);
        headEnd = head.indexOf("\r\n\r\n");
        if (headEnd >= 0) {
          total = headEnd + 4 + Number(/content-length: (\d+)/.exec(head.slice(0, headEnd))?.[1]);
        }
      }
      assert.equal(bytes.length, total, `bytes after the answer of ${n}`);
      assert.equal(decoder.decode(bytes.subarray(headEnd + 4)), text(n), `answer of ${n}`);
      bytes = new Uint8Array(0);
    }
  } finally {
    conn.close();
    await server.shutdown();
  }
});

Deno.test("serveHttp() sends header values as bytes, one a character, as Deno.serve does", async () => {
  // "café" in a header is the byte 0xE9, not UTF-8's two bytes; the body stays UTF-8.
  const value = "caf\u00e9 \u0080\u00ff";
  const server = start({
    handler: (req) =>
      new URL(req.url).pathname === "/wire"
        ? new WireResponse(200, '{"ok":true}')
        : new Response('{"name":"Zoë"}', { headers: { "x-name": value } }),
  });
  try {
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/`);
    assert.equal(res.headers.get("x-name"), value);
    assert.equal(await res.text(), '{"name":"Zoë"}');
    const conn = await connect(server);
    await send(conn, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const bytes: number[] = [];
    const buf = new Uint8Array(4096);
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
      bytes.push(...buf.subarray(0, n));
    }
    conn.close();
    const text = String.fromCharCode(...bytes);
    assert.match(text, /\r\nx-name: caf\xe9 \x80\xff\r\n/);
    assert.equal(
      Number(/content-length: (\d+)/.exec(text)?.[1]),
      encoder.encode('{"name":"Zoë"}').length,
    );
    const wire = await fetch(`http://127.0.0.1:${server.addr.port}/wire`);
    assert.equal(await wire.text(), '{"ok":true}');
  } finally {
    await server.shutdown();
  }
});

Deno.test("serveHttp() dates every answer, unless the answer has its own Date", async () => {
  const server = start({
    handler: (req) =>
      new URL(req.url).pathname === "/own"
        ? new Response("{}", { headers: { date: "Sun, 06 Nov 1994 08:49:37 GMT" } })
        : new WireResponse(200, "{}"),
  });
  try {
    const before = Date.now();
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/`);
    await res.body?.cancel();
    const date = res.headers.get("date");
    assert.match(date ?? "", /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    const at = Date.parse(date!);
    assert.ok(at >= Math.floor(before / 1000) * 1000 && at <= Date.now(), date!);
    const own = await fetch(`http://127.0.0.1:${server.addr.port}/own`);
    await own.body?.cancel();
    assert.equal(own.headers.get("date"), "Sun, 06 Nov 1994 08:49:37 GMT");
    // The server's own error answers too.
    const conn = await connect(server);
    await send(conn, "GET / HTTP/1.1\r\n\r\n");
    const refused = await readUntilClosed(conn);
    assert.match(refused ?? "", /^HTTP\/1\.1 400 [^]*\r\ndate: [A-Z][a-z]{2}, /);
  } finally {
    await server.shutdown();
  }
});

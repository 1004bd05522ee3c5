/**
 * WireResponse against Deno's Response, and `jsonAnswer`: a WireResponse only for our server's
 * requests with no header set on the context; a real Response, with every header, otherwise.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { cors } from "hono/cors";
import { setCookie } from "hono/cookie";
import type { AppEnv } from "./types.ts";
import { WireRequest } from "./wire_request.ts";
import { jsonAnswer, trackHeaders, WireResponse } from "./wire_response.ts";

const VALUE = { a: [1, "é"], b: null };

function pair(status = 200): [Response, Response] {
  const text = JSON.stringify(VALUE);
  return [
    new WireResponse(status, text),
    new Response(text, { status, headers: { "content-type": "application/json" } }),
  ];
}

Deno.test("WireResponse reads as the Response of the same status and JSON text", async () => {
  for (const read of ["text", "json", "bytes", "arrayBuffer"] as const) {
    for (const status of [200, 201, 401, 503]) {
      const [wire, real] = pair(status);
      assert.equal(wire.status, real.status);
      assert.equal(wire.ok, real.ok);
      assert.equal(wire.statusText, real.statusText);
      assert.equal(wire.type, real.type);
      assert.equal(wire.redirected, real.redirected);
      assert.deepEqual([...wire.headers], [...real.headers]);
      const [w, r] = [await wire[read](), await real[read]()];
      assert.deepEqual(
        w instanceof ArrayBuffer ? new Uint8Array(w) : w,
        r instanceof ArrayBuffer ? new Uint8Array(r) : r,
        read,
      );
      assert.equal(wire.bodyUsed, true);
      await assert.rejects(() => wire.text(), TypeError);
      await assert.rejects(() => real.text(), TypeError);
    }
  }
  const [wire] = pair();
  assert.equal(await wire.clone().text(), JSON.stringify(VALUE));
  assert.equal(await new Response(wire.body).text(), JSON.stringify(VALUE));
  assert.equal(Object.prototype.toString.call(wire), "[object Response]");
  assert.throws(() => new WireResponse(99, "{}"), RangeError);
  for (const status of [204, 205, 304]) {
    assert.throws(() => new WireResponse(status, "{}"), TypeError);
    assert.throws(() => new Response("{}", { status }), TypeError);
  }
});

function app(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use("/tracked/*", async (c, next) => {
    trackHeaders(c);
    await next();
  });
  app.use("/tracked/cors/*", cors({ origin: "https://app.test" }));
  app.post("/tracked/plain", (c) => jsonAnswer(c, VALUE, 201));
  app.post("/tracked/cookie", (c) => {
    setCookie(c, "k", "v", { httpOnly: true });
    c.header("X-Extra", "1");
    return jsonAnswer(c, VALUE, 200);
  });
  app.post("/tracked/cors/x", (c) => jsonAnswer(c, VALUE, 200));
  app.get("/tracked/head", (c) => jsonAnswer(c, VALUE, 200));
  app.post("/untracked", (c) => {
    c.header("X-Extra", "1");
    return jsonAnswer(c, VALUE, 200);
  });
  return app;
}

function wireRequest(method: string, path: string, headers: Array<[string, string]> = []) {
  return new WireRequest(
    method,
    `http://h.test${path}`,
    [["host", "h.test"], ...headers],
    method === "POST" ? new TextEncoder().encode("{}") : null,
  ) as Request;
}

Deno.test("jsonAnswer() makes a WireResponse only for our server's requests with no header set", async () => {
  const a = app();
  const plain = await a.fetch(wireRequest("POST", "/tracked/plain"));
  assert.ok(plain instanceof WireResponse);
  assert.equal(plain.status, 201);
  assert.deepEqual(await plain.json(), VALUE);

  // Headers set on the context: a real Response that keeps them.
  const cookie = await a.fetch(wireRequest("POST", "/tracked/cookie"));
  assert.ok(cookie instanceof Response);
  assert.deepEqual(cookie.headers.getSetCookie(), ["k=v; Path=/; HttpOnly"]);
  assert.equal(cookie.headers.get("x-extra"), "1");
  assert.deepEqual(await cookie.json(), VALUE);

  // Hono's CORS middleware sets its headers on c.res before the handler: they are kept.
  const cross = await a.fetch(
    wireRequest("POST", "/tracked/cors/x", [["origin", "https://app.test"]]),
  );
  assert.equal(cross.headers.get("access-control-allow-origin"), "https://app.test");
  assert.deepEqual(await cross.json(), VALUE);

  // HEAD: Hono answers the GET route's status and headers without a body.
  const head = await a.fetch(wireRequest("HEAD", "/tracked/head"));
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-type"), "application/json");
  assert.equal(await head.text(), "");

  // Not tracked, or not our server's request (app.request, Deno.serve): c.json.
  const untracked = await a.fetch(wireRequest("POST", "/untracked"));
  assert.ok(untracked instanceof Response);
  assert.equal(untracked.headers.get("x-extra"), "1");
  const viaRequest = await a.request("/tracked/plain", { method: "POST", body: "{}" });
  assert.ok(viaRequest instanceof Response);
  assert.equal(viaRequest.status, 201);
  assert.deepEqual(await viaRequest.json(), VALUE);
});

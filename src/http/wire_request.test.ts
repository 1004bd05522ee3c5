/**
 * WireRequest against Deno's own Request and Headers: for the same method, URL, header fields and
 * body, both answer the same, so the app cannot tell which one the server handed it.
 */
import assert from "node:assert/strict";
import { normaliseMethod, WireHeaders, WireRequest } from "./wire_request.ts";

const FIELDS: Array<[string, string]> = [
  ["host", "example.test"],
  ["cookie", "a=1"],
  ["x-b", "two"],
  ["cookie", "b=2"],
  ["set-cookie", "s=1"],
  ["accept", "*/*"],
  ["set-cookie", "t=2"],
];

function both(fields = FIELDS): [Headers, Headers] {
  return [new WireHeaders(fields.map(([k, v]) => [k, v])), new Headers(fields)];
}

Deno.test("WireHeaders reads as Headers: get joins repeats, iteration is sorted, set-cookie apart", () => {
  const [wire, real] = both();
  for (const name of ["cookie", "COOKIE", "x-b", "set-cookie", "accept", "absent", "Host"]) {
    assert.equal(wire.get(name), real.get(name), name);
    assert.equal(wire.has(name), real.has(name), name);
  }
  assert.deepEqual([...wire], [...real]);
  assert.deepEqual([...wire.entries()], [...real.entries()]);
  assert.deepEqual([...wire.keys()], [...real.keys()]);
  assert.deepEqual([...wire.values()], [...real.values()]);
  assert.deepEqual(wire.getSetCookie(), real.getSetCookie());
  const seen: string[] = [];
  wire.forEach((v, k, parent) => {
    assert.equal(parent, wire);
    seen.push(`${k}=${v}`);
  });
  const expected: string[] = [];
  real.forEach((v, k) => expected.push(`${k}=${v}`));
  assert.deepEqual(seen, expected);
  assert.equal(Object.prototype.toString.call(wire), "[object Headers]");
});

Deno.test("WireHeaders changes as Headers does, and refuses what Headers refuses", () => {
  const [wire, real] = both();
  for (const h of [wire, real]) {
    h.set("Cookie", " c=3 ");
    h.append("X-New", "1");
    h.append("x-new", "2");
    h.delete("ACCEPT");
    h.set("x-b", "changed");
  }
  assert.deepEqual([...wire], [...real]);
  for (const bad of ["", "a b", "é", "x:y"]) {
    assert.throws(() => wire.get(bad), TypeError, bad);
    assert.throws(() => real.get(bad), TypeError, bad);
  }
  for (const bad of ["a\r\nb", "a\0b", "\u0100"]) {
    assert.throws(() => wire.set("x", bad), TypeError);
    assert.throws(() => real.set("x", bad), TypeError);
  }
});

Deno.test("normaliseMethod() keeps methods as new Request() does and refuses the forbidden ones", () => {
  for (
    const m of ["GET", "get", "Post", "put", "DELETE", "head", "options", "PATCH", "patch", "X-Y"]
  ) {
    assert.equal(normaliseMethod(m), new Request("http://x/", { method: m }).method, m);
  }
  for (const m of ["CONNECT", "trace", "Track", "a b", ""]) {
    assert.throws(() => normaliseMethod(m), TypeError, m);
    assert.throws(() => new Request("http://x/", { method: m }), TypeError, m);
  }
});

function pair(body: string | null, method = "POST"): [Request, Request] {
  const bytes = body === null ? null : new TextEncoder().encode(body);
  const url = "http://example.test/api/x?q=1";
  return [
    new WireRequest(method, url, FIELDS.map(([k, v]) => [k, v]), bytes),
    new Request(url, { method, headers: FIELDS, body }),
  ];
}

Deno.test("WireRequest reads its body once, as a Request does", async () => {
  for (const read of ["text", "json", "bytes", "arrayBuffer"] as const) {
    const [wire, real] = pair('{"a":[1,"é"]}');
    assert.equal(wire.bodyUsed, false);
    const [w, r] = [await wire[read](), await real[read]()];
    assert.deepEqual(
      w instanceof ArrayBuffer ? new Uint8Array(w) : w,
      r instanceof ArrayBuffer ? new Uint8Array(r) : r,
      read,
    );
    assert.equal(wire.bodyUsed, true, read);
    await assert.rejects(() => wire.text(), TypeError);
    await assert.rejects(() => real.text(), TypeError);
  }
  const [wire, real] = pair("not json");
  await assert.rejects(() => wire.json(), SyntaxError);
  await assert.rejects(() => real.json(), SyntaxError);
});

Deno.test("WireRequest answers the rest of the Request interface from a real Request", async () => {
  const [wire, real] = pair("a=1&b=two");
  wire.headers.set("content-type", "application/x-www-form-urlencoded");
  assert.equal(wire.method, real.method);
  assert.equal(wire.url, real.url);
  for (
    const key of ["cache", "credentials", "destination", "mode", "redirect", "referrer"] as const
  ) {
    assert.equal(wire[key], real[key], key);
  }
  assert.equal(wire.signal.aborted, false);
  const copy = wire.clone();
  assert.equal(await copy.text(), "a=1&b=two");
  const form = await wire.formData();
  assert.equal(form.get("b"), "two");
  assert.equal(wire.bodyUsed, true);
  await assert.rejects(() => wire.text(), TypeError);

  const [streamed] = pair("streamed body");
  const reader = streamed.body!.getReader();
  const { value } = await reader.read();
  assert.equal(new TextDecoder().decode(value), "streamed body");
  assert.equal(streamed.bodyUsed, true);

  const [get] = pair(null, "GET");
  assert.equal(get.body, null);
  assert.equal((await get.bytes()).byteLength, 0);
  assert.equal(Object.prototype.toString.call(get), "[object Request]");
});

/**
 * With REQUESTING_SAVE_RESPONSES=true every request and response is stored: any JSON object the
 * boundary accepts must be stored (keys escaped, secrets redacted) or refused with 400, never
 * answered 500. Before storable.ts, a NUL byte in a key or a `_bsontype` key answered 500.
 */
import assert from "node:assert/strict";
import { PASSWORD, withApi } from "./auth_harness.ts";

/** JSON texts of at most 64 KiB, each a body the boundary accepts. */
function bodies(): Record<string, string> {
  let deepObject = "1";
  for (let i = 0; i < 10_000; i++) deepObject = `{"a":${deepObject}}`;
  let deepArray = "1";
  for (let i = 0; i < 20_000; i++) deepArray = `[${deepArray}]`;
  return {
    "NUL in a key": '{"a\\u0000b":1}',
    "NUL as a key": '{"\\u0000":1}',
    "NUL in a nested key": '{"x":{"y\\u0000":[{"\\u0000z":2}]}}',
    "$ key": '{"$where":"1","$gt":2}',
    "$ nested key": '{"x":{"$ne":null,"$in":[1]}}',
    "dotted key": '{"a.b":1,"x":{"c.d.e":2}}',
    "deep object": `{"x":${deepObject}}`,
    "deep array": `{"x":${deepArray}}`,
    "_bsontype key": '{"_bsontype":"Code","code":"x"}',
    "nested _bsontype": '{"x":{"_bsontype":"ObjectId","id":"x"}}',
    "__proto__ key": '{"__proto__":{"_bsontype":"Code"}}',
    "empty key": '{"":1}',
    "NUL in a value": '{"s":"a\\u0000b"}',
    "lone surrogate": '{"s":"\\ud800"}',
    "% in a key": '{"100%":1,"%2E":2}',
  };
}

Deno.test("POST /api/* with REQUESTING_SAVE_RESPONSES stores any accepted JSON, never a 500", async () => {
  await withApi(async ({ call, db }) => {
    await call("POST", "/api/auth/register", { username: "saver", password: PASSWORD });
    const saved = db.collection("Requesting.requests");
    let client = 0;
    for (const [label, text] of Object.entries(bodies())) {
      // Each body from its own address, so that the malformed logins are not throttled.
      const headers = { "x-test-ip": `198.51.100.${++client}` };
      assert.ok(new TextEncoder().encode(text).length <= 64 * 1024, label);
      // The login carries a well-formed (unknown) username and a password besides: 401.
      const login = `{"username":"ghost-${client}","password":"not it at all",${text.slice(1)}`;
      for (
        const [path, body, expected] of [["/api/ping", text, 200], [
          "/api/auth/login",
          login,
          401,
        ]] as const
      ) {
        const before = await saved.countDocuments();
        const r = await call("POST", path, body, headers);
        assert.equal(r.status, expected, `${label} ${path}: ${JSON.stringify(r.json)}`);
        assert.equal(await saved.countDocuments(), before + 1, `${label} ${path} stored`);
      }
    }
    // What is stored: keys escaped, answered, the password redacted.
    const login = await call("POST", "/api/auth/login", {
      "username": "saver",
      "password": PASSWORD,
      "a.b": { "$gt": 1, "x\u0000": true },
    });
    assert.equal(login.status, 200);
    const doc = await saved.findOne({ "input.a%2Eb.%24gt": 1 });
    assert.ok(doc, "the login's request is stored with its keys escaped");
    assert.deepEqual(doc.input["a%2Eb"], { "%24gt": 1, "x%00": true });
    assert.equal(doc.input.password, "[redacted]");
    assert.equal(doc.response.user, (login.json as { user: string }).user);
    assert.equal(doc.response.session, "[redacted]");
    assert.equal(doc.response.deviceToken, "[redacted]");
    assert.ok(!JSON.stringify(doc).includes(PASSWORD));
  }, { saveResponses: true });
});

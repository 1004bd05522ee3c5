/**
 * Every route of the route table, fed hostile bodies and credentials (a deterministic stream of
 * them, so a failure replays): no answer is a 5xx, and no route that needs a session ever answers
 * 2xx without a live one.
 */
import assert from "node:assert/strict";
import { type Route, routes, urlPath } from "../src/syncs/routes.ts";
import { asCookie, cookieOf, PASSWORD, withApi } from "./auth_harness.ts";

const TOKEN_LIKE = "AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

Deno.test("fuzz: every route under hostile input answers below 500, and no session route 2xx without a session", async () => {
  await withApi(async (h) => {
    const reg = await h.call("POST", "/api/auth/register", {
      username: "victim",
      password: PASSWORD,
    });
    assert.equal(reg.status, 201);
    const live = cookieOf(reg.headers)!;
    let seed = 0x1f2e3d4c;
    const rand = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const values: unknown[] = [
      null,
      true,
      0,
      -1,
      1e308,
      "",
      "victim",
      "VICTIM",
      PASSWORD,
      "x".repeat(5000),
      "\u0000\u202e$ne",
      { $ne: null },
      { $gt: "" },
      ["a", { $where: "1" }],
      TOKEN_LIKE,
      "a.b",
      { __proto__: { admin: true } },
      [],
      {},
    ];
    const fields = [
      "username",
      "password",
      "session",
      "id",
      "currentPassword",
      "newPassword",
      "transport",
      "deviceToken",
      "limit",
      "before",
      "path",
      "$where",
      "__proto__",
      "a.b",
    ];
    const all = Object.values(routes) as Route[];
    const problems: string[] = [];
    for (let i = 0; i < 400; i++) {
      const route = all[rand(all.length)];
      const body: Record<string, unknown> = {};
      for (let k = rand(4); k > 0; k--) {
        body[fields[rand(fields.length)]] = values[rand(values.length)];
      }
      const credentials = rand(4);
      const headers: Record<string, string> = credentials === 0
        ? {}
        : credentials === 1
        ? asCookie(TOKEN_LIKE)
        : credentials === 2
        ? { authorization: `Bearer ${rand(2) ? TOKEN_LIKE : "junk"}` }
        : asCookie("not a token at all");
      const method = route.method === "GET" && !route.alsoGet ? "GET" : "POST";
      const answer = await h.call(
        method,
        urlPath(route),
        method === "POST" ? body : undefined,
        headers,
      );
      const what = `${method} ${urlPath(route)} ${JSON.stringify(body)} ${JSON.stringify(headers)}`;
      if (answer.status >= 500) problems.push(`${answer.status}: ${what}`);
      if (route.session && answer.status < 300) {
        problems.push(`${answer.status} without a session: ${what}`);
      }
    }
    assert.deepEqual(problems, []);
    // The victim's session still works: nothing above ended it.
    const me = await h.call("GET", "/api/auth/me", undefined, asCookie(live));
    assert.equal(me.status, 200);
  }, { limit: 1_000_000 });
});

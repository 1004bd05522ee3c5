/**
 * The route table's three readers agree: the OpenAPI document is valid 3.1 and lists every route
 * of the table; the app answers every documented route and no route that is not documented (or a
 * page); the README's API table is the one made from the route table.
 */
import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import { type Route, routes, urlPath } from "../syncs/routes.ts";
import { postJson, testApp } from "../../tests/support/http_app.ts";
import { apiTable, TABLE_END, TABLE_START, tableCells } from "./api_table.ts";
import { openApiDocument } from "./openapi.ts";
import { PAGES } from "./pages/mod.ts";

Deno.test("GET /openapi.json is a valid OpenAPI 3.1 document with every route of the table", async () => {
  const { app } = testApp();
  const res = await app.request("/openapi.json");
  assert.equal(res.status, 200);
  const document = await res.json();
  assert.deepEqual(document, JSON.parse(JSON.stringify(openApiDocument())));
  const validator = new Validator();
  const result = await validator.validate(document);
  assert.deepEqual(result, { valid: true });
  assert.equal(validator.version, "3.1");
  const documented = new Set<string>();
  for (const [path, item] of Object.entries(document.paths as Record<string, object>)) {
    for (const method of Object.keys(item)) documented.add(`${method.toUpperCase()} ${path}`);
  }
  const table = new Set<string>();
  for (const route of Object.values(routes) as Route[]) {
    table.add(`${route.method} ${urlPath(route)}`);
    if (route.alsoGet) table.add(`GET ${urlPath(route)}`);
  }
  assert.deepEqual([...documented].sort(), [...table].sort());
  // A broken document is refused (the validator is not a yes-machine).
  const broken = structuredClone(document);
  delete broken.info;
  assert.equal((await validator.validate(broken)).valid, false);
});

Deno.test("createApp() answers every documented route, and nothing undocumented but the pages", async () => {
  const { app } = testApp();
  for (const route of Object.values(routes) as Route[]) {
    const init = route.method === "POST" ? postJson({}) : {};
    const res = await app.request(urlPath(route), init);
    await res.body?.cancel();
    assert.notEqual(res.status, 404, `${route.method} ${urlPath(route)} is not answered`);
    assert.notEqual(res.status, 405, `${route.method} ${urlPath(route)} is not answered`);
  }
  // What the app has mounted, besides middleware (method ALL, and the CSRF and body-limit
  // guard that every POST under /api/* passes) and 405 answers.
  const documented = new Set((Object.values(routes) as Route[]).map((r) => urlPath(r)));
  const mounted = new Set(
    app.routes.filter((r) => r.method !== "ALL").map((r) => r.path),
  );
  const undocumented = [...mounted].filter((path) =>
    !documented.has(path) && !Object.hasOwn(PAGES, path) && !path.startsWith("/assets/") &&
    path !== "/api/Sessioning" && path !== "/api/Sessioning/*" && path !== "/api/*"
  );
  assert.deepEqual(undocumented, []);
  // Closed by default: a path the table does not have is 404, even under /api.
  const unknown = await app.request("/api/auth/nothing-here", postJson({}));
  assert.equal(unknown.status, 404);
  await unknown.body?.cancel();
});

Deno.test("README's API table is the one made from the route table (deno task docs:api)", async () => {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  assert.ok(start >= 0 && end > start, "README has no api-table markers");
  const block = readme.slice(start + TABLE_START.length, end);
  assert.deepEqual(tableCells(block), tableCells(apiTable()));
  assert.ok(tableCells(block).length > Object.keys(routes).length, "the table has its rows");
});

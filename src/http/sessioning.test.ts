import assert from "node:assert/strict";
import SessioningConcept from "../concepts/Sessioning/SessioningConcept.ts";
import { testDb } from "../../tests/support/test_db.ts";
import { postJson, testApp } from "../../tests/support/http_app.ts";

const CLEARED = "__Host-session=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax";
const INVALID = { error: "Cannot get user: invalid or expired session" };

Deno.test("POST /api/Sessioning/_getUser answers the user of a real session from cookie, bearer or body", async () => {
  const [db, client] = await testDb();
  try {
    const Sessioning = new SessioningConcept(db);
    const created = await Sessioning.create({ user: "u1" as never });
    assert.ok("session" in created);
    const token = created.session;
    const { app } = testApp({ Sessioning });
    const ways: RequestInit[] = [
      postJson({}, { cookie: `__Host-session=${token}` }),
      postJson({}, { authorization: `Bearer ${token}` }),
      postJson({ session: token }),
    ];
    for (const init of ways) {
      const res = await app.request("/api/Sessioning/_getUser", init);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), [{ user: "u1" }]);
    }
  } finally {
    await client.close();
  }
});

Deno.test("POST /api/Sessioning/_getUser answers 401 without a live session", async () => {
  const [db, client] = await testDb();
  try {
    const Sessioning = new SessioningConcept(db);
    const created = await Sessioning.create({ user: "u1" as never });
    assert.ok("session" in created);
    const [id] = created.session.split(".");
    const { app } = testApp({ Sessioning });
    const none = await app.request("/api/Sessioning/_getUser", postJson({}));
    assert.equal(none.status, 401);
    assert.deepEqual(await none.json(), { error: "Cannot get user: no session" });
    const cases: Array<[unknown, unknown]> = [
      [{ session: `${id}.${"A".repeat(43)}` }, INVALID],
      [{ session: "junk" }, INVALID],
      [{ session: { $ne: null } }, { error: "Cannot get user: no session" }],
    ];
    for (const [body, expected] of cases) {
      const res = await app.request("/api/Sessioning/_getUser", postJson(body));
      assert.equal(res.status, 401, JSON.stringify(body));
      assert.deepEqual(await res.json(), expected);
    }
  } finally {
    await client.close();
  }
});

Deno.test("POST /api/Sessioning/delete ends a real session and clears the cookie; a second time is 401", async () => {
  const [db, client] = await testDb();
  try {
    const Sessioning = new SessioningConcept(db);
    const created = await Sessioning.create({ user: "u1" as never });
    assert.ok("session" in created);
    const cookie = `__Host-session=${created.session}`;
    const { app } = testApp({ Sessioning });
    const res = await app.request("/api/Sessioning/delete", postJson({}, { cookie }));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {});
    assert.deepEqual(res.headers.getSetCookie(), [CLEARED]);
    assert.deepEqual(await Sessioning._getUser({ session: created.session }), [INVALID]);

    const again = await app.request("/api/Sessioning/delete", postJson({}, { cookie }));
    assert.equal(again.status, 401);
    assert.deepEqual(await again.json(), { error: "Cannot delete session: no such session" });
    assert.deepEqual(again.headers.getSetCookie(), [CLEARED]);

    const getUser = await app.request("/api/Sessioning/_getUser", postJson({}, { cookie }));
    assert.equal(getUser.status, 401);
  } finally {
    await client.close();
  }
});

Deno.test("POST /api/Sessioning/delete with a bearer token sets no cookie", async () => {
  const [db, client] = await testDb();
  try {
    const Sessioning = new SessioningConcept(db);
    const created = await Sessioning.create({ user: "u1" as never });
    assert.ok("session" in created);
    const { app } = testApp({ Sessioning });
    const res = await app.request(
      "/api/Sessioning/delete",
      postJson({}, { authorization: `Bearer ${created.session}` }),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(res.headers.getSetCookie(), []);
  } finally {
    await client.close();
  }
});

Deno.test("POST /api/Sessioning/<other> answers 404 and creates nothing", async () => {
  const [db, client] = await testDb();
  try {
    const Sessioning = new SessioningConcept(db);
    const { app, requesting } = testApp({ Sessioning });
    const cases: Array<[string, string]> = [
      ["/api/Sessioning/create", "Cannot call Sessioning.create: not exposed over HTTP"],
      [
        "/api/Sessioning/deleteAllForUser",
        "Cannot call Sessioning.deleteAllForUser: not exposed over HTTP",
      ],
      [
        "/api/Sessioning/_getSessions",
        "Cannot call Sessioning._getSessions: not exposed over HTTP",
      ],
      ["/api/Sessioning/a/b", "Cannot call Sessioning.<action>: not exposed over HTTP"],
      ["/api/Sessioning", "Cannot call Sessioning.<action>: not exposed over HTTP"],
    ];
    for (const [path, error] of cases) {
      const res = await app.request(path, postJson({ user: "victim" }));
      assert.equal(res.status, 404, path);
      assert.deepEqual(await res.json(), { error });
    }
    assert.deepEqual(await Sessioning._getSessions({ user: "victim" as never }), []);
    assert.equal(await db.collection("Sessioning.sessions").countDocuments(), 0);
    assert.deepEqual(requesting.calls, []);
  } finally {
    await client.close();
  }
});

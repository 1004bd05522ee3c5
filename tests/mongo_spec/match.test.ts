/** Self-tests of the spec runner's matcher: it must report differences, not only accept. */
import assert from "node:assert/strict";
import { EJSON, Int32, Long, ObjectId } from "bson";
import { match, matchExact, typeNames } from "./match.ts";

const ejson = (text: string) => EJSON.parse(text, { relaxed: false });

Deno.test("match() allows extra keys at the root only", () => {
  assert.equal(match(ejson(`{"x": 1}`), { x: 1, y: 2 }), null);
  assert.deepEqual(match(ejson(`{"a": {"x": 1}}`), { a: { x: 1, z: 3 } }), {
    path: "$.a.z",
    message: "unexpected extra key, actual 3",
  });
  assert.deepEqual(match(ejson(`{"x": 1, "y": 1}`), { x: 1 }), {
    path: "$.y",
    message: "missing key, expected 1",
  });
});

Deno.test("match() compares numbers by value across bson types", () => {
  assert.equal(match(ejson(`{"n": 1}`), { n: 1.0 }), null);
  assert.equal(match(ejson(`{"n": {"$numberLong": "5"}}`), { n: new Int32(5) }), null);
  assert.equal(match(new Long(7), 7), null);
  assert.notEqual(match(ejson(`{"n": 1}`), { n: 1.5 }), null);
  assert.notEqual(match(ejson(`{"n": 1}`), { n: "1" }), null);
});

Deno.test("match() requires arrays of the same length, elements nested", () => {
  assert.equal(match(ejson(`[1, 2, 3]`), [1, 2, 3]), null);
  assert.match(match(ejson(`[1, 2, 3]`), [1, 2, 3, 4])!.message, /expected 3 elements, actual 4/);
  assert.deepEqual(match(ejson(`[{"x": 1}]`), [{ x: 1, y: 1 }])?.path, "$[0].y");
});

Deno.test("match() $$unsetOrMatches accepts absence and checks presence", () => {
  const expected = ejson(`{"insertedId": {"$$unsetOrMatches": 2}}`);
  assert.equal(match(expected, {}), null);
  assert.equal(match(expected, { insertedId: 2 }), null);
  assert.deepEqual(match(expected, { insertedId: 3 }), {
    path: "$.insertedId",
    message: "values differ: expected 2, actual 3",
  });
  const whole = ejson(`{"$$unsetOrMatches": {"acknowledged": {"$$unsetOrMatches": false}}}`);
  assert.equal(match(whole, undefined), null);
  assert.equal(match(whole, { acknowledged: false, matchedCount: 0 }), null);
  assert.notEqual(match(whole, { acknowledged: true }), null);
});

Deno.test("match() $$exists and $$type check keys and types", () => {
  assert.equal(match(ejson(`{"w": {"$$exists": false}}`), { x: 1 }), null);
  assert.equal(match(ejson(`{"w": {"$$exists": false}}`), { w: null })?.path, "$.w");
  assert.equal(match(ejson(`{"w": {"$$exists": true}}`), { w: null }), null);
  const type = ejson(`{"getMore": {"$$type": ["int", "long"]}}`);
  assert.equal(match(type, { getMore: new Long(12) }), null);
  assert.equal(match(type, {})?.path, "$.getMore");
  assert.notEqual(match(type, { getMore: "12" }), null);
  assert.equal(match(ejson(`{"$$type": "objectId"}`), new ObjectId()), null);
  assert.deepEqual(typeNames(2.5), ["double", "number"]);
});

Deno.test("matchExact() refuses an extra field in an outcome document", () => {
  const expected = ejson(`[{"_id": 1, "x": 11}]`);
  assert.equal(matchExact(expected, [{ x: 11, _id: 1 }]), null);
  assert.deepEqual(matchExact(expected, [{ _id: 1, x: 11, y: 1 }]), {
    path: "$[0].y",
    message: "unexpected extra key, actual 1",
  });
  assert.equal(matchExact(expected, [{ _id: 1 }])?.path, "$[0].x");
  assert.notEqual(matchExact(expected, [{ _id: 1, x: 11 }, { _id: 2 }]), null);
});

Deno.test("match() compares ObjectIds and dates by value", () => {
  const id = new ObjectId();
  assert.equal(match({ _id: id }, { _id: new ObjectId(id.toHexString()) }), null);
  assert.notEqual(match({ _id: id }, { _id: new ObjectId() }), null);
  assert.equal(match(new Date(5), new Date(5)), null);
  assert.notEqual(match(new Date(5), new Date(6)), null);
});

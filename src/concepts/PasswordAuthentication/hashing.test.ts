import assert from "node:assert/strict";
import { argon2HasherWith, limitConcurrency } from "./hashing.ts";

Deno.test("limitConcurrency() runs at most `limit` tasks at once, the rest in arrival order", async () => {
  const limited = limitConcurrency(2);
  const started: number[] = [];
  const finish: Array<() => void> = [];
  const task = (n: number) => () => {
    started.push(n);
    return new Promise<number>((resolve) => finish[n] = () => resolve(n));
  };
  const runs = [0, 1, 2, 3].map((n) => limited(task(n)));
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(started, [0, 1]);
  finish[1]();
  assert.equal(await runs[1], 1);
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(started, [0, 1, 2]);
  finish[0]();
  finish[2]();
  await Promise.all([runs[0], runs[2]]);
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(started, [0, 1, 2, 3]);
  finish[3]();
  assert.deepEqual(await Promise.all(runs), [0, 1, 2, 3]);
  // A task that fails frees its slot too.
  const failing = limitConcurrency(1);
  await assert.rejects(failing(() => Promise.reject(new Error("boom"))), /boom/);
  assert.equal(await failing(() => Promise.resolve(7)), 7);
  assert.throws(() => limitConcurrency(0), RangeError);
});

Deno.test("argon2HasherWith() still hashes and verifies (one at a time)", async () => {
  const hasher = argon2HasherWith(1);
  const params = { memoryCost: 256, timeCost: 1, parallelism: 1 };
  const [a, b] = await Promise.all([hasher.hash("pw one", params), hasher.hash("pw two", params)]);
  assert.deepEqual(
    await Promise.all([hasher.verify(a, "pw one"), hasher.verify(b, "pw one")]),
    [true, false],
  );
});

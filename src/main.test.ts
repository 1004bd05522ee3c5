/**
 * The service as `deno task start` runs it: configuration, embedded database on a data folder,
 * concepts, syncs and HTTP, over a real socket.
 */
import assert from "node:assert/strict";
import { loadConfig } from "./config.ts";
import { startService } from "./app/service.ts";
import type { LogEntry } from "./utils/log.ts";
import { selfSignedCert } from "../tests/support/tls.ts";

Deno.test("startService() serves /healthz and /api/ping on the embedded store, and data survives a restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "service-" });
  const lines: LogEntry[] = [];
  try {
    const config = loadConfig({ PORT: "0", DATA_DIR: dataDir, SESSION_COOKIE_SECURE: "false" });
    let service = await startService(config, (e) => lines.push(e));
    try {
      assert.equal(service.store, "embedded");
      const health = await fetch(`${service.url}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { ok: true, store: "embedded" });
      const ping = await fetch(`${service.url}/api/ping`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      assert.equal(ping.status, 200);
      assert.deepEqual(await ping.json(), { pong: true });
    } finally {
      await service.close();
    }
    // The embedded server kept its files in DATA_DIR and released its lock: a second start works.
    const entries = [...Deno.readDirSync(dataDir)].map((e) => e.name);
    assert.ok(entries.length > 0, "the embedded store wrote nothing to DATA_DIR");
    service = await startService(config, (e) => lines.push(e));
    try {
      const health = await fetch(`${service.url}/healthz`);
      assert.equal(health.status, 200);
      await health.body?.cancel();
    } finally {
      await service.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("main.ts stops at start with a message naming a bad variable", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./main.ts", import.meta.url).pathname],
    env: { PORT: "not-a-port" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 2);
  assert.match(new TextDecoder().decode(out.stderr), /^Cannot start: PORT must be a whole number/m);
});

Deno.test("startService() serves HTTPS when TLS_CERT_FILE and TLS_KEY_FILE are set", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tls-" });
  try {
    const { cert, key } = await selfSignedCert(dir);
    const config = loadConfig({
      PORT: "0",
      DATA_DIR: `${dir}/data`,
      TLS_CERT_FILE: cert,
      TLS_KEY_FILE: key,
    });
    const service = await startService(config, () => {});
    const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(cert)] });
    try {
      assert.match(service.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${service.url}/livez`, { client });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { ok: true });
    } finally {
      client.close();
      await service.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("main.ts reads .env when present (the environment wins), and says nothing when absent", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dotenv-" });
  const main = new URL("./main.ts", import.meta.url).pathname;
  const run = (env: Record<string, string>) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", main],
      cwd: dir,
      env,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
  try {
    await Deno.writeTextFile(`${dir}/.env`, "# a comment\nDB_NAME='from dotenv'\n");
    let out = await run({ PATH: Deno.env.get("PATH") ?? "" });
    assert.equal(out.code, 2);
    assert.match(new TextDecoder().decode(out.stderr), /^Cannot start: DB_NAME must be 1-63/m);
    // The environment wins over .env.
    // (DB_NAME is checked before PORT: had .env's bad DB_NAME won, the error would name it.)
    await Deno.writeTextFile(`${dir}/.env`, "DB_NAME='bad name!'\n");
    out = await run({ PATH: Deno.env.get("PATH") ?? "", DB_NAME: "ok", PORT: "bad" });
    assert.equal(out.code, 2);
    assert.match(new TextDecoder().decode(out.stderr), /^Cannot start: PORT must be a whole/m);
    // No .env: no warning about it (the start fails on the bad PORT, saying only that).
    await Deno.remove(`${dir}/.env`);
    out = await run({ PATH: Deno.env.get("PATH") ?? "", PORT: "bad" });
    assert.equal(
      new TextDecoder().decode(out.stderr).trim(),
      "Cannot start: PORT must be a whole number",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

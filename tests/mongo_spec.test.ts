/**
 * MongoDB driver-spec CRUD tests (unified test format) run with the real `mongodb` driver.
 *
 * The test files are read at test time from `../shared/mongo-spec/crud` (or `MONGO_SPEC_DIR`);
 * they are never copied into this repository (their licence is CC BY-NC-SA). The server under
 * test is `MONGODB_URL` when set, otherwise an in-memory embedded server started here. One
 * Deno test per file, one step per case; skipped cases (by `runOnRequirements` or an operation
 * outside the scope) are listed with their reason at the end, together with the totals.
 */
import {
  openServer,
  parseSpecFile,
  planFile,
  runCase,
  type SpecServer,
} from "./mongo_spec/runner.ts";

const specDir = Deno.env.get("MONGO_SPEC_DIR") ??
  decodeURIComponent(new URL("../../shared/mongo-spec/crud", import.meta.url).pathname);

function listSpecFiles(dir: string): string[] | null {
  try {
    return [...Deno.readDirSync(dir)]
      .filter((e) => e.isFile && e.name.endsWith(".json"))
      .map((e) => e.name)
      .sort();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

interface Totals {
  passed: number;
  failed: number;
  skipped: number;
  skips: string[];
}

const totals: Totals = { passed: 0, failed: 0, skipped: 0, skips: [] };

let serverPromise: Promise<{ server: SpecServer; stop: () => Promise<void> }> | undefined;

/** Starts (once) the server under test: `MONGODB_URL`, or an embedded in-memory server. */
function server(): Promise<{ server: SpecServer; stop: () => Promise<void> }> {
  serverPromise ??= (async () => {
    const url = Deno.env.get("MONGODB_URL");
    if (url) {
      const s = await openServer(url);
      return { server: s, stop: () => s.internal.close() };
    }
    const { startEmbeddedMongo } = await import("../src/embedded_mongo/mod.ts");
    const embedded = await startEmbeddedMongo({ port: 0 });
    try {
      const s = await openServer(embedded.url);
      return {
        server: s,
        stop: async () => {
          await s.internal.close();
          await embedded.close();
        },
      };
    } catch (e) {
      await embedded.close();
      throw e;
    }
  })();
  return serverPromise;
}

const files = listSpecFiles(specDir);
const sanitize = { sanitizeOps: false, sanitizeResources: false };

if (files === null) {
  console.log(`spec: folder ${specDir} not found, skipped`);
} else {
  for (const name of files) {
    Deno.test({
      name: `spec ${name}`,
      ...sanitize,
      async fn(t) {
        const { server: s } = await server();
        const file = parseSpecFile(name, await Deno.readTextFile(`${specDir}/${name}`));
        let passed = 0, failed = 0, skipped = 0;
        for (const planned of planFile(file, s)) {
          if (planned.skip) {
            skipped++;
            totals.skips.push(`${name}: "${planned.description}": ${planned.skip}`);
            await t.step({ name: planned.description, ignore: true, fn: () => {} });
            continue;
          }
          const ok = await t.step(planned.description, () => runCase(file, planned.test, s));
          if (ok) passed++;
          else failed++;
        }
        totals.passed += passed;
        totals.failed += failed;
        totals.skipped += skipped;
        console.log(`spec ${name}: ${passed} passed, ${failed} failed, ${skipped} skipped`);
      },
    });
  }

  Deno.test({
    name: "spec summary",
    ...sanitize,
    async fn() {
      console.log(
        `spec: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`,
      );
      for (const skip of totals.skips) console.log(`  skipped ${skip}`);
      // A server that failed to start has already failed every file; nothing to stop then.
      const started = await serverPromise?.catch(() => undefined);
      await started?.stop();
    },
  });
}

/**
 * The layers, checked on the source: every import of every module under src/ must point the way
 * design/architecture.md says, `http -> syncs/engine -> concepts -> driver`, with the embedded
 * server reached only through its entry point by the composition root, and no production module
 * importing a test helper.
 */
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";

const ROOT = new URL("../", import.meta.url).pathname;

/** Which top-level parts of src/ a module of each part may import (besides its own part). */
const ALLOWED: Record<string, readonly string[]> = {
  "utils": [],
  "config.ts": [],
  "engine": ["utils"],
  "embedded_mongo": [],
  "concepts": ["utils"],
  "syncs": ["engine", "concepts", "utils"],
  "http": ["syncs", "engine", "concepts", "utils"],
  "observability": ["http", "syncs", "engine", "concepts", "utils"],
  "app": [
    "observability",
    "http",
    "syncs",
    "engine",
    "concepts",
    "utils",
    "embedded_mongo",
    "config.ts",
  ],
  "main.ts": ["app", "config.ts", "utils"],
};

interface Edge {
  from: string;
  to: string;
}

async function* sourceFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* sourceFiles(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

/** Static and dynamic imports of relative modules in `text`. */
function importsOf(text: string): string[] {
  const found: string[] = [];
  const pattern = /(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)["'](\.{1,2}\/[^"']+)["']/gm;
  for (const m of text.matchAll(pattern)) found.push(m[1]);
  return found;
}

/** The part of src/ a path belongs to (`concepts`, `main.ts`, ...), or undefined outside src/. */
function partOf(path: string): string | undefined {
  const rel = relative(join(ROOT, "src"), path);
  if (rel.startsWith("..")) return undefined;
  return rel.split("/")[0];
}

async function edges(): Promise<Edge[]> {
  const out: Edge[] = [];
  for await (const file of sourceFiles(join(ROOT, "src"))) {
    const text = await Deno.readTextFile(file);
    for (const spec of importsOf(text)) {
      out.push({ from: file, to: join(dirname(file), spec) });
    }
  }
  return out;
}

const isTest = (path: string) => path.endsWith(".test.ts");
const show = (e: Edge) => `${relative(ROOT, e.from)} -> ${relative(ROOT, e.to)}`;

Deno.test("layers: production modules import only downward, as design/architecture.md says", async () => {
  const wrong: string[] = [];
  const all = await edges();
  assert.ok(all.length > 100, "found too few imports to have checked anything");
  for (const e of all) {
    if (isTest(e.from)) continue;
    const from = partOf(e.from)!;
    const to = partOf(e.to);
    if (to === undefined) {
      wrong.push(`${show(e)}: production code imports from outside src/`);
      continue;
    }
    if (to === from) continue;
    if (!ALLOWED[from]?.includes(to)) wrong.push(`${show(e)}: ${from} may not import ${to}`);
  }
  assert.deepEqual(wrong, []);
});

Deno.test("layers: a concept imports no other concept (only the shared helpers)", async () => {
  const wrong: string[] = [];
  for (const e of await edges()) {
    if (partOf(e.from) !== "concepts" || partOf(e.to) !== "concepts") continue;
    const [fromConcept] = relative(join(ROOT, "src/concepts"), e.from).split("/");
    const [toConcept] = relative(join(ROOT, "src/concepts"), e.to).split("/");
    // shared.ts: the helpers every concept uses (no concept of its own).
    if (fromConcept !== toConcept && toConcept !== "shared.ts") wrong.push(show(e));
  }
  assert.deepEqual(wrong, []);
});

Deno.test("layers: the embedded server is reached from outside only through its entry point", async () => {
  const wrong: string[] = [];
  for (const e of await edges()) {
    if (partOf(e.to) !== "embedded_mongo" || partOf(e.from) === "embedded_mongo") continue;
    if (relative(join(ROOT, "src/embedded_mongo"), e.to) !== "mod.ts") wrong.push(show(e));
  }
  assert.deepEqual(wrong, []);
});

Deno.test("layers: the check itself sees a wrong import", () => {
  // The rules above would flag these (a guard against a pattern that matches nothing).
  const text = 'import { x } from "../engine/mod.ts";\nconst m = await import("../http/app.ts");';
  assert.deepEqual(importsOf(text), ["../engine/mod.ts", "../http/app.ts"]);
  assert.equal(ALLOWED.concepts.includes("engine"), false);
});

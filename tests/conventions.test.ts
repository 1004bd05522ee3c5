/**
 * The file-name rule of design/conventions.md, checked on every tracked source file.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).pathname;

const CONCEPT = /^src\/concepts\/([A-Z][A-Za-z]+)\/\1Concept(\.test)?\.ts$/;
const COMMAND = /^src\/embedded_mongo\/commands\/[a-z][A-Za-z]*(\.test)?\.ts$/;
const MODULE = /^[a-z0-9_]+(\.sync)?(\.test|\.bench)?\.(ts|js|css|html|svg|json|md)$/;

/** Whether a path follows the rule. */
function followsNamingRule(path: string): boolean {
  if (CONCEPT.test(path) || COMMAND.test(path)) return true;
  const name = path.split("/").pop()!;
  if (/^(README|LICENSE)(\.md)?$/.test(name)) return true;
  if (path.startsWith("design/concepts/")) return /^[A-Z][A-Za-z]+\.md$/.test(name);
  return MODULE.test(name);
}

Deno.test("file names follow design/conventions.md", async () => {
  const out = await new Deno.Command("git", {
    args: ["ls-files", "src", "tests", "bench", "scripts", "design"],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  const files = new TextDecoder().decode(out.stdout).split("\n").filter((f) =>
    /\.(ts|js|css|html|md)$/.test(f)
  );
  assert.ok(files.length > 100, "git listed too few files");
  assert.deepEqual(files.filter((f) => !followsNamingRule(f)), []);
});

Deno.test("followsNamingRule() refuses what the rule does not allow", () => {
  assert.equal(followsNamingRule("src/http/accessLog.ts"), false);
  assert.equal(followsNamingRule("src/concepts/Sessioning/sessioning.ts"), true);
  assert.equal(followsNamingRule("src/concepts/Sessioning/Helper.ts"), false);
  assert.equal(followsNamingRule("src/utils/user-agent.ts"), false);
  assert.equal(followsNamingRule("src/embedded_mongo/commands/findAndModify.ts"), true);
  assert.equal(followsNamingRule("src/concepts/Roles/RolesConcept.ts"), true);
});

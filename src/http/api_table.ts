/**
 * The README's API table, made from the route table (src/syncs/routes.ts), so the two cannot
 * disagree: `deno task docs:api` rewrites the block between the README's `api-table` markers,
 * and a test fails while the block differs from what this module makes.
 */
import { COMMON_ERRORS, ERROR_STATUS, type Route, routes, urlPath } from "../syncs/routes.ts";

export const TABLE_START = "<!-- api-table:start (made by deno task docs:api) -->";
export const TABLE_END = "<!-- api-table:end -->";

function fields(route: Route): string {
  const properties = (route.body?.properties ?? {}) as Record<string, unknown>;
  const required = new Set((route.body?.required ?? []) as string[]);
  return Object.keys(properties)
    .map((name) => `\`${name}${required.has(name) ? "" : "?"}\``)
    .join(", ");
}

function failures(route: Route): string {
  const api = route.handler === "requesting" || route.handler === "sessioning";
  const own = route.errors.filter((kind) => !api || !COMMON_ERRORS.includes(kind));
  return own.map((kind) => `${ERROR_STATUS[kind]} ${kind}`).join(", ");
}

/** The cells of a markdown table's rows, trimmed, separator rows left out (for comparing). */
export function tableCells(markdown: string): string[][] {
  return markdown.split("\n")
    .filter((line) => line.startsWith("|") && !/^\|[\s|:-]+\|$/.test(line))
    .map((line) => line.split("|").slice(1, -1).map((cell) => cell.trim()));
}

/** The table, as markdown lines. */
export function apiTable(): string {
  const rows = [
    "| method | route | session | body | success | failures |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const route of Object.values(routes) as Route[]) {
    const method = route.alsoGet ? "GET, POST" : route.method;
    rows.push(
      `| ${method} | \`${urlPath(route)}\` | ${route.session ? "yes" : ""} | ${fields(route)} | ` +
        `${route.ok.status}: ${route.summary} | ${failures(route)} |`,
    );
  }
  return rows.join("\n");
}

/** `readme` with the block between the markers replaced by the table. */
export function withApiTable(readme: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error("Cannot update README: no api-table markers");
  return `${readme.slice(0, start + TABLE_START.length)}\n\n${apiTable()}\n\n${readme.slice(end)}`;
}

if (import.meta.main) {
  const path = new URL("../../README.md", import.meta.url);
  await Deno.writeTextFile(path, withApiTable(await Deno.readTextFile(path)));
}

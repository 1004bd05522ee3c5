/**
 * `deno task bench`: every benchmark of the project, printed as tables. Ratios compare each
 * figure with a baseline measured in the same run (the small collection), never with numbers
 * from another machine. Sizes: BENCH_SMALL (default 1000), BENCH_LARGE (default 1000000),
 * BENCH_OPS (timed operations per row, default 5000). `deno task bench http` (or `embedded`,
 * `sessioning`, `transport`, `engine`, `login`, several allowed) runs only those parts; the HTTP
 * part's settings are in bench/http.bench.ts. `transport` (a store command through the embedded
 * server's socket against an in-process connection) is in bench/transport.bench.ts. `login` (issue #10's login target: logins/s of `POST /api/auth/login`
 * against a bare Argon2id verify loop with the same parameters, in one process, and the store
 * commands a login costs) is in bench/login.bench.ts, its settings BENCH_LOGIN_*.
 */
import { benchEmbedded } from "./embedded.bench.ts";
import { benchEngine } from "./engine.bench.ts";
import { benchHttp } from "./http.bench.ts";
import { benchLogin } from "./login.bench.ts";
import { benchSessioning } from "./sessioning.bench.ts";
import { benchTransport } from "./transport.bench.ts";
import { type BenchRow, envInt, printTable } from "./stats.ts";

const small = envInt("BENCH_SMALL", 1000);
const large = envInt("BENCH_LARGE", 1_000_000);
const ops = envInt("BENCH_OPS", 5000);
const parts = new Set(
  Deno.args.length > 0
    ? Deno.args
    : ["embedded", "sessioning", "transport", "engine", "http", "login"],
);

if (parts.has("embedded")) {
  const embeddedRows: BenchRow[] = [];
  const notes: string[] = [];
  console.log(`embedded server: ${small} and ${large} documents, ${ops} operations a row ...`);
  await benchEmbedded([small, large], ops, (r) => embeddedRows.push(r), (n) => notes.push(n));
  printTable("Embedded MongoDB-compatible server, through the mongodb driver", embeddedRows, small);
  for (const n of notes) console.log(n);
}

if (parts.has("sessioning")) {
  const sessionRows: BenchRow[] = [];
  console.log(`\nSessioning: ${small} and ${large} sessions stored ...`);
  await benchSessioning((r) => sessionRows.push(r), { sizes: [small, large], ops });
  printTable("Sessioning concept, through the mongodb driver", sessionRows, small);
}

if (parts.has("transport")) await benchTransport();

if (parts.has("engine")) {
  console.log("\nSync engine");
  await benchEngine((row) => {
    console.log(
      `${row.name.padEnd(36)}${String(row.value).padStart(12)} ${row.unit}` +
        (row.note ? `  (${row.note})` : ""),
    );
  });
}

if (parts.has("http")) await benchHttp();

if (parts.has("login")) await benchLogin();

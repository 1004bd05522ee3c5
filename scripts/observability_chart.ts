/**
 * Draws docs/observability.png from a real run: starts the service (embedded store in a temporary
 * folder, metrics on a loopback port), runs a small bounded load against it over loopback (a few
 * clients registering, logging in, checking their session, failing a password, logging out,
 * ending their other sessions), scrapes /metrics every second, and draws four panels (active
 * sessions, logins by result, sessions ended by reason, HTTP latency p50/p99) as SVG, turned into
 * PNG by a headless Chromium screenshot (Debian's `chromium`, as the browser tests use). Usage: deno task chart [seconds] (default 30).
 */
import { startService } from "../src/app/service.ts";
import { loadConfig } from "../src/config.ts";

const SECONDS = Number(Deno.args[0] ?? 30);
const CLIENTS = 4;
const OUT = new URL("../docs/observability.png", import.meta.url).pathname;

type Samples = Map<string, number>;

function parse(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

/** A quantile of the HTTP histogram over the requests between two scrapes. */
function quantile(prev: Samples, cur: Samples, q: number): number | undefined {
  const buckets = new Map<number, number>();
  for (const [k, v] of cur) {
    const m = /^http_request_duration_seconds_bucket\{le="([^"]+)"/.exec(k);
    if (!m) continue;
    const le = m[1] === "+Inf" ? Infinity : Number(m[1]);
    buckets.set(le, (buckets.get(le) ?? 0) + v - (prev.get(k) ?? 0));
  }
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0) return undefined;
  const target = q * total;
  let lower = 0;
  let below = 0;
  for (const [le, n] of sorted) {
    if (n >= target) {
      if (!Number.isFinite(le)) return lower;
      return lower + (le - lower) * ((target - below) / Math.max(n - below, 1e-9));
    }
    lower = le;
    below = n;
  }
  return lower;
}

const dataDir = await Deno.makeTempDir({ prefix: "chart-" });
const service = await startService(
  loadConfig({
    PORT: "0",
    DATA_DIR: dataDir,
    METRICS_PORT: "0",
    SESSION_COOKIE_SECURE: "false",
    // The load's wrong passwords would throttle its own clients within a minute otherwise.
    LOGIN_MAX_FAILURES: "100000",
  }),
  () => {},
);
const post = async (path: string, body: unknown, token?: string) => {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${service.url}/api${path}`, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  return { status: res.status, json };
};
const PASSWORD = "chart password 123";
const until = Date.now() + SECONDS * 1000;
async function client(n: number) {
  const username = `chart${n}`;
  await post("/auth/register", { username, password: PASSWORD, transport: "bearer" });
  let round = 0;
  const held: string[] = [];
  while (Date.now() < until) {
    round++;
    const login = await post("/auth/login", { username, password: PASSWORD, transport: "bearer" });
    const token = login.json.session as string | undefined;
    if (!token) continue;
    for (let i = 0; i < 5; i++) await post("/auth/me", {}, token);
    if (round % 4 === 0) await post("/auth/login", { username, password: "wrong password!!" });
    if (round % 20 === 0) {
      await post("/auth/logout-all", {}, token);
      continue;
    }
    if (round % 3 === 0) held.push(token);
    else await post("/auth/logout", {}, token);
    if (round % 15 === 0) await post("/auth/logout-others", {}, token);
  }
}
const series: Array<{ t: number; s: Samples }> = [];
const scrape = async () => {
  const res = await fetch(service.metricsUrl!);
  series.push({ t: Date.now(), s: parse(await res.text()) });
};
const start = Date.now();
await scrape();
const load = Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
const timer = setInterval(() => void scrape(), 1000);
await load;
clearInterval(timer);
// sessions_active is cached up to 15 s: one more scrape after the cache period shows the end.
await scrape();
await service.close();
await Deno.remove(dataDir, { recursive: true });

const x = series.map((p) => (p.t - start) / 1000);
const get = (name: string) => series.map((p) => p.s.get(name) ?? 0);
const rate = (name: string) =>
  series.map((p, i) =>
    i === 0 ? 0 : ((p.s.get(name) ?? 0) - (series[i - 1].s.get(name) ?? 0)) /
      ((p.t - series[i - 1].t) / 1000)
  );
const panels = [
  { title: "Active sessions (store, cached 15 s)", lines: [["active", get("sessions_active")]] },
  {
    title: "Logins per second by result",
    lines: [
      ["ok", rate('logins_total{result="ok"}')],
      ["bad_credentials", rate('logins_total{result="bad_credentials"}')],
      ["throttled", rate('logins_total{result="throttled"}')],
    ],
  },
  {
    title: "Sessions ended (cumulative) by reason",
    lines: ["logout", "revoked", "forced", "expired"].map((r) => [
      r,
      get(`sessions_ended_total{reason="${r}"}`),
    ]),
  },
  {
    title: "HTTP latency (ms) p50 / p99 per second",
    lines: [0.5, 0.99].map((q) => [
      `p${q * 100}`,
      series.map((p, i) => i === 0 ? 0 : (quantile(series[i - 1].s, p.s, q) ?? 0) * 1000),
    ]),
  },
] as Array<{ title: string; lines: Array<[string, number[]]> }>;

const COLORS = ["#2b6cb0", "#c53030", "#2f855a", "#b7791f"];
const W = 1200, H = 760, PW = 560, PH = 320;
let svg =
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans" font-size="13">` +
  `<rect width="100%" height="100%" fill="#ffffff"/>` +
  `<text x="20" y="28" font-size="18" font-weight="bold">Session service: a ${SECONDS} s loopback load (${CLIENTS} clients), scraped every second</text>`;
panels.forEach((panel, k) => {
  const ox = 40 + (k % 2) * (PW + 40), oy = 60 + Math.floor(k / 2) * (PH + 40);
  const max = Math.max(1e-9, ...panel.lines.flatMap(([, v]) => v)) * 1.1;
  const xmax = Math.max(...x, 1);
  const px = (v: number) => ox + 50 + (v / xmax) * (PW - 60);
  const py = (v: number) => oy + PH - 30 - (v / max) * (PH - 60);
  svg += `<rect x="${ox}" y="${oy}" width="${PW}" height="${PH}" fill="#f7fafc" stroke="#cbd5e0"/>`;
  svg += `<text x="${ox + 10}" y="${oy + 20}" font-weight="bold">${panel.title}</text>`;
  for (let g = 0; g <= 4; g++) {
    const v = (max / 1.1) * g / 4;
    svg += `<line x1="${ox + 50}" x2="${ox + PW - 10}" y1="${py(v)}" y2="${
      py(v)
    }" stroke="#e2e8f0"/>`;
    svg += `<text x="${ox + 45}" y="${py(v) + 4}" text-anchor="end" font-size="11">${
      v >= 10 ? Math.round(v) : v.toFixed(1)
    }</text>`;
  }
  svg += `<text x="${ox + PW - 10}" y="${
    oy + PH - 10
  }" text-anchor="end" font-size="11">seconds</text>`;
  panel.lines.forEach(([label, values], j) => {
    const pts = values.map((v, i) => `${px(x[i]).toFixed(1)},${py(v).toFixed(1)}`).join(" ");
    svg += `<polyline fill="none" stroke="${COLORS[j]}" stroke-width="2" points="${pts}"/>`;
    svg += `<text x="${ox + 60 + j * 120}" y="${oy + 40}" fill="${COLORS[j]}">${label}</text>`;
  });
});
svg += `</svg>`;
const svgPath = await Deno.makeTempFile({ suffix: ".svg" });
await Deno.writeTextFile(svgPath, svg);
const chromium = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
const out = await new Deno.Command(chromium, {
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--hide-scrollbars",
    `--window-size=${W},${H}`,
    `--screenshot=${OUT}`,
    `file://${svgPath}`,
  ],
}).output();
await Deno.remove(svgPath);
if (!out.success) throw new Error(`Cannot draw chart: ${new TextDecoder().decode(out.stderr)}`);
console.log(`wrote ${OUT} (${series.length} scrapes)`);

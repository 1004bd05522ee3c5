/**
 * A closed-loop HTTP/1.1 load client that records every request's latency as it was: CONNECTIONS
 * keep-alive connections, each sending its next request as soon as the previous answer is read
 * whole. wrk's percentiles are corrected for coordinated omission before it prints them (for each
 * latency above the mean time between a connection's requests it adds shorter, synthetic
 * samples); this client adds nothing, so the two side by side tell the queueing of a saturated
 * server apart from that correction. It also counts the answers each connection got, to show
 * whether the server serves its connections fairly.
 *
 * Run by bench/http.bench.ts as its own process (pinned to the load generator's CPU):
 * `deno run --allow-net bench/latency_client.ts <url> <GET|POST> <seconds> <connections> [cookie...]`
 * prints one JSON line (`LatencyResult`). Every answer must be a 200 with a `content-length`.
 * With several cookies, each request carries the next one in turn (connection `c`'s `i`-th
 * request the cookie `(c + i * connections) mod n`), so requests in flight carry different ones.
 */

/** What one run measured; latencies in milliseconds. */
export interface LatencyResult {
  requests: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** The fewest and the most answers one connection got. */
  perConnection: { min: number; max: number };
}

const CRLF2 = [13, 10, 13, 10];

/** The index just past the head's CRLF CRLF in `bytes[0, end)`, or -1. */
function headLength(bytes: Uint8Array, end: number): number {
  outer: for (let i = 0; i + 3 < end; i++) {
    for (let j = 0; j < 4; j++) if (bytes[i + j] !== CRLF2[j]) continue outer;
    return i + 4;
  }
  return -1;
}

/** Runs the load and returns what it recorded. */
export async function closedLoop(
  url: URL,
  method: "GET" | "POST",
  seconds: number,
  connections: number,
  cookies: string[] = [],
): Promise<LatencyResult> {
  const requestWith = (cookie?: string) => {
    const lines = [`${method} ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`];
    if (cookie) lines.push(`Cookie: ${cookie}`);
    if (method === "POST") lines.push("Content-Type: application/json", "Content-Length: 2");
    return new TextEncoder().encode(
      lines.join("\r\n") + "\r\n\r\n" + (method === "POST" ? "{}" : ""),
    );
  };
  const requests = cookies.length > 0 ? cookies.map(requestWith) : [requestWith()];
  const latin1 = new TextDecoder("latin1");
  const latencies: number[] = [];
  const counts = new Array<number>(connections).fill(0);
  const started = performance.now();
  const end = started + seconds * 1000;

  async function connection(index: number): Promise<void> {
    const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
    conn.setNoDelay(true);
    let buf = new Uint8Array(16_384);
    let next = index % requests.length;
    try {
      while (performance.now() < end) {
        const request = requests[next];
        next = (next + connections) % requests.length;
        const sent = performance.now();
        await conn.write(request);
        let filled = 0;
        let total = -1;
        while (total < 0 || filled < total) {
          if (filled === buf.length) {
            const bigger = new Uint8Array(buf.length * 2);
            bigger.set(buf);
            buf = bigger;
          }
          const n = await conn.read(buf.subarray(filled));
          if (n === null) throw new Error("Cannot measure: the server closed a connection");
          filled += n;
          if (total < 0) {
            const head = headLength(buf, filled);
            if (head < 0) continue;
            const text = latin1.decode(buf.subarray(0, head));
            if (!text.startsWith("HTTP/1.1 200 ")) {
              throw new Error(`Cannot measure: answer ${text.split("\r\n", 1)[0]}`);
            }
            const length = /\r\ncontent-length: *(\d+)/i.exec(text);
            if (!length) throw new Error("Cannot measure: an answer without content-length");
            total = head + Number(length[1]);
          }
        }
        if (filled !== total) throw new Error("Cannot measure: bytes after an answer");
        latencies.push(performance.now() - sent);
        counts[index]++;
      }
    } finally {
      conn.close();
    }
  }

  await Promise.all(counts.map((_, i) => connection(i)));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))];
  return {
    requests: latencies.length,
    rps: latencies.length / elapsed,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: latencies[latencies.length - 1],
    perConnection: { min: Math.min(...counts), max: Math.max(...counts) },
  };
}

if (import.meta.main) {
  const [url, method, seconds, connections, ...cookies] = Deno.args;
  if (method !== "GET" && method !== "POST") throw new Error("usage: <url> <GET|POST> <s> <n>");
  const result = await closedLoop(
    new URL(url),
    method,
    Number(seconds),
    Number(connections),
    cookies.filter((c) => c !== ""),
  );
  console.log(JSON.stringify(result));
}

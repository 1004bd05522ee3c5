/**
 * Deno process figures: memory (`Deno.memoryUsage()`), CPU time, start time, open files, and
 * event-loop lag measured here. prom-client's default metrics are not used: under Deno 2 its
 * lag figures stay near zero while the loop is blocked (`monitorEventLoopDelay` and its
 * `setImmediate` probe are not fed), so a timer every 250 ms measures how late it fires instead.
 * The timer is unref'd: it never keeps the process alive.
 */
import process from "node:process";
import client from "prom-client";

const INTERVAL_MS = 250;

export interface ProcessMetrics {
  close(): void;
}

/** Registers the process figures and starts the lag sampler. */
export function processMetrics(registry: client.Registry): ProcessMetrics {
  const registers = [registry];
  const memory = (name: string, help: string, pick: (m: Deno.MemoryUsage) => number) =>
    new client.Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(pick(Deno.memoryUsage()));
      },
    });
  memory("process_resident_memory_bytes", "Resident memory", (m) => m.rss);
  memory("deno_heap_total_bytes", "V8 heap size", (m) => m.heapTotal);
  memory("deno_heap_used_bytes", "V8 heap in use", (m) => m.heapUsed);
  memory("deno_external_memory_bytes", "Memory held outside the V8 heap", (m) => m.external);
  new client.Counter({
    name: "process_cpu_seconds_total",
    help: "CPU time (user and system)",
    registers,
    collect() {
      const { user, system } = process.cpuUsage();
      this.reset();
      this.inc((user + system) / 1e6);
    },
  });
  new client.Gauge({
    name: "process_start_time_seconds",
    help: "When the process started (Unix time)",
    registers,
  }).set(Math.round(Date.now() / 1000 - performance.now() / 1000));
  new client.Gauge({
    name: "process_open_fds",
    help: "Open file descriptors (Linux)",
    registers,
    collect() {
      try {
        let n = 0;
        for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
        this.set(n);
      } catch {
        // Not Linux, or /proc unreadable: no figure.
      }
    },
  });
  const lag = new client.Histogram({
    name: "event_loop_lag_seconds",
    help: `How late a ${INTERVAL_MS} ms timer fired: the event loop's delay`,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  let worst = 0;
  new client.Gauge({
    name: "event_loop_lag_max_seconds",
    help: "The longest event-loop delay since the previous scrape",
    registers,
    collect() {
      this.set(worst);
      worst = 0;
    },
  });
  let expected = performance.now() + INTERVAL_MS;
  const timer = setInterval(() => {
    const now = performance.now();
    const late = Math.max(0, now - expected) / 1000;
    expected = now + INTERVAL_MS;
    lag.observe(late);
    if (late > worst) worst = late;
  }, INTERVAL_MS);
  Deno.unrefTimer(timer);
  return { close: () => clearInterval(timer) };
}

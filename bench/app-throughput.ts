// Throughput of the demo app with and without its instrumentation, in one run, on loopback.
// Run: node --import tsx bench/app-throughput.ts   (BENCH_ROUNDS, BENCH_SECONDS, BENCH_CONNECTIONS change the run)
//
// Both variants are createApp() with the same handlers and routes, APP_LATENCY_MS=0, APP_ERROR_RATE=0, each
// in its own child process (so the load generator doesn't share their event loop). They differ only by
// what `instrumented` switches: instrumentation.ts in front of the app (request id, timer, 'finish'
// listener), its two recorders (the histogram and the counter; the request log, one JSON line per request
// to /dev/null, written synchronously as on stdout) and the /metrics route.
//
// This machine is noisy, and two processes running the same code differ by a few percent from one start
// to the next. So each round starts a fresh pair of processes, warms both up, then loads one after the
// other (the order alternates from round to round); the figure is the median of the rounds' ratios, with
// the ratio of all requests over all rounds beside it. autocannon drives GET / over keep-alive connections.
import { fork, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../app/src/app';
import { createLogger, syncDestination } from '../app/src/logger';

interface CannonResult {
  readonly duration: number;
  readonly requests: { readonly total: number };
  readonly latency: { readonly p99: number; readonly p50: number };
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
}
// autocannon ships no types: this is the part of its programmatic API used here.
const autocannon = require('autocannon') as (opts: { url: string; connections: number; duration: number; pipelining?: number }) => Promise<CannonResult>;

const VARIANTS = ['instrumented', 'uninstrumented'] as const;
type Variant = (typeof VARIANTS)[number];
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const WARMUP_SECONDS = 2;
const TARGET_RATIO = 0.9;

/**
 * Child process: serve one variant on a random loopback port and report the port. On request it also
 * reports the CPU time it used per request since the last report (a figure less sensitive to other
 * processes on the machine than req/s).
 */
function serve(variant: Variant): void {
  const logger = createLogger({ destination: syncDestination('/dev/null') });
  const demo = createApp({ instrumented: variant === 'instrumented', logger, latencyMs: 0, errorRate: 0 });
  const server = http.createServer(demo.listener);
  let requests = 0;
  let cpu = process.cpuUsage();
  server.on('request', () => requests++);
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
  process.on('message', () => {
    const used = process.cpuUsage(cpu);
    process.send!({ cpuMicrosPerRequest: (used.user + used.system) / Math.max(requests, 1) });
    requests = 0;
    cpu = process.cpuUsage();
  });
  process.on('disconnect', () => process.exit(0));
}

interface Server {
  readonly child: ChildProcess;
  readonly url: string;
}

function startVariant(variant: Variant): Promise<Server> {
  const child = fork(__filename, ['serve', variant], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve({ child, url: `http://127.0.0.1:${(message as { port: number }).port}/` }));
    child.once('exit', (code) => reject(new Error(`${variant} server exited with ${code}`)));
  });
}

/** The server's CPU time per request since the previous call. */
function cpuPerRequest(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.child.once('message', (message) => resolve((message as { cpuMicrosPerRequest: number }).cpuMicrosPerRequest));
    server.child.send('report');
  });
}

async function load(url: string, seconds: number): Promise<CannonResult> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, pipelining: 1 });
  if (result.errors + result.timeouts + result.non2xx > 0) {
    throw new Error(`${url}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers`);
  }
  return result;
}

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const pad = (text: string, width: number): string => text.padEnd(width);

interface Measured {
  readonly rate: number;
  readonly p99: number;
  readonly cpu: number;
}

async function measure(server: Server): Promise<Measured> {
  const result = await load(server.url, SECONDS);
  return { rate: result.requests.total / result.duration, p99: result.latency.p99, cpu: await cpuPerRequest(server) };
}

async function main(): Promise<void> {
  const runs = { instrumented: [] as Measured[], uninstrumented: [] as Measured[] };
  const ratios: number[] = [];
  console.log(
    `demo app throughput: GET /, ${CONNECTIONS} keep-alive connections, ${ROUNDS} rounds; each starts both variants afresh, warms them up for ${WARMUP_SECONDS} s and loads each for ${SECONDS} s`,
  );
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 === 1 ? VARIANTS : [...VARIANTS].reverse();
    const servers = {} as Record<Variant, Server>;
    const measured = {} as Record<Variant, Measured>;
    try {
      for (const variant of order) servers[variant] = await startVariant(variant);
      for (const variant of order) {
        await load(servers[variant].url, WARMUP_SECONDS);
        await cpuPerRequest(servers[variant]);
      }
      for (const variant of order) measured[variant] = await measure(servers[variant]);
    } finally {
      for (const server of Object.values(servers)) server.child.disconnect();
    }
    for (const variant of VARIANTS) runs[variant].push(measured[variant]);
    const ratio = measured.instrumented.rate / measured.uninstrumented.rate;
    ratios.push(ratio);
    const parts = order.map((v) => `${pad(v, 14)} ${Math.round(measured[v].rate)} req/s, p99 ${measured[v].p99} ms, ${measured[v].cpu.toFixed(1)} µs CPU/req`);
    console.log(`round ${round}: ${parts.join(' | ')} | ratio ${ratio.toFixed(3)}`);
  }
  for (const variant of VARIANTS) {
    const rate = sum(runs[variant].map((r) => r.rate)) / ROUNDS;
    const p99 = median(runs[variant].map((r) => r.p99));
    const cpu = median(runs[variant].map((r) => r.cpu));
    console.log(`${pad(variant + ':', 16)} ${Math.round(rate)} req/s (mean), p99 ${p99} ms, ${cpu.toFixed(1)} µs CPU/req (p99 and CPU: median of rounds)`);
  }
  const pooled = sum(runs.instrumented.map((r) => r.rate)) / sum(runs.uninstrumented.map((r) => r.rate));
  const ratio = median(ratios);
  console.log(`ratios of the rounds: ${[...ratios].sort((a, b) => a - b).map((r) => r.toFixed(3)).join(' ')}`);
  console.log(
    `ratio instrumented/uninstrumented req/s: ${ratio.toFixed(3)} (median of rounds; all rounds together ${pooled.toFixed(3)}); target at least ${TARGET_RATIO.toFixed(2)}: ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'}`,
  );
}

if (process.argv[2] === 'serve') {
  serve(process.argv[3] as Variant);
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}

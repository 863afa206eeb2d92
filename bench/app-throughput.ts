// Throughput of the demo app with and without its instrumentation, in one run, on loopback.
// Run: node --import tsx bench/app-throughput.ts            (BENCH_ROUNDS, BENCH_SECONDS to change the run)
//
// Both variants are createApp() with the same handlers and routes, APP_LATENCY_MS=0, APP_ERROR_RATE=0, each
// in its own child process (so the load generator doesn't share their event loop). They differ only by
// what `instrumented` switches: instrumentRequests (one timer and one 'finish' listener per request) with
// its two recorders, the metrics (histogram + counter per request) and the request log (request id header,
// one JSON line per request to /dev/null, written synchronously as on stdout), plus the /metrics route.
// autocannon drives GET / over 50 keep-alive connections, the two variants alternating (ABBA) round by
// round after a warm-up of each.
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
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (opts: { url: string; connections: number; duration: number; pipelining?: number }) => Promise<CannonResult>;

const VARIANTS = ['instrumented', 'uninstrumented'] as const;
type Variant = (typeof VARIANTS)[number];
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
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
  const server = http.createServer(demo.app);
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

interface Run {
  readonly requests: number;
  readonly seconds: number;
  readonly p99: number;
  readonly cpu: number;
}

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const pad = (text: string, width: number): string => text.padEnd(width);

async function main(): Promise<void> {
  const servers = { instrumented: await startVariant('instrumented'), uninstrumented: await startVariant('uninstrumented') };
  const runs = { instrumented: [] as Run[], uninstrumented: [] as Run[] };
  console.log(`demo app throughput: GET /, ${CONNECTIONS} keep-alive connections, ${ROUNDS} rounds of ${SECONDS} s per variant after a ${WARMUP_SECONDS} s warm-up each`);
  try {
    for (const variant of VARIANTS) {
      await load(servers[variant].url, WARMUP_SECONDS);
      await cpuPerRequest(servers[variant]);
    }
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? VARIANTS : [...VARIANTS].reverse();
      const parts: string[] = [];
      for (const variant of order) {
        const result = await load(servers[variant].url, SECONDS);
        const run = { requests: result.requests.total, seconds: result.duration, p99: result.latency.p99, cpu: await cpuPerRequest(servers[variant]) };
        runs[variant].push(run);
        parts.push(`${pad(variant, 14)} ${Math.round(run.requests / run.seconds)} req/s, p99 ${run.p99} ms, ${run.cpu.toFixed(1)} µs CPU/req`);
      }
      console.log(`round ${round}: ${parts.join(' | ')}`);
    }
  } finally {
    for (const { child } of Object.values(servers)) child.disconnect();
  }
  const rate = (variant: Variant): number => sum(runs[variant].map((r) => r.requests)) / sum(runs[variant].map((r) => r.seconds));
  const cpu = (variant: Variant): number => median(runs[variant].map((r) => r.cpu));
  for (const variant of VARIANTS) {
    const p99 = median(runs[variant].map((r) => r.p99));
    console.log(`${pad(variant + ':', 16)} ${Math.round(rate(variant))} req/s, p99 ${p99} ms, ${cpu(variant).toFixed(1)} µs CPU/req (p99 and CPU: median of rounds)`);
  }
  const ratio = rate('instrumented') / rate('uninstrumented');
  console.log(`CPU per request, uninstrumented/instrumented: ${(cpu('uninstrumented') / cpu('instrumented')).toFixed(3)}`);
  console.log(`ratio instrumented/uninstrumented req/s: ${ratio.toFixed(3)} (target at least ${TARGET_RATIO.toFixed(2)}: ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'})`);
}

if (process.argv[2] === 'serve') {
  serve(process.argv[3] as Variant);
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}

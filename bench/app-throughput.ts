// Throughput and CPU time per request of the demo app: uninstrumented, instrumented as it is (app/src/
// instrumentation.ts: one middleware, prom-client, pino; each request's id an exemplar of its duration), the
// same without exemplars (what they cost), and, as the anchor in the same run, the same app instrumented with
// the pair most users pick: express-prom-bundle (metrics) and pino-http (request log).
// Run: node --import tsx bench/app-throughput.ts   (BENCH_ROUNDS, BENCH_SECONDS, BENCH_CONNECTIONS change the run)
//
// Every variant is createApp() with the same handlers and routes and APP_ERROR_RATE=0, each in its own child
// process (so the load generator doesn't share their event loop), its log lines to /dev/null, written
// synchronously as on stdout. Judged at the app's default simulated work (APP_LATENCY_MS=50: what users feel):
// at least 0.98 of the uninstrumented throughput, and no more CPU per request than the anchor. At 0 ms of work
// (a handler that does nothing) the figures are printed for information, not judged.
//
// This machine is noisy, and two processes running the same code differ by a few percent from one start
// to the next. So each round starts a fresh set of processes, warms them up, then loads one after the
// other (the order rotates from round to round); the figure is the median of the rounds' ratios. autocannon
// drives GET / over keep-alive connections.
import { fork, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import promBundle from 'express-prom-bundle';
import { pinoHttp } from 'pino-http';
import { Registry } from 'prom-client';
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

const VARIANTS = ['instrumented', 'no-exemplars', 'uninstrumented', 'anchor'] as const;
type Variant = (typeof VARIANTS)[number];
/** The simulated work per request, ms: the app's default (judged) and none (for information). */
const WORKS = [50, 0] as const;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const WARMUP_SECONDS = 2;
/** At the default work: instrumented/uninstrumented throughput at least this. */
const TARGET_RATIO = 0.98;
/** At the default work: CPU per request with exemplars over without at most this (the machine's noise is a few percent). */
const EXEMPLAR_CPU_RATIO = 1.03;

/**
 * Child process: serve one variant on a random loopback port and report the port. On request it also
 * reports the CPU time it used per request since the last report (a figure less sensitive to other
 * processes on the machine than req/s).
 */
function serve(variant: Variant, latencyMs: number): void {
  const logger = createLogger({ destination: syncDestination('/dev/null') });
  const demo = createApp({ instrumented: variant === 'instrumented' || variant === 'no-exemplars', exemplars: variant === 'instrumented', logger, latencyMs, errorRate: 0 });
  let listener: http.RequestListener = demo.listener;
  if (variant === 'anchor') {
    // The common pair, as their READMEs set them up, in front of the same (uninstrumented) app.
    const outer = express();
    outer.disable('x-powered-by');
    outer.use(promBundle({ includeMethod: true, includePath: true, includeStatusCode: true, promRegistry: new Registry() }));
    outer.use(pinoHttp({ logger }));
    outer.use(demo.app);
    listener = outer;
  }
  const server = http.createServer(listener);
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

function startVariant(variant: Variant, latencyMs: number): Promise<Server> {
  const child = fork(__filename, ['serve', variant, String(latencyMs)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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

interface Outcome {
  readonly ratio: number;
  readonly cpu: Record<Variant, number>;
}

/** Every round at one simulated work; prints each round and the summary, returns the medians. */
async function runAt(latencyMs: number): Promise<Outcome> {
  const runs = Object.fromEntries(VARIANTS.map((v) => [v, [] as Measured[]])) as Record<Variant, Measured[]>;
  const ratios: number[] = [];
  const anchorRatios: number[] = [];
  const exemplarRatios: number[] = [];
  console.log(`\n-- ${latencyMs} ms of simulated work per request`);
  for (let round = 1; round <= ROUNDS; round++) {
    const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]);
    const servers = {} as Record<Variant, Server>;
    const measured = {} as Record<Variant, Measured>;
    try {
      for (const variant of order) servers[variant] = await startVariant(variant, latencyMs);
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
    anchorRatios.push(measured.anchor.rate / measured.uninstrumented.rate);
    exemplarRatios.push(measured.instrumented.rate / measured['no-exemplars'].rate);
    const parts = order.map((v) => `${pad(v, 14)} ${Math.round(measured[v].rate)} req/s, p99 ${measured[v].p99} ms, ${measured[v].cpu.toFixed(1)} µs CPU/req`);
    console.log(`round ${round}: ${parts.join(' | ')} | ratio ${ratio.toFixed(3)}`);
  }
  const cpu = {} as Record<Variant, number>;
  for (const variant of VARIANTS) {
    const rate = sum(runs[variant].map((r) => r.rate)) / ROUNDS;
    const p99 = median(runs[variant].map((r) => r.p99));
    cpu[variant] = median(runs[variant].map((r) => r.cpu));
    console.log(`${pad(variant + ':', 16)} ${Math.round(rate)} req/s (mean), p99 ${p99} ms, ${cpu[variant].toFixed(1)} µs CPU/req (p99 and CPU: median of rounds)`);
  }
  const ratio = median(ratios);
  console.log(`ratios instrumented/uninstrumented of the rounds: ${[...ratios].sort((a, b) => a - b).map((r) => r.toFixed(3)).join(' ')}`);
  console.log(`ratio instrumented/uninstrumented req/s: ${ratio.toFixed(3)}; anchor/uninstrumented: ${median(anchorRatios).toFixed(3)} (medians of rounds)`);
  console.log(`CPU per request, instrumented/anchor: ${(cpu.instrumented / cpu.anchor).toFixed(3)}`);
  console.log(`exemplars: CPU per request with/without ${(cpu.instrumented / cpu['no-exemplars']).toFixed(3)}; req/s with/without ${median(exemplarRatios).toFixed(3)} (median of rounds)`);
  return { ratio, cpu };
}

async function main(): Promise<void> {
  console.log(
    `demo app: GET /, ${CONNECTIONS} keep-alive connections, ${ROUNDS} rounds per work setting; each starts the four variants afresh, warms them up for ${WARMUP_SECONDS} s and loads each for ${SECONDS} s`,
  );
  const [judged] = [await runAt(WORKS[0])];
  await runAt(WORKS[1]);
  console.log(`\nat ${WORKS[0]} ms of work (the app's default), the targets:`);
  console.log(`- throughput at least ${TARGET_RATIO.toFixed(2)} of uninstrumented: ${judged.ratio.toFixed(3)}, ${judged.ratio >= TARGET_RATIO ? 'met' : 'NOT met'}`);
  const cpuRatio = judged.cpu.instrumented / judged.cpu.anchor;
  console.log(`- CPU per request no more than express-prom-bundle + pino-http: ${cpuRatio.toFixed(3)} of theirs, ${cpuRatio <= 1 ? 'met' : 'NOT met'}`);
  const exemplarCpu = judged.cpu.instrumented / judged.cpu['no-exemplars'];
  console.log(`- exemplars within the noise (CPU per request with/without at most ${EXEMPLAR_CPU_RATIO.toFixed(2)}): ${exemplarCpu.toFixed(3)}, ${exemplarCpu <= EXEMPLAR_CPU_RATIO ? 'met' : 'NOT met'}`);
}

if (process.argv[2] === 'serve') {
  serve(process.argv[3] as Variant, Number(process.argv[4]));
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}

// Shared by the app tests: a demo app on a real node:http server (127.0.0.1, random port) with its log
// lines captured, the real entry point in a child process, a small HTTP client, and a parser for the
// Prometheus text format.
import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { createApp, type AppOptions, type DemoApp } from '../../app/src/app';
import { createLogger } from '../../app/src/logger';

export interface RunningApp {
  readonly url: string;
  readonly port: number;
  readonly demo: DemoApp;
  /** The log lines written so far, parsed. */
  logs(): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startApp(options: Omit<AppOptions, 'logger'> = {}): Promise<RunningApp> {
  const lines: string[] = [];
  const logger = createLogger({ destination: { write: (line: string) => void lines.push(line) } });
  const demo = createApp({ ...options, logger });
  const server = http.createServer(demo.listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    demo,
    logs: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  /** @default a new connection per request */
  readonly agent?: http.Agent;
}

/** One request with node:http (which accepts any method token), the whole body read. */
export function request(url: string, options: RequestOptions = {}): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent: options.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export interface MetricSample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The sample lines of a Prometheus text exposition (comments skipped). */
export function parseSamples(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key] = value;
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The samples of the request-duration histogram and the tutorial counter: the series requests create. */
export function requestSeries(samples: MetricSample[]): MetricSample[] {
  return samples.filter((s) => s.name.startsWith('http_server_request_duration_seconds') || s.name === 'my_app_requests_total');
}

export async function scrape(app: RunningApp): Promise<MetricSample[]> {
  const res = await request(`${app.url}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return parseSamples(res.body);
}

/** Sum of the samples named `name` whose labels include `labels`. */
export function total(samples: MetricSample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** Polls `fn` until it returns true (log lines and metrics are written when the response finishes). */
export async function eventually(fn: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A small deterministic PRNG (mulberry32), so tests with random input cannot flake. */
export function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The real entry point (app/src/server.ts, through tsx) in a child process, its stdout read line by line. */
export interface ServerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  /** Every log line so far, parsed, and as written. */
  readonly lines: Array<Record<string, unknown>>;
  readonly raw: string[];
  /** When the test first read each log message (performance.now()). */
  readonly seenAt: Map<string, number>;
  readonly exited: Promise<number | null>;
  /** SIGTERM, and the exit. */
  stop(): Promise<void>;
}

/** Starts the server with `env` over PORT=0 and LOG_LEVEL=info; resolves once its "listening" line names the port. */
export function startServerProcess(env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/src/server.ts'], {
    cwd: path.resolve(__dirname, '../..'),
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const seenAt = new Map<string, number>();
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" line within 20 s; stderr: ${stderr}`)), 20_000);
    void exited.then((code) => reject(new Error(`server exited with ${code} before listening; stderr: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (text) => {
      const line = JSON.parse(text) as Record<string, unknown>;
      raw.push(text);
      lines.push(line);
      if (!seenAt.has(line.msg as string)) seenAt.set(line.msg as string, performance.now());
      if (line.msg === 'listening') {
        clearTimeout(timer);
        const port = line.port as number;
        resolve({ child, port, url: `http://127.0.0.1:${port}`, lines, raw, seenAt, exited, stop });
      }
    });
  });
}

// Test helpers around the REAL Prometheus 2.42 and promtool from Debian's `prometheus` package
// (scripts/test.mjs makes sure they are on PATH).
//
// - promtool:        promtoolCheckConfig / promtoolCheckRules / promtoolTestRules, each in a fresh temp dir.
// - Kubernetes SD:   Debian's build has no kubernetes_sd_configs. withFileSd() swaps that block for a
//                    file_sd_configs block whose targets carry the `__meta_kubernetes_*` labels a pod would
//                    have, so the SAME relabel rules run against real targets.
// - a live server:   startPrometheus() runs the binary on a random loopback port (never 9090) and gives
//                    typed access to its HTTP API; serveMetrics() is a tiny /metrics endpoint to scrape.
//
// Every Prometheus started here must be stopped (afterAll(() => prom.stop())); as a safety net, any still
// running when the Node process exits is killed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { inspect } from 'node:util';

/** Result of a promtool run: `ok` is promtool's exit status 0; `output` is its stdout then stderr. */
export interface PromtoolResult {
  readonly ok: boolean;
  readonly output: string;
}

/** A file_sd target group: https://prometheus.io/docs/prometheus/latest/configuration/configuration/#file_sd_config */
export interface TargetGroup {
  readonly targets: string[];
  readonly labels: Record<string, string>;
}

/** One element of an instant-vector query result. */
export interface Sample {
  readonly metric: Record<string, string>;
  /** [unix time in seconds, value as Prometheus prints it, e.g. "1" or "NaN"] */
  readonly value: [number, string];
}

export interface RunningPrometheus {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** The temp dir holding prometheus.yml, the extra files and data/ (removed by stop()). */
  readonly dir: string;
  /** Everything Prometheus logged so far (it logs to stderr). */
  logs(): string;
  /** Instant query through /api/v1/query, now or at unix time `at` (seconds). Throws when Prometheus answers with an error. */
  query(promql: string, at?: number): Promise<Sample[]>;
  /** /api/v1/targets: the targets after relabelling (active) and those relabelling dropped. */
  targets(): Promise<{ activeTargets: any[]; droppedTargets: any[] }>;
  /** waitFor() (below), with Prometheus's recent log lines added to the timeout error. */
  waitFor<T>(fn: () => Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T>;
  /** The query's samples once it returns any (retried until then), with waitFor()'s timeout error. */
  queryUntilData(promql: string, timeoutMs: number, what: string): Promise<Sample[]>;
  /** SIGTERM, wait for the process to exit (SIGKILL after 10 s), remove the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartPrometheusOptions {
  /** prometheus.yml as YAML text. Relative paths in it (rule_files, file_sd files) resolve against its dir. */
  readonly config: string;
  /** Extra files written next to prometheus.yml, keyed by relative path (subdirectories allowed). */
  readonly files?: Record<string, string>;
  /** Extra command-line flags for prometheus. */
  readonly args?: string[];
  /** How long to wait for GET /-/ready to answer 200. @default 30000 */
  readonly readyTimeoutMs?: number;
}

const PROMTOOL_TIMEOUT_MS = 60_000;
/** How much of Prometheus's stderr to keep for error messages and logs(). */
const MAX_LOG_CHARS = 256 * 1024;

// ---------------------------------------------------------------------------------------------------------
// Files and temp dirs

/** A fresh temp dir whose name says which helper made it. */
function makeTempDir(purpose: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `obs-${purpose}-`));
}

function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Writes `files` (relative path → content) under `dir`. Paths must be relative and stay inside `dir`;
 * `reserved` names the files the helper itself writes, so a caller cannot overwrite them by accident.
 */
function writeFiles(dir: string, files: Record<string, string>, reserved: string[] = []): void {
  for (const [relative, content] of Object.entries(files)) {
    const target = path.resolve(dir, relative);
    if (path.isAbsolute(relative) || !target.startsWith(dir + path.sep)) {
      throw new Error(`file name must be a relative path inside the temp dir, got ${JSON.stringify(relative)}`);
    }
    if (reserved.includes(path.normalize(relative))) {
      throw new Error(`file name ${JSON.stringify(relative)} is reserved for the file this helper writes itself`);
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
  }
}

// ---------------------------------------------------------------------------------------------------------
// promtool

/** Runs promtool with `args` in `dir` and returns its status and combined output. */
function runPromtool(dir: string, args: string[]): PromtoolResult {
  const result = spawnSync('promtool', args, { cwd: dir, encoding: 'utf8', timeout: PROMTOOL_TIMEOUT_MS });
  if (result.error) {
    throw new Error(
      `could not run promtool ${args.join(' ')}: ${result.error.message}. ` +
        'It comes with the Debian package `prometheus` (sudo apt-get install prometheus).',
    );
  }
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

/** Writes files into a fresh temp dir, runs promtool there, removes the dir. */
function promtoolIn(purpose: string, files: Record<string, string>, args: string[]): PromtoolResult {
  const dir = makeTempDir(purpose);
  try {
    writeFiles(dir, files);
    return runPromtool(dir, args);
  } finally {
    removeDir(dir);
  }
}

/**
 * `promtool check config prometheus.yml`. `extraFiles` (rule files, file_sd JSON, …) are written relative
 * to the config's directory, which is where promtool resolves the config's relative paths from; promtool
 * reads and checks them too.
 */
export function promtoolCheckConfig(configYaml: string, extraFiles: Record<string, string> = {}): PromtoolResult {
  assertNotReserved(extraFiles, 'prometheus.yml');
  return promtoolIn('promtool-config', { ...extraFiles, 'prometheus.yml': configYaml }, ['check', 'config', 'prometheus.yml']);
}

/** `promtool check rules rules.yml` on one rule file. */
export function promtoolCheckRules(rulesYaml: string): PromtoolResult {
  return promtoolIn('promtool-rules', { 'rules.yml': rulesYaml }, ['check', 'rules', 'rules.yml']);
}

/**
 * `promtool test rules tests.yml`: rule unit tests. `files` holds the rule files the test's `rule_files`
 * names, relative to the test file's directory.
 */
export function promtoolTestRules(testYaml: string, files: Record<string, string>): PromtoolResult {
  assertNotReserved(files, 'tests.yml');
  return promtoolIn('promtool-test', { ...files, 'tests.yml': testYaml }, ['test', 'rules', 'tests.yml']);
}

function assertNotReserved(files: Record<string, string>, name: string): void {
  if (Object.keys(files).some((f) => path.normalize(f) === name)) {
    throw new Error(`file name ${JSON.stringify(name)} is reserved for the file this helper writes itself`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Kubernetes SD → file SD

/** The directory of a pod's service-account token and CA. */
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount/';
/** The token withFileSd() gives Prometheus unless told otherwise: a stand-in kubelet can check it arrives. */
export const FILE_SD_TOKEN = 'file-sd-test-token';

/** Contents of the service-account files a config reads (withFileSd). */
export interface ServiceAccountFiles {
  /** @default FILE_SD_TOKEN and a newline */
  readonly token?: string;
  /** PEM; required when the config reads ca.crt. */
  readonly caCrt?: string;
}

/**
 * Returns a deep copy of a Prometheus config object (as parsed from YAML) in which every scrape job with
 * `kubernetes_sd_configs` has that block replaced, in place, by `file_sd_configs: [{files: ['sd-<job>.json']}]`
 * (added to any file_sd_configs the job already has). relabel_configs and everything else stay as they were.
 *
 * `files` holds the JSON for each of those files: the target groups given for the job in `targetsByJob`, or
 * `[]` for a job given none. Give each target the `__meta_kubernetes_*` labels the pod would have (and its
 * `__address__` as the target): Prometheus passes file_sd labels to relabelling like any SD's, then drops
 * the `__`-prefixed ones. Naming a job that has no kubernetes_sd_configs throws, so a typo cannot pass silently.
 * Paths under the pod's service-account directory become `serviceaccount/<file>` beside prometheus.yml,
 * holding `serviceAccount`'s contents.
 */
export function withFileSd(
  config: any,
  targetsByJob: Record<string, TargetGroup[]>,
  serviceAccount: ServiceAccountFiles = {},
): { config: any; files: Record<string, string> } {
  const copy = structuredClone(config);
  const files: Record<string, string> = {};
  // The pod's service-account files (the kubelet jobs' token and CA) become files next to prometheus.yml,
  // where Prometheus resolves relative paths from.
  const accountFiles: Record<string, string | undefined> = { token: serviceAccount.token ?? `${FILE_SD_TOKEN}\n`, 'ca.crt': serviceAccount.caCrt };
  const swapAccountPaths = (node: any): any => {
    if (typeof node === 'string' && node.startsWith(SERVICE_ACCOUNT_DIR)) {
      const name = node.slice(SERVICE_ACCOUNT_DIR.length);
      const content = accountFiles[name];
      if (content === undefined) throw new Error(`withFileSd: the config reads ${node}: pass its content (serviceAccount)`);
      files[`serviceaccount/${name}`] = content;
      return `serviceaccount/${name}`;
    }
    if (Array.isArray(node)) return node.map(swapAccountPaths);
    if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, swapAccountPaths(v)]));
    return node;
  };
  if (Array.isArray(copy?.scrape_configs)) copy.scrape_configs = copy.scrape_configs.map(swapAccountPaths);
  const jobs: any[] = Array.isArray(copy?.scrape_configs) ? copy.scrape_configs : [];
  const swapped: string[] = [];

  jobs.forEach((job, index) => {
    if (job === null || typeof job !== 'object' || !('kubernetes_sd_configs' in job)) return;
    const jobName = String(job.job_name);
    // Job names may hold characters a file name should not; the file name only has to be unique and stable.
    const fileName = `sd-${jobName.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`;
    if (fileName in files) {
      throw new Error(`withFileSd: jobs ${JSON.stringify(swapped)} and ${JSON.stringify(jobName)} map to the same file ${fileName}`);
    }
    // Rebuild the job so file_sd_configs takes kubernetes_sd_configs' place in the key order (readable YAML).
    const rebuilt: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(job)) {
      if (key === 'kubernetes_sd_configs') {
        rebuilt.file_sd_configs = [...(Array.isArray(job.file_sd_configs) ? job.file_sd_configs : []), { files: [fileName] }];
      } else if (key !== 'file_sd_configs') {
        rebuilt[key] = value;
      }
    }
    jobs[index] = rebuilt;
    files[fileName] = JSON.stringify(targetsByJob[jobName] ?? [], null, 2) + '\n';
    swapped.push(jobName);
  });

  const unknown = Object.keys(targetsByJob).filter((name) => !swapped.includes(name));
  if (unknown.length > 0) {
    throw new Error(
      `withFileSd: no scrape job with kubernetes_sd_configs named ${unknown.map((n) => JSON.stringify(n)).join(', ')}; ` +
        `jobs with kubernetes_sd_configs: ${JSON.stringify(swapped)}`,
    );
  }
  return { config: copy, files };
}

// ---------------------------------------------------------------------------------------------------------
// Waiting, ports

/**
 * Calls `fn` every `intervalMs` until it returns something other than undefined, null or false, and
 * returns that. An exception from `fn` counts as "not yet" (it becomes the last value). On timeout, throws
 * an Error naming `what` and showing the last value.
 */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | false>,
  timeoutMs: number,
  what: string,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== null && value !== false) return value as T;
      last = value;
    } catch (err) {
      last = err instanceof Error ? `error: ${err.message}` : err;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${inspect(last, { depth: 6 })}`);
    }
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago (listen on port 0, read the port, close). Another
 * process could take it before we use it; startPrometheus() retries on "address already in use".
 * Also handy for a target that refuses connections.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// A running Prometheus

/** Processes started here and not yet exited: killed if the Node process exits first. */
const liveProcesses = new Set<ChildProcess>();
let exitHookInstalled = false;

function trackProcess(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const p of liveProcesses) p.kill('SIGKILL');
    });
  }
  liveProcesses.add(child);
  child.once('exit', () => liveProcesses.delete(child));
}

/** Keeps the last MAX_LOG_CHARS of a stream. */
class LogBuffer {
  private text = '';
  append(chunk: Buffer | string): void {
    this.text += chunk.toString();
    if (this.text.length > MAX_LOG_CHARS) this.text = this.text.slice(-MAX_LOG_CHARS);
  }
  toString(): string {
    return this.text;
  }
  /** The last `lines` lines, for error messages. */
  tail(lines = 40): string {
    return this.text.trimEnd().split('\n').slice(-lines).join('\n');
  }
}

class PrometheusProcess implements RunningPrometheus {
  private exited: Promise<void>;
  private hasExited = false;
  private stopped = false;

  constructor(
    readonly url: string,
    readonly dir: string,
    private readonly child: ChildProcess,
    private readonly log: LogBuffer,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        this.hasExited = true;
        resolve();
      });
    });
  }

  logs(): string {
    return this.log.toString();
  }

  async query(promql: string, at?: number): Promise<Sample[]> {
    const time = at === undefined ? '' : `&time=${at}`;
    const data = await this.api(`/api/v1/query?query=${encodeURIComponent(promql)}${time}`, `query ${promql}`);
    switch (data.resultType) {
      case 'vector':
        return data.result as Sample[];
      case 'scalar':
      case 'string':
        // An instant query of a scalar or string returns one [time, value] pair: present it as one sample.
        return [{ metric: {}, value: data.result as [number, string] }];
      default:
        throw new Error(`query ${promql}: unexpected result type ${data.resultType}`);
    }
  }

  async targets(): Promise<{ activeTargets: any[]; droppedTargets: any[] }> {
    const data = await this.api('/api/v1/targets', 'targets');
    return { activeTargets: data.activeTargets ?? [], droppedTargets: data.droppedTargets ?? [] };
  }

  async waitFor<T>(fn: () => Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
    try {
      return await waitFor(fn, timeoutMs, what);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nprometheus log (last lines):\n${this.log.tail(20)}`);
    }
  }

  queryUntilData(promql: string, timeoutMs: number, what: string): Promise<Sample[]> {
    return this.waitFor(async () => {
      const r = await this.query(promql);
      return r.length > 0 ? r : undefined;
    }, timeoutMs, what);
  }

  async stop(): Promise<void> {
    if (this.stopped) return this.exited;
    this.stopped = true;
    if (!this.hasExited) {
      this.child.kill('SIGTERM');
      const killTimer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(killTimer);
    }
    removeDir(this.dir);
  }

  /** GET a Prometheus API path and return its `data`, or throw with Prometheus's error. */
  private async api(pathAndQuery: string, what: string): Promise<any> {
    const response = await fetch(`${this.url}${pathAndQuery}`);
    const body = (await response.json()) as { status: string; data?: any; errorType?: string; error?: string };
    if (body.status !== 'success') {
      throw new Error(`${what} failed (HTTP ${response.status}): ${body.errorType}: ${body.error}`);
    }
    return body.data;
  }
}

/**
 * Starts the real `prometheus` with `opts.config` (written as prometheus.yml) and `opts.files` in a fresh
 * temp dir, TSDB in <dir>/data, on a free port of 127.0.0.1, with --web.enable-lifecycle, and resolves
 * once GET /-/ready answers 200. Rejects with Prometheus's log if it exits first or is not ready in time.
 */
export async function startPrometheus(opts: StartPrometheusOptions): Promise<RunningPrometheus> {
  const maxAttempts = 3;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      // The port from freePort() can be taken by someone else before Prometheus binds it: try another.
      const portRace = /address already in use/.test((err as Error).message);
      if (!portRace || attempt >= maxAttempts) throw err;
    }
  }
}

async function startOnce(opts: StartPrometheusOptions): Promise<RunningPrometheus> {
  const dir = makeTempDir('prometheus');
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  let child: ChildProcess;
  let port: number;
  try {
    writeFiles(dir, { ...(opts.files ?? {}) }, ['prometheus.yml']);
    fs.writeFileSync(path.join(dir, 'prometheus.yml'), opts.config);
    port = await freePort();
    const args = [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
      ...(opts.args ?? []),
    ];
    child = spawn('prometheus', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    removeDir(dir);
    throw err;
  }

  trackProcess(child);
  const log = new LogBuffer();
  child.stderr?.on('data', (chunk: Buffer) => log.append(chunk));
  const prom = new PrometheusProcess(`http://127.0.0.1:${port}`, dir, child, log);

  // Fail fast if the process cannot start or exits before it is ready.
  let earlyExit: string | undefined;
  child.once('error', (err) => (earlyExit = `could not start prometheus: ${err.message} (sudo apt-get install prometheus)`));
  child.once('exit', (code, signal) => (earlyExit ??= `prometheus exited before it was ready (code ${code}, signal ${signal})`));

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (earlyExit !== undefined) {
      await prom.stop();
      throw new Error(`${earlyExit}\n${log.tail()}`);
    }
    if (await isReady(prom.url)) return prom;
    if (Date.now() >= deadline) {
      await prom.stop();
      throw new Error(`prometheus on ${prom.url} was not ready after ${readyTimeoutMs} ms\n${log.tail()}`);
    }
    await sleep(100);
  }
}

async function isReady(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/-/ready`);
    await response.arrayBuffer(); // drain, so the connection can be reused or closed
    return response.status === 200;
  } catch {
    return false; // not listening yet
  }
}

// ---------------------------------------------------------------------------------------------------------
// A /metrics endpoint to scrape

/**
 * A real HTTP server on 127.0.0.1 (random port) answering GET /metrics with `body` (or what `body()` returns
 * at each request, for counters that grow) and `contentType`
 * (the Prometheus text format 0.0.4 by default), and 404 to anything else. close() also drops kept-alive
 * connections (Prometheus keeps its scrape connection open).
 */
export function serveMetrics(
  body: string | (() => string),
  contentType = 'text/plain; version=0.0.4; charset=utf-8',
): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const pathname = (req.url ?? '').split('?')[0];
    if (pathname === '/metrics' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'Content-Type': contentType });
      res.end(req.method === 'HEAD' ? undefined : typeof body === 'function' ? body() : body);
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('not found\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      const close = () =>
        new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        });
      resolve({ port, close });
    });
  });
}

// Traffic generator for the demo app: a realistic request mix at a steady rate, with bounded
// concurrency. Runs in its own container from the app's image: `node build/traffic.js`.
import * as http from 'node:http';
import { performance } from 'node:perf_hooks';
import { loadTrafficConfig, type TrafficConfig } from './config';
import { createLogger, type Logger } from './logger';

export interface PlannedRequest {
  readonly method: string;
  /** Path and query, relative to the target URL. */
  readonly path: string;
}

type Random = () => number;

const UNKNOWN_PATHS = ['/admin', '/wp-login.php', '/.env', '/old-page', '/api/item', '/api/items/1/reviews'];

/** The mix, by weight (of 100). The app's APP_ERROR_RATE turns some of these into 500s. */
const MIX: ReadonlyArray<{ readonly weight: number; readonly build: (random: Random) => PlannedRequest }> = [
  // The tutorial's hello world.
  { weight: 60, build: () => ({ method: 'GET', path: '/' }) },
  // Item lookups: ids 1..120 while the catalogue has 1..100, so about one in six is a 404 on a matched route.
  { weight: 25, build: (random) => ({ method: 'GET', path: `/api/items/${1 + Math.floor(random() * 120)}` }) },
  // Listing, with a query string (never part of a label).
  { weight: 7, build: (random) => ({ method: 'GET', path: `/api/items?limit=${1 + Math.floor(random() * 20)}` }) },
  // Unknown paths, as scanners and stale links send: 404s counted under route="unmatched".
  { weight: 8, build: (random) => ({ method: 'GET', path: UNKNOWN_PATHS[Math.floor(random() * UNKNOWN_PATHS.length)] }) },
];
const TOTAL_WEIGHT = MIX.reduce((sum, entry) => sum + entry.weight, 0);

/** Picks the next request of the mix. */
export function pickRequest(random: Random = Math.random): PlannedRequest {
  let ticket = random() * TOTAL_WEIGHT;
  for (const entry of MIX) {
    ticket -= entry.weight;
    if (ticket < 0) return entry.build(random);
  }
  return MIX[MIX.length - 1].build(random);
}

export interface TrafficCounts {
  /** Requests started. */
  sent: number;
  /** 2xx/3xx answers. */
  ok: number;
  /** 4xx answers. */
  client_errors: number;
  /** 5xx answers. */
  server_errors: number;
  /** No answer: connection refused or reset, timeout. */
  failed: number;
  /** Due while TRAFFIC_CONCURRENCY requests were already in flight, so not sent. */
  skipped: number;
}

export interface TrafficRun {
  /** Counts since the start. */
  totals(): TrafficCounts;
  /** Stops sending, waits for the requests in flight (at most the request timeout) and logs the totals. */
  stop(): Promise<TrafficCounts>;
}

const zero = (): TrafficCounts => ({ sent: 0, ok: 0, client_errors: 0, server_errors: 0, failed: 0, skipped: 0 });
const TICK_MS = 20;

export function startTraffic(config: Omit<TrafficConfig, 'healthPort'>, logger: Logger, random: Random = Math.random): TrafficRun {
  const total = zero();
  let interval = zero();
  let lastError: string | undefined;
  let inFlight = 0;
  const pending = new Set<Promise<void>>();
  const count = (key: keyof TrafficCounts): void => {
    total[key] += 1;
    interval[key] += 1;
  };

  const send = async (request: PlannedRequest): Promise<void> => {
    inFlight += 1;
    count('sent');
    try {
      const res = await fetch(config.targetUrl + request.path, {
        method: request.method,
        signal: AbortSignal.timeout(config.timeoutMs),
      });
      await res.arrayBuffer();
      count(res.status >= 500 ? 'server_errors' : res.status >= 400 ? 'client_errors' : 'ok');
    } catch (err) {
      count('failed');
      const cause = (err as { cause?: { code?: string } }).cause;
      lastError = cause?.code ?? (err as Error).message;
    } finally {
      inFlight -= 1;
    }
  };

  // Credit accrues with real elapsed time, so timer jitter doesn't change the rate.
  let credit = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    credit += (config.rps * (now - last)) / 1000;
    last = now;
    for (; credit >= 1; credit -= 1) {
      if (inFlight >= config.concurrency) {
        count('skipped');
        continue;
      }
      const request = send(pickRequest(random)).finally(() => pending.delete(request));
      pending.add(request);
    }
  }, TICK_MS);

  const summary = setInterval(() => {
    logger.info({ ...interval, in_flight: inFlight, interval_ms: config.summaryIntervalMs, last_error: lastError }, 'traffic summary');
    interval = zero();
    lastError = undefined;
  }, config.summaryIntervalMs);

  let stopped: Promise<TrafficCounts> | undefined;
  return {
    totals: () => ({ ...total }),
    stop: () => {
      stopped ??= (async () => {
        clearInterval(ticker);
        clearInterval(summary);
        await Promise.allSettled([...pending]);
        logger.info({ ...total }, 'traffic stopped');
        return { ...total };
      })();
      return stopped;
    },
  };
}

/**
 * The generator's own /healthz, for the orchestrator's probes: 200 while it sends traffic, 503 once it
 * is stopping. It serves nothing else.
 */
export function serveHealth(port: number, running: () => boolean, host = '0.0.0.0'): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.url !== '/healthz' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404).end();
      return;
    }
    const ok = running();
    res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain; charset=utf-8' }).end(ok ? 'ok\n' : 'stopping\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

function main(): void {
  let config: TrafficConfig;
  try {
    config = loadTrafficConfig();
  } catch (err) {
    createLogger().fatal((err as Error).message);
    process.exitCode = 1;
    return;
  }
  const logger = createLogger({ level: config.logLevel });
  logger.info({ target: config.targetUrl, rps: config.rps, concurrency: config.concurrency }, 'traffic started');
  const run = startTraffic(config, logger);
  let running = true;
  const health = serveHealth(config.healthPort, () => running);
  health.catch((err: Error) => {
    logger.fatal({ err }, `cannot serve /healthz on port ${config.healthPort}`);
    process.exit(1);
  });
  const stop = (signal: NodeJS.Signals): void => {
    running = false;
    logger.info({ signal }, 'stopping, waiting for requests in flight');
    void run.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (require.main === module) main();

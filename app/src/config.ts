// Environment parsing for the demo app and its traffic generator. Bad input fails at startup with an
// error that names the variable, shows the value and states the rule.

type Env = Readonly<Record<string, string | undefined>>;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface AppConfig {
  /** PORT: TCP port to listen on; 0 picks a free one (the startup log line says which). */
  readonly port: number;
  /** APP_LATENCY_MS: mean simulated work per request on `/` and `/api/items…`, in milliseconds. */
  readonly latencyMs: number;
  /** APP_ERROR_RATE: share of those requests that fail with a 500, from 0 to 1. */
  readonly errorRate: number;
  /** APP_SHUTDOWN_DELAY_MS: time between SIGTERM (readiness turns false) and closing the listener. */
  readonly shutdownDelayMs: number;
  /** LOG_LEVEL: pino level. */
  readonly logLevel: LogLevel;
}

export interface TrafficConfig {
  /** TRAFFIC_TARGET_URL: base URL of the demo app. */
  readonly targetUrl: string;
  /** TRAFFIC_RPS: requests started per second. */
  readonly rps: number;
  /** TRAFFIC_CONCURRENCY: most requests in flight at once; a request due while all are busy is skipped and counted. */
  readonly concurrency: number;
  /** TRAFFIC_SUMMARY_INTERVAL_MS: how often the summary line is logged. */
  readonly summaryIntervalMs: number;
  /** TRAFFIC_TIMEOUT_MS: per-request timeout. */
  readonly timeoutMs: number;
  /** TRAFFIC_HEALTH_PORT: port of the generator's own /healthz (for the orchestrator's probes). */
  readonly healthPort: number;
  /** LOG_LEVEL: pino level. */
  readonly logLevel: LogLevel;
}

export function loadAppConfig(env: Env = process.env): AppConfig {
  return {
    port: integer(env, 'PORT', 8080, 0, 65535),
    latencyMs: integer(env, 'APP_LATENCY_MS', 50, 0, 60_000),
    errorRate: fraction(env, 'APP_ERROR_RATE', 0.05),
    shutdownDelayMs: integer(env, 'APP_SHUTDOWN_DELAY_MS', 5_000, 0, 600_000),
    logLevel: logLevel(env),
  };
}

export function loadTrafficConfig(env: Env = process.env): TrafficConfig {
  return {
    targetUrl: httpUrl(env, 'TRAFFIC_TARGET_URL', 'http://localhost:8080'),
    rps: positiveNumber(env, 'TRAFFIC_RPS', 5, 10_000),
    concurrency: integer(env, 'TRAFFIC_CONCURRENCY', 10, 1, 1_000),
    summaryIntervalMs: integer(env, 'TRAFFIC_SUMMARY_INTERVAL_MS', 10_000, 100, 3_600_000),
    timeoutMs: integer(env, 'TRAFFIC_TIMEOUT_MS', 5_000, 1, 600_000),
    healthPort: integer(env, 'TRAFFIC_HEALTH_PORT', 8081, 0, 65535),
    logLevel: logLevel(env),
  };
}

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got "${value}"`);
  }
  return Number(value);
}

function fraction(env: Env, name: string, fallback: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) {
    throw new Error(`${name} must be a number from 0 to 1, got "${value}"`);
  }
  return n;
}

function positiveNumber(env: Env, name: string, fallback: number, max: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > max) {
    throw new Error(`${name} must be a number greater than 0 and at most ${max}, got "${value}"`);
  }
  return n;
}

function httpUrl(env: Env, name: string, fallback: string): string {
  const value = raw(env, name) ?? fallback;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${name} must be an http:// or https:// URL, got "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`${name} must be an http:// or https:// URL, got "${value}"`);
  }
  return value.replace(/\/+$/, '');
}

function logLevel(env: Env): LogLevel {
  const value = raw(env, 'LOG_LEVEL');
  if (value === undefined) return 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`);
  }
  return value as LogLevel;
}

// Structured logs for the demo app: JSON lines on stdout, shaped for Loki.
import pino, { type DestinationStream, type Logger } from 'pino';
import type { AnsweredRequest } from './telemetry';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** pino level name. @default 'info' */
  readonly level?: string;
  /** Where the lines go. @default stdout, written synchronously */
  readonly destination?: DestinationStream;
}

/**
 * A synchronous pino destination (a file descriptor or path). Synchronous writes keep every line and
 * their order when the process exits or crashes; Node writes to pipes synchronously on Linux anyway.
 */
export function syncDestination(dest: number | string): DestinationStream {
  return pino.destination({ dest, sync: true });
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      // No pid/hostname: in a container the pid is 1 and the pod/container labels already say where.
      base: null,
      // pino's default epoch milliseconds: formatting an ISO string on every line cost about 5% of the
      // throughput in `npm run bench`, and Loki takes each entry's time from the container runtime anyway.
      timestamp: pino.stdTimeFunctions.epochTime,
      // "level":"info" rather than 30: Loki's level detection only reads strings.
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? syncDestination(1),
  );
}

/**
 * The request's log line (request_id comes from `log`, the request's logger: instrumentation.ts): method, route
 * (the template), url, status, duration_ms, and `err` with its stack for a failure; at `info`, `warn` for 4xx,
 * `error` for 5xx.
 */
export function logRequest(log: Logger, answered: AnsweredRequest, err?: unknown): void {
  const { status } = answered;
  const line = {
    method: answered.method,
    route: answered.route,
    url: answered.url,
    status,
    duration_ms: Math.round(answered.seconds * 1e6) / 1000,
    err,
  };
  if (status >= 500) log.error(line, 'request failed');
  else if (status >= 400) log.warn(line, 'request completed');
  else log.info(line, 'request completed');
}

/**
 * What every compose service of the stack shares: the hardening (restart policy, read-only root, no
 * capabilities, no privilege gain), the json-file logging options that put the label contract's values into
 * every log line, healthcheck timings, and resource limits taken from the model's Kubernetes limits.
 */
import { Resources } from '../config';
import { ComposeHealthcheck, ComposeLogging, ComposeService } from './compose-types';

/** Docker's compose labels the json-file driver copies into each line's `attrs` (see renderPromtailComposeConfig). */
export const COMPOSE_SERVICE_LABEL = 'com.docker.compose.service';
export const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';
/** The json-file log tag: the container's name without its leading "/" (moby daemon/logger/loginfo.go `Name()`). */
export const LOG_TAG_TEMPLATE = '{{.Name}}';

/**
 * json-file logging with two extras in every line's `attrs`: `tag` (the container name) and the compose
 * service and project labels. moby's json-file driver accepts `tag` and `labels`
 * (daemon/logger/jsonfilelog/jsonfilelog.go ValidateLogOpt) and writes them as
 * `{"log":…,"stream":…,"attrs":{"tag":…,"com.docker.compose.service":…,…},"time":…}`.
 * Rotation keeps the host's disk bounded: at most 3 files of 10 MB per container.
 */
export function composeLogging(): ComposeLogging {
  return {
    driver: 'json-file',
    options: {
      tag: LOG_TAG_TEMPLATE,
      labels: `${COMPOSE_SERVICE_LABEL},${COMPOSE_PROJECT_LABEL}`,
      'max-size': '10m',
      'max-file': '3',
    },
  };
}

/** The settings every service shares (a service relaxes one only with a comment saying why). */
export function hardenedService(): Pick<ComposeService, 'restart' | 'read_only' | 'cap_drop' | 'security_opt' | 'logging'> {
  return {
    restart: 'unless-stopped',
    read_only: true,
    cap_drop: ['ALL'],
    security_opt: ['no-new-privileges:true'],
    logging: composeLogging(),
  };
}

export interface HealthcheckTimings {
  /** Grace time after start during which failures do not count. */
  readonly startPeriodSeconds: number;
  /** @default 10 */
  readonly intervalSeconds?: number;
  /** @default 5 */
  readonly timeoutSeconds?: number;
  /** @default 5 */
  readonly retries?: number;
}

/** A healthcheck that execs `command` (no shell) in the container. */
export function healthcheck(command: string[], t: HealthcheckTimings): ComposeHealthcheck {
  return {
    test: ['CMD', ...command],
    interval: `${t.intervalSeconds ?? 10}s`,
    timeout: `${t.timeoutSeconds ?? 5}s`,
    retries: t.retries ?? 5,
    start_period: `${t.startPeriodSeconds}s`,
  };
}

/** `wget` (busybox in the Prometheus image, Alpine's in Grafana's) fetching a local URL; fails on any non-2xx. */
export function wgetCheck(url: string): string[] {
  return ['wget', '-q', '-O', '/dev/null', url];
}

/** `node -e` fetching a local URL (Node 18+ has fetch): for the app's image, which has no curl or wget. */
export function nodeFetchCheck(url: string): string[] {
  return ['node', '-e', `fetch(${JSON.stringify(url)}).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`];
}

/**
 * bash's /dev/tcp speaking HTTP/1.0, for images with bash but neither curl nor wget (Promtail's Ubuntu
 * base). Passes when the status line says 200. No `$` anywhere: compose would interpolate it.
 */
export function bashHttpCheck(port: number, path: string): string[] {
  return [
    'bash', '-c',
    `exec 3<>/dev/tcp/127.0.0.1/${port} && printf 'GET ${path} HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '`,
  ];
}

/** Docker's `cpus` from a Kubernetes CPU quantity ("500m" → "0.5", "1" → "1"). */
export function dockerCpus(quantity: string): string {
  const millis = quantity.endsWith('m') ? Number(quantity.slice(0, -1)) : Math.round(Number(quantity) * 1000);
  return String(millis / 1000);
}

/** Docker's memory size from a Kubernetes binary quantity ("256Mi" → "256m"; Docker's units are powers of 1024). */
export function dockerMemory(quantity: string): string {
  const m = /^([0-9]+)(Ki|Mi|Gi|Ti)$/.exec(quantity);
  if (!m) throw new Error(`not a binary-unit memory quantity: ${quantity}`);
  if (m[2] === 'Ti') return `${Number(m[1]) * 1024}g`;
  return `${m[1]}${m[2][0].toLowerCase()}`;
}

/** The model's Kubernetes limits as compose limits (`deploy.resources.limits`, honoured by `docker compose up`). */
export function resourceLimits(r: Resources): ComposeService['deploy'] {
  return { resources: { limits: { cpus: dockerCpus(r.limits.cpu), memory: dockerMemory(r.limits.memory) } } };
}

/** A published port, on loopback only: reachable from this host's browser, not from the network. */
export function loopbackPort(hostPort: number, containerPort: number): string {
  return `127.0.0.1:${hostPort}:${containerPort}`;
}

/** Paths inside compose/ are relative to the compose file; a bind mount of one, read-only. */
export function configMount(sourceInComposeDir: string, target: string): string {
  return `./${sourceInComposeDir}:${target}:ro`;
}

/**
 * promtail.yaml for the Kubernetes DaemonSet: tail every container's log file under /var/log/pods on the
 * agent's own node and push it to Loki with the label contract's labels. Pure: no cdk8s here; Loki's
 * address is a parameter so other renderings reuse it.
 *
 * Every key below exists in Promtail's configuration reference for the pinned 3.6.11
 * (grafana/loki@v3.6.11:docs/sources/send-data/promtail/configuration.md and .../stages/*.md);
 * test/logs-config-keys.test.ts holds the list of allowed key paths with their sources.
 */
import { kubernetesContractRules, RelabelRule } from './relabel';
import { POD_LOGS_DIR } from '../image-facts';
import { PROMTAIL_HTTP_PORT, PROMTAIL_POSITIONS_DIR } from '../components/promtail';
import { LOKI_PASSWORD_FILE, LokiClientAuth, NO_LOKI_AUTH } from '../components/loki';
import type { LogAgentPushSettings } from '../config';

/** Name of the scrape job that tails pod logs. */
export const PROMTAIL_PODS_JOB = 'kubernetes-pods';

/**
 * Promtail's relabelling: the very rules Prometheus uses for the contract's labels (so a pod's log streams
 * and its series carry the same names and values), then the two Promtail-only targets:
 * - `__host__`: Promtail drops targets whose `__host__` is not its own $HOSTNAME (set to the node's name);
 * - `__path__`: the glob of this container's log files, /var/log/pods/<ns>_<pod>_<uid>/<container>/N.log.
 *
 * No pod is dropped by phase: Promtail reads files, and a finished pod's files (a Job's output, a crashed
 * pod's last words) stay on the node until the pod is deleted, which is when they matter most. Pending
 * pods have no files yet and cost a glob.
 */
export function promtailRelabelRules(): RelabelRule[] {
  return [
    ...kubernetesContractRules(),
    { source_labels: ['__meta_kubernetes_pod_node_name'], target_label: '__host__' },
    {
      source_labels: ['__meta_kubernetes_pod_uid', '__meta_kubernetes_pod_container_name'],
      separator: '/',
      replacement: `${POD_LOGS_DIR}/*$1/*.log`,
      target_label: '__path__',
    },
  ];
}

/**
 * The pipeline every log line goes through:
 * - `cri`: kind and every current cluster run containerd/CRI-O, which write `<time> <stream> <F|P> <line>`;
 *   the stage sets the entry's timestamp, joins partial lines, and labels the stream (stdout/stderr);
 * - `structured_metadata`: keep stdout/stderr, but as structured metadata (`| stream="stderr"`), not as
 *   an index label;
 * - `labeldrop`: the `filename` label Promtail adds to every file target (one value per container restart),
 *   and `stream` again (Promtail 3.6's structured_metadata stage already moves it out of the labels; the
 *   drop keeps it out should that change), so a log stream's labels are exactly the contract's.
 */
export function promtailPipelineStages(): Array<Record<string, unknown>> {
  return [
    { cri: {} },
    { structured_metadata: { stream: null } },
    { labeldrop: ['filename', 'stream'] },
  ];
}

/**
 * `x * factor` as exact decimal arithmetic gives it (the chart's sprig `mulf` does), not as binary floating point
 * does (0.5005 * 1000 is 500.49999… there): the product, cut to 6 decimals.
 */
function product(x: number, factor: number): number {
  return Number((x * factor).toFixed(6));
}

/** A Go duration for a number of seconds, to the millisecond: whole seconds as `Ns`, else milliseconds (`500ms`). */
export function goDuration(seconds: number): string {
  const ms = Math.round(product(seconds, 1000));
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** Bytes of a size in MB (2^20 bytes), rounded down, as Loki cuts its burst (int(burst * bytesInMB)): never above it. */
export function bytesOfMb(mb: number): number {
  return Math.floor(product(mb, 1048576));
}

/** KiB of a size in MB, rounded down (Alloy's batch_size). */
export function kibOfMb(mb: number): number {
  return Math.floor(product(mb, 1024));
}

/** Promtail's client: Loki's push URL, its tenant and basic auth, its batches and its retries (logAgent.push). */
export function promtailClient(lokiPushUrl: string, push: LogAgentPushSettings, auth: LokiClientAuth = NO_LOKI_AUTH): Record<string, unknown> {
  return {
    url: lokiPushUrl,
    // Sent as X-Scope-OrgID (a Loki with auth_enabled); none for a single-tenant one.
    ...(auth.tenant ? { tenant_id: auth.tenant } : {}),
    // A Loki of the user's behind basic auth: the password from the mounted file, read at each request.
    ...(auth.username ? { basic_auth: { username: auth.username, password_file: LOKI_PASSWORD_FILE } } : {}),
    batchwait: goDuration(push.batchWaitSeconds),
    batchsize: bytesOfMb(push.batchSizeMb),
    backoff_config: { min_period: goDuration(push.minBackoffSeconds), max_period: goDuration(push.maxBackoffSeconds), max_retries: push.attempts },
  };
}

/**
 * promtail.yaml for Kubernetes. `lokiPushUrl` is the full push URL, e.g.
 * http://loki.monitoring.svc.cluster.local:3100/loki/api/v1/push.
 *
 * Readiness: Promtail's /ready stays honest (`server.health_check_target` keeps its default, true): it
 * answers 200 once at least one file is being tailed. On Kubernetes there is no node without a log file
 * to tail: Promtail's own container writes one on every node it runs on, and these rules never drop it.
 * So a /ready that stays 500 means Promtail cannot discover pods (RBAC, API server) or cannot read
 * /var/log/pods (mounts, permissions), which is exactly what the probe should show.
 */
export function renderPromtailKubernetesConfig(lokiPushUrl: string, push: LogAgentPushSettings, auth: LokiClientAuth = NO_LOKI_AUTH): Record<string, unknown> {
  return {
    server: {
      http_listen_port: PROMTAIL_HTTP_PORT,
      // 0 = a random port: nothing talks gRPC to Promtail, and it then collides with nothing.
      grpc_listen_port: 0,
    },
    positions: {
      filename: `${PROMTAIL_POSITIONS_DIR}/positions.yaml`,
      // A positions file truncated by a node crash would otherwise CrashLoop Promtail (grafana/loki#1457).
      // Ignoring it re-sends the node's files from their start: duplicates beat a node whose logs stop.
      ignore_invalid_yaml: true,
    },
    clients: [promtailClient(lokiPushUrl, push, auth)],
    scrape_configs: [
      {
        job_name: PROMTAIL_PODS_JOB,
        pipeline_stages: promtailPipelineStages(),
        // Promtail adds the field selector spec.nodeName=$HOSTNAME itself, so each agent watches its node's pods only.
        kubernetes_sd_configs: [{ role: 'pod' }],
        relabel_configs: promtailRelabelRules(),
      },
    ],
  };
}

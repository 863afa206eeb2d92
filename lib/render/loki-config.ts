/**
 * loki.yaml for Loki 3.x in monolithic mode (`-target=all`, the default): one process, filesystem storage (and optionally an S3 bucket),
 * a single tenant. Pure: no cdk8s here, so the compose rendering and the tests use the very same output.
 *
 * Every key below exists in Loki's configuration reference (grafana/loki@v3.7.6:
 * docs/sources/shared/configuration.md); Loki parses its config strictly, so an unknown key stops it.
 * test/logs-config-keys.test.ts holds the list of allowed key paths with their sources.
 */
import { bytesOfQuantity, LokiSettings } from '../config';
import { LOKI_DATA_DIR, LOKI_FILESYSTEM_PERIOD_START, LOKI_GRPC_PORT, LOKI_HTTP_PORT, LOKI_MEMBERLIST_PORT, LOKI_POD_IP_VARIABLE, LOKI_RULES_DIR, lokiReplicationFactor } from '../components/loki';

/** Where Loki's pods find each other, with loki.replicas above 1 (Kubernetes): the headless Service's name. */
export interface LokiPeers {
  /** The headless Service's fully qualified name, resolved to every pod's address. */
  readonly service: string;
  /** memberlist's cluster label: gossip from another memberlist cluster that reaches a pod is dropped. */
  readonly clusterLabel: string;
}

/**
 * common's ring and the memberlist block: one process keeps its rings in memory and advertises itself on
 * loopback; several pods gossip their rings over memberlist (Loki's config wrapper points every ring at it) and
 * advertise their pod's address (common.instance_addr, which also sets memberlist's advertised address and the
 * query frontend's), keep their ring tokens on their claim across restarts (persist_tokens: the compactor's
 * leadership stays with one pod), and forget an ingester that stopped heartbeating (autoforget_unhealthy: one lost
 * with its node would otherwise keep every restarting pod unready, as dskit's readiness wants every ring member
 * healthy); the pattern ingester's ring has no such setting, so its readiness checks the pod itself only.
 */
export function lokiRing(replicas: number, peers?: LokiPeers): { common: Record<string, unknown>; memberlist?: Record<string, unknown>; ingester?: Record<string, unknown>; pattern_ingester?: Record<string, unknown> } {
  if (replicas === 1 || !peers) {
    return { common: { replication_factor: 1, ring: { kvstore: { store: 'inmemory' } }, instance_addr: '127.0.0.1' } };
  }
  return {
    common: {
      replication_factor: lokiReplicationFactor(replicas),
      ring: { kvstore: { store: 'memberlist' } },
      // Expanded by Loki at start (-config.expand-env) from the downward API.
      instance_addr: `\${${LOKI_POD_IP_VARIABLE}}`,
      persist_tokens: true,
    },
    // `dns+`: dskit's DNS service discovery, every A record of the headless Service (not-ready pods included).
    memberlist: { join_members: [`dns+${peers.service}:${LOKI_MEMBERLIST_PORT}`], bind_port: LOKI_MEMBERLIST_PORT, cluster_label: peers.clusterLabel },
    ingester: { autoforget_unhealthy: true },
    pattern_ingester: { lifecycler: { readiness_check_ring_health: false } },
  };
}

/**
 * The ingestion limits (limits_config), from loki.ingestionLimits: the tenant's rate and burst in MB (Loki's MB is
 * 2^20 bytes, bytesInMB in pkg/validation/limits.go), each stream's rate and burst and the longest line as Loki's
 * byte sizes (whole numbers, base 2).
 */
export function lokiIngestionLimits(l: LokiSettings['ingestionLimits']): Record<string, number | string> {
  return {
    ingestion_rate_mb: l.rateMb,
    ingestion_burst_size_mb: l.burstSizeMb,
    per_stream_rate_limit: `${l.perStreamRateMb}MB`,
    per_stream_rate_limit_burst: `${l.perStreamBurstMb}MB`,
    max_line_size: `${l.maxLineSizeKb}KB`,
  };
}

type LokiS3 = LokiSettings['storage']['s3'];

/**
 * storage_config.aws, Loki's S3 client, for loki.storage.s3. No keys in the file: the client takes them from
 * the environment (LOKI_S3_KEY_VARIABLES). `endpoint` without a scheme: the client prefixes http:// when
 * `insecure`, else https:// (s3_storage_client.go, s3ClientConfigFunc); an empty region becomes a placeholder
 * there, which servers that ignore regions accept.
 */
export function lokiS3StorageConfig(s3: LokiS3): Record<string, unknown> {
  return {
    endpoint: s3.endpoint,
    bucketnames: s3.bucket,
    ...(s3.region !== '' ? { region: s3.region } : {}),
    s3forcepathstyle: s3.pathStyle,
    insecure: s3.insecure,
  };
}

/** One schema_config period: TSDB index v13 (structured metadata needs both) on the given object store. */
function schemaPeriod(from: string, objectStore: 'filesystem' | 's3'): Record<string, unknown> {
  // tsdb requires a 24h index period, and retention works only with it.
  return { from, store: 'tsdb', object_store: objectStore, schema: 'v13', index: { prefix: 'index_', period: '24h' } };
}

/**
 * schema_config's periods: the filesystem one, then with loki.storage.s3 the bucket's, from the day the user
 * chose. Loki reads each day from its period's store, so the volume's days stay readable until retention deletes
 * them, and days already written under the filesystem period must not fall into the bucket's (Loki's storage
 * docs: a new period starts in the future). Several pods (`several`) have no shared volume: the bucket holds
 * every day, one period from the first (the days from `since` on are where the bucket's period put them; the
 * single pod's days before it stay on its claim, which these pods do not read).
 */
export function lokiSchemaPeriods(s3: LokiS3, several = false): Array<Record<string, unknown>> {
  if (several) return [schemaPeriod(LOKI_FILESYSTEM_PERIOD_START, 's3')];
  return [schemaPeriod(LOKI_FILESYSTEM_PERIOD_START, 'filesystem'), ...(s3.enabled ? [schemaPeriod(s3.since, 's3')] : [])];
}

/**
 * Loki 3.x monolithic: TSDB index with schema v13 (structured metadata needs both), chunks and index on the
 * filesystem under /loki (and in a bucket from loki.storage.s3.since, with S3), and compactor retention that really deletes: `retention_enabled` plus
 * `delete_request_store` (without the latter Loki 3 refuses to start; without the former
 * `retention_period` silently does nothing, grafana/loki#9207). With loki.replicas above 1 and `peers`
 * (Kubernetes), the pods form one ring over memberlist; without `peers` (compose) it is one process.
 */
export function renderLokiConfig(loki: LokiSettings, peers?: LokiPeers): Record<string, unknown> {
  const d = LOKI_DATA_DIR;
  const s3 = loki.storage.s3;
  const ring = lokiRing(loki.replicas, peers);
  const several = ring.memberlist !== undefined;
  return {
    // One tenant ("fake"): agents push without an X-Scope-OrgID header.
    auth_enabled: false,
    server: {
      http_listen_port: LOKI_HTTP_PORT,
      grpc_listen_port: LOKI_GRPC_PORT,
    },
    common: {
      // Fills in every path left unset (wal, tsdb-shipper-active/-cache, rules-temp, ...) under the volume.
      path_prefix: d,
      storage: {
        filesystem: {
          chunks_directory: `${d}/chunks`,
          rules_directory: LOKI_RULES_DIR,
        },
      },
      ...ring.common,
    },
    ...(ring.memberlist ? { memberlist: ring.memberlist } : {}),
    // With a bucket, its client; the filesystem one comes from common.storage (chunks_directory).
    ...(s3.enabled ? { storage_config: { aws: lokiS3StorageConfig(s3) } } : {}),
    schema_config: { configs: lokiSchemaPeriods(s3, several) },
    limits_config: {
      retention_period: `${loki.retentionDays * 24}h`,
      // Both default to true in 3.1+, but volume_enabled was false in 3.0: say what we rely on.
      allow_structured_metadata: true,
      volume_enabled: true,
      ...lokiIngestionLimits(loki.ingestionLimits),
    },
    // The ingester replays its WAL at start; past this much memory it flushes chunks to storage instead of
    // holding them. The default (4GB) is above the container's limit, so a large WAL would be OOM-killed
    // on every restart; Loki's WAL docs suggest about 75% of the memory available.
    ingester: { ...ring.ingester, wal: { replay_memory_ceiling: lokiReplayMemoryCeiling(loki.resources.limits.memory) } },
    compactor: {
      working_directory: `${d}/compactor`,
      retention_enabled: true,
      // Where deletion requests (the delete API's) are kept: the bucket when there is one (our choice, Loki
      // takes any period's store). Retention itself reaches every period: one client per period's store.
      delete_request_store: s3.enabled ? 's3' : 'filesystem',
    },
    // The ruler's WAL defaults to the cwd-relative "ruler-wal", which a read-only root filesystem refuses.
    ruler: { wal: { dir: `${d}/ruler-wal` } },
    // Log patterns for Grafana's Explore (off by default).
    pattern_ingester: { enabled: true, ...ring.pattern_ingester },
    analytics: { reporting_enabled: false },
  };
}

/**
 * `ingester.wal.replay_memory_ceiling` for a memory limit: 75% of it, in whole MB (Loki's flagext.ByteSize
 * reads units with c2h5oh/datasize, where MB is 1024 * 1024 bytes): "1Gi" → "768MB". At least 1MB: 0 would
 * turn the ceiling off (pkg/ingester/replay_controller.go).
 */
export function lokiReplayMemoryCeiling(memoryLimit: string): string {
  return `${Math.max(1, Math.floor((bytesOfQuantity(memoryLimit) * 3) / 4 / 1024 ** 2))}MB`;
}

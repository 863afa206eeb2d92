/**
 * loki.yaml for Loki 3.x in monolithic mode (`-target=all`, the default): one process, filesystem storage,
 * a single tenant. Pure: no cdk8s here, so the compose rendering and the tests use the very same output.
 *
 * Every key below exists in Loki's configuration reference (grafana/loki@v3.7.6:
 * docs/sources/shared/configuration.md); Loki parses its config strictly, so an unknown key stops it.
 * test/logs-config-keys.test.ts holds the list of allowed key paths with their sources.
 */
import { bytesOfQuantity, LokiSettings } from '../config';
import { LOKI_DATA_DIR, LOKI_GRPC_PORT, LOKI_HTTP_PORT, LOKI_RULES_DIR } from '../components/loki';

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

/**
 * Loki 3.x monolithic: TSDB index with schema v13 (structured metadata needs both), chunks and index on the
 * filesystem under /loki, and compactor retention that really deletes: `retention_enabled` plus
 * `delete_request_store` (without the latter Loki 3 refuses to start; without the former
 * `retention_period` silently does nothing, grafana/loki#9207).
 */
export function renderLokiConfig(loki: LokiSettings): Record<string, unknown> {
  const d = LOKI_DATA_DIR;
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
      replication_factor: 1,
      // One process: the rings live in memory, and it advertises itself on loopback.
      ring: { kvstore: { store: 'inmemory' } },
      instance_addr: '127.0.0.1',
    },
    schema_config: {
      configs: [{
        from: '2024-04-01',
        store: 'tsdb',
        object_store: 'filesystem',
        schema: 'v13',
        // tsdb requires a 24h index period, and retention works only with it.
        index: { prefix: 'index_', period: '24h' },
      }],
    },
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
    ingester: { wal: { replay_memory_ceiling: lokiReplayMemoryCeiling(loki.resources.limits.memory) } },
    compactor: {
      working_directory: `${d}/compactor`,
      retention_enabled: true,
      delete_request_store: 'filesystem',
    },
    // The ruler's WAL defaults to the cwd-relative "ruler-wal", which a read-only root filesystem refuses.
    ruler: { wal: { dir: `${d}/ruler-wal` } },
    // Log patterns for Grafana's Explore (off by default).
    pattern_ingester: { enabled: true },
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

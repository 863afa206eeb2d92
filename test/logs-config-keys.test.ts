/**
 * Loki and Promtail parse their YAML strictly: an unknown key stops them. There is no Loki or Promtail
 * binary here, so every key path the renderers may emit is listed below with the upstream reference that
 * documents it, and the rendered configs (defaults and a customised stack) are walked key by key: any path
 * not in the list fails the test. Add a key only after finding it in the cited reference.
 *
 * How the list was checked: against the stored copies of the references (Loki's configuration.md at
 * grafana/loki@002ee222, main after 3.7; Promtail's configuration.md and stages/*.md at grafana/loki
 * commits before Promtail's removal in 3.7.0). Every key listed predates Loki 3.0 and is still present,
 * so it exists in the pinned Loki 3.7.6 and Promtail 3.6.11.
 *
 * Paths: `a.b` for nested keys, `a[].b` for a key inside list items, `a.*` for a map with user-chosen keys.
 */
import { parse } from 'yaml';
import { parseStackConfig, renderLokiConfig, renderPromtailKubernetesConfig, StackInput } from '../lib';
import { find, LOKI_RING_INPUT, synthObjects } from './helpers/stack';
import { lokiPeers } from '../lib/k8s/loki';

const LOKI_REF = 'grafana/loki@v3.7.6:docs/sources/shared/configuration.md';
const PROMTAIL_REF = 'grafana/loki@v3.6.11:docs/sources/send-data/promtail/configuration.md';
const PROMTAIL_STAGES = 'grafana/loki@v3.6.11:docs/sources/send-data/promtail/stages';

/** Every key path Loki's config may hold → where Loki documents it. */
const LOKI_KEYS: Record<string, string> = {
  auth_enabled: `${LOKI_REF} (top level, -auth.enabled)`,
  'server.http_listen_port': `${LOKI_REF} #server (-server.http-listen-port)`,
  'server.grpc_listen_port': `${LOKI_REF} #server (-server.grpc-listen-port)`,
  'common.path_prefix': `${LOKI_REF} #common (-common.path-prefix)`,
  'common.storage.filesystem.chunks_directory': `${LOKI_REF} #common (-common.storage.filesystem.chunk-directory)`,
  'common.storage.filesystem.rules_directory': `${LOKI_REF} #common (-common.storage.filesystem.rules-directory)`,
  'common.replication_factor': `${LOKI_REF} #common ([replication_factor: <int>])`,
  'common.ring.kvstore.store': `${LOKI_REF} #common (-common.storage.ring.store)`,
  'common.instance_addr': `${LOKI_REF} #common ([instance_addr: <string>])`,
  'common.persist_tokens': `${LOKI_REF} #common ([persist_tokens: <boolean>]; pkg/loki/config_wrapper.go applyTokensFilePath puts each ring's tokens under path_prefix)`,
  'ingester.autoforget_unhealthy': `${LOKI_REF} #ingester (-ingester.autoforget-unhealthy)`,
  'pattern_ingester.lifecycler.readiness_check_ring_health': `${LOKI_REF} (top level pattern_ingester, -pattern-ingester.readiness-check-ring-health)`,
  // loki.replicas above 1: the rings over memberlist (memberlist_config, top level `memberlist`).
  'memberlist.join_members': `${LOKI_REF} #memberlist (-memberlist.join; an IP, a host name or dns+ service discovery)`,
  'memberlist.bind_port': `${LOKI_REF} #memberlist (-memberlist.bind-port, default 7946)`,
  'memberlist.cluster_label': `${LOKI_REF} #memberlist (-memberlist.cluster-label)`,
  'schema_config.configs[].from': `${LOKI_REF} #period_config`,
  'schema_config.configs[].store': `${LOKI_REF} #period_config`,
  'schema_config.configs[].object_store': `${LOKI_REF} #period_config`,
  'schema_config.configs[].schema': `${LOKI_REF} #period_config`,
  'schema_config.configs[].index.prefix': `${LOKI_REF} #period_config`,
  'schema_config.configs[].index.period': `${LOKI_REF} #period_config`,
  'limits_config.retention_period': `${LOKI_REF} #limits_config (-store.retention)`,
  'limits_config.allow_structured_metadata': `${LOKI_REF} #limits_config (-validation.allow-structured-metadata)`,
  'limits_config.volume_enabled': `${LOKI_REF} #limits_config (-limits.volume-enabled)`,
  'limits_config.ingestion_rate_mb': `${LOKI_REF} #limits_config (-distributor.ingestion-rate-limit-mb, a float, default 4)`,
  'limits_config.ingestion_burst_size_mb': `${LOKI_REF} #limits_config (-distributor.ingestion-burst-size-mb, a float, default 6)`,
  'limits_config.per_stream_rate_limit': `${LOKI_REF} #limits_config (-ingester.per-stream-rate-limit, a byte size, default 3MB)`,
  'limits_config.per_stream_rate_limit_burst': `${LOKI_REF} #limits_config (-ingester.per-stream-rate-limit-burst, a byte size, default 15MB)`,
  'limits_config.max_line_size': `${LOKI_REF} #limits_config (-distributor.max-line-size, a byte size, default 256KB)`,
  'compactor.working_directory': `${LOKI_REF} #compactor (-compactor.working-directory)`,
  'compactor.retention_enabled': `${LOKI_REF} #compactor (-compactor.retention-enabled)`,
  'compactor.delete_request_store': `${LOKI_REF} #compactor (-compactor.delete-request-store)`,
  'ruler.wal.dir': `${LOKI_REF} #ruler (-ruler.wal.dir)`,
  // loki.storage.s3: storage_config.aws is aws_storage_config, which inlines S3Config (pkg/storage/chunk/client/aws/
  // dynamodb_storage_client.go `S3Config \`yaml:",inline"\``; keys and flags in s3_storage_client.go).
  'storage_config.aws.endpoint': `${LOKI_REF} #s3_storage_config (-s3.endpoint)`,
  'storage_config.aws.bucketnames': `${LOKI_REF} #s3_storage_config (-s3.buckets, comma separated)`,
  'storage_config.aws.region': `${LOKI_REF} #s3_storage_config (-s3.region)`,
  'storage_config.aws.s3forcepathstyle': `${LOKI_REF} #s3_storage_config (-s3.force-path-style)`,
  'storage_config.aws.insecure': `${LOKI_REF} #s3_storage_config (-s3.insecure: http instead of https)`,
  'ingester.wal.replay_memory_ceiling': `${LOKI_REF} #ingester (-ingester.wal-replay-memory-ceiling; a flagext.ByteSize, MB = 2^20 bytes)`,
  'pattern_ingester.enabled': `${LOKI_REF} (top level pattern_ingester, -pattern-ingester.enabled)`,
  'analytics.reporting_enabled': `${LOKI_REF} #analytics (-reporting.enabled)`,
};

/** Every key path Promtail's config may hold → where Promtail documents it. */
const PROMTAIL_KEYS: Record<string, string> = {
  'server.http_listen_port': `${PROMTAIL_REF} #server`,
  'server.grpc_listen_port': `${PROMTAIL_REF} #server (0 means random port)`,
  'positions.filename': `${PROMTAIL_REF} #positions`,
  'positions.ignore_invalid_yaml': `${PROMTAIL_REF} #positions`,
  'clients[].url': `${PROMTAIL_REF} #clients`,
  'clients[].tenant_id': `${PROMTAIL_REF} #clients ([tenant_id: <string>], sent as X-Scope-OrgID)`,
  'clients[].basic_auth.username': `${PROMTAIL_REF} #clients (basic_auth: [username: <string>])`,
  'clients[].basic_auth.password_file': `${PROMTAIL_REF} #clients (basic_auth: [password_file: <filename>], "The file containing the password for basic auth")`,
  'clients[].batchwait': `${PROMTAIL_REF} #clients (a duration, default 1s)`,
  'clients[].batchsize': `${PROMTAIL_REF} #clients (bytes, default 1048576)`,
  'clients[].backoff_config.min_period': `${PROMTAIL_REF} #clients (backoff_config, default 500ms)`,
  'clients[].backoff_config.max_period': `${PROMTAIL_REF} #clients (backoff_config, default 5m)`,
  'clients[].backoff_config.max_retries': `${PROMTAIL_REF} #clients (backoff_config, default 10)`,
  'scrape_configs[].job_name': `${PROMTAIL_REF} #scrape_configs`,
  'scrape_configs[].pipeline_stages[].cri': `${PROMTAIL_STAGES}/cri.md`,
  'scrape_configs[].pipeline_stages[].structured_metadata.*': `${PROMTAIL_STAGES}/structured_metadata.md`,
  'scrape_configs[].pipeline_stages[].labeldrop': `${PROMTAIL_STAGES}/labeldrop.md`,
  'scrape_configs[].kubernetes_sd_configs[].role': `${PROMTAIL_REF} #kubernetes_sd_config`,
  'scrape_configs[].relabel_configs[].source_labels': `${PROMTAIL_REF} #relabel_configs`,
  'scrape_configs[].relabel_configs[].separator': `${PROMTAIL_REF} #relabel_configs`,
  'scrape_configs[].relabel_configs[].target_label': `${PROMTAIL_REF} #relabel_configs`,
  'scrape_configs[].relabel_configs[].regex': `${PROMTAIL_REF} #relabel_configs`,
  'scrape_configs[].relabel_configs[].replacement': `${PROMTAIL_REF} #relabel_configs`,
  'scrape_configs[].relabel_configs[].action': `${PROMTAIL_REF} #relabel_configs`,
};

/**
 * Every key path in `value`. A path ends at a scalar, at a list of scalars, or at an empty mapping (`cri: {}`).
 * Inside a mapping listed as `prefix.*`, the keys are data, not settings: the path stops there as `prefix.*`.
 */
function keyPaths(value: unknown, allowed: Record<string, string>, prefix = ''): string[] {
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) return [prefix];
    return value.flatMap((item) => keyPaths(item, allowed, `${prefix}[]`));
  }
  if (value !== null && typeof value === 'object') {
    if (`${prefix}.*` in allowed) return [`${prefix}.*`];
    const entries = Object.entries(value);
    if (entries.length === 0) return [prefix];
    return entries.flatMap(([k, v]) => keyPaths(v, allowed, prefix ? `${prefix}.${k}` : k));
  }
  return [prefix];
}

function unknownPaths(config: unknown, allowed: Record<string, string>): string[] {
  return [...new Set(keyPaths(config, allowed))].filter((p) => !(p in allowed)).sort();
}

const CUSTOMISED: StackInput = {
  namespace: 'observability',
  clusterDomain: 'cluster.example',
  loki: { retentionDays: 30 },
  logAgent: { namespace: 'logging-agent' },
};

/** Loki with an S3 bucket, every setting of it given. */
const S3_INPUT: StackInput = {
  loki: { storage: { s3: { enabled: true, since: '2027-01-01', endpoint: 'rustfs.storage.svc:9000', bucket: 'loki-chunks', region: 'eu-west-1', pathStyle: true, insecure: true, credentialsSecret: { name: 'loki-s3' } } } },
};

describe.each([['defaults', {}], ['customised', CUSTOMISED], ['S3', S3_INPUT], ['S3, three pods', LOKI_RING_INPUT]] as const)('%s stack', (_name, input) => {
  const c = parseStackConfig(input);
  const objects = synthObjects(input);
  const lokiYaml = parse(find(objects, 'ConfigMap', 'loki-config', c.namespace).data['loki.yaml']);
  const promtailYaml = parse(find(objects, 'ConfigMap', 'promtail-config', c.logAgent.namespace).data['promtail.yaml']);

  test('the synthesized loki.yaml and promtail.yaml are the renderers\' output', () => {
    expect(lokiYaml).toEqual(renderLokiConfig(c.loki, c.loki.replicas > 1 ? lokiPeers(c) : undefined));
    expect(promtailYaml).toEqual(renderPromtailKubernetesConfig(`http://loki.${c.namespace}.svc.${c.clusterDomain}:3100/loki/api/v1/push`, c.logAgent.push));
  });

  test('loki.yaml holds only keys documented for Loki 3.7.6', () => {
    expect(unknownPaths(lokiYaml, LOKI_KEYS)).toEqual([]);
  });

  test('promtail.yaml holds only keys documented for Promtail 3.6.11', () => {
    expect(unknownPaths(promtailYaml, PROMTAIL_KEYS)).toEqual([]);
  });
});

describe('the key walk itself', () => {
  test('catches a leftover Loki 2.x key and a typo', () => {
    const config: any = renderLokiConfig(parseStackConfig({}).loki);
    config.compactor.shared_store = 'filesystem'; // removed in 3.0
    config.limits_config.retention_perod = '1h';
    expect(unknownPaths(config, LOKI_KEYS)).toEqual(['compactor.shared_store', 'limits_config.retention_perod']);
  });

  test('catches a key inside list items and inside a stage, but not data keys of a map', () => {
    const config: any = renderPromtailKubernetesConfig('http://loki:3100/loki/api/v1/push', parseStackConfig({}).logAgent.push);
    config.scrape_configs[0].relabel_configs[0].targetLabel = 'x';
    config.scrape_configs[0].pipeline_stages[0].cri = { max_partial_lines: 100 };
    config.scrape_configs[0].pipeline_stages[1].structured_metadata.trace_id = null;
    expect(unknownPaths(config, PROMTAIL_KEYS)).toEqual([
      'scrape_configs[].pipeline_stages[].cri.max_partial_lines',
      'scrape_configs[].relabel_configs[].targetLabel',
    ]);
  });

  test('every listed key is used, so the list documents what the renderers emit', () => {
    const used = (config: unknown, allowed: Record<string, string>) => new Set(keyPaths(config, allowed));
    const c = parseStackConfig({});
    const ring = parseStackConfig(LOKI_RING_INPUT);
    const loki = new Set([...used(renderLokiConfig(c.loki), LOKI_KEYS), ...used(renderLokiConfig(parseStackConfig(S3_INPUT).loki), LOKI_KEYS), ...used(renderLokiConfig(ring.loki, lokiPeers(ring)), LOKI_KEYS)]);
    const promtail = used(renderPromtailKubernetesConfig('http://loki:3100/loki/api/v1/push', parseStackConfig({}).logAgent.push, { tenant: 'team-a', username: '123456' }), PROMTAIL_KEYS);
    // `action` is allowed (relabel rules may use it) but the contract's rules rely on the default, replace.
    expect(Object.keys(LOKI_KEYS).filter((k) => !loki.has(k))).toEqual([]);
    expect(Object.keys(PROMTAIL_KEYS).filter((k) => !promtail.has(k))).toEqual(['scrape_configs[].relabel_configs[].action']);
  });
});

describe('loki.yaml', () => {
  const config: any = renderLokiConfig(parseStackConfig({}).loki);

  test('runs one tenant, monolithic, with nothing phoning home', () => {
    expect(config.auth_enabled).toBe(false);
    expect(config.analytics).toEqual({ reporting_enabled: false });
    expect(config.common).toMatchObject({ replication_factor: 1, instance_addr: '127.0.0.1', ring: { kvstore: { store: 'inmemory' } } });
    expect(config.server).toEqual({ http_listen_port: 3100, grpc_listen_port: 9095 });
  });

  test('uses TSDB with schema v13 and a 24h index period on the filesystem', () => {
    expect(config.schema_config.configs).toEqual([
      { from: '2024-04-01', store: 'tsdb', object_store: 'filesystem', schema: 'v13', index: { prefix: 'index_', period: '24h' } },
    ]);
  });

  test('keeps everything it writes under /loki (the volume): the root filesystem is read-only', () => {
    expect(config.common.path_prefix).toBe('/loki');
    expect(config.common.storage.filesystem).toEqual({ chunks_directory: '/loki/chunks', rules_directory: '/loki/rules' });
    expect(config.compactor.working_directory).toBe('/loki/compactor');
    expect(config.ruler.wal.dir).toBe('/loki/ruler-wal');
  });

  test('with loki.storage.s3: the bucket\'s client without keys, its period after the filesystem one, delete requests in it', () => {
    const s3: any = renderLokiConfig(parseStackConfig(S3_INPUT).loki);
    expect(s3.storage_config).toEqual({ aws: { endpoint: 'rustfs.storage.svc:9000', bucketnames: 'loki-chunks', region: 'eu-west-1', s3forcepathstyle: true, insecure: true } });
    expect(s3.schema_config.configs).toEqual([
      { from: '2024-04-01', store: 'tsdb', object_store: 'filesystem', schema: 'v13', index: { prefix: 'index_', period: '24h' } },
      { from: '2027-01-01', store: 'tsdb', object_store: 's3', schema: 'v13', index: { prefix: 'index_', period: '24h' } },
    ]);
    expect(s3.compactor.delete_request_store).toBe('s3');
    // The volume still holds the filesystem period, the WAL, the index cache and the compactor's work.
    expect(s3.common).toEqual(config.common);
    // AWS's defaults: virtual-hosted addressing, https, no region line.
    expect(renderLokiConfig(parseStackConfig({ loki: { storage: { s3: { ...S3_INPUT.loki!.storage!.s3!, region: '', pathStyle: false, insecure: false } } } }).loki).storage_config)
      .toEqual({ aws: { endpoint: 'rustfs.storage.svc:9000', bucketnames: 'loki-chunks', s3forcepathstyle: false, insecure: false } });
    expect(JSON.stringify(s3)).not.toMatch(/access_key|secret/);
  });

  test('retention really deletes: the compactor applies it, with a delete request store', () => {
    expect(config.compactor).toMatchObject({ retention_enabled: true, delete_request_store: 'filesystem' });
    expect(config.limits_config.retention_period).toBe('168h');
    expect(renderLokiConfig(parseStackConfig({ loki: { retentionDays: 30 } }).loki).limits_config).toMatchObject({ retention_period: '720h' });
  });

  test('bounds the WAL replay at 75% of the memory limit, so a large WAL cannot OOM-loop Loki (Loki\'s WAL docs)', () => {
    expect(config.ingester).toEqual({ wal: { replay_memory_ceiling: '768MB' } });
    expect((renderLokiConfig(parseStackConfig({ loki: { resources: { limits: { memory: '3Gi' } } } }).loki) as any).ingester.wal.replay_memory_ceiling).toBe('2304MB');
    expect((renderLokiConfig(parseStackConfig({ loki: { resources: { requests: { memory: '100Mi' }, limits: { memory: '500Mi' } } } }).loki) as any).ingester.wal.replay_memory_ceiling).toBe('375MB');
    // At least 1MB: 0 would turn the ceiling off.
    expect((renderLokiConfig(parseStackConfig({ loki: { resources: { requests: { memory: '1Mi' }, limits: { memory: '1Mi' } } } }).loki) as any).ingester.wal.replay_memory_ceiling).toBe('1MB');
  });

  test('turns on structured metadata, volumes and patterns explicitly', () => {
    expect(config.limits_config).toMatchObject({ allow_structured_metadata: true, volume_enabled: true });
    expect(config.pattern_ingester).toEqual({ enabled: true });
  });
});

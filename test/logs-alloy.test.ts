/**
 * Grafana Alloy as the log agent (`logAgent.kind: alloy`), on Kubernetes and on compose. No Alloy binary runs
 * here (no `alloy validate`), so: the rendered files are read back by an independent reader of Alloy's syntax
 * (test/support/alloy-parse.ts); every component, block and attribute must be in the list below, which cites
 * the upstream reference it was checked against; every reference must name a component of the file; and the
 * pipeline must be Promtail's, stage for stage, with the very same relabel rules, whose label contract
 * test/logs-label-contract.test.ts proves with the real Prometheus.
 */
import { parse } from 'yaml';
import {
  ALLOY_HTTP_PORT,
  ALLOY_STORAGE_PATH,
  alloyKubernetesRelabelRules,
  COMPOSE_FILES,
  composeContractLabels,
  expression,
  lokiPushUrl,
  parseStackConfig,
  promtailComposePipelineStages,
  promtailPipelineStages,
  promtailRelabelRules,
  renderAlloy,
  renderAlloyKubernetesConfig,
  alloyPushAttributes,
  renderCompose,
  RelabelRule,
  StackInput,
} from '../lib';
import { find, synthObjects } from './helpers/stack';
import { parseAlloy, ParsedBlock, ParsedValue } from './support/alloy-parse';
import { validateManifest } from './support/k8s-schema';
import { podMetadataOf, podSpecOf, restrictedViolations } from './support/pss';

const ALLOY: StackInput = { logAgent: { kind: 'alloy' } };

/**
 * What the stack may write, per component or nested block: its attributes and blocks. Checked against
 * grafana/alloy docs/sources/reference/components/<component>.md (v1.18 line) and, for the stages,
 * docs/sources/reference/components/loki/loki.process.md; `logging` against
 * docs/sources/reference/config-blocks/logging.md; `file_match` was added to loki.source.file in v1.12.0
 * (CHANGELOG). The rule block: docs/sources/shared/reference/components/rule-block.md.
 */
const ALLOWED: Record<string, { attributes: string[]; blocks: string[] }> = {
  logging: { attributes: ['level', 'format'], blocks: [] },
  'discovery.kubernetes': { attributes: ['role'], blocks: ['selectors'] },
  'discovery.kubernetes/selectors': { attributes: ['role', 'label', 'field'], blocks: [] },
  'discovery.relabel': { attributes: ['targets'], blocks: ['rule'] },
  'discovery.relabel/rule': { attributes: ['source_labels', 'separator', 'regex', 'modulus', 'target_label', 'replacement', 'action'], blocks: [] },
  'loki.source.file': { attributes: ['targets', 'forward_to'], blocks: ['file_match'] },
  'loki.source.file/file_match': { attributes: ['enabled'], blocks: [] },
  'loki.process': { attributes: ['forward_to'], blocks: ['stage.cri', 'stage.docker', 'stage.replace', 'stage.json', 'stage.labels', 'stage.match', 'stage.structured_metadata', 'stage.label_drop'] },
  'loki.process/stage.cri': { attributes: [], blocks: [] },
  'loki.process/stage.docker': { attributes: [], blocks: [] },
  // docs/sources/reference/components/loki/loki.process.md#stagereplace: expression (required), replace, source;
  // an empty replace omits the captured value.
  'loki.process/stage.replace': { attributes: ['expression', 'replace', 'source'], blocks: [] },
  'loki.process/stage.json': { attributes: ['expressions'], blocks: [] },
  'loki.process/stage.labels': { attributes: ['values'], blocks: [] },
  'loki.process/stage.match': { attributes: ['selector', 'action', 'drop_counter_reason'], blocks: [] },
  'loki.process/stage.structured_metadata': { attributes: ['values'], blocks: [] },
  'loki.process/stage.label_drop': { attributes: ['values'], blocks: [] },
  'loki.write': { attributes: [], blocks: ['endpoint'] },
  // batch_wait, batch_size, the backoff attributes and tenant_id (sent as X-Scope-OrgID; none when empty):
  // docs/sources/reference/components/loki/loki.write.md (endpoint block).
  'loki.write/endpoint': { attributes: ['url', 'tenant_id', 'batch_wait', 'batch_size', 'min_backoff_period', 'max_backoff_period', 'max_backoff_retries'], blocks: ['basic_auth'] },
  // docs/sources/shared/reference/components/basic-auth-block.md: username, password, password_file ("read on every
  // outgoing request"; password and password_file are mutually exclusive).
  'loki.write/endpoint/basic_auth': { attributes: ['username', 'password_file'], blocks: [] },
};
/** The exports other components may reference (same sources). */
const EXPORTS: Record<string, string[]> = {
  'discovery.kubernetes': ['targets'],
  'discovery.relabel': ['output', 'rules'],
  'loki.process': ['receiver'],
  'loki.write': ['receiver'],
};

function checkAllowed(file: ParsedBlock): string[] {
  const problems: string[] = [];
  const walk = (block: ParsedBlock, path: string) => {
    const allowed = ALLOWED[path];
    if (!allowed) return void problems.push(`${path}: not in the list`);
    for (const [name] of block.attributes) if (!allowed.attributes.includes(name)) problems.push(`${path}: attribute ${name}`);
    for (const child of block.blocks) {
      if (!allowed.blocks.includes(child.name)) problems.push(`${path}: block ${child.name}`);
      else walk(child, `${path}/${child.name}`);
    }
  };
  for (const component of file.blocks) walk(component, component.name);
  return problems;
}

/** Every `a.b.label.export` reference in the file must name a component defined in it, and one of its exports. */
function danglingReferences(file: ParsedBlock): string[] {
  const defined = new Set(file.blocks.filter((b) => b.label !== undefined).map((b) => `${b.name}.${b.label}`));
  const problems: string[] = [];
  const visit = (v: ParsedValue): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v !== null && typeof v === 'object') {
      if ('expression' in v && typeof v.expression === 'string') {
        for (const ref of v.expression.match(/\b(discovery|loki)\.[a-z_.]+/g) ?? []) {
          const parts = ref.split('.');
          const component = parts.slice(0, -2).join('.');
          const [label, exported] = parts.slice(-2);
          if (!defined.has(`${component}.${label}`)) problems.push(`${ref}: no component ${component} "${label}"`);
          else if (!(EXPORTS[component] ?? []).includes(exported)) problems.push(`${ref}: ${component} exports no ${exported}`);
        }
      } else Object.values(v).forEach(visit);
    }
  };
  const walk = (b: ParsedBlock) => {
    b.attributes.forEach(([, v]) => visit(v));
    b.blocks.forEach(walk);
  };
  walk(file);
  return problems;
}

const component = (file: ParsedBlock, name: string, label?: string): ParsedBlock => {
  const found = file.blocks.find((b) => b.name === name && b.label === label);
  if (!found) throw new Error(`no ${name} "${label}" in the file`);
  return found;
};
const attributes = (b: ParsedBlock): Record<string, ParsedValue> => Object.fromEntries(b.attributes);

/** A `rule` block read back as a relabel rule. */
function ruleOf(b: ParsedBlock): RelabelRule {
  return attributes(b) as unknown as RelabelRule;
}

describe('the Alloy syntax writer', () => {
  test('strings survive the round trip: quotes, backslashes, newlines, non-ASCII, and $1 untouched', () => {
    const tricky = ['say "hi"', 'C:\\dir\\', 'two\nlines\ttab', 'naïve ✓ 😀', '/var/log/pods/*$1/*.log', '{ns!="x"}'];
    const text = renderAlloy([{ name: 'x', label: 'y', attributes: tricky.map((s, i) => [`a${i}`, s] as const) }]);
    expect(Object.values(attributes(parseAlloy(text).blocks[0]))).toEqual(tricky);
  });

  test('lists, objects with non-identifier keys, numbers, booleans and expressions read back', () => {
    const text = renderAlloy([{
      name: 'c',
      label: 'l',
      attributes: [['list', ['a', 'b']], ['obj', { plain: '', 'with.dot': 'v', __path__: 'p' }], ['n', 3], ['on', true], ['ref', expression('other.thing.x.output')]],
      blocks: [{ name: 'inner' }, { name: 'stage.x', attributes: [['values', ['f']]] }],
    }]);
    const block = parseAlloy(text).blocks[0];
    expect(attributes(block)).toEqual({ list: ['a', 'b'], obj: { plain: '', 'with.dot': 'v', __path__: 'p' }, n: 3, on: true, ref: { expression: 'other.thing.x.output' } });
    expect(block.blocks.map((b) => [b.name, b.attributes.length])).toEqual([['inner', 0], ['stage.x', 1]]);
  });

  test('refuses what Alloy would refuse: a lone surrogate, an attribute name that is not an identifier', () => {
    expect(() => renderAlloy([{ name: 'c', attributes: [['a', 'x\uD800y']] }])).toThrow('not a well-formed Unicode string');
    expect(() => renderAlloy([{ name: 'c', attributes: [['bad-name', 'x']] }])).toThrow('not an Alloy attribute name: "bad-name"');
  });

  test('the reader fails on malformed input, naming the line (so the checks below can fail)', () => {
    expect(() => parseAlloy('a "b" {\n  x = "1" y = "2"\n}\n')).toThrow('line 2: expected a newline after attribute x');
    expect(() => parseAlloy('a {\n  o = { k = "1" j = "2" }\n}\n')).toThrow('expected "," between object fields');
    expect(() => parseAlloy('a {\n  s = "\\/"\n}\n')).toThrow('unknown escape sequence \\/');
  });
});

describe('Kubernetes: config.alloy', () => {
  const c = parseStackConfig(ALLOY);
  const text = renderAlloyKubernetesConfig(lokiPushUrl(c), alloyPushAttributes(c.logAgent.push));
  const file = parseAlloy(text);

  test('starts with the generated-file header and holds the pipeline\'s components in order', () => {
    expect(text.split('\n')[0]).toMatch(/^\/\/ Generated by `npm run synth`/);
    expect(file.attributes).toEqual([]);
    expect(file.blocks.map((b) => `${b.name}${b.label ? ` "${b.label}"` : ''}`)).toEqual([
      'logging', 'discovery.kubernetes "pods"', 'discovery.relabel "pods"', 'loki.source.file "pods"', 'loki.process "pods"', 'loki.write "default"',
    ]);
  });

  test('uses only components, blocks and attributes of the upstream reference', () => {
    expect(checkAllowed(file)).toEqual([]);
    // With a Loki of the user's: its tenant and basic auth too.
    const external = parseAlloy(renderAlloyKubernetesConfig(lokiPushUrl(c), alloyPushAttributes(c.logAgent.push), { tenant: 'team-a', username: '123456' }));
    expect(external.blocks.find((b) => b.name === 'loki.write')!.blocks[0].blocks.map((b) => b.name)).toEqual(['basic_auth']);
    expect(checkAllowed(external)).toEqual([]);
  });

  test('every reference names a component of the file and one of its exports', () => {
    expect(danglingReferences(file)).toEqual([]);
    // The check can fail.
    expect(danglingReferences(parseAlloy('loki.process "p" {\n  forward_to = [loki.write.nope.receiver]\n}\n'))).toEqual(['loki.write.nope.receiver: no component loki.write "nope"']);
  });

  test('watches only the pods of its own node ($HOSTNAME is set to the node name by the DaemonSet)', () => {
    const d = component(file, 'discovery.kubernetes', 'pods');
    expect(attributes(d)).toEqual({ role: 'pod' });
    expect(d.blocks.map((b) => attributes(b))).toEqual([{ role: 'pod', field: { expression: '"spec.nodeName=" + coalesce(sys.env("HOSTNAME"), constants.hostname)' } }]);
  });

  test('relabels with Promtail\'s rules (the label contract and the log file glob), less __host__ which only Promtail reads', () => {
    const rules = component(file, 'discovery.relabel', 'pods').blocks.map(ruleOf);
    expect(rules).toEqual(alloyKubernetesRelabelRules());
    expect(rules).toEqual(promtailRelabelRules().filter((r) => r.target_label !== '__host__'));
    expect(rules.map((r) => r.target_label)).toEqual(['namespace', 'pod', 'container', '__tmp_controller_name', 'app', 'node', '__path__']);
  });

  test('tails the files file_match finds, then Promtail\'s pipeline: cri, stream to structured metadata, only contract labels', () => {
    const source = component(file, 'loki.source.file', 'pods');
    expect(source.blocks.map((b) => [b.name, attributes(b)])).toEqual([['file_match', { enabled: true }]]);
    const stages = component(file, 'loki.process', 'pods').blocks.map((b) => [b.name, attributes(b)]);
    expect(stages).toEqual([
      ['stage.cri', {}],
      ['stage.structured_metadata', { values: { stream: '' } }],
      ['stage.label_drop', { values: ['filename', 'stream'] }],
    ]);
    // Promtail's pipeline, stage for stage.
    expect(promtailPipelineStages()).toEqual([{ cri: {} }, { structured_metadata: { stream: null } }, { labeldrop: ['filename', 'stream'] }]);
  });

  test('pushes to Loki\'s Service', () => {
    const write = component(file, 'loki.write', 'default');
    expect(write.blocks.map((b) => attributes(b))).toEqual([{
      url: `http://loki.${c.namespace}.svc.${c.clusterDomain}:3100/loki/api/v1/push`,
      // logAgent.push, as Promtail's client has it.
      batch_wait: '1s', batch_size: '1024KiB', min_backoff_period: '500ms', max_backoff_period: '300s', max_backoff_retries: 10,
    }]);
  });
});

describe('Kubernetes: the Alloy objects', () => {
  const c = parseStackConfig(ALLOY);
  const objects = synthObjects(ALLOY);
  const ns = c.logAgent.namespace;
  const agent = objects.filter((o) => ['alloy', 'promtail'].includes(o.metadata?.labels?.['app.kubernetes.io/name']));
  const daemonSet = find(objects, 'DaemonSet', 'alloy', ns);
  const pod = podSpecOf(daemonSet);
  const container = pod.containers[0];

  test('replace Promtail\'s, under stable names, in the agent\'s namespace', () => {
    expect(agent.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort()).toEqual([
      `ClusterRole//${ns}-alloy`,
      `ClusterRoleBinding//${ns}-alloy`,
      `ConfigMap/${ns}/alloy-config`,
      `DaemonSet/${ns}/alloy`,
      `NetworkPolicy/${ns}/alloy`,
      `ServiceAccount/${ns}/alloy`,
    ]);
  });

  test.each(['1.27', '1.36'] as const)('pass strict OpenAPI validation for Kubernetes %s', (version) => {
    expect(agent.flatMap((o) => validateManifest(o, version))).toEqual([]);
  });

  test('relax Pod Security for exactly hostPath and uid 0, nothing more', () => {
    const allowed = 'configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected, secret';
    expect(restrictedViolations(pod, podMetadataOf(daemonSet).annotations)).toEqual([
      `volume "pods" must not use volume type hostPath (allowed: ${allowed}) [restrictedVolumes]`,
      `volume "data" must not use volume type hostPath (allowed: ${allowed}) [restrictedVolumes]`,
      'pod must not set securityContext.runAsNonRoot=false [runAsNonRoot]',
      'pod or container "alloy" must set securityContext.runAsNonRoot=true [runAsNonRoot]',
      'pod must not set securityContext.runAsUser=0 [runAsUser]',
    ]);
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
  });

  test('may only get, list and watch pods', () => {
    expect(find(objects, 'ClusterRole', `${ns}-alloy`).rules).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]);
  });

  test('runs the mounted config, listening on all interfaces, data on the host, no usage reports; HOSTNAME is the node', () => {
    expect(container.image).toBe('grafana/alloy:v1.18.1');
    expect(container.args).toEqual(['run', '/etc/alloy/config.alloy', `--server.http.listen-addr=0.0.0.0:${ALLOY_HTTP_PORT}`, `--storage.path=${ALLOY_STORAGE_PATH}`, '--disable-reporting']);
    expect(container.env).toEqual([{ name: 'HOSTNAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }]);
    const mounts = Object.fromEntries(container.volumeMounts.map((m: any) => [m.mountPath, [m.name, m.readOnly ?? false]]));
    expect(mounts).toEqual({ '/etc/alloy': ['config', true], '/var/log/pods': ['pods', true], [ALLOY_STORAGE_PATH]: ['data', false], '/tmp': ['tmp', false] });
    expect(pod.volumes.find((v: any) => v.name === 'data').hostPath).toEqual({ path: '/var/lib/observability-stack/alloy', type: 'DirectoryOrCreate' });
    expect(find(objects, 'ConfigMap', 'alloy-config', ns).data).toEqual({ 'config.alloy': renderAlloyKubernetesConfig(lokiPushUrl(c), alloyPushAttributes(c.logAgent.push)) });
  });

  test('probes /-/ready on its HTTP port, is scraped there, and rolls when its config changes', () => {
    expect(container.ports).toEqual([{ name: 'http', containerPort: ALLOY_HTTP_PORT, protocol: 'TCP' }]);
    expect(container.readinessProbe.httpGet).toEqual({ path: '/-/ready', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/-/ready', port: 'http' });
    const annotations = podMetadataOf(daemonSet).annotations;
    expect(annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(ALLOY_HTTP_PORT) });
    expect(annotations['checksum/config']).toMatch(/^[0-9a-f]{64}$/);
    const other = find(synthObjects({ logAgent: { kind: 'alloy' }, loki: { storage: { size: '20Gi' } }, namespace: 'obs' }), 'DaemonSet', 'alloy', ns);
    expect(podMetadataOf(other).annotations['checksum/config']).not.toBe(annotations['checksum/config']);
  });
});

describe('compose: Alloy instead of Promtail', () => {
  const c = parseStackConfig(ALLOY);
  const files = renderCompose(c);
  const compose = parse(files.get(COMPOSE_FILES.compose)!);
  const file = parseAlloy(files.get(COMPOSE_FILES.alloyConfig)!);

  test('runs an alloy service and no promtail, with alloy/config.alloy and no promtail.yaml', () => {
    expect(Object.keys(compose.services)).toEqual(['prometheus', 'loki', 'alloy', 'node-exporter', 'cadvisor', 'alertmanager', 'grafana', 'demo-app', 'demo-app-traffic']);
    expect(files.has(COMPOSE_FILES.promtailConfig)).toBe(false);
    const alloy = compose.services.alloy;
    expect(alloy.volumes).toEqual(['./alloy/config.alloy:/etc/alloy/config.alloy:ro', '${DOCKER_CONTAINERS_DIR:-/var/lib/docker/containers}:/var/lib/docker/containers:ro', `alloy-storage:${ALLOY_STORAGE_PATH}`]);
    expect(alloy).toMatchObject({ user: '0:0', read_only: true, cap_drop: ['ALL'], security_opt: ['no-new-privileges:true'] });
    expect(JSON.stringify(alloy)).not.toContain('docker.sock');
  });

  test('uses only components, blocks and attributes of the upstream reference; no dangling reference', () => {
    expect(checkAllowed(file)).toEqual([]);
    expect(danglingReferences(file)).toEqual([]);
  });

  test('runs Promtail\'s compose pipeline, stage for stage, with the same values', () => {
    const stages = component(file, 'loki.process', 'docker').blocks.map((b) => [b.name, attributes(b)]);
    const promtail = promtailComposePipelineStages(c);
    const nullsToEmpty = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v ?? '']));
    expect(stages).toEqual([
      ['stage.json', { expressions: (promtail[0] as any).json.expressions }],
      ['stage.docker', {}],
      ['stage.replace', { expression: (promtail[2] as any).replace.expression, replace: '' }],
      ['stage.labels', { values: nullsToEmpty((promtail[3] as any).labels) }],
      ['stage.match', { selector: (promtail[4] as any).match.selector, action: 'drop', drop_counter_reason: (promtail[4] as any).match.drop_counter_reason }],
      ['stage.structured_metadata', { values: { stream: '' } }],
      ['stage.label_drop', { values: ['filename', 'stream'] }],
    ]);
    expect(promtail.map((s) => Object.keys(s)[0])).toEqual(['json', 'docker', 'replace', 'labels', 'match', 'structured_metadata', 'labeldrop']);
    // The newline Docker leaves at the end of each line, and only that: the same RE2 expression in both agents.
    expect((promtail[2] as any).replace).toEqual({ expression: '(\\r?\\n)$', replace: '' });
  });

  test('tails every container\'s json-file log with the contract\'s node label, and pushes to the loki service', () => {
    const source = attributes(component(file, 'loki.source.file', 'docker'));
    expect(source.targets).toEqual([{ __path__: '/var/lib/docker/containers/*/*-json.log', node: 'docker-host' }]);
    expect(component(file, 'loki.write', 'default').blocks.map((b) => attributes(b))).toEqual([{
      url: 'http://loki:3100/loki/api/v1/push', batch_wait: '1s', batch_size: '1024KiB', min_backoff_period: '500ms', max_backoff_period: '300s', max_backoff_retries: 10,
    }]);
  });

  test('Prometheus scrapes alloy on its port with the contract\'s labels', () => {
    const prometheus = parse(files.get(COMPOSE_FILES.prometheusConfig)!);
    const job = prometheus.scrape_configs.find((j: any) => j.job_name === 'alloy');
    expect(job.static_configs).toEqual([{ targets: [`alloy:${ALLOY_HTTP_PORT}`], labels: composeContractLabels(c, 'alloy') }]);
    expect(prometheus.scrape_configs.map((j: any) => j.job_name)).not.toContain('promtail');
  });
});

/**
 * What `helm template` renders, with the real helm binary, for every ci/ scenario (each rendered once and
 * shared): strict OpenAPI validity on Kubernetes 1.27 and 1.36 (custom resources against the Prometheus
 * Operator's CRDs), Pod Security restricted for everything but the log agent (which relaxes exactly hostPath
 * and uid 0), requests, limits and probes on every container, pinned images equal to lib/images.ts, the
 * labels, and the pitfalls users of kube-prometheus-stack and the Loki chart keep hitting.
 */
import { parse } from 'yaml';
import { bytesOfQuantity, IMAGES, imageString, millicores } from '../lib';
import { ChartValues } from '../lib/helm/values';
import { defaultValues, helm, helmTemplate, isTestHook, mergeValues, scenarios, templateArgs, templateScenario } from './helm-support';
import { isCustomResource, validateCustomResource } from './helpers/crd-schema';
import { validateManifest } from './support/k8s-schema';
import { NODE_EXPORTER_RELAXATIONS, podMetadataOf, podSpecOf, restrictedViolations } from './support/pss';

const WORKLOAD_KINDS = ['Deployment', 'DaemonSet', 'StatefulSet', 'Job'];
const STACK_LABELS = [
  'app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/version', 'app.kubernetes.io/component',
  'app.kubernetes.io/part-of', 'app.kubernetes.io/managed-by', 'helm.sh/chart',
];
const where = (o: any) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const containersOf = (spec: any): any[] => [...(spec.initContainers ?? []), ...spec.containers];

const rendered = scenarios().map((s) => ({ s, objects: templateScenario(s), values: mergeValues(defaultValues(), s.values) as ChartValues }));

describe.each(rendered.map((r) => [r.s.file, r] as const))('%s', (_file, { s, objects, values }) => {
  const workloads = objects.filter((o) => WORKLOAD_KINDS.includes(o.kind));
  const pods = objects.filter((o) => podSpecOf(o));

  test.each(['1.27', '1.36'] as const)('every object passes strict OpenAPI validation for Kubernetes %s', (version) => {
    const builtIn = objects.filter((o) => !isCustomResource(o));
    expect(builtIn.length).toBeGreaterThan(10);
    expect(builtIn.flatMap((o) => validateManifest(o, version))).toEqual([]);
  });

  test('custom resources (ServiceMonitor, PrometheusRule) pass strict validation against the operator\'s CRDs', () => {
    expect(objects.filter(isCustomResource).flatMap(validateCustomResource)).toEqual([]);
  });

  test('every pod outside the log agent\'s namespace, test pods included, meets Pod Security restricted', () => {
    const checked = pods.filter((o) => o.metadata.namespace !== values.logAgent.namespace);
    expect(checked.length).toBeGreaterThan(0);
    for (const o of checked) {
      expect({ pod: where(o), violations: restrictedViolations(podSpecOf(o), podMetadataOf(o).annotations ?? {}) }).toEqual({ pod: where(o), violations: [] });
    }
  });

  test('the node agents relax Pod Security for exactly what each needs, in their own privileged namespace', () => {
    const inAgentNamespace = pods.filter((o) => o.metadata.namespace === values.logAgent.namespace);
    const nodeExporter = inAgentNamespace.filter((o) => o.metadata.name === 'node-exporter');
    expect(nodeExporter.map(where)).toEqual(values.nodeExporter.enabled ? [`DaemonSet/${values.logAgent.namespace}/node-exporter`] : []);
    for (const o of nodeExporter) expect(restrictedViolations(podSpecOf(o), podMetadataOf(o).annotations)).toEqual(NODE_EXPORTER_RELAXATIONS);
    const agents = inAgentNamespace.filter((o) => o.metadata.name !== 'node-exporter');
    // The agent ships to the stack's Loki or to loki.external.
    const shipsLogs = values.loki.enabled || Boolean(values.loki.external?.url);
    if (!shipsLogs) {
      expect(agents).toEqual([]);
      return;
    }
    const agent = values.logAgent.kind;
    expect(agents.map(where)).toEqual([`DaemonSet/${values.logAgent.namespace}/${agent}`]);
    const allowed = 'configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected, secret';
    expect(restrictedViolations(podSpecOf(agents[0]), podMetadataOf(agents[0]).annotations)).toEqual([
      `volume "pods" must not use volume type hostPath (allowed: ${allowed}) [restrictedVolumes]`,
      `volume "${agent === 'alloy' ? 'data' : 'positions'}" must not use volume type hostPath (allowed: ${allowed}) [restrictedVolumes]`,
      'pod must not set securityContext.runAsNonRoot=false [runAsNonRoot]',
      `pod or container "${agent}" must set securityContext.runAsNonRoot=true [runAsNonRoot]`,
      'pod must not set securityContext.runAsUser=0 [runAsUser]',
    ]);
  });

  test('the namespaces the chart creates carry their Pod Security level; only the agent\'s is privileged', () => {
    const levels = Object.fromEntries(objects.filter((o) => o.kind === 'Namespace')
      .map((n) => [n.metadata.name, n.metadata.labels['pod-security.kubernetes.io/enforce']]));
    const expected: Record<string, string> = {};
    if (values.app.enabled && values.app.namespace !== s.namespace) expected[values.app.namespace] = 'restricted';
    if (values.loki.enabled || values.loki.external?.url || values.nodeExporter.enabled) expected[values.logAgent.namespace] = 'privileged';
    expect(levels).toEqual(expected);
    expect(objects.filter((o) => o.kind === 'Namespace').map((n) => n.metadata.name)).not.toContain(s.namespace);
  });

  test('every container has requests and limits; every workload container readiness and liveness probes; every root filesystem is read-only', () => {
    for (const o of pods) {
      const spec = podSpecOf(o);
      for (const c of containersOf(spec)) {
        const at = `${where(o)}/${c.name}`;
        expect({ at, requests: Object.keys(c.resources?.requests ?? {}).sort(), limits: Object.keys(c.resources?.limits ?? {}).sort() })
          .toEqual({ at, requests: ['cpu', 'memory'], limits: ['cpu', 'memory'] });
        expect({ at, readOnlyRootFilesystem: c.securityContext?.readOnlyRootFilesystem }).toEqual({ at, readOnlyRootFilesystem: true });
      }
      // Probes on long-running containers only: init containers cannot have them, and a test pod runs once.
      if (!WORKLOAD_KINDS.includes(o.kind)) continue;
      for (const c of spec.containers) {
        const at = `${where(o)}/${c.name}`;
        expect({ at, readiness: !!c.readinessProbe, liveness: !!c.livenessProbe }).toEqual({ at, readiness: true, liveness: true });
      }
    }
  });

  test('every image is repository:tag as the values pin it, never latest', () => {
    const expected = new Set([values.prometheus.image, values.app.image, values.loki.image, values.logAgent.promtail.image, values.logAgent.alloy.image, values.alertmanager.image, values.grafana.image, values.kubeStateMetrics.image, values.nodeExporter.image, values.tests.image]
      .map((i) => `${i.repository}:${i.tag}`));
    for (const o of pods) {
      for (const c of containersOf(podSpecOf(o))) {
        expect({ at: `${where(o)}/${c.name}`, pinned: expected.has(c.image) }).toEqual({ at: `${where(o)}/${c.name}`, pinned: true });
        expect(c.image).not.toMatch(/:latest$/);
      }
    }
  });

  test('every object carries the stack\'s labels; every selector is a subset of its pods\' labels', () => {
    for (const o of objects.filter((x) => x.kind !== 'Namespace')) {
      expect({ object: where(o), missing: STACK_LABELS.filter((l) => !(l in (o.metadata.labels ?? {}))) }).toEqual({ object: where(o), missing: [] });
      for (const value of Object.values(o.metadata.labels) as string[]) expect(value.length).toBeLessThanOrEqual(63);
    }
    for (const w of workloads) {
      const selector = w.spec.selector.matchLabels;
      expect(Object.keys(selector).sort()).toEqual(['app.kubernetes.io/instance', 'app.kubernetes.io/name', 'app.kubernetes.io/part-of']);
      expect(w.spec.template.metadata.labels).toMatchObject(selector);
      expect(w.metadata.labels).toMatchObject(selector);
    }
  });

  test('every Service selects the pods of exactly one workload, on a port it declares', () => {
    for (const svc of objects.filter((o) => o.kind === 'Service')) {
      const matching = workloads.filter((w) => w.metadata.namespace === svc.metadata.namespace
        && Object.entries(svc.spec.selector).every(([k, v]) => w.spec.template.metadata.labels[k] === v));
      expect({ service: where(svc), selects: matching.map(where) }).toEqual({ service: where(svc), selects: [expect.any(String)] });
      const portNames = matching[0].spec.template.spec.containers.flatMap((c: any) => c.ports.map((p: any) => p.name));
      for (const p of svc.spec.ports) expect(portNames).toContain(p.targetPort);
    }
  });

  test('object names fit in 63 characters; no selector uses a release: label (the kube-prometheus-stack trap)', () => {
    for (const o of objects) expect(o.metadata.name.length).toBeLessThanOrEqual(63);
    const selectors = objects.flatMap((o) => [o.spec?.selector?.matchLabels, o.kind === 'Service' ? o.spec.selector : undefined]).filter(Boolean);
    for (const sel of selectors) expect(Object.keys(sel)).not.toContain('release');
  });

  test('Grafana has exactly one default data source, Prometheus (two make Grafana refuse to start)', () => {
    const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'grafana-datasources');
    if (!values.grafana.enabled) {
      expect(cm).toBeUndefined();
      return;
    }
    const sources = parse(cm.data['datasources.yaml']).datasources;
    expect(sources.filter((d: any) => d.isDefault).map((d: any) => d.uid)).toEqual(['prometheus']);
    expect(sources.map((d: any) => d.uid)).toEqual(['prometheus', ...(values.loki.enabled || values.loki.external?.url ? ['loki'] : []), ...(values.alertmanager.enabled ? ['alertmanager'] : [])]);
  });

  test('retention really deletes: Loki\'s compactor retention is on with a delete store; Prometheus has time and size limits', () => {
    const prom = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'prometheus')?.spec.template.spec.containers[0];
    // A Prometheus of the user's (prometheus.enabled false) keeps its own retention.
    expect(prom === undefined).toBe(values.prometheus.enabled === false);
    if (prom) expect(prom.args).toContain(`--storage.tsdb.retention.time=${values.prometheus.retentionDays}d`);
    if (prom) expect(prom.args).toContain(`--storage.tsdb.retention.size=${values.prometheus.retentionSize}`);
    if (!values.loki.enabled) return;
    const loki = parse(objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'loki-config').data['loki.yaml']);
    // Delete requests go to the newest period's store: the bucket, with one.
    const s3 = values.loki.storage.s3?.enabled === true;
    expect(loki.compactor).toMatchObject({ retention_enabled: true, delete_request_store: s3 ? 's3' : 'filesystem' });
    expect(loki.limits_config.retention_period).toBe(`${values.loki.retentionDays * 24}h`);
    // Several pods share no volume: the bucket's period alone.
    const several = (values.loki.replicas ?? 1) > 1;
    expect(loki.schema_config.configs.map((p: any) => p.object_store)).toEqual(several ? ['s3'] : s3 ? ['filesystem', 's3'] : ['filesystem']);
    for (const period of loki.schema_config.configs) expect(period).toMatchObject({ store: 'tsdb', schema: 'v13', index: { period: '24h' } });
  });
});

describe('defaults', () => {
  const { objects } = rendered.find((r) => r.s.file === '01-defaults-values.yaml')!;
  const pods = objects.filter((o) => podSpecOf(o));

  test('run exactly the images pinned in lib/images.ts', () => {
    const images = new Set(pods.flatMap((o) => containersOf(podSpecOf(o)).map((c) => c.image)));
    expect([...images].sort()).toEqual([IMAGES.prometheus, IMAGES.grafana, IMAGES.loki, IMAGES.promtail, IMAGES.alertmanager, IMAGES.kubeStateMetrics, IMAGES.nodeExporter, IMAGES.app].map(imageString).sort());
  });

  test('request at most 1 CPU and 1.5 GiB in all (no memcached-sized requests), and every limit is set', () => {
    let cpu = 0;
    let memory = 0;
    for (const w of objects.filter((o) => WORKLOAD_KINDS.includes(o.kind))) {
      for (const c of w.spec.template.spec.containers) {
        cpu += (w.spec.replicas ?? 1) * millicores(c.resources.requests.cpu);
        memory += (w.spec.replicas ?? 1) * bytesOfQuantity(c.resources.requests.memory);
      }
    }
    expect(cpu).toBeLessThanOrEqual(1000);
    expect(memory).toBeLessThanOrEqual(1.5 * 1024 ** 3);
  });

  test('render the helm test pods: Prometheus /-/ready, Grafana /api/health, the app\'s /metrics, with the Prometheus image', () => {
    const hooks = objects.filter(isTestHook);
    expect(hooks.map((h) => [h.metadata.name, h.spec.containers[0].command.at(-1)])).toEqual([
      ['demo-app-test-metrics', 'http://demo-app.demo.svc.cluster.local:8080/metrics'],
      ['grafana-test-health', 'http://grafana.monitoring.svc.cluster.local:3000/api/health'],
      ['prometheus-test-ready', 'http://prometheus.monitoring.svc.cluster.local:9090/-/ready'],
    ]);
    for (const h of hooks) {
      expect(h.kind).toBe('Pod');
      expect(h.spec.restartPolicy).toBe('Never');
      expect(h.spec.containers[0].image).toBe(imageString(IMAGES.prometheus));
      expect(h.spec.containers[0].command.slice(0, 1)).toEqual(['wget']);
    }
  });
});

describe('rendering details', () => {
  const checksums = (objects: any[]) => Object.fromEntries(objects.filter((o) => o.spec?.template?.metadata?.annotations?.['checksum/config'])
    .map((o) => [o.metadata.name, o.spec.template.metadata.annotations['checksum/config']]));

  test('checksum/config follows the config each pod mounts, and only that', () => {
    const before = checksums(helmTemplate());
    const after = checksums(helmTemplate({ set: ['loki.retentionDays=30'] }));
    expect(Object.keys(before).sort()).toEqual(['alertmanager', 'grafana', 'loki', 'prometheus', 'promtail']);
    expect(after.loki).not.toBe(before.loki);
    expect({ ...after, loki: undefined }).toEqual({ ...before, loki: undefined });
    const rules = checksums(helmTemplate({ set: ['prometheus.alertRules=false'] }));
    expect(rules.prometheus).not.toBe(before.prometheus);
  });

  test('an image digest pins repository:tag@digest', () => {
    const digest = `sha256:${'ab12'.repeat(16)}`;
    const objects = helmTemplate({ set: [`prometheus.image.digest=${digest}`] });
    const prom = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'prometheus');
    expect(prom.spec.template.spec.containers[0].image).toBe(`prom/prometheus:v3.14.0@${digest}`);
  });

  test('--set reaches a remote-write endpoint by name (values are maps, not lists)', () => {
    const objects = helmTemplate({ set: ['prometheus.remoteWrite.mimir.url=https://mimir.example.com/api/v1/push'] });
    const config = parse(objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'prometheus-config').data['prometheus.yml']);
    expect(config.remote_write).toEqual([{ name: 'mimir', url: 'https://mimir.example.com/api/v1/push', send_exemplars: true }]);
  });

  test('app.namespace equal to the release namespace: no Namespace object for it', () => {
    const objects = helmTemplate({ set: ['app.namespace=monitoring'] });
    expect(objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name)).toEqual(['monitoring-agent']);
    expect(objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'demo-app').metadata.namespace).toBe('monitoring');
  });

  test('namespaces.create=false: no Namespace objects at all', () => {
    expect(helmTemplate({ set: ['namespaces.create=false'] }).filter((o) => o.kind === 'Namespace')).toEqual([]);
  });

  test('renders for Kubernetes 1.27 and 1.36, and refuses 1.26 (kubeVersion >=1.27.0-0)', () => {
    for (const v of ['1.27.0', '1.36.0']) expect(helm([...templateArgs(), '--kube-version', v]).code).toBe(0);
    const old = helm([...templateArgs(), '--kube-version', '1.26.0']);
    expect(old.code).not.toBe(0);
    expect(old.stderr).toContain('chart requires kubeVersion: >=1.27.0-0 which is incompatible with Kubernetes v1.26.0');
  });
});

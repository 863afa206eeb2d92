import { parse } from 'yaml';
import { bytesOfQuantity, millicores, selectorLabels } from '../lib';
import { CUSTOM_INPUT, find, synthObjects, workloads } from './helpers/stack';
import { isCustomResource, validateCustomResource } from './helpers/crd-schema';
import { validateManifest } from './support/k8s-schema';

const defaults = synthObjects();
const custom = synthObjects(CUSTOM_INPUT);

describe.each([['defaults', defaults], ['customised', custom]])('%s', (_name, objects) => {
  test.each(['1.27', '1.36'] as const)('every object passes strict OpenAPI validation for Kubernetes %s', (version) => {
    const errors = objects.filter((o) => !isCustomResource(o)).flatMap((o) => validateManifest(o, version));
    expect(errors).toEqual([]);
  });

  test('every custom resource passes strict validation against its Prometheus Operator CRD', () => {
    expect(objects.filter(isCustomResource).flatMap(validateCustomResource)).toEqual([]);
  });

  test('namespaces come before everything that lives in them', () => {
    const firstNonNamespace = objects.findIndex((o) => o.kind !== 'Namespace');
    expect(objects.slice(firstNonNamespace).some((o) => o.kind === 'Namespace')).toBe(false);
    const namespaces = new Set(objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name));
    for (const o of objects.filter((x) => x.metadata.namespace)) expect(namespaces).toContain(o.metadata.namespace);
  });

  test('every workload selects a stable subset of its own labels', () => {
    for (const w of workloads(objects)) {
      const selector = w.spec.selector.matchLabels;
      expect(selector).toEqual(selectorLabels(w.metadata.name));
      expect(w.spec.template.metadata.labels).toMatchObject(selector);
      expect(Object.keys(selector)).not.toContain('app.kubernetes.io/version');
    }
  });

  test('every Service selects pods of a workload in its namespace and targets a named port', () => {
    for (const svc of objects.filter((o) => o.kind === 'Service')) {
      const matches = workloads(objects).filter((w) => w.metadata.namespace === svc.metadata.namespace &&
        Object.entries(svc.spec.selector).every(([k, v]) => w.spec.template.metadata.labels[k] === v));
      expect(matches.length).toBe(1);
      const portNames = matches[0].spec.template.spec.containers.flatMap((c: any) => (c.ports ?? []).map((p: any) => p.name));
      for (const p of svc.spec.ports) expect(portNames).toContain(p.targetPort);
    }
  });

  test('every container has requests, limits, readiness and liveness probes', () => {
    for (const w of workloads(objects)) {
      for (const c of w.spec.template.spec.containers) {
        const where = `${w.kind}/${w.metadata.name} container ${c.name}`;
        expect({ where, requests: Object.keys(c.resources?.requests ?? {}).sort() }).toEqual({ where, requests: ['cpu', 'memory'] });
        expect({ where, limits: Object.keys(c.resources?.limits ?? {}).sort() }).toEqual({ where, limits: ['cpu', 'memory'] });
        expect({ where, readiness: !!c.readinessProbe, liveness: !!c.livenessProbe }).toEqual({ where, readiness: true, liveness: true });
      }
    }
  });

  test('every image is pinned to a tag, never latest', () => {
    for (const w of workloads(objects)) {
      for (const c of [...w.spec.template.spec.containers, ...(w.spec.template.spec.initContainers ?? [])]) {
        expect(c.image).toMatch(/^[^:]+(:[0-9]+)?[^:]*:[A-Za-z0-9_][A-Za-z0-9_.-]*$/);
        expect(c.image.endsWith(':latest')).toBe(false);
      }
    }
  });

  test('every pod that mounts a ConfigMap carries checksum/config', () => {
    for (const w of workloads(objects)) {
      const usesConfigMap = (w.spec.template.spec.volumes ?? []).some((v: any) => v.configMap);
      if (usesConfigMap) expect(w.spec.template.metadata.annotations?.['checksum/config']).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  test('RBAC only reads, and never nodes/proxy', () => {
    for (const role of objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')) {
      for (const rule of role.rules) {
        // nodes/metrics has no list or watch: the kubelet's /metrics paths are read with get.
        const reads = rule.resources.includes('nodes/metrics') ? ['get'] : ['get', 'list', 'watch'];
        expect({ resources: rule.resources, verbs: rule.verbs.filter((v: string) => !reads.includes(v)) }).toEqual({ resources: rule.resources, verbs: [] });
        expect(rule.resources).not.toContain('nodes/proxy');
        expect(rule.resources).not.toContain('*');
      }
    }
  });
});

describe('Prometheus', () => {
  const deployment = find(defaults, 'Deployment', 'prometheus', 'monitoring');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];

  test('runs as uid 65534 with the restricted security context', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  test('probes /-/ready and /-/healthy', () => {
    expect(container.readinessProbe.httpGet).toEqual({ path: '/-/ready', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/-/healthy', port: 'http' });
  });

  test('keeps data on a PVC with retention by time and size', () => {
    expect(container.args).toEqual(expect.arrayContaining(['--storage.tsdb.retention.time=7d', '--storage.tsdb.retention.size=4GB', '--storage.tsdb.path=/prometheus']));
    const claim = pod.volumes.find((v: any) => v.name === 'data').persistentVolumeClaim.claimName;
    expect(find(defaults, 'PersistentVolumeClaim', claim, 'monitoring').spec.resources.requests.storage).toBe('8Gi');
    expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
  });

  test('may read pods, and for the kubelet jobs nodes and nodes/metrics, nothing else', () => {
    expect(find(defaults, 'ClusterRole', 'monitoring-prometheus').rules).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] },
    ]);
    expect(find(synthObjects({ kubelet: { enabled: false } }), 'ClusterRole', 'monitoring-prometheus').rules).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
    ]);
    const binding = find(defaults, 'ClusterRoleBinding', 'monitoring-prometheus');
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: pod.serviceAccountName, namespace: 'monitoring' }]);
  });

  test('checksum/config changes when the config changes', () => {
    const other = find(synthObjects({ prometheus: { scrapeIntervalSeconds: 30 } }), 'Deployment', 'prometheus');
    expect(other.spec.template.metadata.annotations['checksum/config']).not.toBe(deployment.spec.template.metadata.annotations['checksum/config']);
  });

  test('remote_write and the customised settings reach the config', () => {
    const cm = find(custom, 'ConfigMap', 'prometheus-config', 'observability');
    const config = parse(cm.data['prometheus.yml']);
    expect(config.remote_write).toEqual([{ name: 'mimir', url: 'https://mimir.example.com/api/v1/push', send_exemplars: true }]);
    expect(config.global).toEqual({ scrape_interval: '30s', scrape_timeout: '20s', evaluation_interval: '15s' });
    expect(find(custom, 'PersistentVolumeClaim', 'prometheus-data').spec.storageClassName).toBe('fast-ssd');
  });
});

describe('the demo app', () => {
  const deployment = find(defaults, 'Deployment', 'demo-app', 'demo');
  const template = deployment.spec.template;

  test('is scraped through prometheus.io annotations on its declared port', () => {
    expect(template.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080', 'prometheus.io/path': '/metrics' });
    expect(template.spec.containers[0].ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
  });

  test('uses IfNotPresent so `kind load docker-image` works', () => {
    expect(template.spec.containers[0].imagePullPolicy).toBe('IfNotPresent');
    expect(template.spec.containers[0].image).toBe('demo-app:0.1.0');
  });

  test('probes /readyz and /healthz', () => {
    expect(template.spec.containers[0].readinessProbe.httpGet.path).toBe('/readyz');
    expect(template.spec.containers[0].livenessProbe.httpGet.path).toBe('/healthz');
  });

  test('gets a ServiceMonitor only when asked, with the operator selector label', () => {
    expect(defaults.filter((o) => o.kind === 'ServiceMonitor')).toEqual([]);
    const sm = find(custom, 'ServiceMonitor', 'shop', 'shop');
    expect(sm.metadata.labels.release).toBe('kube-prometheus-stack');
    expect(sm.spec.selector.matchLabels).toEqual(find(custom, 'Service', 'shop', 'shop').spec.selector);
    expect(sm.spec.endpoints[0]).toMatchObject({ port: 'http', path: '/internal/metrics', interval: '30s' });
  });

  test('several pods: spread over the nodes where the scheduler can, and a drain takes one at a time; one pod: neither', () => {
    const several = find(custom, 'Deployment', 'shop', 'shop');
    expect(several.spec.replicas).toBeGreaterThan(1);
    const selector = several.spec.selector;
    expect(several.spec.template.spec.topologySpreadConstraints).toEqual([{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: selector }]);
    expect(find(custom, 'PodDisruptionBudget', 'shop', 'shop').spec).toEqual({ maxUnavailable: 1, selector });
    expect(template.spec.topologySpreadConstraints).toBeUndefined();
    expect(defaults.filter((o) => o.kind === 'PodDisruptionBudget')).toEqual([]);
  });

  test('gets a PrometheusRule only when asked, holding the same groups as the rule file', () => {
    expect(defaults.filter((o) => o.kind === 'PrometheusRule')).toEqual([]);
    const rule = find(custom, 'PrometheusRule', 'observability-stack', 'observability');
    const file = parse(find(custom, 'ConfigMap', 'prometheus-rules').data['stack-rules.yaml']);
    expect(rule.spec.groups).toEqual(file.groups);
  });
});

describe('resource budget', () => {
  test('the default stack requests at most 1 CPU and 1.5 GiB on a one-node kind cluster', () => {
    let cpu = 0;
    let memory = 0;
    for (const w of workloads(defaults)) {
      const replicas = w.kind === 'DaemonSet' ? 1 : w.spec.replicas ?? 1;
      for (const c of w.spec.template.spec.containers) {
        cpu += replicas * millicores(c.resources.requests.cpu);
        memory += replicas * bytesOfQuantity(c.resources.requests.memory);
      }
    }
    expect(cpu).toBeLessThanOrEqual(1000);
    expect(memory).toBeLessThanOrEqual(1.5 * 1024 ** 3);
  });
});

describe('snapshots', () => {
  test('defaults', () => expect(defaults).toMatchSnapshot());
  test('customised', () => expect(custom).toMatchSnapshot());
});

describe('the validators themselves', () => {
  test('reject an unknown field in a ServiceMonitor', () => {
    const sm = structuredClone(find(custom, 'ServiceMonitor', 'shop'));
    sm.spec.endpoints[0].scrapeEvery = '5s';
    expect(validateCustomResource(sm)).toEqual(['ServiceMonitor/shop: /spec/endpoints/0 must NOT have additional properties "scrapeEvery"']);
  });

  test('reject an unknown field in a Deployment', () => {
    const d = structuredClone(find(defaults, 'Deployment', 'prometheus'));
    d.spec.template.spec.containers[0].readinessProbe.httpGet.hostname = 'x';
    expect(validateManifest(d, '1.36').join('\n')).toContain('hostname');
  });
});

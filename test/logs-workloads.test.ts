/**
 * Loki and Promtail as Kubernetes objects: strict validity on 1.27 and 1.36, Pod Security (restricted for
 * Loki; for Promtail exactly the listed relaxations and nothing more), wiring (push URL → Loki's Service),
 * RBAC, probes, volumes.
 */
import { parse } from 'yaml';
import { lokiPushUrl, parseStackConfig, StackInput } from '../lib';
import { CUSTOM_INPUT, find, synthObjects } from './helpers/stack';
import { validateManifest } from './support/k8s-schema';
import { podMetadataOf, podSpecOf, restrictedViolations } from './support/pss';

const LOGS_APPS = ['loki', 'promtail'];
const isLogsObject = (o: any) => LOGS_APPS.includes(o.metadata?.labels?.['app.kubernetes.io/name']);

const CUSTOMISED: StackInput = {
  ...CUSTOM_INPUT,
  loki: { retentionDays: 14, storage: { size: '20Gi', storageClassName: 'fast-ssd' } },
  logAgent: { namespace: 'logging-agent', promtail: { image: { tag: '3.6.10' } } },
};

describe.each([['defaults', {}], ['customised', CUSTOMISED]] as const)('%s stack', (_name, input) => {
  const c = parseStackConfig(input);
  const objects = synthObjects(input);
  const logs = objects.filter(isLogsObject);

  test('adds Loki\'s and Promtail\'s objects under stable names', () => {
    expect(logs.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort()).toEqual([
      `ClusterRole//${c.logAgent.namespace}-promtail`,
      `ClusterRoleBinding//${c.logAgent.namespace}-promtail`,
      `ConfigMap/${c.logAgent.namespace}/promtail-config`,
      `ConfigMap/${c.namespace}/loki-config`,
      `DaemonSet/${c.logAgent.namespace}/promtail`,
      `Deployment/${c.namespace}/loki`,
      `NetworkPolicy/${c.logAgent.namespace}/promtail`,
      `NetworkPolicy/${c.namespace}/loki`,
      `PersistentVolumeClaim/${c.namespace}/loki-data`,
      `Service/${c.namespace}/loki`,
      `ServiceAccount/${c.logAgent.namespace}/promtail`,
      `ServiceAccount/${c.namespace}/loki`,
    ]);
  });

  test('Loki\'s ServiceAccount is an identity only: bound to no role, its token not mounted', () => {
    const bindings = objects.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding');
    expect(bindings.length).toBeGreaterThan(0);
    expect(bindings.flatMap((b) => b.subjects).filter((s: any) => s.name === 'loki')).toEqual([]);
    expect(find(objects, 'ServiceAccount', 'loki', c.namespace).automountServiceAccountToken).toBe(false);
    const pod = find(objects, 'Deployment', 'loki', c.namespace).spec.template.spec;
    expect([pod.serviceAccountName, pod.automountServiceAccountToken]).toEqual(['loki', false]);
  });

  test.each(['1.27', '1.36'] as const)('every Loki and Promtail object passes strict OpenAPI validation for Kubernetes %s', (version) => {
    expect(logs.flatMap((o) => validateManifest(o, version))).toEqual([]);
  });

  test('Loki meets Pod Security restricted', () => {
    const loki = find(objects, 'Deployment', 'loki', c.namespace);
    expect(restrictedViolations(podSpecOf(loki), podMetadataOf(loki).annotations)).toEqual([]);
  });

  test('Promtail relaxes Pod Security for exactly hostPath and uid 0, nothing more', () => {
    const promtail = find(objects, 'DaemonSet', 'promtail', c.logAgent.namespace);
    const allowed = 'configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected, secret';
    expect(restrictedViolations(podSpecOf(promtail), podMetadataOf(promtail).annotations)).toEqual([
      `volume "pods" must not use volume type hostPath (allowed: ${allowed}) [restrictedVolumes]`,
      `volume "positions" must not use volume type hostPath (allowed: ${allowed}) [restrictedVolumes]`,
      'pod must not set securityContext.runAsNonRoot=false [runAsNonRoot]',
      'pod or container "promtail" must set securityContext.runAsNonRoot=true [runAsNonRoot]',
      'pod must not set securityContext.runAsUser=0 [runAsUser]',
    ]);
  });

  test('Promtail lives in the agent namespace, which is the only privileged one', () => {
    const privileged = objects.filter((o) => o.kind === 'Namespace' && o.metadata.labels['pod-security.kubernetes.io/enforce'] === 'privileged');
    expect(privileged.map((n) => n.metadata.name)).toEqual([c.logAgent.namespace]);
    expect(find(objects, 'Namespace', c.namespace).metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  test('Promtail pushes to Loki\'s Service by its fully qualified name and port', () => {
    const config = parse(find(objects, 'ConfigMap', 'promtail-config', c.logAgent.namespace).data['promtail.yaml']);
    expect(config.clients).toEqual([{
      url: lokiPushUrl(c),
      // logAgent.push: batches of at most 1 MiB or 1 s, retried 10 times from 500 ms doubling up to 5 minutes.
      batchwait: '1s', batchsize: 1048576, backoff_config: { min_period: '500ms', max_period: '300s', max_retries: 10 },
    }]);
    const url = new URL(config.clients[0].url);
    const svc = find(objects, 'Service', 'loki', c.namespace);
    expect(url.hostname).toBe(`${svc.metadata.name}.${svc.metadata.namespace}.svc.${c.clusterDomain}`);
    expect(svc.spec.ports.map((p: any) => p.port)).toContain(Number(url.port));
    expect(url.pathname).toBe('/loki/api/v1/push');
  });

  test('Loki keeps its data on its claim, with the model\'s size and class', () => {
    const loki = find(objects, 'Deployment', 'loki', c.namespace);
    const claim = loki.spec.template.spec.volumes.find((v: any) => v.name === 'data').persistentVolumeClaim.claimName;
    const pvc = find(objects, 'PersistentVolumeClaim', claim, c.namespace);
    expect(pvc.spec.resources.requests.storage).toBe(c.loki.storage.size);
    expect(pvc.spec.storageClassName).toBe(c.loki.storage.storageClassName);
  });
});

describe('Loki', () => {
  const objects = synthObjects();
  const deployment = find(objects, 'Deployment', 'loki', 'monitoring');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];

  test('runs as the image\'s uid 10001 with a read-only root and writable /loki and /tmp', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001 });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    const writable = container.volumeMounts.filter((m: any) => !m.readOnly).map((m: any) => m.mountPath).sort();
    expect(writable).toEqual(['/loki', '/tmp']);
  });

  test('one pod at a time owns the volume; the config comes from the ConfigMap', () => {
    expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
    expect(deployment.spec.replicas).toBe(1);
    expect(container.args).toEqual(['-config.file=/etc/loki/loki.yaml']);
    expect(container.volumeMounts).toContainEqual({ name: 'config', mountPath: '/etc/loki', readOnly: true });
    expect(pod.volumes).toContainEqual({ name: 'config', configMap: { name: 'loki-config' } });
    expect(container.image).toBe('grafana/loki:3.7.6');
  });

  test('probes /ready: readiness after ~15 s, liveness lenient', () => {
    expect(container.readinessProbe).toMatchObject({ httpGet: { path: '/ready', port: 'http' }, initialDelaySeconds: 15 });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/ready', port: 'http' });
    const live = container.livenessProbe;
    expect(live.initialDelaySeconds + live.periodSeconds * live.failureThreshold).toBeGreaterThanOrEqual(180);
  });

  test('serves HTTP on 3100 and gRPC on 9095 through the Service `loki`', () => {
    expect(container.ports).toEqual([
      { name: 'http', containerPort: 3100, protocol: 'TCP' },
      { name: 'grpc', containerPort: 9095, protocol: 'TCP' },
    ]);
    expect(find(objects, 'Service', 'loki', 'monitoring').spec.ports).toEqual([
      { name: 'http', port: 3100, targetPort: 'http', protocol: 'TCP' },
      { name: 'grpc', port: 9095, targetPort: 'grpc', protocol: 'TCP' },
    ]);
  });

  test('is scraped on its HTTP port, and checksum/config follows the config', () => {
    expect(deployment.spec.template.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '3100', 'prometheus.io/path': '/metrics' });
    const other = find(synthObjects({ loki: { retentionDays: 30 } }), 'Deployment', 'loki');
    expect(other.spec.template.metadata.annotations['checksum/config']).not.toBe(deployment.spec.template.metadata.annotations['checksum/config']);
  });
});

describe('Promtail', () => {
  const objects = synthObjects();
  const daemonSet = find(objects, 'DaemonSet', 'promtail', 'monitoring-agent');
  const pod = daemonSet.spec.template.spec;
  const container = pod.containers[0];

  test('runs the last Promtail image, 3.6.11', () => {
    expect(container.image).toBe('grafana/promtail:3.6.11');
    expect(container.args).toEqual(['-config.file=/etc/promtail/promtail.yaml']);
  });

  test('runs as uid 0 with every other restriction kept: no escalation, read-only root, no capabilities', () => {
    expect(pod.securityContext).toEqual({ runAsUser: 0, runAsGroup: 0, runAsNonRoot: false, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.hostNetwork ?? false).toBe(false);
    expect(pod.hostPID ?? false).toBe(false);
  });

  test('reads /var/log/pods read-only; /run/promtail (positions) is the only writable host path', () => {
    const hostPaths = pod.volumes.filter((v: any) => v.hostPath);
    expect(hostPaths).toEqual([
      { name: 'pods', hostPath: { path: '/var/log/pods', type: 'Directory' } },
      { name: 'positions', hostPath: { path: '/run/promtail', type: 'DirectoryOrCreate' } },
    ]);
    const mountOf = (name: string) => container.volumeMounts.find((m: any) => m.name === name);
    expect(mountOf('pods')).toEqual({ name: 'pods', mountPath: '/var/log/pods', readOnly: true });
    expect(mountOf('positions')).toEqual({ name: 'positions', mountPath: '/run/promtail' });
    const config = parse(find(objects, 'ConfigMap', 'promtail-config', 'monitoring-agent').data['promtail.yaml']);
    expect(config.positions.filename.startsWith(`${mountOf('positions').mountPath}/`)).toBe(true);
  });

  test('knows its node: HOSTNAME is the node name (Promtail tails only its node\'s pods)', () => {
    expect(container.env).toEqual([{ name: 'HOSTNAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }]);
  });

  test('runs on control-plane nodes too', () => {
    expect(pod.tolerations).toEqual([
      { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
      { key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule' },
    ]);
  });

  test('may read pods and nothing else, through its own ServiceAccount', () => {
    expect(find(objects, 'ClusterRole', 'monitoring-agent-promtail').rules).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
    ]);
    const binding = find(objects, 'ClusterRoleBinding', 'monitoring-agent-promtail');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'monitoring-agent-promtail' });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: pod.serviceAccountName, namespace: 'monitoring-agent' }]);
    find(objects, 'ServiceAccount', pod.serviceAccountName, 'monitoring-agent');
  });

  test('probes /ready on its HTTP port, the port its config listens on and Prometheus scrapes', () => {
    const config = parse(find(objects, 'ConfigMap', 'promtail-config', 'monitoring-agent').data['promtail.yaml']);
    expect(container.ports).toEqual([{ name: 'http', containerPort: config.server.http_listen_port, protocol: 'TCP' }]);
    expect(container.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/ready', port: 'http' });
    expect(daemonSet.spec.template.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '3101' });
    expect(config.server.health_check_target).toBeUndefined(); // /ready stays honest
  });

  test('sends exactly the contract\'s labels: the pipeline drops filename and stream', () => {
    const config = parse(find(objects, 'ConfigMap', 'promtail-config', 'monitoring-agent').data['promtail.yaml']);
    const stages = config.scrape_configs[0].pipeline_stages;
    expect(stages[0]).toEqual({ cri: {} });
    expect(stages).toContainEqual({ labeldrop: ['filename', 'stream'] });
    expect(stages).toContainEqual({ structured_metadata: { stream: null } });
    const targets = config.scrape_configs[0].relabel_configs.map((r: any) => r.target_label);
    expect(targets.filter((t: string) => !t.startsWith('__')).sort()).toEqual(['app', 'container', 'namespace', 'node', 'pod']);
    // No rule drops pods: a finished pod's log files are still worth reading.
    expect(config.scrape_configs[0].relabel_configs.filter((r: any) => r.action === 'drop' || r.action === 'keep')).toEqual([]);
  });
});

describe('the log agent switch', () => {
  test('loki.enabled: false deploys neither Loki nor a log agent', () => {
    const objects = synthObjects({ loki: { enabled: false } });
    expect(objects.filter(isLogsObject)).toEqual([]);
    // The node agents' namespace stays for node-exporter, and goes with it.
    expect(objects.filter((o) => o.kind === 'Namespace').map((n) => n.metadata.name)).toContain('monitoring-agent');
    expect(synthObjects({ loki: { enabled: false }, nodeExporter: { enabled: false } }).filter((o) => o.kind === 'Namespace').map((n) => n.metadata.name)).not.toContain('monitoring-agent');
  });
});

/**
 * node-exporter: the DaemonSet in cdk8s and the chart (what it relaxes is in test/pod-security.test.ts and
 * test/helm-render.test.ts), and its own scrape job, run by the real Prometheus 2.42 against the real
 * node-exporter 1.5 (Debian) started with the DaemonSet's own arguments: its series describe the node, named
 * by `node` and `instance`, with the host's interfaces less the pods' veth ends.
 */
import { parse, stringify } from 'yaml';
import { NODE_EXPORTER_JOB, parseStackConfig, renderKubernetesPrometheusConfig, StackInput } from '../lib';
import { helmTemplate } from './helm-support';
import { find, synthObjects } from './helpers/stack';
import { RunningNodeExporter, startNodeExporter } from './support/node-exporter';
import { podTarget } from './support/pod-targets';
import { promtoolCheckConfig, RunningPrometheus, startPrometheus, withFileSd } from './support/prometheus';

type Json = any;
const NODE = 'kind-worker';

describe('node-exporter in cdk8s and the chart', () => {
  const objects = synthObjects();
  const daemonSet = find(objects, 'DaemonSet', 'node-exporter', 'monitoring-agent');
  const spec = daemonSet.spec.template.spec;
  const container = spec.containers[0];

  test('one pod per node, control-plane nodes included, listening on the node\'s address only, no prometheus.io annotations', () => {
    expect(spec.tolerations).toEqual(expect.arrayContaining([{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }]));
    expect(container.args).toContain('--web.listen-address=[$(HOST_IP)]:9100');
    expect(container.env).toEqual([{ name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } }]);
    expect(container.ports).toEqual([{ name: 'metrics', containerPort: 9100, protocol: 'TCP' }]);
    expect([container.livenessProbe.httpGet, container.readinessProbe.httpGet]).toEqual([{ path: '/', port: 'metrics' }, { path: '/', port: 'metrics' }]);
    expect(daemonSet.spec.template.metadata.annotations ?? {}).toEqual({});
    // Every flag names a mount of the host's directories, read-only.
    const mounts = Object.fromEntries(container.volumeMounts.map((m: Json) => [m.mountPath, m]));
    for (const flag of ['--path.procfs=/host/proc', '--path.sysfs=/host/sys', '--path.rootfs=/host/root']) {
      expect(container.args).toContain(flag);
      expect(mounts[flag.split('=')[1]].readOnly).toBe(true);
    }
    expect(mounts['/host/root'].mountPropagation).toBe('HostToContainer');
  });

  test('on Kubernetes it has the host\'s network, so its network collectors stay on, less the pods\' veth ends', () => {
    expect(spec.hostNetwork).toBe(true);
    expect(container.args.filter((a: string) => a.startsWith('--no-collector.'))).toEqual([]);
    expect(container.args).toContain('--collector.netdev.device-exclude=^(veth.*|cali.*|[a-f0-9]{15})$');
  });

  test('switched off: no DaemonSet, no job; the namespace stays for the log agent; the chart agrees', () => {
    const off: StackInput = { nodeExporter: { enabled: false } };
    const offObjects = synthObjects(off);
    expect(offObjects.filter((o) => o.metadata?.name === 'node-exporter')).toEqual([]);
    const jobs = parse(find(offObjects, 'ConfigMap', 'prometheus-config', 'monitoring').data['prometheus.yml']).scrape_configs.map((j: Json) => j.job_name);
    expect(jobs).not.toContain(NODE_EXPORTER_JOB);
    const chart = helmTemplate({ set: ['nodeExporter.enabled=false'] });
    expect(chart.filter((o) => o.metadata?.name === 'node-exporter')).toEqual([]);
    expect(parse(find(chart, 'ConfigMap', 'prometheus-config', 'monitoring').data['prometheus.yml']).scrape_configs.map((j: Json) => j.job_name)).toEqual(jobs);
    // With neither Loki nor node-exporter, the node agents' namespace goes too, in both.
    const none = ['nodeExporter.enabled=false', 'loki.enabled=false'];
    expect(helmTemplate({ set: none }).filter((o) => o.kind === 'Namespace').map((n) => n.metadata.name)).not.toContain('monitoring-agent');
    expect(synthObjects({ nodeExporter: { enabled: false }, loki: { enabled: false } }).filter((o) => o.kind === 'Namespace').map((n) => n.metadata.name)).not.toContain('monitoring-agent');
  });

  test('a custom namespace for the node agents moves the DaemonSet and the job\'s discovery, in both renderings', () => {
    const cdk8s = synthObjects({ logAgent: { namespace: 'node-agents' } });
    expect(find(cdk8s, 'DaemonSet', 'node-exporter', 'node-agents')).toBeDefined();
    const job = parse(find(cdk8s, 'ConfigMap', 'prometheus-config', 'monitoring').data['prometheus.yml']).scrape_configs.find((j: Json) => j.job_name === NODE_EXPORTER_JOB);
    expect(job.kubernetes_sd_configs).toEqual([{ role: 'pod', namespaces: { names: ['node-agents'] } }]);
    const chart = helmTemplate({ set: ['logAgent.namespace=node-agents'] });
    expect(find(chart, 'DaemonSet', 'node-exporter', 'node-agents')).toBeDefined();
    expect(parse(find(chart, 'ConfigMap', 'prometheus-config', 'monitoring').data['prometheus.yml']).scrape_configs.find((j: Json) => j.job_name === NODE_EXPORTER_JOB)).toEqual(job);
  });
});

describe('node-exporter\'s job, run by the real Prometheus against the real node-exporter with the DaemonSet\'s arguments', () => {
  let prometheus: RunningPrometheus;
  let exporter: RunningNodeExporter;

  beforeAll(async () => {
    const container = find(synthObjects(), 'DaemonSet', 'node-exporter', 'monitoring-agent').spec.template.spec.containers[0];
    exporter = await startNodeExporter(container.args);
    const port = Number(exporter.address.split(':')[1]);
    const c = parseStackConfig({ prometheus: { scrapeIntervalSeconds: 1, scrapeTimeoutSeconds: 1, evaluationIntervalSeconds: 1 } });
    const config: Json = renderKubernetesPrometheusConfig(c.prometheus, { nodeExporterNamespace: 'monitoring-agent' });
    const pod = { ip: '127.0.0.1', namespace: 'monitoring-agent', container: 'node-exporter', node: NODE, controller: null, labels: { 'app.kubernetes.io/name': 'node-exporter' } };
    const { config: swapped, files } = withFileSd(config, {
      [NODE_EXPORTER_JOB]: [
        podTarget({ ...pod, pod: 'node-exporter-x7k2p', port, portName: 'metrics' }),
        // The log agent's pod in the same namespace, and a node-exporter pod on its way out: not targets.
        podTarget({ ...pod, pod: 'promtail-abcde', container: 'promtail', labels: { 'app.kubernetes.io/name': 'promtail' }, port: 1, portName: 'http' }),
        podTarget({ ...pod, pod: 'node-exporter-old00', port: 2, portName: 'metrics', phase: 'Succeeded' }),
      ],
    });
    swapped.scrape_configs = swapped.scrape_configs.filter((j: Json) => j.job_name === NODE_EXPORTER_JOB);
    expect(promtoolCheckConfig(stringify(swapped), files).ok).toBe(true);
    prometheus = await startPrometheus({ config: stringify(swapped), files });
    await prometheus.waitFor(async () => (await prometheus.query(`up{job="${NODE_EXPORTER_JOB}"} == 1`)).length === 1, 30_000, 'node-exporter up');
  });

  afterAll(async () => {
    await prometheus?.stop();
    await exporter?.stop();
  });

  test('one target, the node-exporter pod\'s metrics port, named by its node', async () => {
    const targets = (await prometheus.targets()).activeTargets.filter((t) => t.labels.job === NODE_EXPORTER_JOB);
    expect(targets.map((t) => t.labels)).toEqual([{ instance: NODE, job: NODE_EXPORTER_JOB, node: NODE }]);
  });

  test('its series describe the node: node and instance, no labels of the exporter\'s pod', async () => {
    const memory = await prometheus.query('node_memory_MemAvailable_bytes');
    expect(memory.map((s) => s.metric)).toEqual([{ __name__: 'node_memory_MemAvailable_bytes', instance: NODE, job: NODE_EXPORTER_JOB, node: NODE }]);
    expect(Number(memory[0].value[1])).toBeGreaterThan(0);
    const fs = await prometheus.query('node_filesystem_avail_bytes');
    expect(fs.map((s) => s.metric.mountpoint)).toContain('/');
    for (const s of fs) expect(Object.keys(s.metric).sort()).toEqual(['__name__', 'device', 'fstype', 'instance', 'job', 'mountpoint', 'node'].concat(s.metric.device_error !== undefined ? ['device_error'] : []).sort());
  });

  test('the host\'s network interfaces (host network): the network collectors run, and succeed', async () => {
    const rx = await prometheus.query('node_network_receive_bytes_total');
    expect(rx.length).toBeGreaterThan(0);
    expect(rx.map((s) => s.metric.device).filter((d) => /^veth|^cali/.test(d))).toEqual([]);
    const collectors = await prometheus.query('node_scrape_collector_success');
    const byName = Object.fromEntries(collectors.map((s) => [s.metric.collector, s.value[1]]));
    for (const name of ['cpu', 'meminfo', 'filesystem', 'loadavg', 'netdev', 'diskstats']) expect([name, byName[name]]).toEqual([name, '1']);
  });
});

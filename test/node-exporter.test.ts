/**
 * node-exporter: the DaemonSet in cdk8s and the chart (what it relaxes is in test/pod-security.test.ts and
 * test/helm-render.test.ts), and its own scrape job, run by the real Prometheus 2.42 against the real
 * node-exporter 1.5 (Debian) started with the DaemonSet's own arguments: its series describe the node, named
 * by `node` and `instance`, with the host's interfaces less the pods' veth ends.
 */
import { parse, stringify } from 'yaml';
import { NODE_EXPORTER_JOB, NODES_DASHBOARD_FILE, parseStackConfig, renderAlertRules, renderDashboards, renderKubernetesPrometheusConfig, RULES_FILE, StackInput, toYaml } from '../lib';
import { helmTemplate } from './helm-support';
import { find, synthObjects } from './helpers/stack';
import { RunningNodeExporter, startNodeExporter } from './support/node-exporter';
import { podTarget } from './support/pod-targets';
import { promtoolCheckConfig, promtoolTestRules, RunningPrometheus, startPrometheus, withFileSd } from './support/prometheus';

type Json = any;
const NODE = 'kind-worker';

describe('node-exporter in cdk8s and the chart', () => {
  const objects = synthObjects();
  const daemonSet = find(objects, 'DaemonSet', 'node-exporter', 'monitoring-agent');
  const spec = daemonSet.spec.template.spec;
  const container = spec.containers[0];

  test('one pod per node, control-plane nodes included, listening on the node\'s address only, no prometheus.io annotations', () => {
    // Every NoSchedule taint: control-plane nodes, GPU and dedicated pools.
    expect(spec.tolerations).toEqual([{ operator: 'Exists', effect: 'NoSchedule' }]);
    expect(spec.hostPID ?? false).toBe(false);
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

  test('every query of the Nodes dashboard returns data for the node, the variable lists it', async () => {
    const d: Json = JSON.parse(renderDashboards({ loki: false, alertmanager: false, nodeExporter: true }).get(NODES_DASHBOARD_FILE)!);
    const exprs = (d.panels as Json[]).flatMap((p) => (p.targets ?? []).map((t: Json) => t.expr as string));
    expect(exprs.length).toBe(13);
    for (const expr of exprs) {
      const q = expr.replace(/\$node/g, NODE).replace(/\$__rate_interval/g, '10s');
      const r = await prometheus.queryUntilData(q, 20_000, `data for ${q}`);
      expect({ q, nodes: [...new Set(r.map((x) => x.metric.node))] }).toEqual({ q, nodes: [NODE] });
      // Disks and interfaces one line each, never summed (stacked devices would count the same bytes twice).
      if (/node_(disk|network)_/.test(q)) expect({ q, devices: r.every((x) => x.metric.device !== undefined) }).toEqual({ q, devices: true });
    }
    const variable = /^label_values\((.+), (\w+)\)$/.exec(d.templating.list[0].query.query)!;
    const res = await fetch(`${prometheus.url}/api/v1/label/${variable[2]}/values?match[]=${encodeURIComponent(variable[1])}`);
    expect(((await res.json()) as { data: string[] }).data).toEqual([NODE]);
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

describe('the DaemonSet\'s device filters, applied by the real node-exporter to a node with pods', () => {
  const line = (name: string, rx: number) => `${name.padStart(16)}: ${rx} 10 0 0 0 0 0 0 ${rx} 10 0 0 0 0 0 0`;
  // A node's interfaces: its own, a veth end of a pod, Calico's, and a 15-hex-digit one (another CNI's).
  const NET_DEV = [
    'Inter-|   Receive                                                |  Transmit',
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
    line('lo', 100), line('eth0', 2000), line('veth3f2a1b0', 300), line('cali1a2b3c4d5e6', 400), line('0123456789abcde', 500), line('cni0', 600),
  ].join('\n') + '\n';
  let exporter: RunningNodeExporter;

  beforeAll(async () => {
    const container = find(synthObjects(), 'DaemonSet', 'node-exporter', 'monitoring-agent').spec.template.spec.containers[0];
    exporter = await startNodeExporter(container.args, { procNetDev: NET_DEV, extraArgs: ['--no-collector.netdev.netlink'] });
  });
  afterAll(async () => exporter?.stop());

  test('it listens on the bracketed address the DaemonSet gives it', () => {
    expect(exporter.args.find((a) => a.startsWith('--web.listen-address='))).toMatch(/^--web\.listen-address=\[127\.0\.0\.1\]:\d+$/);
  });

  test('netdev counts the node\'s interfaces and leaves out the pods\' ends', async () => {
    const text = await (await fetch(`http://${exporter.address}/metrics`)).text();
    const devices = [...text.matchAll(/^node_network_receive_bytes_total\{device="([^"]+)"\} (\S+)$/gm)].map((m) => [m[1], Number(m[2])]);
    expect(devices.sort()).toEqual([['cni0', 600], ['eth0', 2000], ['lo', 100]]);
  });
});

describe('the nodes\' alerts (promtool test rules): each fires on its failure, at its severity, and stays quiet without it', () => {
  const rules = renderAlertRules({ nodeExporter: true });
  const node = (n: string) => `job="node-exporter",node="${n}",instance="${n}"`;
  const fs = (mount: string, device: string) => `${node('n1')},device="${device}",mountpoint="${mount}",fstype="ext4"`;
  const ROOT = fs('/', '/dev/vda1');
  const DATA = fs('/data', '/dev/vdb');
  const SNAP = fs('/snap/core', '/dev/loop0');
  const series = (bad: boolean) => [
    // "/": 30% free and losing 1 byte a minute (gone in under 24 hours, not in 4); 2% of its inodes free.
    { series: `node_filesystem_size_bytes{${ROOT}}`, values: '1000x80' },
    { series: `node_filesystem_avail_bytes{${ROOT}}`, values: bad ? '300-1x80' : '800x80' },
    { series: `node_filesystem_files{${ROOT}}`, values: '1000x80' },
    { series: `node_filesystem_files_free{${ROOT}}`, values: bad ? '20x80' : '900x80' },
    { series: `node_filesystem_readonly{${ROOT}}`, values: '0x80' },
    // "/data": 4% free, steady.
    { series: `node_filesystem_size_bytes{${DATA}}`, values: '1000x80' },
    { series: `node_filesystem_avail_bytes{${DATA}}`, values: bad ? '40x80' : '600x80' },
    { series: `node_filesystem_files{${DATA}}`, values: '1000x80' },
    { series: `node_filesystem_files_free{${DATA}}`, values: '900x80' },
    { series: `node_filesystem_readonly{${DATA}}`, values: '0x80' },
    // A read-only squashfs that is always full: never an alert.
    { series: `node_filesystem_size_bytes{${SNAP}}`, values: '1000x80' },
    { series: `node_filesystem_avail_bytes{${SNAP}}`, values: '0x80' },
    { series: `node_filesystem_files{${SNAP}}`, values: '1000x80' },
    { series: `node_filesystem_files_free{${SNAP}}`, values: '0x80' },
    { series: `node_filesystem_readonly{${SNAP}}`, values: '1x80' },
    { series: `node_memory_MemTotal_bytes{${node('n1')}}`, values: '1000x80' },
    { series: `node_memory_MemAvailable_bytes{${node('n1')}}`, values: bad ? '50x80' : '500x80' },
    { series: `up{${node('n1')}}`, values: '1x80' },
    { series: `up{${node('n2')}}`, values: bad ? '0x80' : '1x80' },
  ];
  const labels = (s: string, severity: string) => ({ ...Object.fromEntries([...s.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]])), severity });
  const fired: Array<[string, Array<[Record<string, string>, string]>]> = [
    ['NodeExporterDown', [[labels(node('n2'), 'warning'), '0']]],
    ['NodeFilesystemSpaceFillingUp', [[labels(ROOT, 'warning'), '23.00']]],
    ['NodeFilesystemAlmostOutOfSpace', [[labels(DATA, 'warning'), '4.00']]],
    ['NodeFilesystemAlmostOutOfFiles', [[labels(ROOT, 'warning'), '2.00'], [labels(ROOT, 'critical'), '2.00']]],
    ['NodeMemoryHighUtilization', [[labels(node('n1'), 'warning'), '95%']]],
  ];

  test.each([true, false])('with the failures: %s', (bad) => {
    const all = rules.groups.flatMap((g) => g.rules);
    const fill = (text: string, l: Record<string, string>, value: string) => text
      .replace(/\{\{ \$labels\.(\w+) \}\}/g, (_m, k) => l[k] ?? '')
      .replace(/\{\{ printf "%\.2f" \$value \}\}|\{\{ \$value \| humanizePercentage \}\}/g, value);
    const tests = [{
      interval: '1m',
      input_series: series(bad),
      alert_rule_test: fired.map(([alertname, alerts]) => ({
        eval_time: '70m',
        alertname,
        exp_alerts: bad ? alerts.map(([l, value]) => {
          const rule = all.find((r) => r.alert === alertname && r.labels?.severity === l.severity)!;
          return { exp_labels: l, exp_annotations: Object.fromEntries(Object.entries(rule.annotations!).map(([k, v]) => [k, fill(v, l, value)])) };
        }) : [],
      })),
    }];
    const result = promtoolTestRules(stringify({ rule_files: [RULES_FILE], evaluation_interval: '1m', tests }), { [RULES_FILE]: toYaml(rules) });
    expect(result.output).toContain('SUCCESS');
    expect(result.ok).toBe(true);
  });

  test('a file system filling up fast is critical: 13% free, gone within 4 hours', () => {
    const tests = [{
      interval: '1m',
      input_series: [
        { series: `node_filesystem_size_bytes{${ROOT}}`, values: '1000x80' },
        { series: `node_filesystem_avail_bytes{${ROOT}}`, values: '200-1x80' },
        { series: `node_filesystem_readonly{${ROOT}}`, values: '0x80' },
      ],
      alert_rule_test: [{
        eval_time: '70m',
        alertname: 'NodeFilesystemSpaceFillingUp',
        exp_alerts: ['warning', 'critical'].map((severity) => ({
          exp_labels: labels(ROOT, severity),
          exp_annotations: {
            summary: `A file system of n1 is predicted to run out of space within ${severity === 'warning' ? 24 : 4} hours`,
            description: 'The file system on /dev/vda1, mounted on /, at n1 has 13.00% of its space left and is filling up.',
            runbook: 'First: what grows (du on the mount point; on Kubernetes often images and container logs: crictl rmi --prune, the kubelet\'s image GC thresholds), then a larger disk.',
          },
        })),
      }],
    }];
    const result = promtoolTestRules(stringify({ rule_files: [RULES_FILE], evaluation_interval: '1m', tests }), { [RULES_FILE]: toYaml(rules) });
    expect(result.output).toContain('SUCCESS');
    expect(result.ok).toBe(true);
  });

  test('these five are every alert of the nodes group, which is there only with node-exporter', () => {
    expect([...new Set(rules.groups.find((g) => g.name === 'nodes')!.rules.map((r) => r.alert))].sort()).toEqual(fired.map(([a]) => a).sort());
    expect(renderAlertRules({ nodeExporter: false }).groups.map((g) => g.name)).not.toContain('nodes');
  });
});

// A stand-in for a node's kubelet: HTTPS on loopback with a certificate made here, /metrics/cadvisor and
// /metrics in the exposition format the kubelet serves, and the bearer-token check the kubelet's webhook
// authentication does (here: the token must be the one expected, else 401).
//
// The series are written here, not copied: their names come from cAdvisor's collector
// (google/cadvisor@v0.60.5 lib/metrics/prometheus.go) and the kubelet's own metrics, and their labels are the
// ones the kubelet sets on every cAdvisor series: id, name, image, pod, namespace, container, empty when
// unknown (kubernetes/kubernetes pkg/kubelet/server/server.go containerPrometheusLabelsFunc), plus per-metric
// labels (cpu, interface, device, scope, state). See ../shared/reference/cluster-metrics-facts.md §1.5-1.6.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { tempDir } from '../helpers/temp-dir';

/** A CA, and a serving certificate for 127.0.0.1 that it signed. */
export interface TestCertificates {
  readonly caCrt: string;
  readonly serverCrt: string;
  readonly serverKey: string;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.error) throw new Error(`could not run openssl: ${r.error.message} (apt-get install openssl)`);
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${r.stderr}`);
}

/** A fresh CA and a certificate for IP 127.0.0.1 signed by it (openssl, EC P-256, one day). */
export function makeCertificates(name: string): TestCertificates {
  const dir = tempDir(`certs-${name}-`);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', `/CN=${name} test CA`], dir);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir);
  fs.writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'ext.cnf'], dir);
  const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
  return { caCrt: read('ca.crt'), serverCrt: read('server.crt'), serverKey: read('server.key') };
}

/** A container a node runs, as the kubelet knows it. */
export interface NodeContainer {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly image: string;
  /** CPU limit in cores: cAdvisor has CFS period series only for containers with one. */
  readonly cpuLimit?: number;
}

type Labels = Record<string, string>;

function series(name: string, labels: Labels, value: number): string {
  const body = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}="${v}"`).join(',');
  return `${name}{${body}} ${value}\n`;
}

/**
 * /metrics/cadvisor of a node running `containers`, `t` seconds after they started: for each pod its pod-level
 * cgroup and its pause (sandbox) container, both `container=""` (containerd), the pause container carrying the
 * pod's network; then each container; then cgroups that belong to no pod (the root, a system slice).
 */
export function cadvisorExposition(containers: readonly NodeContainer[], t: number): string {
  const out: Record<string, { type: string; lines: string[] }> = {};
  const add = (name: string, type: string, labels: Labels, value: number) => {
    (out[name] ??= { type, lines: [] }).lines.push(series(name, labels, value));
  };
  const cgroup = (labels: Labels, cpuSeconds: number, memory: number) => {
    add('container_cpu_usage_seconds_total', 'counter', { ...labels, cpu: 'total' }, cpuSeconds);
    add('container_cpu_user_seconds_total', 'counter', labels, cpuSeconds * 0.7);
    add('container_cpu_system_seconds_total', 'counter', labels, cpuSeconds * 0.3);
    add('container_memory_working_set_bytes', 'gauge', labels, memory);
    add('container_memory_usage_bytes', 'gauge', labels, memory * 1.2);
    add('container_memory_rss', 'gauge', labels, memory * 0.9);
    add('container_memory_swap', 'gauge', labels, 0);
    add('container_memory_mapped_file', 'gauge', labels, 4096);
    add('container_tasks_state', 'gauge', { ...labels, state: 'running' }, 1);
    add('container_last_seen', 'gauge', labels, 1_700_000_000 + t);
  };
  const pods = [...new Map(containers.map((c) => [`${c.namespace}/${c.pod}`, c])).values()];
  pods.forEach((p, i) => {
    const podCgroup = `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${i}aaaa.slice`;
    const pod = { namespace: p.namespace, pod: p.pod };
    cgroup({ ...pod, id: podCgroup, name: '', image: '', container: '' }, 0.02 * t, 40e6);
    const pause = { ...pod, id: `${podCgroup}/cri-containerd-pause${i}.scope`, name: `pause${i}`, image: 'registry.k8s.io/pause:3.10', container: '' };
    cgroup(pause, 0.0001 * t, 300e3);
    add('container_network_receive_bytes_total', 'counter', { ...pause, interface: 'eth0' }, 1000 * t);
    add('container_network_transmit_bytes_total', 'counter', { ...pause, interface: 'eth0' }, 800 * t);
  });
  containers.forEach((c, i) => {
    const labels = { namespace: c.namespace, pod: c.pod, container: c.container, image: c.image, name: `c${i}`, id: `/kubepods.slice/kubepods-burstable.slice/cri-containerd-c${i}.scope` };
    cgroup(labels, 0.01 * (i + 1) * t, (20 + i) * 1e6);
    add('container_fs_reads_total', 'counter', { ...labels, device: '/dev/vda' }, 3 * t);
    add('container_oom_events_total', 'counter', labels, 0);
    add('container_start_time_seconds', 'gauge', labels, 1_700_000_000);
    add('container_spec_memory_limit_bytes', 'gauge', labels, 256e6);
    if (c.cpuLimit !== undefined) {
      add('container_cpu_cfs_periods_total', 'counter', labels, 10 * t);
      add('container_cpu_cfs_throttled_periods_total', 'counter', labels, 2 * t);
      add('container_cpu_cfs_throttled_seconds_total', 'counter', labels, 0.1 * t);
    }
  });
  const none = { namespace: '', pod: '', container: '', image: '', name: '' };
  cgroup({ ...none, id: '/' }, 2 * t, 1.5e9);
  add('container_network_receive_bytes_total', 'counter', { ...none, id: '/', interface: 'eth0' }, 5000 * t);
  cgroup({ ...none, id: '/system.slice/containerd.service' }, 0.05 * t, 80e6);
  add('machine_cpu_cores', 'gauge', { boot_id: 'b', machine_id: 'm', system_uuid: 's' }, 4);
  add('machine_memory_bytes', 'gauge', { boot_id: 'b', machine_id: 'm', system_uuid: 's' }, 8e9);
  return Object.entries(out).map(([name, { type, lines }]) => `# TYPE ${name} ${type}\n${lines.join('')}`).join('');
}

/** /metrics of the kubelet itself: the series the stack's rules read, and a few of its own. */
export function kubeletExposition(node: string, t: number): string {
  return [
    '# TYPE kubelet_node_name gauge\n', series('kubelet_node_name', { node }, 1),
    '# TYPE kubelet_running_pods gauge\n', series('kubelet_running_pods', {}, 12),
    '# TYPE kubelet_volume_stats_available_bytes gauge\n', series('kubelet_volume_stats_available_bytes', { namespace: 'monitoring', persistentvolumeclaim: 'prometheus-data' }, 6e9 - t * 1e3),
    '# TYPE kubelet_volume_stats_capacity_bytes gauge\n', series('kubelet_volume_stats_capacity_bytes', { namespace: 'monitoring', persistentvolumeclaim: 'prometheus-data' }, 8e9),
  ].join('');
}

export interface StandInKubelet {
  readonly port: number;
  /** The Authorization headers of every request so far. */
  readonly authorizations: string[];
  close(): Promise<void>;
}

/** An HTTPS server on 127.0.0.1 answering /metrics/cadvisor and /metrics like a kubelet, 401 without the token. */
export async function startStandInKubelet(opts: { certs: TestCertificates; token: string; node: string; containers: readonly NodeContainer[] }): Promise<StandInKubelet> {
  const started = Date.now();
  const authorizations: string[] = [];
  const server = https.createServer({ cert: opts.certs.serverCrt, key: opts.certs.serverKey }, (req, res) => {
    authorizations.push(req.headers.authorization ?? '');
    if (req.headers.authorization !== `Bearer ${opts.token}`) {
      res.writeHead(401, { 'Content-Type': 'text/plain' });
      res.end('Unauthorized\n');
      return;
    }
    const t = (Date.now() - started) / 1000 + 1;
    const pathname = (req.url ?? '').split('?')[0];
    const body = pathname === '/metrics/cadvisor' ? cadvisorExposition(opts.containers, t) : pathname === '/metrics' ? kubeletExposition(opts.node, t) : undefined;
    if (body === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    authorizations,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

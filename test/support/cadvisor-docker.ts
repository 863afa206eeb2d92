// A stand-in for cAdvisor on a docker host: the exposition format cAdvisor serves at /metrics for Docker's
// containers, with the flags the compose service passes (--store_container_labels=false with the compose
// labels whitelisted, --enable_metrics=cpu,memory,network). Written here, not copied: names and labels from
// google/cadvisor@v0.60.5 lib/metrics/prometheus.go (baseLabelsFunc: id, name, image; then
// container_label_<sanitized> for each whitelisted label the container has, "" when it lacks one; the
// per-metric cpu and interface labels) and the machine_* series it serves besides.

/** A container on the host as Docker runs it: its compose project and service (absent: not a compose container). */
export interface DockerContainer {
  readonly name: string;
  readonly image: string;
  readonly project?: string;
  readonly service?: string;
  /** Whether it has a CPU limit (cAdvisor serves the CFS series only then). */
  readonly cpuLimit?: boolean;
}

type Labels = Record<string, string>;

/**
 * cAdvisor stamps each sample with the time of the container's last housekeeping (lib/metrics/prometheus.go
 * NewMetricWithTimestamp), which lags by up to its max_housekeeping_interval (60 s): here, 70 s. A job that
 * honoured them would see no sample in a short rate window.
 */
const LAG_MS = 70_000;

function series(name: string, labels: Labels, value: number): string {
  const body = Object.keys(labels).sort().map((k) => `${k}="${labels[k]}"`).join(',');
  return `${name}{${body}} ${value} ${Date.now() - LAG_MS}`;
}

/** The exposition at `t` seconds since start: counters grow with t. */
export function dockerCadvisorExposition(containers: readonly DockerContainer[], t: number): string {
  const out: Record<string, { type: string; lines: string[] }> = {};
  const add = (name: string, type: string, labels: Labels, value: number) => (out[name] ??= { type, lines: [] }).lines.push(series(name, labels, value));
  // The root cgroup ("/"): no name, image or container labels (--docker_only keeps it).
  const root = { id: '/', name: '', image: '', container_label_com_docker_compose_project: '', container_label_com_docker_compose_service: '' };
  add('container_cpu_usage_seconds_total', 'counter', { ...root, cpu: 'total' }, 5 * t);
  add('container_memory_working_set_bytes', 'gauge', root, 2e9);
  containers.forEach((c, i) => {
    const id = `/system.slice/docker-${String(i).padStart(64, 'a')}.scope`;
    const labels = {
      id, name: c.name, image: c.image,
      container_label_com_docker_compose_project: c.project ?? '',
      container_label_com_docker_compose_service: c.service ?? '',
    };
    add('container_cpu_usage_seconds_total', 'counter', { ...labels, cpu: 'total' }, 0.01 * (i + 1) * t);
    add('container_memory_working_set_bytes', 'gauge', labels, (30 + i) * 1e6);
    add('container_memory_usage_bytes', 'gauge', labels, (40 + i) * 1e6);
    add('container_network_receive_bytes_total', 'counter', { ...labels, interface: 'eth0' }, 1000 * (i + 1) * t);
    add('container_network_transmit_bytes_total', 'counter', { ...labels, interface: 'eth0' }, 500 * (i + 1) * t);
    if (c.cpuLimit) {
      add('container_cpu_cfs_periods_total', 'counter', labels, 10 * t);
      add('container_cpu_cfs_throttled_periods_total', 'counter', labels, 3 * t);
    }
  });
  add('machine_cpu_cores', 'gauge', { boot_id: 'b', machine_id: 'm', system_uuid: 's' }, 4);
  add('cadvisor_version_info', 'gauge', { cadvisorRevision: 'x', cadvisorVersion: 'v0.60.5', dockerVersion: '29.1.0', kernelVersion: '6.8.0', osVersion: 'Alpine Linux v3.23' }, 1);
  return Object.entries(out).map(([name, m]) => `# TYPE ${name} ${m.type}\n${m.lines.join('\n')}\n`).join('');
}

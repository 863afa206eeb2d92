// Tests for the Prometheus helpers, against the real Debian prometheus/promtool 2.42.
import * as http from 'node:http';
import { parse, stringify } from 'yaml';
import {
  freePort,
  promtoolCheckConfig,
  promtoolCheckRules,
  promtoolTestRules,
  serveMetrics,
  startPrometheus,
  waitFor,
  withFileSd,
  type RunningPrometheus,
} from './prometheus';

jest.setTimeout(60_000);

// The pod-annotation job (config-facts.md §4), trimmed to what these tests exercise.
const k8sConfigYaml = `
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: kubernetes-pods
    honor_labels: true
    kubernetes_sd_configs: [{role: pod}]
    relabel_configs:
      - {source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape], action: keep, regex: true}
      - {source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path], regex: '(.+)', target_label: __metrics_path__}
      - {source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port], regex: '([^:]+)(?::\\d+)?;(\\d+)', replacement: '$1:$2', target_label: __address__}
      - {action: labelmap, regex: '__meta_kubernetes_pod_label_(.+)'}
      - {source_labels: [__meta_kubernetes_namespace], target_label: namespace}
      - {source_labels: [__meta_kubernetes_pod_name], target_label: pod}
  - job_name: static
    static_configs: [{targets: ['127.0.0.1:1']}]
`;

/** The labels Kubernetes pod SD would give a pod of the demo app, with its scrape annotations. */
function podLabels(port: number, scrape: 'true' | 'false', pod: string): Record<string, string> {
  return {
    __meta_kubernetes_namespace: 'demo',
    __meta_kubernetes_pod_name: pod,
    __meta_kubernetes_pod_label_app: 'demo-app',
    __meta_kubernetes_pod_annotation_prometheus_io_scrape: scrape,
    __meta_kubernetes_pod_annotation_prometheus_io_port: String(port),
    __meta_kubernetes_pod_annotation_prometheus_io_path: '/metrics',
  };
}

describe('promtool', () => {
  test('check config rejects an unknown key and accepts a valid config', () => {
    const valid = 'scrape_configs:\n  - job_name: app\n    static_configs: [{targets: ["localhost:8080"]}]\n';
    expect(promtoolCheckConfig(valid)).toEqual({ ok: true, output: expect.stringContaining('SUCCESS') });

    const unknownKey = valid + '    bogus_key: 1\n';
    const result = promtoolCheckConfig(unknownKey);
    expect(result.ok).toBe(false);
    expect(result.output).toContain('field bogus_key not found in type config.ScrapeConfig');
  });

  test('check config reads the extra files: a missing rule file fails, the same file given passes', () => {
    const config = 'rule_files: [rules/alerts.yml]\n';
    const rules = 'groups:\n  - name: g\n    rules:\n      - {alert: Down, expr: up == 0}\n';
    expect(promtoolCheckConfig(config).ok).toBe(false);
    expect(promtoolCheckConfig(config, { 'rules/alerts.yml': rules })).toEqual({ ok: true, output: expect.stringContaining('1 rules found') });
  });

  test('check config: Debian has no kubernetes_sd_configs; withFileSd makes the same job pass', () => {
    const raw = promtoolCheckConfig(k8sConfigYaml);
    expect(raw.ok).toBe(false);
    expect(raw.output).toContain('field kubernetes_sd_configs not found');

    const { config, files } = withFileSd(parse(k8sConfigYaml), {
      'kubernetes-pods': [{ targets: ['10.0.0.7:8080'], labels: podLabels(8080, 'true', 'demo-0') }],
    });
    expect(promtoolCheckConfig(stringify(config), files)).toEqual({ ok: true, output: expect.stringContaining('SUCCESS') });
  });

  test('check rules accepts a valid rule file and rejects a broken expression', () => {
    expect(promtoolCheckRules('groups:\n  - name: g\n    rules:\n      - {record: job:up:sum, expr: sum by (job) (up)}\n').ok).toBe(true);
    const broken = promtoolCheckRules('groups:\n  - name: g\n    rules:\n      - {record: job:up:sum, expr: sum by (job) (up}\n');
    expect(broken.ok).toBe(false);
    expect(broken.output).toMatch(/parse error/);
  });

  test('test rules passes a true expectation and fails a false one', () => {
    const rules = 'groups:\n  - name: g\n    rules:\n      - alert: Down\n        expr: up == 0\n        for: 1m\n';
    const testFor = (expectedAlerts: string) => `
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - {series: 'up{job="app", instance="a:1"}', values: '0 0 0 0'}
    alert_rule_test:
      - eval_time: 3m
        alertname: Down
        exp_alerts: ${expectedAlerts}
`;
    const firing = '[{exp_labels: {job: app, instance: "a:1", alertname: Down}}]';
    expect(promtoolTestRules(testFor(firing), { 'rules.yml': rules })).toEqual({ ok: true, output: expect.stringContaining('SUCCESS') });

    const wrong = promtoolTestRules(testFor('[]'), { 'rules.yml': rules });
    expect(wrong.ok).toBe(false);
    expect(wrong.output).toContain('FAILED');
  });

  test('refuses file names outside the temp dir or clashing with its own file', () => {
    expect(() => promtoolCheckConfig('{}', { '../escape.yml': '' })).toThrow('must be a relative path inside the temp dir');
    expect(() => promtoolCheckConfig('{}', { 'prometheus.yml': '' })).toThrow('reserved');
  });
});

describe('withFileSd', () => {
  test('swaps kubernetes_sd_configs for file_sd_configs in place, keeps relabel_configs, copies deeply', () => {
    const original = parse(k8sConfigYaml);
    const before = structuredClone(original);
    const groups = [{ targets: ['10.0.0.7:8080'], labels: podLabels(8080, 'true', 'demo-0') }];

    const { config, files } = withFileSd(original, { 'kubernetes-pods': groups });

    const job = config.scrape_configs[0];
    expect(Object.keys(job)).toEqual(['job_name', 'honor_labels', 'file_sd_configs', 'relabel_configs']);
    expect(job.file_sd_configs).toEqual([{ files: ['sd-kubernetes-pods.json'] }]);
    expect(job.relabel_configs).toEqual(before.scrape_configs[0].relabel_configs);
    expect(config.scrape_configs[1]).toEqual(before.scrape_configs[1]); // jobs without kubernetes SD untouched
    expect(JSON.parse(files['sd-kubernetes-pods.json'])).toEqual(groups);
    expect(Object.keys(files)).toEqual(['sd-kubernetes-pods.json']);
    expect(original).toEqual(before); // the input is not modified
  });

  test('a job given no targets gets an empty file; a name without kubernetes SD throws', () => {
    expect(withFileSd(parse(k8sConfigYaml), {}).files).toEqual({ 'sd-kubernetes-pods.json': '[]\n' });
    expect(() => withFileSd(parse(k8sConfigYaml), { static: [] })).toThrow(
      'withFileSd: no scrape job with kubernetes_sd_configs named "static"; jobs with kubernetes_sd_configs: ["kubernetes-pods"]',
    );
  });
});

describe('waitFor', () => {
  test('returns the first value that is not undefined/null/false', async () => {
    let calls = 0;
    await expect(waitFor(async () => (++calls >= 3 ? 0 : false), 5_000, 'the third call', 10)).resolves.toBe(0);
    expect(calls).toBe(3);
  });

  test('times out with an error naming what it waited for and the last value', async () => {
    await expect(waitFor(async () => false, 300, 'a miracle', 50)).rejects.toThrow(
      /^timed out after 300 ms waiting for a miracle; last value: false$/,
    );
    await expect(waitFor(async () => { throw new Error('boom'); }, 100, 'x', 20)).rejects.toThrow("last value: 'error: boom'");
  });
});

describe('serveMetrics', () => {
  test('serves the body on /metrics with the 0.0.4 text content type, 404 elsewhere', async () => {
    const server = await serveMetrics('demo_value 42\n');
    try {
      const ok = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(await ok.text()).toBe('demo_value 42\n');
      const missing = await fetch(`http://127.0.0.1:${server.port}/other`);
      expect(missing.status).toBe(404);
      await missing.arrayBuffer();
    } finally {
      await server.close();
    }
  });
});

describe('startPrometheus', () => {
  test('rejects with the log when the config is invalid', async () => {
    await expect(startPrometheus({ config: 'scrape_configs: [{job_name: x, bogus: 1}]\n' })).rejects.toThrow(
      /prometheus exited before it was ready[\s\S]*field bogus not found/,
    );
  });

  describe('against a real /metrics endpoint through file_sd with pod labels', () => {
    let app: { port: number; close: () => Promise<void> };
    let prom: RunningPrometheus;
    let closedPort: number;

    beforeAll(async () => {
      app = await serveMetrics('# HELP demo_value A value.\n# TYPE demo_value gauge\ndemo_value 42\n');
      closedPort = await freePort(); // nothing listens there: connection refused
      const { config, files } = withFileSd(parse(k8sConfigYaml), {
        'kubernetes-pods': [
          // The pod IP is 127.0.0.1 and the container port 9; the annotation's port wins (relabelling).
          { targets: ['127.0.0.1:9'], labels: podLabels(app.port, 'true', 'demo-0') },
          { targets: ['127.0.0.1:9'], labels: podLabels(closedPort, 'true', 'demo-down') },
          { targets: ['127.0.0.2:9'], labels: podLabels(app.port, 'false', 'not-annotated') },
        ],
      });
      prom = await startPrometheus({ config: stringify(config), files });
    });

    afterAll(async () => {
      await prom?.stop();
      await app?.close();
    });

    test('listens on a random loopback port, not 9090', () => {
      expect(prom.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(prom.url).not.toBe('http://127.0.0.1:9090');
    });

    test('the annotated pod is scraped: up == 1 with the relabelled labels, and its sample arrives', async () => {
      const up = await prom.waitFor(
        async () => (await prom.query('up{pod="demo-0"} == 1'))[0],
        30_000,
        'up{pod="demo-0"} == 1',
      );
      expect(up.metric).toEqual({
        __name__: 'up',
        job: 'kubernetes-pods',
        instance: `127.0.0.1:${app.port}`,
        namespace: 'demo',
        pod: 'demo-0',
        app: 'demo-app',
      });
      const sample = await prom.waitFor(async () => (await prom.query('demo_value{pod="demo-0"}'))[0], 30_000, 'demo_value');
      expect(sample.value[1]).toBe('42');
    });

    test('a target on a closed port has up == 0', async () => {
      const down = await prom.waitFor(async () => (await prom.query('up{pod="demo-down"}'))[0], 30_000, 'up{pod="demo-down"}');
      expect(down.value[1]).toBe('0');
    });

    test('the pod without prometheus.io/scrape=true is dropped by relabelling', async () => {
      const { activeTargets, droppedTargets } = await prom.targets();
      expect(activeTargets.map((t) => t.labels.pod).sort()).toEqual(['demo-0', 'demo-down']);
      expect(droppedTargets.map((t) => t.discoveredLabels.__meta_kubernetes_pod_name)).toContain('not-annotated');
    });

    test('query errors are thrown with the message from Prometheus', async () => {
      await expect(prom.query('sum(')).rejects.toThrow(/query sum\( failed \(HTTP 400\): bad_data: .*parse error/);
    });
  });

  test('stop() ends the process and frees its port', async () => {
    const prom = await startPrometheus({ config: 'global: {scrape_interval: 1s}\n' });
    const port = Number(new URL(prom.url).port);
    await prom.stop();
    await expect(canConnect(port)).resolves.toBe(false);
  });
});

/** True when something accepts TCP connections on 127.0.0.1:port. */
function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/-/ready', agent: false }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
  });
}

/**
 * `npm run status` against a Kubernetes API on loopback: a small HTTP server that answers the apps/v1
 * read calls the way an API server does (there is no cluster on our machines). The client is the real
 * @kubernetes/client-node, configured from a real kubeconfig file. It is an ES module, which Jest's
 * CommonJS runtime cannot load, so the tests run the real command in a child process.
 */
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { GRAFANA_ADMIN_PASSWORD_COMMAND, parseStackConfig, renderManifests, StackInput } from '../lib';
import { LOKI_RING_INPUT, synthObjects } from './helpers/stack';
import { tempDir as makeTempDir } from './helpers/temp-dir';
import { kubeconfigYaml } from './support/kubeconfig';
import { runScript } from './support/run-script';


/** Status documents by "kind/namespace/name"; anything else is a 404 Status, as from an API server. */
type Objects = Map<string, any>;

function deployment(ns: string, name: string, replicas: number, ready: number, generation = 1, observed = 1): any {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: ns, generation },
    spec: { replicas, selector: { matchLabels: { a: 'b' } }, template: { spec: { containers: [] } } },
    status: { observedGeneration: observed, replicas, updatedReplicas: replicas, readyReplicas: ready, availableReplicas: ready },
  };
}

function statefulSet(ns: string, name: string, replicas: number, ready: number, updated = replicas): any {
  return {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name, namespace: ns, generation: 1 },
    spec: { replicas, serviceName: name, selector: { matchLabels: { a: 'b' } }, template: { spec: { containers: [] } } },
    status: { observedGeneration: 1, replicas, readyReplicas: ready, currentReplicas: replicas, updatedReplicas: updated, availableReplicas: ready },
  };
}

function daemonSet(ns: string, name: string, desired: number, ready: number): any {
  return {
    apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name, namespace: ns, generation: 1 },
    spec: { selector: { matchLabels: { a: 'b' } }, template: { spec: { containers: [] } } },
    status: { observedGeneration: 1, desiredNumberScheduled: desired, currentNumberScheduled: desired, numberMisscheduled: 0, numberReady: ready, updatedNumberScheduled: desired },
  };
}

async function fakeApiServer(objects: Objects): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/(deployments|statefulsets|daemonsets)\/([^/?]+)/.exec(req.url ?? '');
    const kinds: Record<string, string> = { deployments: 'Deployment', statefulsets: 'StatefulSet', daemonsets: 'DaemonSet' };
    const key = m && `${kinds[m[2]]}/${m[1]}/${m[3]}`;
    const body = key ? objects.get(key) : undefined;
    res.setHeader('Content-Type', 'application/json');
    if (req.headers.authorization !== 'Bearer test-token') {
      res.statusCode = 401;
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401 }));
    } else if (body) {
      res.end(JSON.stringify(body));
    } else {
      res.statusCode = 404;
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `${req.url} not found` }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, requests, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}


function allReady(refs: WorkloadRef[]): Objects {
  return new Map(refs.map((r) => [`${r.kind}/${r.namespace}/${r.name}`, r.kind === 'Deployment' ? deployment(r.namespace, r.name, 1, 1) : daemonSet(r.namespace, r.name, 1, 1)]));
}

interface WorkloadRef { kind: string; namespace: string; name: string }

const refs: WorkloadRef[] = synthObjects().filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet')
  .map((o) => ({ kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name }));

/** Synthesizes the manifests of `input` into a fresh folder, as `npm run synth` writes dist/. */
function synthesizedDist(input: StackInput): string {
  const dir = makeTempDir('status-dist-');
  for (const [name, content] of renderManifests(parseStackConfig(input))) fs.writeFileSync(path.join(dir, name), content);
  return dir;
}

/** Runs `npm run status` (the script behind it) with a kubeconfig pointing at `server`, on the repository's dist/ unless --dist says otherwise. */
function status(server: string, args: string[] = [], token?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeconfig-'));
  fs.writeFileSync(path.join(dir, 'config'), kubeconfigYaml(server, token));
  return runScript('scripts/status.ts', args, { KUBECONFIG: path.join(dir, 'config'), STACK_CONFIG: '', CDK8S_OUTDIR: '' })
    .finally(() => fs.rmSync(dir, { recursive: true, force: true }));
}

test('the stack\'s workloads are the synthesized Deployments and DaemonSets', () => {
  expect(renderManifests(parseStackConfig({})).size).toBe(2);
  expect(refs.map((r) => `${r.kind}/${r.namespace}/${r.name}`).sort()).toEqual([
    'DaemonSet/monitoring-agent/node-exporter',
    'DaemonSet/monitoring-agent/promtail',
    'Deployment/demo/demo-app',
    'Deployment/demo/demo-app-traffic',
    'Deployment/monitoring/alertmanager',
    'Deployment/monitoring/grafana',
    'Deployment/monitoring/kube-state-metrics',
    'Deployment/monitoring/loki',
    'Deployment/monitoring/prometheus',
  ]);
});

describe('npm run status, through the real client against an API on loopback', () => {
  test('exits 0 when all is ready, and prints how to reach the UIs and the Grafana password', async () => {
    const api = await fakeApiServer(allReady(refs));
    try {
      const r = await status(api.url);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      for (const ref of refs) expect(r.stdout).toMatch(new RegExp(`${ref.kind}/${ref.name} +${ref.namespace} +1/1 +ready`));
      expect(r.stdout).toContain(GRAFANA_ADMIN_PASSWORD_COMMAND);
      expect(api.requests).toContain('GET /apis/apps/v1/namespaces/monitoring-agent/daemonsets/promtail');
    } finally {
      await api.close();
    }
  });

  test('exits 1 naming what is not ready, stale or missing', async () => {
    const objects = allReady(refs);
    objects.set('Deployment/monitoring/prometheus', deployment('monitoring', 'prometheus', 1, 0));
    objects.set('Deployment/monitoring/grafana', deployment('monitoring', 'grafana', 1, 1, 2, 1));
    objects.set('DaemonSet/monitoring-agent/promtail', daemonSet('monitoring-agent', 'promtail', 3, 2));
    objects.delete('Deployment/monitoring/loki');
    const api = await fakeApiServer(objects);
    try {
      const r = await status(api.url);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/Deployment\/prometheus +monitoring +0\/1 +NOT READY: 0\/1 ready, 1\/1 updated/);
      expect(r.stdout).toMatch(/Deployment\/grafana +monitoring +1\/1 +NOT READY: the controller has not seen the latest change yet/);
      expect(r.stdout).toMatch(/DaemonSet\/promtail +monitoring-agent +2\/3 +NOT READY: 2\/3 ready, 3\/3 updated/);
      expect(r.stdout).toMatch(/Deployment\/loki +monitoring +0\/0 +NOT READY: not found: apply the manifests first \(kubectl apply -f dist\/\)/);
      expect(r.stdout).toMatch(/Deployment\/demo-app +demo +1\/1 +ready/);
      expect(r.stdout).not.toContain('password');
    } finally {
      await api.close();
    }
  });

  test('--wait polls until everything is ready', async () => {
    const objects = allReady(refs);
    objects.set('Deployment/monitoring/loki', deployment('monitoring', 'loki', 1, 0));
    const api = await fakeApiServer(objects);
    // Loki turns ready once the command has read it twice.
    const poll = setInterval(() => {
      if (api.requests.filter((q) => q.includes('/deployments/loki')).length >= 2) objects.set('Deployment/monitoring/loki', deployment('monitoring', 'loki', 1, 1));
    }, 20);
    try {
      const r = await status(api.url, ['--wait', '30']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`waiting: ${refs.length - 1}/${refs.length} ready`);
      expect(r.stdout).toMatch(/Deployment\/loki +monitoring +1\/1 +ready/);
    } finally {
      clearInterval(poll);
      await api.close();
    }
  });

  test('exits 1 with the API server\'s answer when the credentials are refused', async () => {
    const api = await fakeApiServer(allReady(refs));
    try {
      const r = await status(api.url, [], 'wrong-token');
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/Deployment\/prometheus +monitoring +0\/0 +NOT READY: the API server answered 401/);
    } finally {
      await api.close();
    }
  });

  test('checks what was synthesized, with no second flag: Alloy in other namespaces, Grafana off', async () => {
    const input: StackInput = { namespace: 'obs', logAgent: { kind: 'alloy', namespace: 'obs-agent' }, grafana: { enabled: false } };
    const custom: WorkloadRef[] = synthObjects(input).filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet')
      .map((o) => ({ kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name }));
    expect(custom.map((r) => `${r.kind}/${r.namespace}/${r.name}`)).toContain('DaemonSet/obs-agent/alloy');
    const dist = synthesizedDist(input);
    const api = await fakeApiServer(allReady(custom));
    try {
      const r = await status(api.url, ['--dist', dist, '--wait', '5']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      for (const ref of custom) expect(r.stdout).toMatch(new RegExp(`${ref.kind}/${ref.name} +${ref.namespace} +1/1 +ready`));
      expect(r.stdout).not.toContain('promtail');
      expect(r.stdout).not.toContain('not found');
      expect(r.stdout).toContain('kubectl -n obs port-forward svc/prometheus 9090:9090');
      expect(r.stdout).not.toContain('Grafana');
      expect(api.requests).not.toContain('GET /apis/apps/v1/namespaces/monitoring/deployments/prometheus');
    } finally {
      await api.close();
    }
  });

  test('several Loki pods: reads the StatefulSet, ready only when every pod is updated and ready', async () => {
    const dist = synthesizedDist(LOKI_RING_INPUT);
    const workloads: WorkloadRef[] = synthObjects(LOKI_RING_INPUT).filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind))
      .map((o) => ({ kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name }));
    expect(workloads).toContainEqual({ kind: 'StatefulSet', namespace: 'monitoring', name: 'loki' });
    const objects = allReady(workloads.filter((w) => w.kind !== 'StatefulSet'));
    objects.set('StatefulSet/monitoring/loki', statefulSet('monitoring', 'loki', 3, 3, 2));
    const api = await fakeApiServer(objects);
    try {
      const r = await status(api.url, ['--dist', dist]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/StatefulSet\/loki +monitoring +3\/3 +NOT READY: 3\/3 ready, 2\/3 updated/);
      expect(api.requests).toContain('GET /apis/apps/v1/namespaces/monitoring/statefulsets/loki');
      objects.set('StatefulSet/monitoring/loki', statefulSet('monitoring', 'loki', 3, 3));
      const again = await status(api.url, ['--dist', dist]);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/StatefulSet\/loki +monitoring +3\/3 +ready/);
    } finally {
      await api.close();
    }
  });

  test('prints the password command of a Grafana with an existing Secret, read off the synthesized Deployment', async () => {
    const input: StackInput = { grafana: { adminUser: 'root-of-all', adminPasswordSecret: { name: 'grafana-admin', key: 'admin.password' } } };
    const dist = synthesizedDist(input);
    const api = await fakeApiServer(allReady(refs));
    try {
      const r = await status(api.url, ['--dist', dist]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("user root-of-all, password: kubectl -n monitoring get secret grafana-admin -o jsonpath='{.data.admin\\.password}' | base64 -d");
    } finally {
      await api.close();
    }
  });

  test('exits 1 saying what to run when nothing was synthesized there', async () => {
    const empty = makeTempDir('status-empty-');
    const r = await status('http://127.0.0.1:9', ['--dist', empty]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no synthesized workload in ${empty} (no manifests there): run \`npm run synth\` first`);
  });

  test('exits 2 on a bad --wait', async () => {
    const r = await status('http://127.0.0.1:9', ['--wait', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--wait takes a whole number of seconds greater than 0, got "soon"');
  });
});

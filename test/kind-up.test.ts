/**
 * `npm run kind:up` and `kind:down` (scripts/kind-up.ts, scripts/kind-down.ts) with stand-in `kind`, `docker` and
 * `kubectl` executables first on PATH (there is no Docker engine or cluster here): each records its arguments, and
 * answers as the real one does for what kind:up asks (kind get clusters lists the clusters; kind create cluster
 * writes the kind-<name> context into KUBECONFIG; docker info fails without a daemon; kubectl rollout status exits 1
 * on a timeout). The exact commands and their order are asserted, the second run that creates nothing, and each
 * failure's report. The verify step at the end asks the API server of the kubeconfig kind wrote, which the stand-in
 * points at a closed port: it fails at once, naming it, and the cluster is left alone.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse, parseAllDocuments } from 'yaml';
import { parseStackConfig, renderManifests } from '../lib';
import { ROOT } from './helm-support';
import { tempDir } from './helpers/temp-dir';
import { kubeconfigYaml } from './support/kubeconfig';
import { runScript, ScriptRun } from './support/run-script';
import { KubeVersion } from './support/k8s-schema';

const CLUSTER = parse(fs.readFileSync(path.join(ROOT, 'kind', 'cluster.yaml'), 'utf8'));

/** Stand-ins of kind, docker and kubectl that append each call to $CALLS and behave as the env says. */
function standIns(): { bin: string; calls: string; clusters: string; kubeconfig: string; imageId: string } {
  const dir = tempDir('kind-up-');
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  const calls = path.join(dir, 'calls');
  const clusters = path.join(dir, 'clusters');
  fs.writeFileSync(clusters, '');
  const kubeconfig = path.join(dir, 'kubeconfig');
  const record = 'printf "%s\\n" "$(basename "$0") $*" >> "$CALLS"';
  const scripts: Record<string, string> = {
    kind: [
      record,
      'case "$1 $2" in',
      '  "get clusters") cat "$KIND_CLUSTERS" ;;',
      // As kind does: the cluster, and its context kind-<name> in KUBECONFIG (here: an API server that is not there).
      '  "create cluster") echo observability >> "$KIND_CLUSTERS"; cp "$KIND_KUBECONFIG_TEMPLATE" "$KUBECONFIG"; echo "Creating cluster \\"observability\\" ..." ;;',
      '  "delete cluster") echo "Deleting cluster \\"$4\\" ..." ;;',
      'esac',
    ].join('\n'),
    docker: [
      record,
      'case "$1" in',
      '  info) if [ -n "$DOCKER_DOWN" ]; then echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1; fi; echo 29.1.0 ;;',
      '  build) if [ -n "$DOCKER_BUILD_FAILS" ]; then echo "ERROR: failed to solve: process \\"/bin/sh -c npm ci\\" did not complete successfully: exit code: 1" >&2; exit 1; fi; echo "$NEW_IMAGE_ID" > "$IMAGE_ID_FILE" ;;',
      // As docker does: the image's id, or an error when there is no such image.
      '  image) if [ -f "$IMAGE_ID_FILE" ]; then cat "$IMAGE_ID_FILE"; else echo "Error: No such image: $5" >&2; exit 1; fi ;;',
      'esac',
    ].join('\n'),
    kubectl: [
      record,
      'case "$*" in',
      '  *"rollout status $NEVER_READY "*) echo "error: timed out waiting for the condition" >&2; exit 1 ;;',
      '  *"get pods"*) echo "loki-6d9f8b7c5d-q2w3e   0/1   CrashLoopBackOff   4   3m" ;;',
      '  *"get events"*) echo "Warning  BackOff  pod/loki-6d9f8b7c5d-q2w3e  Back-off restarting failed container loki" ;;',
      '  *" logs "*) echo "level=error msg=\\"error initialising module: store\\" err=\\"mkdir /loki/chunks: permission denied\\"" ;;',
      'esac',
    ].join('\n'),
  };
  for (const [name, body] of Object.entries(scripts)) fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'kubeconfig-template'), kubeconfigYaml('http://127.0.0.1:9').replace(/\btest\b/g, 'kind-observability'));
  return { bin, calls, clusters, kubeconfig, imageId: path.join(dir, 'image-id') };
}

/** Runs a script with the stand-ins first on PATH (then the system's, for the shell tools they use), or with `onlyPath` alone. */
async function kindUp(s: ReturnType<typeof standIns>, env: Record<string, string> = {}, script = 'scripts/kind-up.ts', onlyPath?: string): Promise<ScriptRun & { calls: string[] }> {
  // verify (the last step) asks an API server that is not there: it retries for --verify-wait seconds.
  const r = await runScript(script, script.endsWith('kind-up.ts') ? ['--verify-wait', '1'] : [], {
    STACK_CONFIG: '', PATH: onlyPath ?? `${s.bin}${path.delimiter}/usr/bin${path.delimiter}/bin`,
    CALLS: s.calls, KIND_CLUSTERS: s.clusters, KUBECONFIG: s.kubeconfig, KIND_KUBECONFIG_TEMPLATE: path.join(path.dirname(s.bin), 'kubeconfig-template'), NEVER_READY: '',
    IMAGE_ID_FILE: s.imageId, NEW_IMAGE_ID: 'sha256:1111', KIND_CLUSTER_NAME: 'not-this-one', ...env,
  });
  return { ...r, calls: fs.existsSync(s.calls) ? fs.readFileSync(s.calls, 'utf8').trim().split('\n').filter(Boolean) : [] };
}

/** What kind:up synthesizes: the default stack with Grafana on the cluster's mapped NodePort. */
const config = parseStackConfig({ grafana: { service: { type: 'NodePort', nodePort: CLUSTER.nodes[0].extraPortMappings[0].containerPort } } });
const files = [...renderManifests(config).keys()];
const dist = tempDir('kind-dist-');
for (const [f, content] of renderManifests(config)) fs.writeFileSync(path.join(dist, f), content);
// In manifest order, as npm run status reads them (lib/cluster-status.ts; not imported here: it loads the ESM client).
const workloads = files.flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(dist, f), 'utf8')).map((d) => d.toJS()))
  .filter((o) => o?.kind === 'Deployment' || o?.kind === 'DaemonSet').map((o) => ({ kind: o.kind as string, namespace: o.metadata.namespace as string, name: o.metadata.name as string }));

const BEFORE_WAIT = [
  'docker info --format {{.ServerVersion}}',
  'kind get clusters',
];
const IMAGE = [
  'docker image inspect -f {{.Id}} demo-app:0.1.0',
  'docker build --provenance=false -t demo-app:0.1.0 app/',
  'kind load docker-image demo-app:0.1.0 --name observability',
  'docker image inspect -f {{.Id}} demo-app:0.1.0',
];
const APPLY = files.map((f) => `kubectl --context kind-observability apply -f .kind/dist/${f}`);
const IMAGE_AND_APPLY = [...IMAGE, ...APPLY];
const CREATE = 'kind create cluster --name observability --config kind/cluster.yaml';
const WAITS = workloads.map((w) => `kubectl --context kind-observability -n ${w.namespace} rollout status ${w.kind.toLowerCase()}/${w.name} --timeout=300s`);

describe('kind/cluster.yaml', () => {
  test('one node on a pinned kindest/node image of a Kubernetes version the manifests are validated against', () => {
    const image: string = CLUSTER.nodes[0].image;
    const m = /^kindest\/node:v(\d+)\.(\d+)\.\d+@sha256:[0-9a-f]{64}$/.exec(image);
    expect(m).not.toBeNull();
    const versions: KubeVersion[] = ['1.27', '1.36'];
    expect(versions).toContain(`${m![1]}.${m![2]}`);
  });

  test('maps Grafana\'s NodePort to 127.0.0.1 only, the port kind:up gives Grafana', () => {
    expect(CLUSTER.nodes[0].extraPortMappings).toEqual([{ containerPort: 30300, hostPort: 3000, listenAddress: '127.0.0.1', protocol: 'TCP' }]);
    const grafana = parseAllDocuments(fs.readFileSync(path.join(dist, '0001-observability.k8s.yaml'), 'utf8')).map((d) => d.toJS()).find((o) => o?.kind === 'Service' && o.metadata.name === 'grafana');
    expect(grafana.spec).toMatchObject({ type: 'NodePort', ports: [expect.objectContaining({ nodePort: 30300 })] });
  });
});

describe('npm run kind:up', () => {
  test('on a fresh machine: creates the cluster, builds and loads the image, applies namespaces first, waits for each workload, runs verify', async () => {
    const s = standIns();
    const r = await kindUp(s);
    expect(r.calls).toEqual([...BEFORE_WAIT, CREATE, ...IMAGE_AND_APPLY, ...WAITS]);
    expect(files[0]).toBe('0000-observability-namespaces.k8s.yaml');
    for (const [i, w] of workloads.entries()) expect(r.stdout).toContain(`ready ${i + 1}/${workloads.length}: ${w.kind} ${w.namespace}/${w.name}`);
    // verify asked the API server of the context kind wrote, which is not there: said at once, the cluster kept.
    expect(r.stderr).toContain('cannot reach the API server http://127.0.0.1:9 (context kind-observability)');
    expect(r.stderr).toContain('npm run kind:up stopped at step "verify"');
    expect(r.stderr).toContain('The cluster is left as it is');
    expect(r.code).toBe(1);
    // What it applied is the stack with Grafana on the mapped NodePort.
    expect(fs.readFileSync(path.join(ROOT, '.kind', 'dist', '0001-observability.k8s.yaml'), 'utf8')).toBe(renderManifests(config).get('0001-observability.k8s.yaml'));
  }, 60000);

  test('a second run creates nothing: the cluster is kept, the rest is applied again', async () => {
    const s = standIns();
    fs.writeFileSync(s.clusters, 'observability\n');
    fs.copyFileSync(path.join(path.dirname(s.bin), 'kubeconfig-template'), s.kubeconfig);
    const r = await kindUp(s);
    expect(r.calls).toEqual([...BEFORE_WAIT, ...IMAGE_AND_APPLY, ...WAITS]);
    expect(r.stdout).toContain('kind cluster observability exists: kept');
  }, 60000);

  test('a rebuilt image of the app (same tag, new id): its pods are restarted after the apply, and only then', async () => {
    const s = standIns();
    fs.writeFileSync(s.clusters, 'observability\n');
    fs.copyFileSync(path.join(path.dirname(s.bin), 'kubeconfig-template'), s.kubeconfig);
    fs.writeFileSync(s.imageId, 'sha256:1111\n');
    const same = await kindUp(s);
    expect(same.calls).toEqual([...BEFORE_WAIT, ...IMAGE_AND_APPLY, ...WAITS]);
    fs.writeFileSync(s.calls, '');
    const rebuilt = await kindUp(s, { NEW_IMAGE_ID: 'sha256:2222' });
    expect(rebuilt.calls).toEqual([...BEFORE_WAIT, ...IMAGE_AND_APPLY,
      'kubectl --context kind-observability -n demo rollout restart deployment/demo-app',
      'kubectl --context kind-observability -n demo rollout restart deployment/demo-app-traffic',
      ...WAITS]);
  }, 60000);

  test('a workload that never gets ready: the step, the workload, its pods, events and last log lines; nothing after; nothing deleted', async () => {
    const s = standIns();
    const r = await kindUp(s, { NEVER_READY: 'deployment/loki' });
    const loki = WAITS.findIndex((c) => c.includes('deployment/loki'));
    expect(r.calls).toEqual([
      ...BEFORE_WAIT, CREATE, ...IMAGE_AND_APPLY, ...WAITS.slice(0, loki + 1),
      'kubectl --context kind-observability -n monitoring get pods -o wide',
      'kubectl --context kind-observability -n monitoring get events --sort-by=.lastTimestamp',
      'kubectl --context kind-observability -n monitoring logs deployment/loki --all-containers --tail=20',
    ]);
    expect(r.stderr).toContain('npm run kind:up stopped at step "wait": wait: Deployment monitoring/loki did not get ready');
    expect(r.stdout).toContain('CrashLoopBackOff');
    expect(r.stdout).toContain('Back-off restarting failed container loki');
    expect(r.stdout).toContain('mkdir /loki/chunks: permission denied');
    expect(r.code).toBe(1);
  }, 60000);

  test('the image build fails: stops there, applies nothing', async () => {
    const s = standIns();
    const r = await kindUp(s, { DOCKER_BUILD_FAILS: '1' });
    expect(r.calls).toEqual([...BEFORE_WAIT, CREATE, ...IMAGE.slice(0, 2)]);
    expect(r.stderr).toContain('npm run kind:up stopped at step "demo app image": demo app image: `docker build --provenance=false -t demo-app:0.1.0 app/` exited 1');
    expect(r.code).toBe(1);
  }, 60000);

  test('no Docker daemon: stops at once, saying so, before any kind call', async () => {
    const s = standIns();
    const r = await kindUp(s, { DOCKER_DOWN: '1' });
    expect(r.calls).toEqual(['docker info --format {{.ServerVersion}}']);
    expect(r.stderr).toContain('docker: is its daemon running? (start Docker)');
    expect(r.stderr).toContain('Cannot connect to the Docker daemon');
    expect(r.code).toBe(1);
  }, 60000);

  test('a missing tool: names it and where to get it, and runs nothing (PATH: kind and docker only)', async () => {
    const s = standIns();
    const partial = path.join(path.dirname(s.bin), 'partial');
    fs.mkdirSync(partial);
    for (const t of ['kind', 'docker']) fs.copyFileSync(path.join(s.bin, t), path.join(partial, t));
    fs.chmodSync(path.join(partial, 'kind'), 0o755);
    fs.chmodSync(path.join(partial, 'docker'), 0o755);
    const r = await kindUp(s, {}, 'scripts/kind-up.ts', partial);
    expect(r.calls).toEqual([]);
    expect(r.stderr).toContain('npm run kind:up needs kubectl on PATH, and finds it missing:');
    expect(r.stderr).toContain('kubectl: https://kubernetes.io/docs/tasks/tools/');
    expect(r.code).toBe(1);
  }, 60000);

  test('bad settings: refused before anything runs', async () => {
    const s = standIns();
    const bad = path.join(path.dirname(s.bin), 'bad.yaml');
    fs.writeFileSync(bad, 'prometheus:\n  retentionDays: 0\n');
    const r = await kindUp(s, { STACK_CONFIG: bad });
    expect(r.calls).toEqual([]);
    expect(r.stderr).toContain('prometheus.retentionDays must be an integer from 1 to 3650, got 0');
    expect(r.code).toBe(1);
  }, 60000);
});

test('npm run kind:down deletes the cluster of kind/cluster.yaml, and only that', async () => {
  const s = standIns();
  const r = await kindUp(s, {}, 'scripts/kind-down.ts');
  expect(r.calls).toEqual(['kind delete cluster --name observability']);
  expect(r.code).toBe(0);
}, 60000);

// `npm run kind:up [-- --verify-wait SECONDS]`: from nothing to a working stack on kind, in one command. Checks that kind, docker and kubectl
// are there, creates the cluster of kind/cluster.yaml unless it exists, builds the demo app's image and loads it into
// the cluster, synthesizes the stack (STACK_CONFIG honoured; Grafana on the NodePort the cluster maps to
// 127.0.0.1:3000) into .kind/dist/, applies it (namespaces first), waits for every workload with visible progress,
// runs verify, and says how to open Grafana. Safe to run again: what exists is kept and updated. A failed step stops
// the run, says which, shows the workload's pods, events and last log lines, and leaves the cluster as it is
// (`npm run kind:down` deletes it, and only that).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { grafanaAdminPasswordCommand, loadStackInput, parseStackConfig, renderManifests, StackConfigError, StackConfigFileError, StackInput } from '../lib';
import { readSynthesizedStack } from '../lib/cluster-status';
import { readVerifyPlan, verifyStack } from '../lib/verify';
import { loadKubeConfig, option } from './cli';

const ROOT = path.resolve(__dirname, '..');
const CLUSTER_CONFIG = path.join('kind', 'cluster.yaml');
const OUT_DIR = path.join('.kind', 'dist');
const WAIT_SECONDS = 300;

/** Where each tool comes from, for the message when one is missing. */
const TOOLS: Record<string, string> = {
  kind: 'https://kind.sigs.k8s.io/docs/user/quick-start/#installation (v0.32.0 or later: kind/cluster.yaml names its node image)',
  docker: 'https://docs.docker.com/engine/install/ (kind runs its nodes as Docker containers)',
  kubectl: 'https://kubernetes.io/docs/tasks/tools/ (or this project\'s: node scripts/fetch-tools.mjs, then .cache/tools/kubectl on PATH)',
};

class StepFailed extends Error {}

function onPath(tool: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && fs.existsSync(path.join(dir, tool)));
}

/** Runs a command, its output shown as it comes; throws StepFailed naming the step when it fails. */
function run(step: string, command: string, args: string[], options: { capture?: boolean } = {}): string {
  console.log(`$ ${[command, ...args].join(' ')}`);
  const r = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', stdio: options.capture ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
  if (r.error) throw new StepFailed(`${step}: ${command} could not run: ${r.error.message}`);
  if (r.status !== 0) throw new StepFailed(`${step}: \`${[command, ...args].join(' ')}\` exited ${r.status}${options.capture && r.stderr ? `: ${r.stderr.trim()}` : ''}`);
  return r.stdout ?? '';
}

/** The image's id in the local Docker, or "" when it has none. */
function imageId(image: string): string {
  console.log(`$ docker image inspect -f {{.Id}} ${image}`);
  const r = spawnSync('docker', ['image', 'inspect', '-f', '{{.Id}}', image], { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '';
}

/** A command's output for the failure report; never throws. */
function show(command: string, args: string[]): void {
  console.log(`$ ${[command, ...args].join(' ')}`);
  const r = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8' });
  console.log(`${r.stdout ?? ''}${r.stderr ?? ''}`.trimEnd());
}

/** The settings: the user's (STACK_CONFIG), with Grafana on the NodePort kind/cluster.yaml maps to the host. */
function settings(nodePort: number): StackInput {
  const input: StackInput = process.env.STACK_CONFIG ? loadStackInput(process.env.STACK_CONFIG) : {};
  return { ...input, grafana: { ...input.grafana, service: { ...input.grafana?.service, type: 'NodePort', nodePort } } };
}

async function main(): Promise<number> {
  // --verify-wait N: how long verify may wait for metrics and logs to flow (each workload's rollout has its own 300 s).
  const verifyWaitArg = option(process.argv.slice(2), '--verify-wait');
  const verifyWait = verifyWaitArg === undefined ? WAIT_SECONDS : Number(verifyWaitArg);
  if (!(Number.isInteger(verifyWait) && verifyWait > 0)) {
    console.error(`--verify-wait takes a whole number of seconds greater than 0, got ${JSON.stringify(verifyWaitArg)}`);
    return 2;
  }
  const missing = Object.keys(TOOLS).filter((t) => !onPath(t));
  if (missing.length > 0) {
    console.error(`npm run kind:up needs ${missing.join(', ')} on PATH, and finds ${missing.length === 1 ? 'it' : 'them'} missing:\n${missing.map((t) => `  ${t}: ${TOOLS[t]}`).join('\n')}`);
    return 1;
  }
  const cluster = parse(fs.readFileSync(path.join(ROOT, CLUSTER_CONFIG), 'utf8'));
  const name: string = cluster.name;
  const context = `kind-${name}`;
  const nodePort: number = cluster.nodes[0].extraPortMappings[0].containerPort;
  const hostPort: number = cluster.nodes[0].extraPortMappings[0].hostPort;
  let config;
  try {
    config = parseStackConfig(settings(nodePort));
  } catch (e) {
    if (!(e instanceof StackConfigError) && !(e instanceof StackConfigFileError)) throw e;
    console.error(`npm run kind:up: the settings are not valid; nothing was done.\n${e.message}`);
    return 1;
  }
  let step = '';
  let rebuilt = false;
  let workload: { kind: string; namespace: string; name: string } | undefined;
  try {
    step = 'docker';
    run('docker: is its daemon running? (start Docker)', 'docker', ['info', '--format', '{{.ServerVersion}}'], { capture: true });

    step = 'cluster';
    console.log(`\n==> the kind cluster ${name}`);
    const clusters = run(step, 'kind', ['get', 'clusters'], { capture: true }).split('\n').map((l) => l.trim());
    if (clusters.includes(name)) console.log(`kind cluster ${name} exists: kept`);
    // --name as well: KIND_CLUSTER_NAME would otherwise win over the config's name (kind's cli/override.go).
    else run(step, 'kind', ['create', 'cluster', '--name', name, '--config', CLUSTER_CONFIG]);

    if (config.app.enabled) {
      step = 'demo app image';
      const image = `${config.app.image.repository}:${config.app.image.tag}`;
      console.log(`\n==> the demo app's image ${image}`);
      const before = imageId(image);
      // No provenance attestation: with Docker's containerd image store (the default since Docker 29), kind load
      // fails on one ("content digest ... not found", kubernetes-sigs/kind#3795).
      run(step, 'docker', ['build', '--provenance=false', '-t', image, 'app/']);
      run(step, 'kind', ['load', 'docker-image', image, '--name', name]);
      // The tag stays the same: pods running the previous build keep it until they are restarted.
      const after = imageId(image);
      rebuilt = before !== '' && before !== after;
    }

    step = 'synthesize';
    console.log(`\n==> synthesize into ${OUT_DIR}/`);
    const manifests = renderManifests(config);
    const out = path.join(ROOT, OUT_DIR);
    fs.rmSync(out, { recursive: true, force: true });
    fs.mkdirSync(out, { recursive: true });
    for (const [file, content] of manifests) fs.writeFileSync(path.join(out, file), content);
    const files = [...manifests.keys()];

    step = 'apply';
    console.log('\n==> apply (namespaces first)');
    for (const file of files) run(step, 'kubectl', ['--context', context, 'apply', '-f', path.join(OUT_DIR, file)]);
    if (rebuilt) {
      console.log('the demo app\'s image changed: restart its pods');
      const apps = readSynthesizedStack(out).workloads.filter((w) => w.kind === 'Deployment' && [config.app.name, `${config.app.name}-traffic`].includes(w.name));
      for (const w of apps) run(step, 'kubectl', ['--context', context, '-n', w.namespace, 'rollout', 'restart', `deployment/${w.name}`]);
    }

    step = 'wait';
    const { workloads } = readSynthesizedStack(out);
    console.log(`\n==> wait for ${workloads.length} workloads (up to ${WAIT_SECONDS} s each)`);
    for (const [i, w] of workloads.entries()) {
      workload = w;
      run(`wait: ${w.kind} ${w.namespace}/${w.name} did not get ready`, 'kubectl', ['--context', context, '-n', w.namespace, 'rollout', 'status', `${w.kind.toLowerCase()}/${w.name}`, `--timeout=${WAIT_SECONDS}s`]);
      console.log(`ready ${i + 1}/${workloads.length}: ${w.kind} ${w.namespace}/${w.name}`);
    }
    workload = undefined;

    step = 'verify';
    console.log('\n==> verify: metrics and logs flow');
    const kc = loadKubeConfig('npm run kind:up', context);
    if ('error' in kc) throw new StepFailed(`verify: ${kc.error}`);
    if (await verifyStack(kc, readVerifyPlan(out), verifyWait) !== 0) throw new StepFailed('verify: a check failed (above)');
  } catch (e) {
    if (!(e instanceof StepFailed)) throw e;
    console.error(`\nnpm run kind:up stopped at step "${step}": ${e.message}`);
    if (workload) {
      const w = workload;
      console.error(`\nwhat ${w.kind} ${w.namespace}/${w.name} says:`);
      show('kubectl', ['--context', context, '-n', w.namespace, 'get', 'pods', '-o', 'wide']);
      show('kubectl', ['--context', context, '-n', w.namespace, 'get', 'events', '--sort-by=.lastTimestamp']);
      show('kubectl', ['--context', context, '-n', w.namespace, 'logs', `${w.kind.toLowerCase()}/${w.name}`, '--all-containers', '--tail=20']);
    }
    console.error(`\nThe cluster is left as it is for you to look at (kubectl --context ${context} ...); npm run kind:down deletes it.`);
    return 1;
  }
  console.log(`\nThe stack runs on kind cluster ${name} (kubectl --context ${context}).`);
  if (config.grafana.enabled) {
    console.log(`Grafana: http://127.0.0.1:${hostPort}  user ${config.grafana.adminUser}, password:`);
    console.log(`  ${grafanaAdminPasswordCommand(config).replace(/^kubectl /, `kubectl --context ${context} `)}`);
  }
  if (config.prometheus.enabled) console.log(`Prometheus: kubectl --context ${context} -n ${config.namespace} port-forward svc/prometheus 9090:9090`);
  else console.log(`Prometheus: yours (prometheus.enabled false) loads the jobs of: kubectl --context ${context} -n ${config.namespace} get configmap prometheus-scrape-configs`);
  return 0;
}

main().then((code) => process.exit(code), (e: Error) => {
  console.error(e.message);
  process.exit(1);
});

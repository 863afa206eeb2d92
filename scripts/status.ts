// `npm run status [-- --wait SECONDS] [--dist DIR]`: is the stack synthesized into dist/ up on the cluster your
// kubeconfig points at? Reads the manifests `npm run synth` wrote (so a customised stack needs no second
// flag), prints every workload's state and, once all are ready, how to reach the UIs. Exits 0 when
// everything is ready, 1 otherwise, 2 on a bad argument.
import { KubeConfig } from '@kubernetes/client-node';
import { formatStatus, readSynthesizedStack, waitForStack } from '../lib/cluster-status';

/** The value after `flag`, or undefined when the flag is absent. */
function option(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? (args[i + 1] ?? '') : undefined;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const waitIndex = args.indexOf('--wait');
  const waitSeconds = waitIndex >= 0 ? Number(args[waitIndex + 1]) : 0;
  if (waitIndex >= 0 && !(Number.isInteger(waitSeconds) && waitSeconds > 0)) {
    console.error(`--wait takes a whole number of seconds greater than 0, got ${JSON.stringify(args[waitIndex + 1])}`);
    return 2;
  }
  // Where `npm run synth` wrote the manifests (main.ts honours CDK8S_OUTDIR, as `cdk8s synth` does).
  const distArg = option(args, '--dist');
  if (distArg === '') {
    console.error('--dist takes the folder `npm run synth` wrote the manifests to, e.g. --dist dist');
    return 2;
  }
  const dist = distArg ?? (process.env.CDK8S_OUTDIR || 'dist');
  let stack;
  try {
    stack = readSynthesizedStack(dist);
  } catch (e) {
    console.error((e as Error).message);
    return 1;
  }
  const kc = new KubeConfig();
  try {
    kc.loadFromDefault();
  } catch (e) {
    console.error(`npm run status reads your kubeconfig (KUBECONFIG, or ~/.kube/config) and could not: ${(e as Error).message}`);
    return 1;
  }
  const statuses = await waitForStack(kc, stack.workloads, {
    timeoutMs: waitSeconds * 1000,
    onRead: (s) => waitSeconds > 0 && !s.every((x) => x.ok) && console.log(`waiting: ${s.filter((x) => x.ok).length}/${s.length} ready`),
  });
  console.log(formatStatus(statuses));
  if (!statuses.every((s) => s.ok)) return 1;
  if (stack.prometheusNamespace) console.log(`\nPrometheus: kubectl -n ${stack.prometheusNamespace} port-forward svc/prometheus 9090:9090`);
  if (stack.grafana) {
    console.log(`Grafana:    kubectl -n ${stack.grafana.namespace} port-forward svc/grafana 3000:3000`);
    console.log(`            user ${stack.grafana.adminUser}, password: ${stack.grafana.passwordCommand}`);
  }
  return 0;
}

main().then((code) => process.exit(code), (e: Error) => {
  console.error(e.message);
  process.exit(1);
});

// `npm run status [-- --wait SECONDS] [--dist DIR] [--context NAME]`: is the stack synthesized into dist/ up on the cluster your
// kubeconfig points at? Reads the manifests `npm run synth` wrote (so a customised stack needs no second
// flag), prints every workload's state and, once all are ready, how to reach the UIs. Exits 0 when
// everything is ready, 1 otherwise, 2 on a bad argument.
import { startClusterCommand } from './cli';
import { formatStatus, readSynthesizedStack, waitForStack } from '../lib/cluster-status';

async function main(): Promise<number> {
  const start = startClusterCommand('npm run status', readSynthesizedStack);
  if ('code' in start) return start.code;
  const { waitSeconds, read: stack, kc } = start;
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

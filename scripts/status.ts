// `npm run status [-- --wait SECONDS]`: is the synthesized stack up on the cluster your kubeconfig points at?
// Reads the same settings as `npm run synth` (STACK_CONFIG), prints every workload's state and, once all
// are ready, how to reach the UIs. Exits 0 when everything is ready, 1 otherwise.
import { KubeConfig } from '@kubernetes/client-node';
import { grafanaAdminPasswordCommand, loadStackInput, parseStackConfig } from '../lib';
import { formatStatus, stackWorkloads, waitForStack } from '../lib/cluster-status';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const waitIndex = args.indexOf('--wait');
  const waitSeconds = waitIndex >= 0 ? Number(args[waitIndex + 1]) : 0;
  if (waitIndex >= 0 && !(Number.isInteger(waitSeconds) && waitSeconds > 0)) {
    console.error(`--wait takes a whole number of seconds greater than 0, got ${JSON.stringify(args[waitIndex + 1])}`);
    return 2;
  }
  const config = parseStackConfig(process.env.STACK_CONFIG ? loadStackInput(process.env.STACK_CONFIG) : {});
  const kc = new KubeConfig();
  try {
    kc.loadFromDefault();
  } catch (e) {
    console.error(`npm run status reads your kubeconfig (KUBECONFIG, or ~/.kube/config) and could not: ${(e as Error).message}`);
    return 1;
  }
  const statuses = await waitForStack(kc, stackWorkloads(config), {
    timeoutMs: waitSeconds * 1000,
    onRead: (s) => waitSeconds > 0 && !s.every((x) => x.ok) && console.log(`waiting: ${s.filter((x) => x.ok).length}/${s.length} ready`),
  });
  console.log(formatStatus(statuses));
  if (!statuses.every((s) => s.ok)) return 1;
  console.log(`\nPrometheus: kubectl -n ${config.namespace} port-forward svc/prometheus 9090:9090`);
  if (config.grafana.enabled) {
    console.log(`Grafana:    kubectl -n ${config.namespace} port-forward svc/grafana 3000:3000`);
    console.log(`            user ${config.grafana.adminUser}, password: ${grafanaAdminPasswordCommand(config)}`);
  }
  return 0;
}

main().then((code) => process.exit(code), (e: Error) => {
  console.error(e.message);
  process.exit(1);
});

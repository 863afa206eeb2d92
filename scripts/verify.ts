// `npm run verify [-- --wait SECONDS] [--dist DIR] [--context NAME]`: does the stack synthesized into dist/ work on the cluster your
// kubeconfig points at? Asks Prometheus, Loki, Grafana and Alertmanager through the API server's service proxy
// (lib/verify.ts) and prints one line per check. Exits 0 when every check passes, 1 when one fails (after
// retrying for up to --wait seconds), 2 on a bad argument.
import { startClusterCommand } from './cli';
import { readVerifyPlan, verifyStack } from '../lib/verify';

async function main(): Promise<number> {
  const start = startClusterCommand('npm run verify', readVerifyPlan);
  if ('code' in start) return start.code;
  const { waitSeconds, read: plan, kc } = start;
  return verifyStack(kc, plan, waitSeconds);
}

main().then((code) => process.exit(code), (e: Error) => {
  console.error(e.message);
  process.exit(1);
});

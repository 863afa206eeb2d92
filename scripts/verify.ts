// `npm run verify [-- --wait SECONDS] [--dist DIR]`: does the stack synthesized into dist/ work on the cluster your
// kubeconfig points at? Asks Prometheus, Loki, Grafana and Alertmanager through the API server's service proxy
// (lib/verify.ts) and prints one line per check. Exits 0 when every check passes, 1 when one fails (after
// retrying for up to --wait seconds), 2 on a bad argument.
import { startClusterCommand } from './cli';
import { ClusterUnreachableError, formatChecks, grafanaPassword, readVerifyPlan, runChecks, serviceProxyTransport } from '../lib/verify';

async function main(): Promise<number> {
  const start = startClusterCommand('npm run verify', readVerifyPlan);
  if ('code' in start) return start.code;
  const { waitSeconds, read: plan, kc } = start;
  const deadline = Date.now() + waitSeconds * 1000;
  let password: string | undefined;
  for (;;) {
    let results;
    try {
      const transport = serviceProxyTransport(kc);
      results = await runChecks(plan, transport, async () => (password ??= await grafanaPassword(kc, plan.grafana!)));
    } catch (e) {
      if (!(e instanceof ClusterUnreachableError)) throw e;
      console.error(e.message);
      return 1;
    }
    const failed = results.filter((r) => !r.ok).length;
    if (failed === 0 || Date.now() >= deadline) {
      console.log(formatChecks(results));
      console.log(failed === 0 ? `\nall ${results.length} checks passed` : `\n${failed} of ${results.length} checks failed`);
      return failed === 0 ? 0 : 1;
    }
    console.log(`waiting: ${results.length - failed}/${results.length} checks pass (${Math.ceil((deadline - Date.now()) / 1000)} s left)`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(5000, Math.max(0, deadline - Date.now()))));
  }
}

main().then((code) => process.exit(code), (e: Error) => {
  console.error(e.message);
  process.exit(1);
});

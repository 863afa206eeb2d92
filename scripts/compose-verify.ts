// `npm run compose:verify [-- --wait SECONDS] [--dir DIR]`: does the compose stack synthesized into compose/ work
// on this host? The same checks as `npm run verify` (lib/verify.ts), through the ports the stack publishes on
// 127.0.0.1 (Prometheus, Grafana; Loki and Alertmanager through Grafana's data source proxy), with Grafana's admin
// password from GF_ADMIN_PASSWORD or compose/.env. Exits 0 when every check passes, 1 when one fails (after
// retrying for up to --wait seconds), 2 on a bad argument.
import { clusterArgs, option } from './cli';
import { composeGrafanaPassword, composeTransport, readComposeVerifyPlan, verifyUntil } from '../lib/verify';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const parsed = clusterArgs(args);
  if ('error' in parsed) {
    console.error(parsed.error);
    return 2;
  }
  const dir = option(args, '--dir');
  if (dir === '') {
    console.error('--dir takes the folder `npm run synth` wrote the compose files to, e.g. --dir compose');
    return 2;
  }
  const folder = dir ?? 'compose';
  let read;
  try {
    read = readComposeVerifyPlan(folder);
  } catch (e) {
    console.error((e as Error).message);
    return 1;
  }
  const { plan, endpoints } = read;
  const password = async () => composeGrafanaPassword(folder);
  return verifyUntil(plan, () => composeTransport(endpoints, plan.grafana?.adminUser ?? 'admin', password), password, parsed.waitSeconds);
}

main().then((code) => process.exit(code), (e: Error) => {
  console.error(e.message);
  process.exit(1);
});

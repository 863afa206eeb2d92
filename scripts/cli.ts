// What the command-line fronts that ask a cluster share (npm run status, npm run verify): their arguments
// (--wait SECONDS, --dist DIR, --context NAME) and the user's kubeconfig. Each returns a message for the user rather than throwing.
import { KubeConfig } from '@kubernetes/client-node';

/** The value after `flag`, or undefined when the flag is absent ("" when it is last). */
export function option(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? (args[i + 1] ?? '') : undefined;
}

/** --wait and --dist, checked: the seconds to wait (0: one try) and the manifests' folder, or the message for a bad one. */
export function clusterArgs(args: string[]): { waitSeconds: number; dist: string; context?: string } | { error: string } {
  const waitArg = option(args, '--wait');
  const waitSeconds = waitArg === undefined ? 0 : Number(waitArg);
  if (waitArg !== undefined && !(Number.isInteger(waitSeconds) && waitSeconds > 0)) {
    return { error: `--wait takes a whole number of seconds greater than 0, got ${JSON.stringify(waitArg)}` };
  }
  const distArg = option(args, '--dist');
  if (distArg === '') return { error: '--dist takes the folder `npm run synth` wrote the manifests to, e.g. --dist dist' };
  const context = option(args, '--context');
  if (context === '') return { error: '--context takes the name of a context of your kubeconfig (kubectl config get-contexts)' };
  // Where `npm run synth` wrote the manifests (main.ts honours CDK8S_OUTDIR, as `cdk8s synth` does).
  return { waitSeconds, dist: distArg ?? (process.env.CDK8S_OUTDIR || 'dist'), ...(context ? { context } : {}) };
}

/** The user's kubeconfig (KUBECONFIG, or ~/.kube/config) at `context` (default: its current one), or the message saying why not. */
export function loadKubeConfig(command: string, context?: string): KubeConfig | { error: string } {
  const kc = new KubeConfig();
  try {
    kc.loadFromDefault();
  } catch (e) {
    return { error: `${command} reads your kubeconfig (KUBECONFIG, or ~/.kube/config) and could not: ${(e as Error).message}` };
  }
  if (context) {
    if (!kc.getContexts().some((c) => c.name === context)) {
      return { error: `${command}: your kubeconfig has no context ${JSON.stringify(context)} (contexts: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'}); kind names its cluster's context kind-<cluster name>` };
    }
    kc.setCurrentContext(context);
  }
  return kc;
}

/**
 * The start every such command shares: its arguments, what it reads off the synthesized manifests (`read`, which
 * throws a message for the user), and the kubeconfig; or the exit code after printing why not (2: a bad argument).
 */
export function startClusterCommand<T>(command: string, read: (dist: string) => T): { waitSeconds: number; read: T; kc: KubeConfig } | { code: number } {
  const parsed = clusterArgs(process.argv.slice(2));
  if ('error' in parsed) {
    console.error(parsed.error);
    return { code: 2 };
  }
  let value: T;
  try {
    value = read(parsed.dist);
  } catch (e) {
    console.error((e as Error).message);
    return { code: 1 };
  }
  const kc = loadKubeConfig(command, parsed.context);
  if ('error' in kc) {
    console.error(kc.error);
    return { code: 1 };
  }
  return { waitSeconds: parsed.waitSeconds, read: value, kc };
}

/**
 * Is the synthesized stack up on a cluster? Reads the status of every Deployment, StatefulSet and DaemonSet synthesized
 * into dist/ (what `kubectl apply -f dist/` created, whatever settings made it), through the Kubernetes API
 * (`@kubernetes/client-node`, the user's kubeconfig), and says which are ready and what is missing.
 * `npm run status` is the command-line front; `--wait` polls until everything is ready.
 */
import { ApiException, AppsV1Api, KubeConfig, V1DaemonSet, V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import { readManifestObjects } from './synth';
import { grafanaAdminPasswordCommand } from './k8s/grafana';
import { PROMETHEUS_NAME } from './components/prometheus';
import { GRAFANA_ADMIN_PASSWORD_VOLUME, GRAFANA_NAME } from './components/grafana';

/** A workload of the stack, as synthesized. */
export interface WorkloadRef {
  readonly kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  readonly namespace: string;
  readonly name: string;
}

/** What the cluster says about one workload. */
export interface WorkloadStatus extends WorkloadRef {
  /** Pods wanted (replicas, or nodes for a DaemonSet). */
  readonly desired: number;
  /** Pods of the current revision that are ready. */
  readonly ready: number;
  /** Every wanted pod is updated and ready. */
  readonly ok: boolean;
  /** Why not, in words, when not ok. */
  readonly reason?: string;
}

/** What `npm run status` needs of a synthesized stack: its workloads, and where its UIs are. */
export interface SynthesizedStack {
  /** Every Deployment, StatefulSet and DaemonSet, in manifest order. */
  readonly workloads: WorkloadRef[];
  /** Prometheus's namespace, when it was synthesized. */
  readonly prometheusNamespace?: string;
  /** Grafana's namespace, admin user and the command that prints its password, when it was synthesized. */
  readonly grafana?: { readonly namespace: string; readonly adminUser: string; readonly passwordCommand: string };
}

/**
 * Reads the manifests synthesized into `dir` (every *.yaml, in file order). Throws, saying what to run, when
 * the folder is missing or holds no workload.
 */
export function readSynthesizedStack(dir: string): SynthesizedStack {
  const { files, objects } = readManifestObjects(dir);
  const workloads: WorkloadRef[] = objects
    .filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet' || o.kind === 'DaemonSet')
    .map((o) => ({ kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name }));
  if (workloads.length === 0) {
    throw new Error(`no synthesized workload in ${dir}${files.length === 0 ? ' (no manifests there)' : ''}: run \`npm run synth\` first (with the same STACK_CONFIG you deploy)`);
  }
  const prometheus = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === PROMETHEUS_NAME);
  const grafana = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === GRAFANA_NAME);
  return { workloads, prometheusNamespace: prometheus?.metadata.namespace, grafana: grafana && grafanaAccess(grafana) };
}

/** Grafana's namespace, admin user and password command, read off its synthesized Deployment. */
function grafanaAccess(deployment: any): NonNullable<SynthesizedStack['grafana']> {
  const namespace: string = deployment.metadata.namespace;
  const pod = deployment.spec.template.spec;
  const env: Array<{ name: string; value?: string }> = pod.containers.find((c: any) => c.name === GRAFANA_NAME)?.env ?? [];
  // An adminPasswordSecret's volume, by its name (lib/k8s/grafana.ts).
  const secret = (pod.volumes ?? []).find((v: any) => v.name === GRAFANA_ADMIN_PASSWORD_VOLUME)?.secret;
  const adminPasswordSecret = secret ? { name: secret.secretName, key: secret.items[0].key } : undefined;
  return {
    namespace,
    adminUser: env.find((e) => e.name === 'GF_SECURITY_ADMIN_USER')?.value ?? 'admin',
    passwordCommand: grafanaAdminPasswordCommand({ namespace, grafana: { adminPasswordSecret } }),
  };
}

/** A Deployment or a StatefulSet (several Loki pods): every wanted pod on the current revision and ready. */
function replicasStatus(ref: WorkloadRef, d: V1Deployment | V1StatefulSet): WorkloadStatus {
  const desired = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const ready = s.readyReplicas ?? 0;
  const updated = s.updatedReplicas ?? 0;
  const current = (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
  const ok = current && updated >= desired && ready >= desired && (s.replicas ?? 0) === desired;
  const reason = ok ? undefined
    : !current ? 'the controller has not seen the latest change yet'
    : `${ready}/${desired} ready, ${updated}/${desired} updated`;
  return { ...ref, desired, ready, ok, ...(reason ? { reason } : {}) };
}

function daemonSetStatus(ref: WorkloadRef, d: V1DaemonSet): WorkloadStatus {
  const s = d.status;
  const desired = s?.desiredNumberScheduled ?? 0;
  const ready = s?.numberReady ?? 0;
  const updated = s?.updatedNumberScheduled ?? 0;
  const current = (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
  const ok = current && desired > 0 && ready >= desired && updated >= desired;
  const reason = ok ? undefined
    : !current ? 'the controller has not seen the latest change yet'
    : desired === 0 ? 'no node to run on yet'
    : `${ready}/${desired} ready, ${updated}/${desired} updated`;
  return { ...ref, desired, ready, ok, ...(reason ? { reason } : {}) };
}

/** Reads the status of each workload; a missing one is reported, not thrown. */
export async function readStatus(kc: KubeConfig, refs: readonly WorkloadRef[]): Promise<WorkloadStatus[]> {
  const apps = kc.makeApiClient(AppsV1Api);
  return Promise.all(refs.map(async (ref) => {
    try {
      const at = { name: ref.name, namespace: ref.namespace };
      return ref.kind === 'Deployment' ? replicasStatus(ref, await apps.readNamespacedDeployment(at))
        : ref.kind === 'StatefulSet' ? replicasStatus(ref, await apps.readNamespacedStatefulSet(at))
        : daemonSetStatus(ref, await apps.readNamespacedDaemonSet(at));
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) {
        return { ...ref, desired: 0, ready: 0, ok: false, reason: 'not found: apply the manifests first (kubectl apply -f dist/)' };
      }
      if (e instanceof ApiException) {
        return { ...ref, desired: 0, ready: 0, ok: false, reason: `the API server answered ${e.code}` };
      }
      throw e;
    }
  }));
}

export interface WaitOptions {
  /** Give up after this long. */
  readonly timeoutMs: number;
  /** Time between two reads. @default 2000 */
  readonly intervalMs?: number;
  /** Called after each read. */
  readonly onRead?: (statuses: WorkloadStatus[]) => void;
}

/** Reads until every workload is ready or the time is up; returns the last read. */
export async function waitForStack(kc: KubeConfig, refs: readonly WorkloadRef[], o: WaitOptions): Promise<WorkloadStatus[]> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    const statuses = await readStatus(kc, refs);
    o.onRead?.(statuses);
    if (statuses.every((s) => s.ok) || Date.now() >= deadline) return statuses;
    await new Promise((resolve) => setTimeout(resolve, Math.min(o.intervalMs ?? 2000, Math.max(0, deadline - Date.now()))));
  }
}

/** A plain-text table of the statuses. */
export function formatStatus(statuses: readonly WorkloadStatus[]): string {
  const rows = statuses.map((s) => [`${s.kind}/${s.name}`, s.namespace, `${s.ready}/${s.desired}`, s.ok ? 'ready' : `NOT READY: ${s.reason}`]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length), ['WORKLOAD', 'NAMESPACE', 'READY'][i].length));
  const line = (r: string[]) => r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell)).join('  ');
  return [line(['WORKLOAD', 'NAMESPACE', 'READY', 'STATE']), ...rows.map(line)].join('\n');
}

/**
 * Does the stack on the cluster work, not only run? `npm run verify` reads what was synthesized into dist/, then
 * asks the components themselves, through the Kubernetes API server's service proxy
 * (`/api/v1/namespaces/<ns>/services/<name>:<port>/proxy/...`, with the user's kubeconfig): Prometheus has every
 * expected target up and the app's requests counter increasing; Loki has the app's log lines, with the labels its
 * series carry in Prometheus (the label contract, checked live); Grafana's Prometheus and Loki data sources pass
 * their health checks; Alertmanager is ready and Prometheus is connected to it. One line per check, and what to do
 * about a failure. With a Prometheus of the user's (prometheus.enabled false), the metrics checks ask the store it
 * writes to, through Grafana's Prometheus data source, logged in: each target's `up` there (a store keeps no scrape
 * error), the app's counter and series. In both cases Alertmanager must hold the always-firing Watchdog: the stack's rules
 * are evaluated and what they fire arrives.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as path from 'path';
// Types only at load: @kubernetes/client-node is an ES module, loaded when a cluster is asked (scripts/verify.ts),
// so the plan and the checks load anywhere (Jest runs CommonJS).
import type { KubeConfig } from '@kubernetes/client-node';
import { PassThrough } from 'stream';
import { parse } from 'yaml';
import { readManifestObjects } from './synth';
import { COMPOSE_FILES } from './compose/config-files';
import { ALERTMANAGER_NAME, ALERTMANAGER_PORT } from './components/alertmanager';
import { GRAFANA_ADMIN_PASSWORD_FILE, GRAFANA_ADMIN_PASSWORD_VOLUME, GRAFANA_NAME, GRAFANA_PORT } from './components/grafana';
import { LOKI_HTTP_PORT, LOKI_NAME } from './components/loki';
import { PROMETHEUS_NAME, PROMETHEUS_PORT, PROMETHEUS_SCRAPE_CONFIGS_FILE } from './components/prometheus';
import { ALERTMANAGER_DATASOURCE_UID, LOKI_DATASOURCE_UID, PROMETHEUS_DATASOURCE_UID } from './render/grafana-provisioning';
import { CONTRACT_LABELS } from './render/relabel';
import { KUBERNETES_PODS_JOB } from './render/prometheus-config';
import { RULES_FILE, WATCHDOG_ALERT, WATCHDOG_LABEL } from './render/alert-rules';

/** What verify expects of a synthesized stack. */
export interface VerifyPlan {
  /** Where the stack runs: the fixes name kubectl or docker compose commands. */
  readonly platform: 'kubernetes' | 'compose';
  /**
   * Where the stack's Prometheus runs; none with a Prometheus of the user's (prometheus.enabled false): the metrics
   * checks then ask the store it writes to, through Grafana's Prometheus data source, as the dashboards do.
   */
  readonly prometheusNamespace?: string;
  /**
   * The workload whose metrics and logs are compared: the demo app, or when there is none the stack's Prometheus (with
   * a Prometheus of the user's, Grafana); `job` is the
   * scrape job whose `up` carries its contract labels.
   */
  readonly subject: { readonly namespace: string; readonly app: string; readonly job: string; readonly isDemoApp: boolean };
  /** Whether something sends the app requests all the time (its traffic generator): only then must its counter rise. */
  readonly steadyTraffic: boolean;
  /** Targets that must be up: the pod job's, by app; every other job, at least one. */
  readonly targets: ReadonlyArray<{ readonly job: string; readonly app?: string }>;
  readonly lokiNamespace?: string;
  /** How `kubectl logs` names Loki's workload: one pod's Deployment, or several pods' StatefulSet. */
  readonly lokiWorkload?: 'deploy' | 'sts';
  readonly grafana?: {
    readonly namespace: string; readonly adminUser: string; readonly passwordSecret?: { readonly name: string; readonly key: string }; readonly lokiDataSource: boolean;
    /** The long-term store Grafana's Prometheus data source reads instead of the stack's Prometheus (grafana.prometheusQuery), if any. */
    readonly prometheusStore?: string;
    /** The Loki of the user's that Grafana's Loki data source reads (loki.external), if any. */
    readonly lokiStore?: string;
  };
  readonly alertmanagerNamespace?: string;
  /** Whether the stack's rules hold the Watchdog, which must then be active in Alertmanager (prometheus.alertRules, with Alertmanager). */
  readonly watchdog?: boolean;
}

/** Whether a rule file (YAML text) holds the Watchdog alert. */
function holdsWatchdog(rulesYaml: string | undefined): boolean {
  return Boolean(rulesYaml) && (parse(rulesYaml!)?.groups ?? []).some((g: any) => (g.rules ?? []).some((r: any) => r.alert === WATCHDOG_ALERT));
}

/**
 * With prometheus.enabled false the metrics checks ask the store the user's Prometheus writes to through Grafana:
 * without Grafana there is nothing to ask. Said plainly rather than half-checked.
 */
export const NO_PROMETHEUS_OF_OURS = 'prometheus.enabled and grafana.enabled are false: verify asks the stack\'s own Prometheus, or your store through Grafana, and there is neither. Check your Prometheus instead: ' +
  'its targets page lists the jobs of prometheus-scrape-configs (compose: prometheus/scrape-configs.yml), each up';

/** Reads the plan off the manifests in `dir`; throws, saying what to run, when there are none. */
export function readVerifyPlan(dir: string): VerifyPlan {
  const { files, objects } = readManifestObjects(dir);
  const deployment = (name: string) => objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name);
  const prometheus = deployment(PROMETHEUS_NAME);
  const grafana = deployment(GRAFANA_NAME);
  // A Prometheus of the user's (prometheus.enabled false): its jobs, and the store Grafana reads.
  const theirs = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === `${PROMETHEUS_NAME}-scrape-configs`);
  if (!prometheus && theirs && !grafana) throw new Error(NO_PROMETHEUS_OF_OURS);
  if (!prometheus && !theirs) throw new Error(`no synthesized Prometheus in ${dir}${files.length === 0 ? ' (no manifests there)' : ''}: run \`npm run synth\` first (with the same STACK_CONFIG you deploy)`);
  const workloads = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet' || o.kind === 'DaemonSet');
  const scraped = workloads.filter((w) => w.spec.template.metadata.annotations?.['prometheus.io/scrape'] === 'true');
  const config = parse(prometheus
    ? objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'prometheus-config').data['prometheus.yml']
    : theirs.data[PROMETHEUS_SCRAPE_CONFIGS_FILE]);
  const otherJobs: string[] = config.scrape_configs.map((j: any) => j.job_name).filter((j: string) => j !== KUBERNETES_PODS_JOB);
  const app = workloads.find((w) => w.kind === 'Deployment' && w.metadata.labels?.['app.kubernetes.io/component'] === 'application');
  // Without the app, the stack's own Prometheus, or else Grafana (which the user's Prometheus needs to be asked through).
  const stand = prometheus ?? grafana;
  // One Loki pod is a Deployment, several a StatefulSet.
  const loki = objects.find((o) => (o.kind === 'Deployment' || o.kind === 'StatefulSet') && o.metadata.name === LOKI_NAME);
  const grafanaPod = grafana?.spec.template.spec;
  const env: Array<{ name: string; value?: string }> = grafanaPod?.containers.find((c: any) => c.name === GRAFANA_NAME)?.env ?? [];
  // The admin password's volume by its name: with grafana.postgres.caSecret the pod mounts a second Secret.
  const secret = (grafanaPod?.volumes ?? []).find((v: any) => v.name === GRAFANA_ADMIN_PASSWORD_VOLUME)?.secret;
  const datasources = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'grafana-datasources');
  return {
    platform: 'kubernetes',
    steadyTraffic: Boolean(app && workloads.some((w) => w.kind === 'Deployment' && w.metadata.name === `${app.metadata.name}-traffic`)),
    ...(prometheus ? { prometheusNamespace: prometheus.metadata.namespace } : {}),
    subject: app
      ? { namespace: app.metadata.namespace, app: app.metadata.name, job: KUBERNETES_PODS_JOB, isDemoApp: true }
      : { namespace: stand.metadata.namespace, app: stand.metadata.name, job: KUBERNETES_PODS_JOB, isDemoApp: false },
    targets: [
      ...scraped.map((w) => ({ job: KUBERNETES_PODS_JOB, app: w.spec.template.metadata.labels['app.kubernetes.io/name'] as string })),
      ...otherJobs.map((job) => ({ job })),
    ],
    ...(loki ? { lokiNamespace: loki.metadata.namespace, lokiWorkload: loki.kind === 'StatefulSet' ? 'sts' : 'deploy' } : {}),
    ...(grafana ? {
      grafana: {
        namespace: grafana.metadata.namespace,
        adminUser: env.find((e) => e.name === 'GF_SECURITY_ADMIN_USER')?.value ?? 'admin',
        ...(secret ? { passwordSecret: { name: secret.secretName, key: secret.items[0].key } } : {}),
        lokiDataSource: Object.values(datasources?.data ?? {}).some((t) => String(t).includes(`uid: ${LOKI_DATASOURCE_UID}`)),
        ...prometheusStoreOf(datasources?.data?.['datasources.yaml'], `http://${PROMETHEUS_NAME}.${stand.metadata.namespace}.svc.`),
        ...(loki ? {} : lokiStoreOf(datasources?.data?.['datasources.yaml'])),
      },
    } : {}),
    ...(deployment(ALERTMANAGER_NAME) ? { alertmanagerNamespace: deployment(ALERTMANAGER_NAME).metadata.namespace } : {}),
    watchdog: holdsWatchdog(objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === `${PROMETHEUS_NAME}-rules`)?.data?.[RULES_FILE]),
  };
}

const readIfPresent = (file: string): string | undefined => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined);

/** The URL of a provisioned data source (by uid) in datasources.yaml, its `$$` undone; undefined without one. */
function provisionedUrl(datasourcesYaml: string | undefined, uid: string): string | undefined {
  const url: string | undefined = datasourcesYaml ? parse(datasourcesYaml).datasources?.find((d: any) => d.uid === uid)?.url : undefined;
  return url?.replace(/\$\$/g, '$');
}

/** `{prometheusStore}` when the provisioned Prometheus data source reads elsewhere than the stack's Prometheus (`ours`: its URL's start). */
function prometheusStoreOf(datasourcesYaml: string | undefined, ours: string): { prometheusStore?: string } {
  const url = provisionedUrl(datasourcesYaml, PROMETHEUS_DATASOURCE_UID);
  return url && !url.startsWith(ours) ? { prometheusStore: url } : {};
}

/** `{lokiStore}`: the URL of the provisioned Loki data source, for a stack without a Loki of its own (loki.external). */
function lokiStoreOf(datasourcesYaml: string | undefined): { lokiStore?: string } {
  const url = provisionedUrl(datasourcesYaml, LOKI_DATASOURCE_UID);
  return url ? { lokiStore: url } : {};
}

/** An HTTP request to a Service of the cluster. */
export interface Transport {
  request(method: 'GET' | 'POST', namespace: string, service: string, port: number, pathAndQuery: string,
    options?: { headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>;
}

/** Raised when the cluster cannot be reached at all: every check would fail for the same reason. */
export class ClusterUnreachableError extends Error {}

/** The API server's service proxy, authenticated as the kubeconfig's current user. */
export function serviceProxyTransport(kc: KubeConfig): Transport {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new ClusterUnreachableError(`the kubeconfig has no current cluster (context ${JSON.stringify(kc.getCurrentContext())}): \`kubectl config use-context kind-observability\`, or set KUBECONFIG`);
  return {
    async request(method, namespace, service, port, pathAndQuery, o = {}) {
      const url = new URL(`${cluster.server.replace(/\/$/, '')}/api/v1/namespaces/${namespace}/services/${service}:${port}/proxy${pathAndQuery}`);
      const options: https.RequestOptions = { method, headers: { ...o.headers } };
      await kc.applyToHTTPSOptions(options);
      return new Promise((resolve, reject) => {
        const req = (url.protocol === 'https:' ? https : http).request(url, options, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
        });
        // Longer than the API server's own dial timeout (30 s), so its answer (503 "error trying to reach service") arrives.
        req.setTimeout(45000, () => req.destroy(new Error('no answer within 45 s')));
        req.on('error', (e) => reject(new ClusterUnreachableError(`cannot reach the API server ${cluster.server} (context ${kc.getCurrentContext()}): ${e.message}. Is the cluster up (\`kind get clusters\`)?`)));
        req.end(o.body);
      });
    },
  };
}

/** Grafana's admin password: from its Secret, or (generated) from the file on its volume, read with exec. */
export async function grafanaPassword(kc: KubeConfig, g: NonNullable<VerifyPlan['grafana']>): Promise<string> {
  const { CoreV1Api, Exec } = await import('@kubernetes/client-node');
  const core = kc.makeApiClient(CoreV1Api);
  if (g.passwordSecret) {
    const secret = await core.readNamespacedSecret({ name: g.passwordSecret.name, namespace: g.namespace });
    const value = secret.data?.[g.passwordSecret.key];
    if (!value) throw new Error(`Secret ${g.namespace}/${g.passwordSecret.name} has no key ${g.passwordSecret.key}`);
    return Buffer.from(value, 'base64').toString('utf8').trim();
  }
  const pods = await core.listNamespacedPod({ namespace: g.namespace, labelSelector: `app.kubernetes.io/name=${GRAFANA_NAME}` });
  const pod = pods.items.find((p) => p.status?.phase === 'Running');
  if (!pod?.metadata?.name) throw new Error(`no running Grafana pod in ${g.namespace}`);
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (c) => chunks.push(c));
  await new Promise<void>((resolve, reject) => {
    // The status arrives last; the output is complete once stdout has ended (the client ends it on the status).
    let failure: Error | undefined;
    const timer = setTimeout(() => reject(new Error(`cat ${GRAFANA_ADMIN_PASSWORD_FILE} in ${pod.metadata!.name}: no answer within 30 s`)), 30000);
    stdout.on('end', () => {
      clearTimeout(timer);
      if (failure) reject(failure);
      else resolve();
    });
    new Exec(kc).exec(g.namespace, pod.metadata!.name!, GRAFANA_NAME, ['cat', GRAFANA_ADMIN_PASSWORD_FILE], stdout, null, null, false, (status) => {
      if (status.status !== 'Success') failure = new Error(`cat ${GRAFANA_ADMIN_PASSWORD_FILE} in ${pod.metadata!.name}: ${status.message ?? status.status}`);
    }).catch(reject);
  });
  return Buffer.concat(chunks).toString('utf8').trim();
}

/**
 * The Cookie header that carries the session a login set: every cookie it set, whatever the session cookie is named
 * ([auth] login_cookie_name, grafana_session by default); undefined when it set none.
 */
function sessionCookie(setCookie: string[] | undefined): string | undefined {
  const pairs = (setCookie ?? []).map((c) => c.split(';')[0]).filter((c) => /^[^=]+=./.test(c));
  return pairs.length > 0 ? pairs.join('; ') : undefined;
}

/** One check's verdict. */
export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  /** What to do, when not ok. */
  readonly fix?: string;
}

const q = encodeURIComponent;

/** Runs every check the plan calls for; never throws for a failed check, only for an unreachable cluster. */
export async function runChecks(plan: VerifyPlan, t: Transport, password: () => Promise<string>): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const get = (namespace: string, service: string, port: number, p: string, headers?: Record<string, string>) => t.request('GET', namespace, service, port, p, { headers });
  // A data source's API, through Grafana's proxy as the dashboards ask it, with a session cookie.
  const throughGrafana = (uid: string, p: string, cookie: string | undefined) =>
    get(plan.grafana!.namespace, GRAFANA_NAME, GRAFANA_PORT, `/api/datasources/proxy/uid/${uid}${p}`, cookie ? { Cookie: cookie } : {});
  const { namespace, app } = plan.subject;
  // The API server answers 503 "error trying to reach service" when it cannot reach the pod itself: where it does not
  // run on the pod's node, the stack's NetworkPolicies keep it out (README, "Network policies").
  const unreachedBy = (r: { status: number; body: string }) => r.status === 503 && /error trying to reach service/.test(r.body);
  const PROXY_BLOCKED = 'the API server cannot reach the pod: outside kind, the stack\'s NetworkPolicies may keep it out (README, "Network policies"); use kubectl port-forward';
  // Where a component's own log says why: `kubectl logs`, or `docker compose logs`.
  const logsOf = (ns: string, kind: 'deploy' | 'sts' | 'ds', name: string) => (plan.platform === 'compose'
    ? `docker compose -f compose/docker-compose.yml logs ${name}`
    : `kubectl -n ${ns} logs ${kind}/${name}`);

  // Grafana's health and a session, asked once (their checks are added then): the data sources' checks, and with a
  // Prometheus of the user's every metrics check, go through Grafana logged in.
  let grafanaSession: Promise<string | undefined> | undefined;
  const session = () => (grafanaSession ??= grafanaLogin());
  const grafanaLogin = async (): Promise<string | undefined> => {
    const g = plan.grafana!;
    const health = await get(g.namespace, GRAFANA_NAME, GRAFANA_PORT, '/api/health');
    results.push(health.status === 200
      ? { name: 'Grafana healthy', ok: true, detail: '/api/health answered 200' }
      : { name: 'Grafana healthy', ok: false, detail: `/api/health answered ${health.status}`, fix: unreachedBy(health) ? PROXY_BLOCKED : logsOf(g.namespace, 'deploy', GRAFANA_NAME) });
    if (health.status !== 200) return undefined;
    // The API server drops the Authorization header once it has authenticated the request (kubernetes#38775), so
    // Grafana's basic auth cannot pass its proxy: log in as the UI does and send the session cookie instead.
    try {
      const login = await t.request('POST', g.namespace, GRAFANA_NAME, GRAFANA_PORT, '/login', {
        headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: g.adminUser, password: await password() }),
      });
      const cookie = sessionCookie(login.headers['set-cookie']);
      if (login.status === 200 && cookie) return cookie;
      results.push({ name: 'Grafana login', ok: false, detail: `POST /login answered ${login.status}${cookie ? '' : ' without a session cookie'}: ${login.body.slice(0, 160)}`, fix: login.status === 401 ? 'the admin password was refused: was it changed in Grafana\'s UI?' : logsOf(g.namespace, 'deploy', GRAFANA_NAME) });
    } catch (e) {
      if (e instanceof ClusterUnreachableError) throw e;
      results.push({ name: 'Grafana login', ok: false, detail: `could not read the admin password: ${(e as Error).message}`, fix: plan.platform === 'compose' ? 'set GF_ADMIN_PASSWORD (compose/.env)' : 'check the Grafana pod and its adminPasswordSecret' });
    }
    return undefined;
  };

  // The metrics: the stack's Prometheus, or (a Prometheus of the user's) the store it writes to, through Grafana.
  const store = plan.prometheusNamespace === undefined ? plan.grafana?.prometheusStore : undefined;
  const prom = async (p: string) => {
    if (plan.prometheusNamespace !== undefined) return get(plan.prometheusNamespace, PROMETHEUS_NAME, PROMETHEUS_PORT, p);
    return throughGrafana(PROMETHEUS_DATASOURCE_UID, p, await session());
  };
  const promJson = async (p: string) => {
    const r = await prom(p);
    if (r.status !== 200) throw new Error(`${store ?? 'Prometheus'} answered ${r.status} to ${p.split('?')[0]}`);
    return JSON.parse(r.body).data;
  };

  let active: any[];
  if (plan.prometheusNamespace !== undefined) {
    const ready = await prom('/-/ready');
    results.push(ready.status === 200
      ? { name: 'Prometheus ready', ok: true, detail: '/-/ready answered 200' }
      : { name: 'Prometheus ready', ok: false, detail: `/-/ready answered ${ready.status}: ${ready.body.slice(0, 120)}`, fix: unreachedBy(ready) ? PROXY_BLOCKED : logsOf(plan.prometheusNamespace, 'deploy', PROMETHEUS_NAME) });
    if (ready.status !== 200) return results;
    active = (await promJson('/api/v1/targets?state=active')).activeTargets;
  } else {
    // A store keeps no targets, only each target's `up`: its latest value says whether the last scrape worked.
    if (!plan.grafana || !(await session())) return results;
    const jobs = [...new Set(plan.targets.map((w) => w.job))].join('|');
    active = (await promJson(`/api/v1/query?query=${q(`up{job=~"${jobs}"}`)}`)).result
      .map((s: any) => ({ labels: s.metric, health: s.value[1] === '1' ? 'up' : 'down', scrapeUrl: s.metric.instance, lastError: `up is ${s.value[1]} in ${store}` }));
  }
  for (const want of plan.targets) {
    const name = `target ${want.job}${want.app ? ` app=${want.app}` : ''}`;
    const mine = active.filter((x) => x.labels.job === want.job && (!want.app || x.labels.app === want.app));
    const up = mine.filter((x) => x.health === 'up');
    if (mine.length > 0 && up.length === mine.length) results.push({ name, ok: true, detail: `${up.length}/${mine.length} up${store ? ` (its up in ${store})` : ''}` });
    else if (mine.length === 0) results.push({ name, ok: false, detail: store ? `no up{job="${want.job}"${want.app ? `, app="${want.app}"` : ''}} in ${store}` : 'not discovered', fix: store
      ? `does your Prometheus run the jobs of ${plan.platform === 'compose' ? 'compose/prometheus/scrape-configs.yml' : 'the ConfigMap prometheus-scrape-configs'} (its /targets page), and write to this store in grafana.prometheusQuery's tenant?`
      : plan.platform === 'compose' ? 'is Prometheus\'s configuration the one synthesized? docker compose -f compose/docker-compose.yml restart prometheus'
      : want.app ? `is the pod running, with its prometheus.io/* annotations? kubectl get pods -A -l app.kubernetes.io/name=${want.app}` : `the job finds nothing to scrape: its pods, or (kubelet jobs) the nodes; see Prometheus's /service-discovery page` });
    else results.push({ name, ok: false, detail: `${up.length}/${mine.length} up; ${mine.find((x) => x.health !== 'up').scrapeUrl}: ${mine.find((x) => x.health !== 'up').lastError || 'not scraped yet'}`, fix: store ? 'the target\'s error on your Prometheus\'s /targets page' : 'the target\'s error above; Prometheus\'s /targets page' });
  }

  if (plan.subject.isDemoApp && !plan.steadyTraffic) {
    // Nothing sends it requests but people: the counter need only be there.
    const present = await promJson(`/api/v1/query?query=${q(`count(my_app_requests_total{namespace="${namespace}",app="${app}"})`)}`);
    results.push(present.result.length > 0
      ? { name: 'my_app_requests_total present', ok: true, detail: 'no traffic generator: it need not rise' }
      : { name: 'my_app_requests_total present', ok: false, detail: 'no series', fix: `is the app scraped? its target above, and ${logsOf(namespace, 'deploy', app)}` });
  }
  if (plan.subject.isDemoApp && plan.steadyTraffic) {
    const inc = await promJson(`/api/v1/query?query=${q(`sum(increase(my_app_requests_total{namespace="${namespace}",app="${app}"}[2m]))`)}`);
    const value = Number(inc.result[0]?.value[1] ?? 0);
    results.push(value > 0
      ? { name: 'my_app_requests_total increasing', ok: true, detail: `+${value.toFixed(0)} in the last 2 minutes` }
      : { name: 'my_app_requests_total increasing', ok: false, detail: inc.result.length === 0 ? 'no series yet' : 'flat for 2 minutes', fix: `is the traffic generator running? ${logsOf(namespace, 'deploy', `${app}-traffic`)}` });
  }

  // The subject's series labels, as Prometheus has them: its pod job's `up`.
  // Over the same 15 minutes as the log lines: a pod replaced meanwhile has lines and a series of its own.
  const series: any[] = await promJson(`/api/v1/query?query=${q(`last_over_time(up{job="${plan.subject.job}",namespace="${namespace}",app="${app}"}[15m])`)}`).then((d) => d.result);
  const contract = (labels: Record<string, string>) => CONTRACT_LABELS.map((l) => `${l}=${labels[l] ?? ''}`).join(',');
  const metricSets = new Set(series.map((s) => contract(s.metric)));
  // Each log stream of the app must carry the labels of one of its series (the label contract, checked live).
  const contractCheck = (streams: any[]): CheckResult => {
    const logSets = [...new Set(streams.map((s) => contract(s.stream)))];
    const unmatched = logSets.filter((s) => !metricSets.has(s));
    return unmatched.length === 0 && metricSets.size > 0
      ? { name: 'label contract: logs and metrics', ok: true, detail: `${logSets.length} stream(s), each with the labels of a series of the app (${CONTRACT_LABELS.join(', ')})` }
      : { name: 'label contract: logs and metrics', ok: false, detail: `log streams without a matching series: ${unmatched.join(' | ') || '(no series in Prometheus)'}; series: ${[...metricSets].join(' | ') || 'none'}`, fix: 'the log agent\'s and Prometheus\'s relabel rules disagree: synthesize and apply both from the same version' };
  };

  // The subject's log lines of the last 15 minutes, as Loki's API path (asked of the stack's Loki, or through Grafana).
  const linesQuery = `{namespace="${namespace}",app="${app}"}`;
  const linesPath = `/loki/api/v1/query_range?query=${q(linesQuery)}&since=15m&limit=100&direction=backward`;
  const lineCount = (streams: any[]) => streams.reduce((n: number, s: any) => n + s.values.length, 0);

  if (plan.lokiNamespace) {
    const r = await get(plan.lokiNamespace, LOKI_NAME, LOKI_HTTP_PORT, linesPath);
    if (r.status !== 200) {
      results.push({ name: 'Loki: the app\'s lines', ok: false, detail: `Loki answered ${r.status}: ${r.body.slice(0, 160)}`, fix: logsOf(plan.lokiNamespace, plan.lokiWorkload ?? 'deploy', LOKI_NAME) });
    } else {
      const streams: any[] = JSON.parse(r.body).data.result;
      const lines = lineCount(streams);
      results.push(lines > 0
        ? { name: 'Loki: the app\'s lines', ok: true, detail: `${lines} lines for ${linesQuery} in the last 15 minutes` }
        : { name: 'Loki: the app\'s lines', ok: false, detail: `no line for ${linesQuery} in the last 15 minutes`, fix: plan.platform === 'compose'
          ? 'is the log agent running, and does the app log with the stack\'s json-file options? docker compose -f compose/docker-compose.yml logs promtail (or alloy)'
          : 'is the log agent running on the app\'s node, and does it push? Its logs: kubectl -n <logAgent.namespace> logs ds/promtail (or ds/alloy)' });
      if (lines > 0) results.push(contractCheck(streams));
    }
  }

  if (plan.grafana) {
    const g = plan.grafana;
    const cookie = await session();
    for (const uid of cookie ? [PROMETHEUS_DATASOURCE_UID, ...(g.lokiDataSource ? [LOKI_DATASOURCE_UID] : [])] : []) {
      const r = await get(g.namespace, GRAFANA_NAME, GRAFANA_PORT, `/api/datasources/uid/${uid}/health`, { Cookie: cookie! });
      const body = (() => { try { return JSON.parse(r.body); } catch { return {}; } })();
      results.push(r.status === 200 && body.status === 'OK'
        ? { name: `Grafana data source ${uid}`, ok: true, detail: body.message ?? 'OK' }
        : { name: `Grafana data source ${uid}`, ok: false, detail: `health check answered ${r.status}: ${body.message ?? r.body.slice(0, 160)}`, fix: plan.platform === 'compose' ? `Grafana cannot reach ${uid}: compose/grafana/provisioning/datasources/, and the networks both join` : `Grafana cannot reach ${uid}: its URL in the grafana-datasources ConfigMap, and the NetworkPolicies` });
    }
    // A Loki of the user's answers its health check whatever it holds: ask it, through Grafana as the dashboards
    // do (with the tenant), for the subject's lines.
    if (cookie && g.lokiStore) {
      const name = 'Grafana\'s Loki: the app\'s lines';
      const r = await throughGrafana(LOKI_DATASOURCE_UID, linesPath, cookie);
      const streams: any[] = (() => { try { return JSON.parse(r.body).data?.result ?? []; } catch { return []; } })();
      const lines = lineCount(streams);
      results.push(lines > 0
        ? { name, ok: true, detail: `${g.lokiStore}: ${lines} lines for ${linesQuery} in the last 15 minutes` }
        : { name, ok: false, detail: `${g.lokiStore} answered ${r.status} with no line for ${linesQuery} in the last 15 minutes${r.status === 200 ? '' : `: ${r.body.slice(0, 160)}`}`, fix: 'the Loki holds nothing of this stack: loki.external.url and tenant, the log agent\'s log and its DroppingLines alert' });
      if (lines > 0) results.push(contractCheck(streams));
    }
    // A long-term store answers its health check even when it holds nothing of this stack (a wrong tenant, remote
    // write refused): ask it, through Grafana as the dashboards do, for the subject's series.
    // (With a Prometheus of the user's, the targets above were asked of the store already.)
    if (cookie && g.prometheusStore && !store) {
      const name = 'Grafana\'s store: the app\'s series';
      const query = `count(up{namespace="${plan.subject.namespace}", app="${plan.subject.app}"})`;
      const r = await throughGrafana(PROMETHEUS_DATASOURCE_UID, `/api/v1/query?query=${q(query)}`, cookie);
      const found = (() => { try { return (JSON.parse(r.body).data?.result ?? []).length > 0; } catch { return false; } })();
      results.push(found
        ? { name, ok: true, detail: `${g.prometheusStore} holds ${query}` }
        : { name, ok: false, detail: `${g.prometheusStore} answered ${r.status} with no ${query}`, fix: 'the store holds nothing of this stack: prometheus.remoteWrite\'s url and tenant (the same as grafana.prometheusQuery.tenant), Prometheus\'s log, the PrometheusRemoteWriteFailing and PrometheusRemoteWriteBehind alerts' });
    }
  }

  if (plan.alertmanagerNamespace) {
    const r = await get(plan.alertmanagerNamespace, ALERTMANAGER_NAME, ALERTMANAGER_PORT, '/-/ready');
    results.push(r.status === 200
      ? { name: 'Alertmanager ready', ok: true, detail: '/-/ready answered 200' }
      : { name: 'Alertmanager ready', ok: false, detail: `/-/ready answered ${r.status}`, fix: logsOf(plan.alertmanagerNamespace, 'deploy', ALERTMANAGER_NAME) });
    // Which Alertmanagers a Prometheus of the user's sends to, only that Prometheus knows (its /status page): the
    // Watchdog below says whether alerts arrive.
    if (!store) {
      const ams: any[] = (await promJson('/api/v1/alertmanagers')).activeAlertmanagers;
      results.push(ams.length > 0
        ? { name: 'Prometheus → Alertmanager', ok: true, detail: ams.map((a) => a.url).join(', ') }
        : { name: 'Prometheus → Alertmanager', ok: false, detail: 'Prometheus has no active Alertmanager', fix: 'the alerting section of prometheus.yml, and Alertmanager\'s Service' });
    }
    // The alert that always fires, in Alertmanager: the stack's rules are evaluated and what they fire arrives, whichever
    // Prometheus evaluates them (Alertmanager API v2, GET /api/v2/alerts with a matcher).
    if (plan.watchdog) {
      const name = 'alerts reach Alertmanager';
      // The stack's own, by its label: kube-prometheus's Watchdog has the same name and severity.
      const matchers = { alertname: WATCHDOG_ALERT, ...WATCHDOG_LABEL };
      const w = await get(plan.alertmanagerNamespace, ALERTMANAGER_NAME, ALERTMANAGER_PORT, `/api/v2/alerts?${Object.entries(matchers).map(([k, v]) => `filter=${q(`${k}="${v}"`)}`).join('&')}`);
      const alerts: any[] = (() => { try { return w.status === 200 ? JSON.parse(w.body) : []; } catch { return []; } })();
      results.push(alerts.some((a) => Object.entries(matchers).every(([k, v]) => a.labels?.[k] === v))
        ? { name, ok: true, detail: `${WATCHDOG_ALERT} is there: the stack's rules are evaluated and their alerts arrive` }
        : { name, ok: false, detail: `no ${WATCHDOG_ALERT} of the stack's in Alertmanager (GET /api/v2/alerts answered ${w.status})`, fix: (store
          ? `does your Prometheus load the stack's rules (${plan.platform === 'compose' ? COMPOSE_FILES.prometheusRules : 'the ConfigMap prometheus-rules, or the PrometheusRule'}) and send to this Alertmanager (its alerting section)? Its /rules and /status pages`
          : 'Prometheus\'s /rules page (the watchdog group), then its /status page\'s Alertmanagers') +
          '. Alertmanager keeps alerts in memory, and Prometheus sends a firing one again every --rules.alert.resend-delay (1m): just after Alertmanager (re)starts, wait a minute, or use --wait' });
    }
  }
  return results;
}

/** One line per check: `ok   name: detail`, or `FAIL name: detail` and the fix on the next line. */
export function formatChecks(results: readonly CheckResult[]): string {
  return results.map((r) => (r.ok ? `ok   ${r.name}: ${r.detail}` : `FAIL ${r.name}: ${r.detail}${r.fix ? `\n     → ${r.fix}` : ''}`)).join('\n');
}

/**
 * The checks against the cluster `kc` points at, repeated until they all pass or `waitSeconds` are up; prints each
 * wait and then the lines. Returns the exit status: 0 all passed, 1 not (or the cluster unreachable, said at once).
 */
export async function verifyStack(kc: KubeConfig, plan: VerifyPlan, waitSeconds: number, log: (line: string) => void = console.log, warn: (line: string) => void = console.error): Promise<number> {
  let password: string | undefined;
  return verifyUntil(plan, () => serviceProxyTransport(kc), async () => (password ??= await grafanaPassword(kc, plan.grafana!)), waitSeconds, log, warn);
}

/** runChecks until every check passes or `waitSeconds` are up; the exit status (1 at once when nothing answers). */
export async function verifyUntil(plan: VerifyPlan, transport: () => Transport, password: () => Promise<string>, waitSeconds: number,
  log: (line: string) => void = console.log, warn: (line: string) => void = console.error): Promise<number> {
  const deadline = Date.now() + waitSeconds * 1000;
  // One transport for every try: what it learns (a session) is kept.
  const t = transport();
  for (;;) {
    let results;
    try {
      results = await runChecks(plan, t, password);
    } catch (e) {
      if (!(e instanceof ClusterUnreachableError)) throw e;
      // Not up yet, or not there: with --wait, try again until the time is up.
      if (Date.now() >= deadline) {
        warn(e.message);
        return 1;
      }
      log(`waiting: ${e.message.split('. ')[0]} (${Math.ceil((deadline - Date.now()) / 1000)} s left)`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(5000, Math.max(0, deadline - Date.now()))));
      continue;
    }
    const failed = results.filter((r) => !r.ok).length;
    // A refused password stays refused, and Grafana locks the user out after a few: no retry.
    const refused = results.some((r) => !r.ok && r.name === 'Grafana login' && /answered 401/.test(r.detail));
    if (failed === 0 || refused || Date.now() >= deadline) {
      log(formatChecks(results));
      log(failed === 0 ? `\nall ${results.length} checks passed` : `\n${failed} of ${results.length} checks failed`);
      return failed === 0 ? 0 : 1;
    }
    log(`waiting: ${results.length - failed}/${results.length} checks pass (${Math.ceil((deadline - Date.now()) / 1000)} s left)`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(5000, Math.max(0, deadline - Date.now()))));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The compose stack: the same checks through the ports it publishes on 127.0.0.1 (Prometheus, Grafana). Loki and
// Alertmanager publish none (the internal backend network): they are asked through Grafana's data source proxy.

/** What compose:verify needs beside the plan: the host ports Prometheus and Grafana are published on. */
export interface ComposeEndpoints {
  /** None with a Prometheus of the user's (prometheus.enabled false). */
  readonly prometheusPort?: number;
  readonly grafanaPort?: number;
}

/** The host port of a service's `127.0.0.1:<host>:<container>` publication. */
function publishedPort(service: any, name: string): number {
  const spec = String((service?.ports ?? [])[0] ?? '');
  const m = /^127\.0\.0\.1:(\d+):\d+$/.exec(spec);
  if (!m) throw new Error(`compose service ${name} publishes no port on 127.0.0.1 (ports: ${JSON.stringify(service?.ports ?? [])}): synthesize again with npm run synth`);
  return Number(m[1]);
}

/** Reads the plan off the compose files synthesized into `dir` (docker-compose.yml, prometheus/prometheus.yml). */
export function readComposeVerifyPlan(dir: string): { plan: VerifyPlan; endpoints: ComposeEndpoints } {
  const file = path.join(dir, 'docker-compose.yml');
  if (!fs.existsSync(file)) throw new Error(`no ${file}: run \`npm run synth\` first (with the same STACK_CONFIG you run)`);
  const doc = parse(fs.readFileSync(file, 'utf8'));
  const services: Record<string, any> = doc.services;
  const project: string = doc.name;
  const grafana = services[GRAFANA_NAME];
  // A Prometheus of the user's (prometheus.enabled false): the jobs it loads, and the store Grafana reads.
  const ours = Boolean(services[PROMETHEUS_NAME]);
  if (!ours && !grafana) throw new Error(NO_PROMETHEUS_OF_OURS);
  const prom = parse(fs.readFileSync(path.join(dir, ours ? COMPOSE_FILES.prometheusConfig : COMPOSE_FILES.prometheusScrapeConfigs), 'utf8'));
  const jobs: string[] = prom.scrape_configs.map((j: any) => j.job_name);
  // The demo app: the scraped service built from app/.
  const app = Object.keys(services).find((n) => services[n].build && jobs.includes(n));
  const stand = ours ? PROMETHEUS_NAME : GRAFANA_NAME;
  const env = grafana?.environment ?? {};
  const datasourcesYaml = readIfPresent(path.join(dir, 'grafana', 'provisioning', 'datasources', 'datasources.yaml'));
  const lokiStore = services[LOKI_NAME] ? {} : lokiStoreOf(datasourcesYaml);
  return {
    plan: {
      platform: 'compose',
      // The traffic generator is a profile of its own: compose:verify asks for it (compose/README.md).
      steadyTraffic: Boolean(app && services[`${app}-traffic`]),
      ...(ours ? { prometheusNamespace: project } : {}),
      subject: app ? { namespace: project, app, job: app, isDemoApp: true } : { namespace: project, app: stand, job: stand, isDemoApp: false },
      targets: jobs.map((job) => ({ job })),
      ...(services[LOKI_NAME] && grafana ? { lokiNamespace: project } : {}),
      ...(grafana ? {
        grafana: {
          namespace: project, adminUser: env.GF_SECURITY_ADMIN_USER ?? 'admin', lokiDataSource: Boolean(services[LOKI_NAME] || lokiStore.lokiStore),
          ...prometheusStoreOf(datasourcesYaml, `http://${PROMETHEUS_NAME}:`),
          ...lokiStore,
        },
      } : {}),
      ...(services[ALERTMANAGER_NAME] && grafana ? { alertmanagerNamespace: project } : {}),
      watchdog: holdsWatchdog(readIfPresent(path.join(dir, COMPOSE_FILES.prometheusRules))),
    },
    endpoints: { ...(ours ? { prometheusPort: publishedPort(services[PROMETHEUS_NAME], PROMETHEUS_NAME) } : {}), ...(grafana ? { grafanaPort: publishedPort(grafana, GRAFANA_NAME) } : {}) },
  };
}

/** Grafana's admin password on compose: GF_ADMIN_PASSWORD from the environment, or from `<dir>/.env` as compose reads it. */
export function composeGrafanaPassword(dir: string): string {
  if (process.env.GF_ADMIN_PASSWORD) return process.env.GF_ADMIN_PASSWORD;
  const envFile = path.join(dir, '.env');
  const line = fs.existsSync(envFile) ? fs.readFileSync(envFile, 'utf8').split('\n').find((l) => /^\s*GF_ADMIN_PASSWORD\s*=/.test(l)) : undefined;
  const raw = line?.replace(/^\s*GF_ADMIN_PASSWORD\s*=\s*/, '').trim() ?? '';
  // As compose reads it: a quoted value as it is between its quotes; an unquoted one up to a " #" comment.
  const quoted = /^(['"])(.*)\1$/.exec(raw);
  const value = quoted ? quoted[2] : raw.replace(/\s+#.*$/, '');
  if (!value) throw new Error(`GF_ADMIN_PASSWORD is set neither in the environment nor in ${envFile}`);
  return value;
}

/** Requests to the compose stack's published ports; Loki and Alertmanager through Grafana's data source proxy, logged in. */
export function composeTransport(e: ComposeEndpoints, grafanaUser: string, password: () => Promise<string>): Transport {
  let cookie: string | undefined;
  const send = async (method: string, url: string, o: { headers?: Record<string, string>; body?: string } = {}) => {
    try {
      const r = await fetch(url, { method, headers: o.headers, body: o.body, redirect: 'manual' });
      const headers: http.IncomingHttpHeaders = Object.fromEntries(r.headers.entries());
      headers['set-cookie'] = r.headers.getSetCookie();
      return { status: r.status, body: await r.text(), headers };
    } catch (err) {
      throw new ClusterUnreachableError(`cannot reach ${new URL(url).host}: ${(err as { cause?: Error }).cause?.message ?? (err as Error).message}. Is the compose stack up (docker compose -f compose/docker-compose.yml ps)?`);
    }
  };
  const grafana = (p: string) => {
    if (!e.grafanaPort) throw new Error('the compose stack has no Grafana, through which Loki and Alertmanager are asked');
    return `http://127.0.0.1:${e.grafanaPort}${p}`;
  };
  return {
    async request(method, _namespace, service, _port, pathAndQuery, o = {}) {
      if (service === PROMETHEUS_NAME) {
        if (e.prometheusPort === undefined) throw new Error('the compose stack runs no Prometheus (prometheus.enabled false): its metrics are asked of the store, through Grafana');
        return send(method, `http://127.0.0.1:${e.prometheusPort}${pathAndQuery}`, o);
      }
      if (service === GRAFANA_NAME) return send(method, grafana(pathAndQuery), o);
      const uid = service === LOKI_NAME ? LOKI_DATASOURCE_UID : service === ALERTMANAGER_NAME ? ALERTMANAGER_DATASOURCE_UID : undefined;
      if (!uid) throw new Error(`compose:verify cannot reach ${service}: only Prometheus and Grafana are published`);
      if (!cookie) {
        let secret: string;
        try {
          secret = await password();
        } catch (err) {
          return { status: 401, body: `asked through Grafana, whose admin password could not be read: ${(err as Error).message}`, headers: {} };
        }
        const login = await send('POST', grafana('/login'), { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: grafanaUser, password: secret }) });
        cookie = sessionCookie(login.headers['set-cookie']);
        if (!cookie) return { status: login.status, body: `Grafana's login (to ask ${service} through it) answered ${login.status}: ${login.body}`, headers: {} };
      }
      return send(method, grafana(`/api/datasources/proxy/uid/${uid}${pathAndQuery}`), { ...o, headers: { ...o.headers, Cookie: cookie } });
    },
  };
}

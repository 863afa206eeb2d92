/**
 * `npm run verify` (lib/verify.ts, scripts/verify.ts) against a stack on loopback: the real Prometheus (Debian),
 * configured with the synthesized prometheus.yml (kubernetes_sd swapped for file_sd with discovery's labels),
 * scraping the real demo app under traffic and stand-ins of the other components' /metrics; stand-ins of the
 * Kubernetes API server, Loki and Grafana that answer as the real ones document:
 * - API server: the service proxy `GET /api/v1/namespaces/{ns}/services/{name}:{port}/proxy/{path}`, `GET
 *   /api/v1/namespaces/{ns}/pods?labelSelector=` (a PodList), `GET .../secrets/{name}` (a Secret, data base64) and
 *   exec over WebSocket (`v4.channel.k8s.io`: each binary frame starts with its channel, 1 stdout, 3 the V1Status)
 *   (kubernetes.io/docs/reference/kubernetes-api, and the client's own web-socket-handler);
 * - Loki: `GET /loki/api/v1/query_range` → {status: success, data: {resultType: streams, result: [{stream, values:
 *   [[ns-timestamp, line]]}]}} (grafana.com/docs/loki/latest/reference/loki-http-api, "Query logs within a range");
 * - Grafana: `GET /api/health`; `GET /api/datasources/uid/{uid}/health` with basic auth → {status: "OK", message}
 *   or 401 (grafana.com/docs/grafana/latest/developers/http_api/data_source, "Check data source health").
 * Each failure mode gives its message.
 */
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import { WebSocketServer } from 'ws';
import { parse, stringify } from 'yaml';
import { createApp } from '../app/src/app';
import { createLogger } from '../app/src/logger';
import { parseStackConfig, renderCompose, renderManifests, StackInput } from '../lib';
import { CheckResult, formatChecks, readComposeVerifyPlan, readVerifyPlan, VerifyPlan } from '../lib/verify';
import { renderAlertRules, WATCHDOG_ALERT } from '../lib/render/alert-rules';
import { ROOT } from './helm-support';
import { tempDir } from './helpers/temp-dir';
import { kubeconfigYaml } from './support/kubeconfig';
import { runScript, ScriptRun } from './support/run-script';
import { podTarget } from './support/pod-targets';
import { RunningPrometheus, serveMetrics, startPrometheus, withFileSd } from './support/prometheus';

// A stack without the node-level jobs (their own tests run them): every target is a pod of the pod job.
const INPUT: StackInput = { kubelet: { enabled: false }, kubeStateMetrics: { enabled: false }, nodeExporter: { enabled: false } };
const PASSWORD = 'generated-on-the-volume';
/**
 * The stack's watchdog group alone, for the test's Prometheus (the other rules would fire on the stand-ins): the real
 * Prometheus evaluates it and sends the Watchdog to the Alertmanager stand-in, where verify looks for it.
 */
const WATCHDOG_RULES = 'watchdog-rules.yaml';
/**
 * Prometheus drops what fires before it has found its Alertmanagers (its discovery reports every 5 s), and sends again
 * only after --rules.alert.resend-delay (1m by default): a second here, so the Watchdog arrives within the tests' waits.
 */
const RESEND_SOON = ['--rules.alert.resend-delay=1s'];
const watchdogRules = () => ({ [WATCHDOG_RULES]: stringify({ groups: renderAlertRules().groups.filter((g) => g.rules.some((r) => r.alert === WATCHDOG_ALERT)) }) });

function synthesizedDist(input: StackInput): string {
  const dir = tempDir('verify-dist-');
  for (const [name, content] of renderManifests(parseStackConfig(input))) fs.writeFileSync(path.join(dir, name), content);
  return dir;
}

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

/** The app's pod as the log agent labels its lines and Prometheus its series (the contract). */
const APP_POD = { namespace: 'demo', pod: 'demo-app-6d9f8b7c5d-q2w3e', container: 'app', app: 'demo-app', node: 'kind-worker' };

interface StandIns {
  /** What Loki answers; null: a 500. */
  lokiStreams: Array<{ stream: Record<string, string>; values: Array<[string, string]> }> | null;
  /** Grafana's admin password, as Grafana checks it (the file on its volume always holds PASSWORD). */
  grafanaPassword: string;
  /** Grafana's answer for a data source's health. */
  datasourceHealth: Record<string, { status: string; message: string }>;
  /** Requests to the API server, as method path. */
  requests: string[];
  /** Requests to Grafana, as method path. */
  grafanaRequests: string[];
  /** The stream selector whose lines Loki has. */
  lokiQuery: string;
  /** Where Grafana's Prometheus data source proxy forwards (a long-term store); null: a store that holds nothing. @default none */
  store?: string | null;
  /** Whether the Alertmanager stand-in lists none of the alerts Prometheus sent it (as if none arrived). @default false */
  alertmanagerDropsAlerts?: boolean;
  /** Alerts (their labels) another Prometheus sent the Alertmanager stand-in. @default none */
  alertmanagerForeign?: Array<Record<string, string>>;
}

/** The real demo app on loopback, sent a request every 20 ms until stopped. */
async function appUnderTraffic(): Promise<{ url: string; stop: () => Promise<void> }> {
  const server = http.createServer(createApp({ logger: createLogger({ level: 'silent' }) }).listener);
  const url = await listen(server);
  let sending = true;
  const traffic = (async () => {
    while (sending) {
      await (await fetch(`${url}/`)).text();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return { url, stop: async () => { sending = false; await traffic; server.close(); } };
}

/**
 * Loki, Grafana and Alertmanager as their APIs answer (see the file's comment), from `state`. Grafana's data source
 * proxy (`/api/datasources/proxy/uid/{uid}/{path}`, logged in) forwards to the Loki and Alertmanager stand-ins.
 */
async function componentStandIns(state: StandIns): Promise<{ loki: string; grafana: string; alertmanager: string; close: () => Promise<void> }> {
  const lokiServer = http.createServer((req, res) => {
    if (!req.url!.startsWith('/loki/api/v1/query_range')) { res.writeHead(404).end(); return; }
    if (state.lokiStreams === null) { res.writeHead(500).end('internal error'); return; }
    // Only the app's stream selector finds the app's lines, as in Loki.
    const query = new URL(req.url!, 'http://loki').searchParams.get('query');
    const result = query === state.lokiQuery ? state.lokiStreams : [];
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: 'success', data: { resultType: 'streams', result, stats: {} } }));
  });
  const loki = await listen(lokiServer);
  // Alertmanager's API v2 (github.com/prometheus/alertmanager api/v2/openapi.yaml): Prometheus POSTs its alerts to
  // /api/v2/alerts, GET /api/v2/alerts?filter=<matcher> lists them; each as received, active.
  const received = new Map<string, Record<string, string>>();
  const amServer = http.createServer(async (req, res) => {
    const url = new URL(req.url!, 'http://alertmanager');
    if (url.pathname === '/-/ready') { res.writeHead(200).end('OK'); return; }
    if (url.pathname !== '/api/v2/alerts') { res.writeHead(404).end(); return; }
    if (req.method === 'POST') {
      let body = '';
      for await (const c of req) body += c;
      for (const a of JSON.parse(body)) received.set(JSON.stringify(a.labels), a.labels);
      res.writeHead(200).end();
      return;
    }
    // Equality matchers only (what verify sends); any other matcher matches nothing here.
    const matchers = url.searchParams.getAll('filter').map((f) => /^(\w+)="(.*)"$/.exec(f) ?? [f, '', '\0']);
    const listed = [...(state.alertmanagerDropsAlerts ? [] : received.values()), ...(state.alertmanagerForeign ?? [])].filter((labels) => matchers.every(([, k, v]) => labels[k] === v)).map((labels) => ({ labels, status: { state: 'active', silencedBy: [], inhibitedBy: [] } }));
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(listed));
  });
  const alertmanager = await listen(amServer);
  const SESSION = 'grafana_session=4f1c0e9a8b7d6c5e';
  const grafanaServer = http.createServer(async (req, res) => {
    state.grafanaRequests.push(`${req.method} ${req.url}`);
    if (req.url === '/api/health') { res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"database":"ok","version":"13.2.0"}'); return; }
    if (req.url === '/login' && req.method === 'POST') {
      let body = '';
      for await (const c of req) body += c;
      const { user, password } = JSON.parse(body);
      if (user === 'admin' && password === state.grafanaPassword) {
        // As Grafana does: the session, and its expiry for the browser's scripts.
        res.writeHead(200, { 'Content-Type': 'application/json', 'Set-Cookie': [`${SESSION}; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax`, 'grafana_session_expiry=1780000000; Path=/; Max-Age=2592000; SameSite=Lax'] }).end('{"message":"Logged in","redirectUrl":"/"}');
      } else {
        res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"message":"Invalid username or password"}');
      }
      return;
    }
    if (!(req.headers.cookie ?? '').split('; ').includes(SESSION)) {
      res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"message":"Unauthorized"}');
      return;
    }
    const proxied = /^\/api\/datasources\/proxy\/uid\/(loki|alertmanager|prometheus)(\/.*)$/.exec(req.url!);
    if (proxied) {
      if (proxied[1] === 'prometheus' && !state.store) {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"status":"success","data":{"resultType":"vector","result":[]}}');
        return;
      }
      const r = await fetch(`${{ loki, alertmanager, prometheus: state.store }[proxied[1]]}${proxied[2]}`);
      res.writeHead(r.status, { 'Content-Type': r.headers.get('content-type') ?? 'text/plain' }).end(await r.text());
      return;
    }
    const m = /^\/api\/datasources\/uid\/([^/]+)\/health$/.exec(req.url!);
    if (!m) { res.writeHead(404).end(); return; }
    const h = state.datasourceHealth[m[1]] ?? { status: 'OK', message: m[1] === 'loki' ? 'Data source successfully connected.' : 'Successfully queried the Prometheus API.' };
    res.writeHead(h.status === 'OK' ? 200 : 400, { 'Content-Type': 'application/json' }).end(JSON.stringify(h));
  });
  const grafana = await listen(grafanaServer);
  return {
    loki, grafana, alertmanager,
    close: () => new Promise((resolve) => { lokiServer.close(); amServer.close(); grafanaServer.closeAllConnections(); grafanaServer.close(() => resolve()); }),
  };
}

describe('verify against a stack on loopback', () => {
  let prometheus: RunningPrometheus;
  let app: Awaited<ReturnType<typeof appUnderTraffic>>;
  const metrics: Array<{ port: number; close: () => Promise<void> }> = [];
  let api: http.Server;
  let apiUrl: string;
  let plan: VerifyPlan;
  let dist: string;
  let kubeconfigFile: string;
  const state: StandIns = { lokiStreams: null, grafanaPassword: PASSWORD, datasourceHealth: {}, requests: [], grafanaRequests: [], lokiQuery: '{namespace="demo",app="demo-app"}' };

  beforeAll(async () => {
    dist = synthesizedDist(INPUT);
    plan = readVerifyPlan(dist);
    // The real app, under traffic.
    app = await appUnderTraffic();
    const appUrl = app.url;
    // Stand-ins of the other components' /metrics.
    const standIn = async () => { const m = await serveMetrics('# TYPE stand_in gauge\nstand_in 1\n'); metrics.push(m); return m.port; };
    const [lokiPort, agentPort, amPort, grafanaPort, promPort] = [await standIn(), await standIn(), await standIn(), await standIn(), await standIn()];
    const components = await componentStandIns(state);
    const config: any = parse(parse(fs.readFileSync(path.join(synthesizedDist(INPUT), '0001-observability.k8s.yaml'), 'utf8').split('\n---\n').find((d) => d.includes('name: prometheus-config'))!).data['prometheus.yml']);
    config.global = { ...config.global, scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' };
    config.alerting.alertmanagers[0].static_configs[0].targets = [new URL(components.alertmanager).host];
    config.rule_files = [WATCHDOG_RULES];
    const target = (o: { namespace: string; app: string; container: string; port: number; node?: string; daemon?: boolean }) => podTarget({
      ip: '127.0.0.1', port: o.port, namespace: o.namespace, container: o.container, node: o.node ?? 'kind-control-plane',
      pod: o.app === 'demo-app' ? APP_POD.pod : `${o.app}-7c9d5b8f6a-x7k2p`,
      labels: { 'app.kubernetes.io/name': o.app }, annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(o.port) },
    });
    const { config: swapped, files: sdFiles } = withFileSd(config, {
      'kubernetes-pods': [
        target({ namespace: 'demo', app: 'demo-app', container: 'app', port: Number(new URL(appUrl).port), node: 'kind-worker' }),
        target({ namespace: 'monitoring', app: 'loki', container: 'loki', port: lokiPort }),
        target({ namespace: 'monitoring-agent', app: 'promtail', container: 'promtail', port: agentPort }),
        target({ namespace: 'monitoring', app: 'alertmanager', container: 'alertmanager', port: amPort }),
        target({ namespace: 'monitoring', app: 'grafana', container: 'grafana', port: grafanaPort }),
        target({ namespace: 'monitoring', app: 'prometheus', container: 'prometheus', port: promPort }),
      ],
    });
    prometheus = await startPrometheus({ config: stringify(swapped), files: { ...sdFiles, ...watchdogRules() }, args: RESEND_SOON });

    // The API server: service proxy to the loopback components, pods, secrets, exec.
    const backends: Record<string, string> = {
      'monitoring/prometheus:9090': prometheus.url,
    };
    backends['monitoring/loki:3100'] = components.loki;
    backends['monitoring/grafana:3000'] = components.grafana;
    backends['monitoring/alertmanager:9093'] = components.alertmanager;
    metrics.push({ port: 0, close: components.close });

    api = http.createServer(async (req, res) => {
      state.requests.push(`${req.method} ${req.url}`);
      if (req.headers.authorization !== 'Bearer test-token') { res.writeHead(401).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401 })); return; }
      // Authenticated: the API server removes the Authorization header before proxying (kubernetes#38775).
      delete req.headers.authorization;
      const proxy = /^\/api\/v1\/namespaces\/([^/]+)\/services\/([^/:]+):(\d+)\/proxy(\/.*)$/.exec(req.url!);
      if (proxy) {
        const base = backends[`${proxy[1]}/${proxy[2]}:${proxy[3]}`];
        if (!base) { res.writeHead(503).end(`no endpoints available for service "${proxy[2]}"`); return; }
        let body = '';
        for await (const c of req) body += c;
        const forwarded: Record<string, string> = {};
        for (const h of ['cookie', 'content-type']) if (req.headers[h]) forwarded[h] = String(req.headers[h]);
        const r = await fetch(`${base}${proxy[4]}`, { method: req.method, headers: forwarded, ...(body ? { body } : {}) }).catch(() => null);
        if (!r) { res.writeHead(503).end('connection refused'); return; }
        res.writeHead(r.status, { 'Content-Type': r.headers.get('content-type') ?? 'text/plain', ...(r.headers.getSetCookie().length ? { 'Set-Cookie': r.headers.getSetCookie() } : {}) }).end(await r.text());
        return;
      }
      if (req.url === '/api/v1/namespaces/monitoring/secrets/grafana-admin') {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ kind: 'Secret', apiVersion: 'v1', metadata: { name: 'grafana-admin', namespace: 'monitoring' }, type: 'Opaque', data: { password: Buffer.from('from-the-secret\n').toString('base64') } }));
        return;
      }
      if (/^\/api\/v1\/namespaces\/monitoring\/pods\?/.test(req.url!)) {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: [{ metadata: { name: 'grafana-5d7f9c8b6-abcde', namespace: 'monitoring' }, status: { phase: 'Running' } }] }));
        return;
      }
      res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }));
    });
    const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols: Set<string>) => (protocols.has('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : false) });
    api.on('upgrade', (req, socket, head) => {
      state.requests.push(`EXEC ${req.url}`);
      wss.handleUpgrade(req, socket, head, (ws) => {
        const url = new URL(req.url!, 'http://x');
        const ok = url.searchParams.getAll('command').join(' ') === 'cat /var/lib/grafana/.admin-password' && url.searchParams.get('container') === 'grafana';
        if (ok) ws.send(Buffer.concat([Buffer.from([1]), Buffer.from(`${PASSWORD}\n`)]));
        ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify(ok ? { metadata: {}, status: 'Success' } : { metadata: {}, status: 'Failure', message: 'command not found' }))]));
        ws.close();
      });
    });
    apiUrl = await listen(api);
    kubeconfigFile = path.join(tempDir('kubeconfig-'), 'config');
    fs.writeFileSync(kubeconfigFile, kubeconfigYaml(apiUrl));
  }, 60000);

  afterAll(async () => {
    await app?.stop();
    await prometheus?.stop();
    api?.closeAllConnections();
    api?.close();
    for (const m of metrics) await m.close();
  });

  /** `npm run verify` (its script, with the user's path: kubeconfig, service proxy, exec), its lines read back. */
  async function run(distDir = dist): Promise<CheckResult[]> {
    const r = await verify({ KUBECONFIG: kubeconfigFile }, ['--dist', distDir]);
    if (r.code === 2 || r.stderr) throw new Error(`verify failed to run: ${r.stderr}`);
    return parseChecks(r.stdout);
  }
  const byName = (results: CheckResult[]) => Object.fromEntries(results.map((r) => [r.name, r]));
  const goodStreams = () => [{ stream: { ...APP_POD, stream: 'stdout', level: 'info' }, values: [[`${Date.now()}000000`, '{"level":"info","msg":"request"}'] as [string, string]] }];

  /** Runs the checks until they all pass (the first scrapes take a few seconds), or 40 s. */
  async function untilAllPass(): Promise<CheckResult[]> {
    const deadline = Date.now() + 40000;
    for (;;) {
      const results = await run();
      if (results.every((r) => r.ok) || Date.now() > deadline) return results;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  test('the plan: every scraped workload of the synthesized stack, and its components', () => {
    expect(plan.targets).toEqual([
      { job: 'kubernetes-pods', app: 'prometheus' }, { job: 'kubernetes-pods', app: 'demo-app' }, { job: 'kubernetes-pods', app: 'loki' },
      { job: 'kubernetes-pods', app: 'promtail' }, { job: 'kubernetes-pods', app: 'alertmanager' }, { job: 'kubernetes-pods', app: 'grafana' },
    ]);
    expect(plan.subject).toEqual({ namespace: 'demo', app: 'demo-app', job: 'kubernetes-pods', isDemoApp: true });
    // The default stack adds the node-level jobs.
    expect(readVerifyPlan(path.join(ROOT, 'dist')).targets.filter((t) => !t.app).map((t) => t.job)).toEqual(['cadvisor', 'kubelet', 'kube-state-metrics', 'node-exporter']);
  });

  test('a working stack: every check passes, one line each', async () => {
    state.lokiStreams = goodStreams();
    const results = await untilAllPass();
    expect(formatChecks(results)).not.toContain('FAIL');
    expect(results.map((r) => r.name)).toEqual([
      'Prometheus ready',
      'target kubernetes-pods app=prometheus', 'target kubernetes-pods app=demo-app', 'target kubernetes-pods app=loki',
      'target kubernetes-pods app=promtail', 'target kubernetes-pods app=alertmanager', 'target kubernetes-pods app=grafana',
      'my_app_requests_total increasing', 'Loki: the app\'s lines', 'label contract: logs and metrics',
      'Grafana healthy', 'Grafana data source prometheus', 'Grafana data source loki', 'Alertmanager ready', 'Prometheus → Alertmanager', 'alerts reach Alertmanager',
    ]);
    // Grafana's generated password was read with exec in its container.
    expect(state.requests.some((r) => r.startsWith('EXEC /api/v1/namespaces/monitoring/pods/grafana-5d7f9c8b6-abcde/exec?'))).toBe(true);
  }, 60000);

  test('--wait retries until every check passes (exit 0), saying how far it got; without it, one try (exit 1)', async () => {
    state.lokiStreams = [];
    const once = await verify({ KUBECONFIG: kubeconfigFile }, ['--dist', dist]);
    expect(once.code).toBe(1);
    expect(once.stdout).toContain('FAIL Loki: the app\'s lines');
    expect(once.stdout).toMatch(/\n1 of \d+ checks failed\n$/);
    const lines = setTimeout(() => { state.lokiStreams = goodStreams(); }, 4000);
    const waited = await verify({ KUBECONFIG: kubeconfigFile }, ['--dist', dist, '--wait', '40']);
    clearTimeout(lines);
    expect(waited.stdout).toMatch(/^waiting: \d+\/\d+ checks pass \(\d+ s left\)$/m);
    expect(waited.stdout).toMatch(/\nall \d+ checks passed\n$/);
    expect(waited.code).toBe(0);
  }, 60000);

  test('no Watchdog of the stack\'s in Alertmanager: said, with where to look on the stack\'s Prometheus', async () => {
    state.alertmanagerDropsAlerts = true;
    const r = byName(await run())['alerts reach Alertmanager'];
    state.alertmanagerDropsAlerts = false;
    expect(r).toMatchObject({ ok: false, fix: expect.stringMatching(/^Prometheus's \/rules page \(the watchdog group\).*--rules\.alert\.resend-delay \(1m\)/) });
    expect(byName(await run())['alerts reach Alertmanager'].ok).toBe(true);
    // Without Alertmanager the rules hold no Watchdog, and nothing looks for it.
    expect(readVerifyPlan(synthesizedDist({ ...INPUT, alertmanager: { enabled: false } })).watchdog).toBe(false);
    expect(readVerifyPlan(synthesizedDist({ ...INPUT, prometheus: { alertRules: false } })).watchdog).toBe(false);
    expect(plan.watchdog).toBe(true);
  }, 60000);

  test('a component down: its target fails with the scrape error', async () => {
    await metrics[1].close();
    const deadline = Date.now() + 20000;
    let r: CheckResult;
    do {
      r = byName(await run())['target kubernetes-pods app=promtail'];
      if (!r.ok) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    } while (Date.now() < deadline);
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/^0\/1 up; http:\/\/127\.0\.0\.1:\d+\/metrics: .*connection refused/);
  }, 30000);

  test('logs whose labels differ from the series\': the contract check names both', async () => {
    state.lokiStreams = [{ stream: { ...APP_POD, app: 'demo-app-6d9f8b7c5d' }, values: [[`${Date.now()}000000`, '{}']] }];
    const r = byName(await run())['label contract: logs and metrics'];
    expect(r.ok).toBe(false);
    expect(r.detail).toContain('app=demo-app-6d9f8b7c5d');
    expect(r.detail).toContain(`series: namespace=demo,pod=${APP_POD.pod},container=app,app=demo-app,node=kind-worker`);
  });

  test('no log lines, or Loki failing: said, with where to look', async () => {
    state.lokiStreams = [];
    let r = byName(await run())['Loki: the app\'s lines'];
    expect([r.ok, r.detail]).toEqual([false, 'no line for {namespace="demo",app="demo-app"} in the last 15 minutes']);
    expect(r.fix).toContain('log agent');
    state.lokiStreams = null;
    r = byName(await run())['Loki: the app\'s lines'];
    expect([r.ok, r.detail]).toEqual([false, 'Loki answered 500: internal error']);
  });

  test('a data source Grafana cannot reach, and a refused password', async () => {
    state.lokiStreams = goodStreams();
    state.datasourceHealth = { loki: { status: 'ERROR', message: 'Unable to connect with Loki. Please check the server logs for more details.' } };
    let r = byName(await run())['Grafana data source loki'];
    expect([r.ok, r.detail]).toEqual([false, 'health check answered 400: Unable to connect with Loki. Please check the server logs for more details.']);
    state.datasourceHealth = {};
    state.grafanaPassword = 'changed-in-the-ui';
    const results = await run();
    state.grafanaPassword = PASSWORD;
    r = byName(results)['Grafana login'];
    expect([r.ok, r.detail, r.fix]).toEqual([false, 'POST /login answered 401 without a session cookie: {"message":"Invalid username or password"}', 'the admin password was refused: was it changed in Grafana\'s UI?']);
    expect(results.map((x) => x.name)).not.toContain('Grafana data source prometheus');
  });

  test('a refused password is not tried again: with --wait, one login, and verify stops (Grafana locks out after a few)', async () => {
    state.lokiStreams = goodStreams();
    state.grafanaPassword = 'changed-in-the-ui';
    const before = state.grafanaRequests.filter((r) => r === 'POST /login').length;
    const started = Date.now();
    const r = await verify({ KUBECONFIG: kubeconfigFile }, ['--dist', dist, '--wait', '60']);
    state.grafanaPassword = PASSWORD;
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL Grafana login: POST /login answered 401');
    expect(state.grafanaRequests.filter((x) => x === 'POST /login').length - before).toBe(1);
    expect(Date.now() - started).toBeLessThan(30000);
  }, 60000);

  test('without a traffic generator, the counter need only be there', async () => {
    const quiet = synthesizedDist({ ...INPUT, app: { trafficGenerator: { enabled: false } } });
    expect(readVerifyPlan(quiet).steadyTraffic).toBe(false);
    expect(plan.steadyTraffic).toBe(true);
    state.lokiStreams = goodStreams();
    const results = await run(quiet);
    expect(byName(results)['my_app_requests_total present']).toEqual({ name: 'my_app_requests_total present', ok: true, detail: 'no traffic generator: it need not rise' });
    expect(results.map((x) => x.name)).not.toContain('my_app_requests_total increasing');
  }, 30000);

  test('Grafana on a long-term store: the app\'s series asked of it through Grafana; a store holding nothing fails, naming the tenant', async () => {
    const storeUrl = 'http://mimir-query-frontend.mimir.svc:8080/prometheus';
    const storeDist = synthesizedDist({
      ...INPUT,
      prometheus: { remoteWrite: [{ name: 'mimir', url: 'http://mimir-distributor.mimir.svc:8080/api/v1/push', tenant: 'observability' }] },
      grafana: { prometheusQuery: { url: storeUrl, tenant: 'observability' } },
    });
    expect(readVerifyPlan(storeDist).grafana!.prometheusStore).toBe(storeUrl);
    expect(plan.grafana!.prometheusStore).toBeUndefined();
    // The stand-in Grafana's proxy forwards to the real Prometheus, which holds the app's series, as a store would.
    state.store = prometheus.url;
    const held = byName(await run(storeDist))['Grafana\'s store: the app\'s series'];
    expect(held).toMatchObject({ ok: true, detail: `${storeUrl} holds count(up{namespace="demo", app="demo-app"})` });
    state.store = null;
    const empty = byName(await run(storeDist))['Grafana\'s store: the app\'s series'];
    state.store = undefined;
    expect(empty.ok).toBe(false);
    expect(empty.fix).toContain('prometheus.remoteWrite\'s url and tenant');
    expect(state.grafanaRequests).toContain(`GET /api/datasources/proxy/uid/prometheus/api/v1/query?query=${encodeURIComponent('count(up{namespace="demo", app="demo-app"})')}`);
  }, 60000);

  test('a Prometheus of the user\'s (prometheus.enabled false): every metrics check asked of its store through Grafana, none of a Prometheus of the stack\'s', async () => {
    const storeUrl = 'http://mimir-query-frontend.mimir.svc:8080/prometheus';
    const theirsDist = synthesizedDist({ ...INPUT, prometheus: { enabled: false, scraper: { namespace: 'kps' } }, grafana: { prometheusQuery: { url: storeUrl } } });
    const theirs = readVerifyPlan(theirsDist);
    expect(theirs.prometheusNamespace).toBeUndefined();
    expect(theirs.grafana!.prometheusStore).toBe(storeUrl);
    // The jobs it runs are the stack's, less the stack's own Prometheus.
    expect(theirs.targets).toEqual(plan.targets.filter((t) => t.app !== 'prometheus'));
    // The stand-in Grafana's proxy forwards to the real Prometheus, which scrapes the app, as the store would hold it.
    state.store = prometheus.url;
    state.lokiStreams = goodStreams();
    const before = state.requests.length;
    const results = await run(theirsDist);
    const held = byName(results);
    // Every check passes but promtail's target, whose stand-in a test above stopped: its `up` of 0, as the store has it.
    expect(results.filter((r) => !r.ok).map((r) => [r.name, r.detail])).toEqual([['target kubernetes-pods app=promtail', expect.stringMatching(new RegExp(`^0/1 up; 127\\.0\\.0\\.1:\\d+: up is 0 in ${storeUrl}$`))]]);
    expect(Object.keys(held)).toEqual(expect.arrayContaining(['target kubernetes-pods app=demo-app', 'my_app_requests_total increasing', 'label contract: logs and metrics', 'Grafana healthy', 'Grafana data source prometheus', 'Alertmanager ready', 'alerts reach Alertmanager']));
    expect(Object.keys(held)).not.toEqual(expect.arrayContaining(['Prometheus ready']));
    expect(Object.keys(held).filter((n) => n.startsWith('Prometheus'))).toEqual([]);
    expect(held['target kubernetes-pods app=demo-app'].detail).toBe(`1/1 up (its up in ${storeUrl})`);
    // Nothing asked of a Prometheus service; Grafana logged in once.
    const asked = state.requests.slice(before);
    expect(asked.filter((r) => r.includes('/services/prometheus:'))).toEqual([]);
    expect(asked.filter((r) => r.includes('/services/grafana:3000/proxy/login'))).toHaveLength(1);
    // No alert arriving (your Prometheus without the stack's rules, or not sending here): said, with where to look.
    state.alertmanagerDropsAlerts = true;
    const silent = byName(await run(theirsDist))['alerts reach Alertmanager'];
    state.alertmanagerDropsAlerts = false;
    expect(silent).toMatchObject({ ok: false, detail: 'no Watchdog of the stack\'s in Alertmanager (GET /api/v2/alerts answered 200)', fix: expect.stringContaining('the ConfigMap prometheus-rules') });
    expect(silent.fix).toContain('--rules.alert.resend-delay (1m)');
    // kube-prometheus's own Watchdog (same name and severity, none of the stack's label) is not the stack's rules.
    state.alertmanagerDropsAlerts = true;
    state.alertmanagerForeign = [{ alertname: 'Watchdog', severity: 'none', prometheus: 'kps/kube-prometheus-stack-prometheus' }];
    const foreign = byName(await run(theirsDist))['alerts reach Alertmanager'];
    state.alertmanagerDropsAlerts = false;
    state.alertmanagerForeign = undefined;
    expect(foreign.ok).toBe(false);
    // A store holding nothing of the stack: each target fails, saying where the jobs are.
    state.store = null;
    const empty = byName(await run(theirsDist));
    state.store = undefined;
    expect(empty['target kubernetes-pods app=demo-app']).toMatchObject({ ok: false, detail: `no up{job="kubernetes-pods", app="demo-app"} in ${storeUrl}`, fix: expect.stringContaining('the ConfigMap prometheus-scrape-configs') });
  }, 60000);

  test('a Loki of the user\'s (loki.external): the app\'s lines asked of it through Grafana; one holding none or failing fails, naming the settings', async () => {
    const lokiUrl = 'http://loki-gateway.loki.svc.cluster.local';
    const externalDist = synthesizedDist({ ...INPUT, loki: { enabled: false, external: { url: lokiUrl, tenant: 'team-a' } } });
    const externalPlan = readVerifyPlan(externalDist);
    expect(externalPlan.lokiNamespace).toBeUndefined();
    expect(externalPlan.grafana).toMatchObject({ lokiDataSource: true, lokiStore: lokiUrl });
    expect(plan.grafana!.lokiStore).toBeUndefined();
    // The stand-in Grafana's proxy forwards to the Loki stand-in, as to the user's Loki.
    state.lokiStreams = goodStreams();
    const held = byName(await run(externalDist));
    expect(held['Grafana\'s Loki: the app\'s lines']).toMatchObject({ ok: true, detail: expect.stringMatching(new RegExp(`^${lokiUrl}: [0-9]+ lines for \\{namespace="demo",app="demo-app"\\}`)) });
    expect(held['Grafana data source loki'].ok).toBe(true);
    expect(Object.keys(held)).not.toContain('Loki: the app\'s lines');
    // The label contract, checked on your Loki's streams too: a stream whose labels no series has fails, naming it.
    expect(held['label contract: logs and metrics'].ok).toBe(true);
    state.lokiStreams = [{ stream: { ...APP_POD, app: 'demo-app-6d9f8b7c5d' }, values: [[`${Date.now()}000000`, '{}']] }];
    const mismatched = byName(await run(externalDist))['label contract: logs and metrics'];
    expect(mismatched.ok).toBe(false);
    expect(mismatched.detail).toContain('app=demo-app-6d9f8b7c5d');
    state.lokiStreams = [];
    const empty = byName(await run(externalDist))['Grafana\'s Loki: the app\'s lines'];
    state.lokiStreams = goodStreams();
    expect(empty.ok).toBe(false);
    expect(empty.fix).toContain('loki.external.url and tenant');
    // A Loki that answers an error: its answer is shown.
    state.lokiStreams = null;
    const failing = byName(await run(externalDist))['Grafana\'s Loki: the app\'s lines'];
    state.lokiStreams = goodStreams();
    expect(failing).toMatchObject({ ok: false, detail: expect.stringMatching(/answered 500 with no line .*: internal error$/) });
    expect(state.grafanaRequests.some((r) => r.startsWith(`GET /api/datasources/proxy/uid/loki/loki/api/v1/query_range?query=${encodeURIComponent('{namespace="demo",app="demo-app"}')}`))).toBe(true);
  }, 60000);

  test('Grafana\'s password from its adminPasswordSecret, when the stack names one', async () => {
    const withSecretDist = synthesizedDist({ ...INPUT, grafana: { adminPasswordSecret: { name: 'grafana-admin', key: 'password' } } });
    expect(readVerifyPlan(withSecretDist).grafana!.passwordSecret).toEqual({ name: 'grafana-admin', key: 'password' });
    state.grafanaPassword = 'from-the-secret';
    const results = await run(withSecretDist);
    state.grafanaPassword = PASSWORD;
    expect(byName(results)['Grafana data source prometheus'].ok).toBe(true);
    expect(state.requests).toContain('GET /api/v1/namespaces/monitoring/secrets/grafana-admin');
  }, 30000);
});


/** Runs the script behind `npm run verify`. */
function verify(env: Record<string, string>, args: string[] = []): Promise<ScriptRun> {
  return runScript('scripts/verify.ts', args, { STACK_CONFIG: '', CDK8S_OUTDIR: '', ...env });
}

const CHECK_NAMES = [
  'Grafana\'s store: the app\'s series', 'Grafana\'s Loki: the app\'s lines', 'Prometheus ready', 'my_app_requests_total increasing', 'Loki: the app\'s lines', 'label contract: logs and metrics', 'Grafana healthy',
  'Grafana login', 'Grafana data source prometheus', 'Grafana data source loki', 'Alertmanager ready', 'Prometheus → Alertmanager',
];

/** formatChecks undone: `ok   name: detail`, or `FAIL name: detail` and `     → fix`. */
function parseChecks(stdout: string): CheckResult[] {
  const lines = stdout.split('\n');
  const out: CheckResult[] = [];
  lines.forEach((line, i) => {
    const m = /^(ok  |FAIL) (.*)$/.exec(line);
    if (!m) return;
    const name = CHECK_NAMES.find((n) => m[2].startsWith(`${n}: `)) ?? m[2].slice(0, m[2].indexOf(': '));
    const fix = lines[i + 1]?.startsWith('     → ') ? lines[i + 1].slice(7) : undefined;
    out.push({ name, ok: m[1] === 'ok  ', detail: m[2].slice(name.length + 2), ...(fix ? { fix } : {}) });
  });
  return out;
}

test('formatChecks and its reading agree', () => {
  const results: CheckResult[] = [{ name: 'Loki: the app\'s lines', ok: false, detail: 'no line: none', fix: 'look' }, { name: 'target kubernetes-pods app=loki', ok: true, detail: '1/1 up' }];
  expect(parseChecks(formatChecks(results))).toEqual(results);
});

describe('npm run verify, the command', () => {
  test('with no kubeconfig, it stops at once saying so', async () => {
    const dir = tempDir('no-kubeconfig-');
    const r = await verify({ KUBECONFIG: path.join(dir, 'missing'), HOME: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^npm run verify reads your kubeconfig \(KUBECONFIG, or ~\/\.kube\/config\) and could not|the kubeconfig has no current cluster/);
  });

  test('with a cluster that is not there, it stops at once naming the API server and context', async () => {
    const dir = tempDir('kubeconfig-');
    fs.writeFileSync(path.join(dir, 'config'), kubeconfigYaml('http://127.0.0.1:9'));
    const r = await verify({ KUBECONFIG: path.join(dir, 'config') });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach the API server http://127.0.0.1:9 (context test)');
    expect(r.stderr).toContain('kind get clusters');
  });

  test('a bad --wait is refused', async () => {
    const r = await verify({}, ['--wait', 'soon']);
    expect([r.code, r.stderr.trim()]).toEqual([2, '--wait takes a whole number of seconds greater than 0, got "soon"']);
  });
});


describe('npm run compose:verify against the compose stack on loopback', () => {
  // The stack without cAdvisor and node-exporter (their own tests scrape them): every job a service of the project.
  const COMPOSE_INPUT: StackInput = { nodeExporter: { enabled: false }, compose: { cadvisor: { enabled: false } } };
  const state: StandIns = { lokiStreams: null, grafanaPassword: PASSWORD, datasourceHealth: {}, requests: [], grafanaRequests: [], lokiQuery: '{namespace="observability",app="demo-app"}' };
  let prometheus: RunningPrometheus;
  let app: Awaited<ReturnType<typeof appUnderTraffic>>;
  let components: Awaited<ReturnType<typeof componentStandIns>>;
  const metrics: Array<{ port: number; close: () => Promise<void> }> = [];
  let dir: string;
  const project = 'observability';
  const appPod = { namespace: project, pod: 'observability-demo-app', container: 'observability-demo-app', app: 'demo-app', node: 'docker-host' };

  /** The compose files of `input`, written as `npm run synth` writes compose/. */
  function composeDir(input: StackInput): string {
    const out = tempDir('compose-verify-');
    for (const [file, content] of renderCompose(parseStackConfig(input))) {
      fs.mkdirSync(path.dirname(path.join(out, file)), { recursive: true });
      fs.writeFileSync(path.join(out, file), content);
    }
    return out;
  }

  beforeAll(async () => {
    app = await appUnderTraffic();
    const appUrl = app.url;
    components = await componentStandIns(state);
    // The generated Prometheus config, each service's target moved to loopback: the app, stand-ins for the rest.
    const config: any = parse(fs.readFileSync(path.join(composeDir(COMPOSE_INPUT), 'prometheus', 'prometheus.yml'), 'utf8'));
    config.global = { ...config.global, scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' };
    config.rule_files = [WATCHDOG_RULES];
    for (const job of config.scrape_configs) {
      if (job.job_name === 'demo-app') job.static_configs[0].targets = [`127.0.0.1:${new URL(appUrl).port}`];
      else {
        const m = await serveMetrics('# TYPE stand_in gauge\nstand_in 1\n');
        metrics.push(m);
        job.static_configs[0].targets = [`127.0.0.1:${m.port}`];
      }
    }
    config.alerting.alertmanagers[0].static_configs[0].targets = [new URL(components.alertmanager).host];
    prometheus = await startPrometheus({ config: stringify(config), files: watchdogRules(), args: RESEND_SOON });
    // compose/ as synthesized with the ports this test's Prometheus and Grafana listen on.
    dir = composeDir({ ...COMPOSE_INPUT, compose: { ...COMPOSE_INPUT.compose, ports: { prometheus: Number(new URL(prometheus.url).port), grafana: Number(new URL(components.grafana).port) } } });
  }, 60000);

  afterAll(async () => {
    await app?.stop();
    await prometheus?.stop();
    await components?.close();
    for (const m of metrics) await m.close();
  });

  /** `npm run compose:verify` on compose folder `folder` (the stack on loopback by default). */
  const composeVerify = (env: Record<string, string> = {}, args: string[] = [], folder = dir) =>
    runScript('scripts/compose-verify.ts', ['--dir', folder, ...args], { GF_ADMIN_PASSWORD: PASSWORD, ...env });

  /** A compose folder whose published ports nothing listens on (fetch refuses well-known ones such as 9: free ones, closed again). */
  async function composeDirNotUp(): Promise<{ folder: string; closed: number }> {
    const probe = http.createServer();
    const closed = Number(new URL(await listen(probe)).port);
    await new Promise((resolve) => probe.close(resolve));
    return { folder: composeDir({ ...COMPOSE_INPUT, compose: { ...COMPOSE_INPUT.compose, ports: { prometheus: closed, grafana: closed + 1 } } }), closed };
  }

  test('the plan: every job of the compose Prometheus, the app\'s job for the contract, Prometheus and Grafana at their published ports', () => {
    const { plan, endpoints } = readComposeVerifyPlan(dir);
    expect(plan.targets.map((t) => t.job)).toEqual(['prometheus', 'demo-app', 'loki', 'promtail', 'alertmanager', 'grafana']);
    expect(plan.subject).toEqual({ namespace: project, app: 'demo-app', job: 'demo-app', isDemoApp: true });
    expect(endpoints).toEqual({ prometheusPort: Number(new URL(prometheus.url).port), grafanaPort: Number(new URL(components.grafana).port) });
  });

  test('a working stack: every check passes; Loki and Alertmanager asked through Grafana\'s data source proxy, logged in', async () => {
    state.lokiStreams = [{ stream: { ...appPod, stream: 'stdout' }, values: [[`${Date.now()}000000`, '{"level":"info"}']] }];
    const r = await composeVerify({}, ['--wait', '40']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/\nall \d+ checks passed\n$/);
    const results = parseChecks(r.stdout);
    expect(results.filter((x) => !x.ok)).toEqual([]);
    expect(results.map((x) => x.name)).toEqual([
      'Prometheus ready', 'target prometheus', 'target demo-app', 'target loki', 'target promtail', 'target alertmanager', 'target grafana',
      'my_app_requests_total increasing', 'Loki: the app\'s lines', 'label contract: logs and metrics',
      'Grafana healthy', 'Grafana data source prometheus', 'Grafana data source loki', 'Alertmanager ready', 'Prometheus → Alertmanager', 'alerts reach Alertmanager',
    ]);
    expect(state.grafanaRequests).toEqual(expect.arrayContaining([expect.stringMatching(/^GET \/api\/datasources\/proxy\/uid\/loki\/loki\/api\/v1\/query_range\?query=/), 'GET /api/datasources/proxy/uid/alertmanager/-/ready']));
    expect(r.code).toBe(0);
  }, 60000);

  test('without GF_ADMIN_PASSWORD (nor compose/.env): the Grafana checks say what to set', async () => {
    const r = await composeVerify({ GF_ADMIN_PASSWORD: '' });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`FAIL Grafana login: could not read the admin password: GF_ADMIN_PASSWORD is set neither in the environment nor in ${path.join(dir, '.env')}`);
    expect(r.stdout).toContain('→ set GF_ADMIN_PASSWORD (compose/.env)');
    expect(r.stdout).toContain('FAIL Loki: the app\'s lines: Loki answered 401: asked through Grafana, whose admin password could not be read');
  }, 30000);

  test('the password from compose/.env, as compose reads it', async () => {
    fs.writeFileSync(path.join(dir, '.env'), `# made by the person\nGF_ADMIN_PASSWORD="${PASSWORD}"\n`);
    const r = await composeVerify({ GF_ADMIN_PASSWORD: '' });
    fs.rmSync(path.join(dir, '.env'));
    expect(parseChecks(r.stdout).find((x) => x.name === 'Grafana data source loki')?.ok).toBe(true);
  }, 30000);

  test('an unquoted password with a comment in compose/.env is read as compose reads it', async () => {
    fs.writeFileSync(path.join(dir, '.env'), `GF_ADMIN_PASSWORD=${PASSWORD} # set on 2026-11-30\n`);
    const r = await composeVerify({ GF_ADMIN_PASSWORD: '' });
    fs.rmSync(path.join(dir, '.env'));
    expect(parseChecks(r.stdout).find((x) => x.name === 'Grafana data source loki')?.ok).toBe(true);
  }, 30000);

  test('a stack not up yet: with --wait it keeps trying, saying so, then gives up naming what to run', async () => {
    const { folder, closed } = await composeDirNotUp();
    const started = Date.now();
    const r = await composeVerify({}, ['--wait', '6'], folder);
    expect(Date.now() - started).toBeGreaterThan(5000);
    expect(r.stdout).toMatch(new RegExp(`^waiting: cannot reach 127\\.0\\.0\\.1:${closed}: connect ECONNREFUSED 127\\.0\\.0\\.1:${closed} \\(\\d+ s left\\)$`, 'm'));
    expect(r.stderr).toContain('Is the compose stack up (docker compose -f compose/docker-compose.yml ps)?');
    expect(r.code).toBe(1);
  }, 30000);

  test('a stack that is not up: stops at once naming the port and what to run', async () => {
    const { folder, closed } = await composeDirNotUp();
    const child = await composeVerify({}, [], folder);
    expect(child.code).toBe(1);
    expect(child.stderr).toContain(`cannot reach 127.0.0.1:${closed}: connect ECONNREFUSED 127.0.0.1:${closed}. Is the compose stack up (docker compose -f compose/docker-compose.yml ps)?`);
  }, 30000);
});

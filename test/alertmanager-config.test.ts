// alertmanager.yml (lib/render/alertmanager-config.ts) against the real Alertmanager 0.25 and amtool from
// Debian, and end to end: the real Prometheus fires the stack's TargetDown rule at the real Alertmanager,
// which notifies a webhook on loopback, once, then again when it resolves.
import * as http from 'node:http';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { ALERTMANAGER_SECRET_FILES, ALERTMANAGER_SECRETS_DIR, alertmanagerFlags } from '../lib/components/alertmanager';
import { AlertmanagerReceivers, renderAlertmanagerConfig } from '../lib/render/alertmanager-config';
import { parseStackConfig, renderCompose } from '../lib';
import { RULES_FILE } from '../lib/render/alert-rules';
import { tempDir } from './helpers/temp-dir';
import { EVERY_RECEIVER_INPUT, synthObjects } from './helpers/stack';
import { CHART_DIR, scenario, templateScenario } from './helm-support';
import * as fs from 'node:fs';
import { amtool, checkConfig, forVersion025, startAlertmanager } from './support/alertmanager';
import { freePort, startPrometheus, waitFor } from './support/prometheus';

const AM_REF = 'prometheus/alertmanager@v0.34.0:docs/configuration.md';
/** Every key path the stack's alertmanager.yml may hold → where Alertmanager 0.34 documents it. */
const KEYS: Record<string, string> = {
  'route.receiver': `${AM_REF} #route`,
  'route.group_by': `${AM_REF} #route`,
  'route.group_wait': `${AM_REF} #route`,
  'route.group_interval': `${AM_REF} #route`,
  'route.repeat_interval': `${AM_REF} #route`,
  'route.routes[].receiver': `${AM_REF} #route`,
  'route.routes[].matchers': `${AM_REF} #route (matchers, #matcher)`,
  'route.routes[].continue': `${AM_REF} #route`,
  'receivers[].name': `${AM_REF} #receiver`,
  'receivers[].webhook_configs[].url_file': `${AM_REF} #webhook_config (url and url_file are mutually exclusive)`,
  'receivers[].webhook_configs[].send_resolved': `${AM_REF} #webhook_config`,
  'receivers[].slack_configs[].api_url_file': `${AM_REF} #slack_config`,
  'receivers[].slack_configs[].channel': `${AM_REF} #slack_config`,
  'receivers[].slack_configs[].send_resolved': `${AM_REF} #slack_config`,
  'receivers[].slack_configs[].title': `${AM_REF} #slack_config`,
  'receivers[].slack_configs[].text': `${AM_REF} #slack_config`,
  'receivers[].email_configs[].to': `${AM_REF} #email_config`,
  'receivers[].email_configs[].from': `${AM_REF} #email_config`,
  'receivers[].email_configs[].smarthost': `${AM_REF} #email_config`,
  'receivers[].email_configs[].auth_username': `${AM_REF} #email_config`,
  'receivers[].email_configs[].auth_password_file': `${AM_REF} #email_config (auth_password and auth_password_file are mutually exclusive)`,
  'receivers[].email_configs[].require_tls': `${AM_REF} #email_config`,
  'receivers[].email_configs[].send_resolved': `${AM_REF} #email_config`,
  'inhibit_rules[].source_matchers': `${AM_REF} #inhibit_rule`,
  'inhibit_rules[].target_matchers': `${AM_REF} #inhibit_rule`,
  'inhibit_rules[].equal': `${AM_REF} #inhibit_rule`,
};

/** Key paths of a config (arrays as []); lists of scalars are leaves. */
function keyPaths(v: unknown, at = ''): string[] {
  if (Array.isArray(v)) return v.some((x) => x && typeof x === 'object') ? v.flatMap((x) => keyPaths(x, `${at}[]`)) : [at];
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => keyPaths(x, at ? `${at}.${k}` : k));
  return [at];
}

const WEBHOOK = { sendResolved: true };
const SLACK = { channel: '#alerts', sendResolved: true };
const EMAIL = { to: 'oncall@example.com', from: 'alertmanager@example.com', smarthost: 'smtp.example.com:587', authUsername: 'alertmanager', requireTls: true, sendResolved: false };
const TIMING = { groupWaitSeconds: 30, groupIntervalSeconds: 300, repeatIntervalSeconds: 4 * 3600 };

/** Every combination of the three receivers, none included. */
const COMBINATIONS: Array<[string, AlertmanagerReceivers]> = [0, 1, 2, 3, 4, 5, 6, 7].map((bits) => {
  const r: { webhook?: typeof WEBHOOK; slack?: typeof SLACK; email?: typeof EMAIL } = {};
  if (bits & 1) r.webhook = WEBHOOK;
  if (bits & 2) r.slack = SLACK;
  if (bits & 4) r.email = EMAIL;
  return [Object.keys(r).join('+') || 'none', r];
});

const SECRETS = { [ALERTMANAGER_SECRET_FILES.webhook]: 'http://127.0.0.1:9/hook', [ALERTMANAGER_SECRET_FILES.slack]: 'https://hooks.slack.example/T0/B0/secret', [ALERTMANAGER_SECRET_FILES.email]: 's3cret' };

describe('alertmanager.yml', () => {
  test.each(COMBINATIONS)('receivers %s: amtool check-config passes; only documented keys', (_name, receivers) => {
    const config = renderAlertmanagerConfig({ receivers, ...TIMING });
    const unknown = keyPaths(config).filter((k) => !(k in KEYS));
    expect(unknown).toEqual([]);
    const dir = tempDir('amtool-');
    const r = checkConfig(forVersion025(config, SECRETS, dir), dir);
    expect(r.output).toContain('SUCCESS');
    expect(r.code).toBe(0);
    expect(r.output).toContain(`Found:\n - global config\n - route\n - 1 inhibit rules\n - ${1 + Object.keys(receivers).length} receivers`);
  });

  test('the check can fail: a route to a receiver that does not exist', () => {
    const config = renderAlertmanagerConfig({ receivers: {}, ...TIMING }) as any;
    config.route.routes = [{ receiver: 'pager', matchers: ['severity="critical"'] }];
    const r = checkConfig(config);
    expect(r.code).toBe(1);
    expect(r.output).toContain('undefined receiver "pager" used in route');
  });

  test('routes every warning and critical alert to each receiver, and anything else to null only', () => {
    const dir = tempDir('amtool-');
    const { file } = checkConfig(forVersion025(renderAlertmanagerConfig({ receivers: { webhook: WEBHOOK, slack: SLACK, email: EMAIL }, ...TIMING }), SECRETS, dir), dir);
    const route = (labels: string[]) => amtool(['config', 'routes', 'test', `--config.file=${file}`, ...labels], dir).stdout.trim();
    expect(route(['severity=critical', 'namespace=demo', 'app=shop', 'alertname=TargetDown'])).toBe('webhook,slack,email');
    expect(route(['severity=warning', 'alertname=TargetDown'])).toBe('webhook,slack,email');
    expect(route(['severity=none', 'alertname=Watchdog'])).toBe('null');
    expect(route(['severity=info', 'alertname=Other'])).toBe('null');
    expect(route(['alertname=NoSeverity'])).toBe('null');
  });

  test('with no receiver, every alert stays on Alertmanager\'s page and in Grafana only', () => {
    const config = renderAlertmanagerConfig({ receivers: {}, ...TIMING }) as any;
    expect(config.route).toEqual({ receiver: 'null', group_by: ['namespace', 'app', 'alertname'], group_wait: '30s', group_interval: '5m', repeat_interval: '4h' });
    expect(config.receivers).toEqual([{ name: 'null' }]);
  });

  test('a critical alert silences the warning of the same alert on the same workload', () => {
    expect((renderAlertmanagerConfig({ receivers: {}, ...TIMING }) as any).inhibit_rules).toEqual([
      { source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ['namespace', 'app', 'alertname'] },
    ]);
  });

  test('no secret in the file: it names files in the secrets directory, never a URL or password', () => {
    const text = stringify(renderAlertmanagerConfig({ receivers: { webhook: WEBHOOK, slack: SLACK, email: EMAIL }, ...TIMING }));
    for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/^\s*(url|api_url|auth_password):/m);
    for (const file of Object.values(ALERTMANAGER_SECRET_FILES)) expect(text).toContain(path.posix.join(ALERTMANAGER_SECRETS_DIR, file));
  });

  test('the flags turn HA gossip off (one replica) and listen on all interfaces', () => {
    expect(alertmanagerFlags()).toEqual(expect.arrayContaining(['--cluster.listen-address=', '--web.listen-address=0.0.0.0:9093']));
  });
});

describe('end to end: a target goes down, a person hears of it, and of its recovery', () => {
  test('with the generated compose configs, Prometheus fires TargetDown, Alertmanager notifies the webhook once, then resolved', async () => {
    // The webhook a person would read.
    const notifications: any[] = [];
    const hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => { notifications.push(JSON.parse(body)); res.end('ok'); });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const hookUrl = `http://127.0.0.1:${(hook.address() as any).port}/`;

    // The scrape target, on a port of its own, that goes away and comes back.
    const targetPort = await freePort();
    const metrics = () => http.createServer((_req, res) => res.end('up_probe 1\n'));
    let target = metrics().listen(targetPort, '127.0.0.1');

    // The files `npm run synth` writes into compose/ for a stack with the webhook receiver, timings compressed
    // for a test (1 s intervals), addresses pointed at loopback: Docker's DNS would give the services' names.
    const stack = parseStackConfig({
      app: { name: 'shop' },
      prometheus: { scrapeIntervalSeconds: 1, scrapeTimeoutSeconds: 1, evaluationIntervalSeconds: 1 },
      alertmanager: { groupWaitSeconds: 1, groupIntervalSeconds: 1, receivers: { webhook: { enabled: true, urlSecret: { name: 'unused-on-compose' } } } },
    });
    const compose = renderCompose(stack);
    const amConfig = parse(compose.get('alertmanager/alertmanager.yml')!);
    const promConfig = parse(compose.get('prometheus/prometheus.yml')!);
    const rules = parse(compose.get(`prometheus/rules/${RULES_FILE}`)!);
    expect(promConfig.alerting.alertmanagers[0].static_configs[0].targets).toEqual(['alertmanager:9093']);

    const dir = tempDir('am-e2e-');
    const am = await startAlertmanager(forVersion025(amConfig, { [ALERTMANAGER_SECRET_FILES.webhook]: hookUrl }, dir));
    // TargetDown's `for` to 0s; only the app's job (the other services are not running here).
    for (const g of rules.groups) for (const r of g.rules as any[]) if (r.alert === 'TargetDown') r.for = '0s';
    promConfig.scrape_configs = promConfig.scrape_configs.filter((j: any) => j.job_name === 'shop');
    promConfig.scrape_configs[0].static_configs[0].targets = [`127.0.0.1:${targetPort}`];
    promConfig.alerting.alertmanagers[0].static_configs[0].targets = [am.url.replace('http://', '')];
    promConfig.rule_files = ['rules.yaml'];
    const prom = await startPrometheus({ config: stringify(promConfig), files: { 'rules.yaml': stringify(rules) }, args: ['--rules.alert.resend-delay=1s'] });
    try {
      await prom.waitFor(async () => (await prom.query('up{job="shop"} == 1')).length === 1, 20_000, 'the target up');
      await new Promise<void>((resolve) => { target.closeAllConnections(); target.close(() => resolve()); });

      const firing = await waitFor(async () => notifications.find((n) => n.status === 'firing'), 30_000, 'a firing notification');
      expect(firing.receiver).toBe('webhook');
      expect(firing.groupLabels).toEqual({ namespace: 'observability', app: 'shop', alertname: 'TargetDown' });
      expect(firing.alerts).toHaveLength(1);
      expect(firing.alerts[0].labels).toMatchObject({ alertname: 'TargetDown', severity: 'warning', namespace: 'observability', app: 'shop', pod: 'observability-shop', job: 'shop' });
      expect(firing.alerts[0].annotations.summary).toBe('shop (observability/observability-shop) cannot be scraped');

      target = metrics().listen(targetPort, '127.0.0.1');
      const resolved = await waitFor(async () => notifications.find((n) => n.status === 'resolved'), 30_000, 'a resolved notification');
      expect(resolved.alerts[0].labels.alertname).toBe('TargetDown');
      // Once each: the repeat interval (1 h) sends nothing again meanwhile.
      expect(notifications.filter((n) => n.status === 'firing')).toHaveLength(1);
    } finally {
      await prom.stop();
      await am.stop();
      target.closeAllConnections();
      target.close();
      hook.closeAllConnections();
      hook.close();
    }
  }, 90_000);
});

describe('no receiver secret in any rendering', () => {
  // Every receiver on, in each rendering: the receivers' secrets must stay in the user's Secrets or files.
  /** Keys of Alertmanager's config that would hold a secret inline (their *_file twins name a file instead). */
  const INLINE_SECRET_KEYS = /^\s*-?\s*(url|api_url|auth_password|auth_secret|service_key|routing_key|api_key|token|bot_token):/m;

  const kubernetesConfigs = (objects: any[]) => {
    const configs = objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.name === 'alertmanager-config').map((o) => o.data['alertmanager.yml'] as string);
    expect(configs).toHaveLength(1);
    // The stack creates no Secret for the receivers: it mounts the user's.
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'alertmanager');
    const projected = deployment.spec.template.spec.volumes.find((v: any) => v.projected).projected;
    expect(projected.sources.map((s: any) => s.secret.name)).toEqual(['alert-webhook', 'alert-slack', 'alert-smtp']);
    // Readable by the pod's group (fsGroup), not by others.
    expect(projected.defaultMode).toBe(0o440);
    return configs;
  };

  test('cdk8s: the ConfigMap names files, and the Secrets are the user\'s, projected 0440', () => {
    for (const text of kubernetesConfigs(synthObjects(EVERY_RECEIVER_INPUT))) expect(text).not.toMatch(INLINE_SECRET_KEYS);
  });

  test('Helm (ci/13, every receiver on): the same', () => {
    for (const text of kubernetesConfigs(templateScenario(scenario('13-alertmanager-receivers-values.yaml')))) expect(text).not.toMatch(INLINE_SECRET_KEYS);
  });

  test('Helm values: no key for a secret\'s value, and no Secret named by default', () => {
    const values = parse(fs.readFileSync(path.join(CHART_DIR, 'values.yaml'), 'utf8'));
    const r = values.alertmanager.receivers;
    expect(Object.keys(r.webhook).sort()).toEqual(['enabled', 'sendResolved', 'urlSecret']);
    expect(Object.keys(r.slack).sort()).toEqual(['apiUrlSecret', 'channel', 'enabled', 'sendResolved']);
    expect(Object.keys(r.email).sort()).toEqual(['authPasswordSecret', 'authUsername', 'enabled', 'from', 'requireTls', 'sendResolved', 'smarthost', 'to']);
    expect([r.webhook.urlSecret.name, r.slack.apiUrlSecret.name, r.email.authPasswordSecret.name]).toEqual(['', '', '']);
  });

  test('compose: alertmanager.yml names files, the secrets are files the person writes, .env.example holds none', () => {
    const files = renderCompose(parseStackConfig(EVERY_RECEIVER_INPUT));
    expect(files.get('alertmanager/alertmanager.yml')).not.toMatch(INLINE_SECRET_KEYS);
    const doc = parse(files.get('docker-compose.yml')!);
    expect(doc.secrets).toEqual({
      'alertmanager-webhook-url': { file: './alertmanager/secrets/webhook-url' },
      'alertmanager-slack-api-url': { file: './alertmanager/secrets/slack-api-url' },
      'alertmanager-smtp-password': { file: './alertmanager/secrets/smtp-password' },
    });
    // Nothing generated under the secrets folder, and git ignores it.
    expect([...files.keys()].filter((f) => f.startsWith('alertmanager/secrets/'))).toEqual([]);
    expect(files.get('.gitignore')!.split('\n')).toContain('alertmanager/secrets/');
    expect(files.get('.env.example')).not.toMatch(/ALERTMANAGER|SLACK|SMTP/);
  });

  test('the check can fail: an inline URL is caught', () => {
    expect('receivers:\n  - name: webhook\n    webhook_configs:\n      - url: https://hooks.example.com/x\n').toMatch(INLINE_SECRET_KEYS);
  });
});

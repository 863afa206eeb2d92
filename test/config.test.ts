import { IMAGES, parseStackConfig, StackConfigError } from '../lib';

/** The problem lines of a StackConfigError raised for `input`. */
function problems(input: unknown): string[] {
  try {
    parseStackConfig(input);
  } catch (e) {
    if (e instanceof StackConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a StackConfigError');
}

describe('defaults', () => {
  const c = parseStackConfig({});

  test('take every image from lib/images.ts', () => {
    expect(`${c.prometheus.image.repository}:${c.prometheus.image.tag}`).toBe(`${IMAGES.prometheus.repository}:${IMAGES.prometheus.tag}`);
    expect(c.loki.image.tag).toBe(IMAGES.loki.tag);
    expect(c.grafana.image.tag).toBe(IMAGES.grafana.tag);
    expect(c.logAgent.promtail.image.tag).toBe('3.6.11');
    expect(c.app.image).toEqual({ repository: 'demo-app', tag: '0.1.0', pullPolicy: 'IfNotPresent' });
  });

  test('use stable names and the documented namespaces', () => {
    expect([c.namespace, c.app.namespace, c.logAgent.namespace]).toEqual(['monitoring', 'demo', 'monitoring-agent']);
    expect(c.logAgent.kind).toBe('promtail');
  });

  test('accept an empty object, undefined and null alike', () => {
    expect(parseStackConfig(undefined)).toEqual(c);
    expect(parseStackConfig(null)).toEqual(c);
  });

  test('keep a partial override and default the rest', () => {
    const custom = parseStackConfig({ prometheus: { retentionDays: 30, storage: { size: '50Gi' } } });
    expect(custom.prometheus.retentionDays).toBe(30);
    expect(custom.prometheus.storage).toEqual({ size: '50Gi' });
    expect(custom.prometheus.scrapeIntervalSeconds).toBe(15);
  });
});

describe('bad input', () => {
  test('throws if a number is out of range', () => {
    expect(problems({ prometheus: { retentionDays: 0 } })).toEqual([
      'prometheus.retentionDays must be an integer from 1 to 3650, got 0',
    ]);
  });

  test('refuses an S3 bucket for Loki without the day it starts, the server, the bucket or the keys\' Secret', () => {
    expect(problems({ loki: { storage: { s3: { enabled: true } } } })).toEqual([
      'loki.storage.s3.enabled needs loki.storage.s3.since set (the day the bucket\'s period starts is a choice: on a stack with logs on its volume, a day in the future), got true',
      'loki.storage.s3.enabled needs loki.storage.s3.endpoint set (Loki talks to that server), got true',
      'loki.storage.s3.enabled needs loki.storage.s3.bucket set (chunks and index go there), got true',
      'loki.storage.s3.enabled needs loki.storage.s3.credentialsSecret.name set (Loki\'s keys come from that Secret, or from the pod\'s cloud identity with loki.storage.s3.workloadIdentity: true), got true',
    ]);
    // The pod's cloud identity instead of a Secret: no Secret needed, and none allowed (its keys would win).
    const bucket = { enabled: true, since: '2027-01-01', endpoint: 's3.eu-west-1.amazonaws.com', bucket: 'loki-chunks' };
    expect(() => parseStackConfig({ loki: { storage: { s3: { ...bucket, workloadIdentity: true } } } })).not.toThrow();
    expect(problems({ loki: { storage: { s3: { ...bucket, workloadIdentity: true, credentialsSecret: { name: 'loki-s3' } } } } })).toEqual([
      'loki.storage.s3.credentialsSecret.name must be empty while loki.storage.s3.workloadIdentity is true (keys in the environment come first in Loki\'s S3 client, so the pod\'s identity would never be used: choose one), got "loki-s3"',
    ]);
    // A day that does not exist, or one before the filesystem period's start.
    expect(problems({ loki: { storage: { s3: { since: '2027-02-29' } } } })).toEqual([
      'loki.storage.s3.since must be a day from 2025-01-01 on as YYYY-MM-DD (after the filesystem period, which starts 2024-04-01), got "2027-02-29"',
    ]);
    expect(problems({ loki: { storage: { s3: { since: '2024-06-01', endpoint: 'https://s3.example.com' } } } })).toEqual([
      'loki.storage.s3.since must be a day from 2025-01-01 on as YYYY-MM-DD (after the filesystem period, which starts 2024-04-01), got "2024-06-01"',
      'loki.storage.s3.endpoint must be a host name or address with an optional port, without a scheme, such as "s3.eu-west-1.amazonaws.com" or "rustfs.storage.svc:9000", got "https://s3.example.com"',
    ]);
  });

  test('throws if the exemplar ring is out of bounds', () => {
    expect(problems({ prometheus: { maxExemplars: 1_000_001 } })).toEqual([
      'prometheus.maxExemplars must be an integer from 0 to 1000000, got 1000001',
    ]);
  });

  test('throws if a tag is latest', () => {
    expect(problems({ grafana: { image: { tag: 'latest' } } })).toEqual([
      'grafana.image.tag must be a pinned tag, not "latest" (pin the version you tested), got "latest"',
    ]);
  });

  test('throws if a namespace is not a DNS label', () => {
    expect(problems({ namespace: 'Monitoring_NS' })).toEqual([
      'namespace must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit, got "Monitoring_NS"',
    ]);
  });

  test('throws if a setting is unknown', () => {
    expect(problems({ grafana: { adminPassword: 'admin' } })).toEqual([
      'grafana.adminPassword is not a known setting (check the spelling; the settings are documented in lib/config.ts)',
    ]);
  });

  test('throws naming the default it judged when the user set only the other side of a rule', () => {
    expect(problems({ prometheus: { storage: { size: '2Gi' } } })).toEqual([
      'prometheus.retentionSize must be smaller than prometheus.storage.size (2Gi), so old blocks are deleted before the volume fills, got "4GB" (the default)',
    ]);
  });

  test('throws if the retention size does not fit the volume', () => {
    expect(problems({ prometheus: { retentionSize: '20GB' } })).toEqual([
      'prometheus.retentionSize must be smaller than prometheus.storage.size (8Gi), so old blocks are deleted before the volume fills, got "20GB"',
    ]);
  });

  test('throws if a request exceeds its limit', () => {
    expect(problems({ loki: { resources: { requests: { memory: '2Gi' } } } })).toEqual([
      'loki.resources.requests.memory must be at most loki.resources.limits.memory (1Gi), got "2Gi"',
    ]);
  });

  test('throws if a CPU quantity is malformed', () => {
    expect(problems({ app: { resources: { limits: { cpu: '500 millicores' } } } })).toEqual([
      'app.resources.limits.cpu must be a CPU quantity such as "100m" or "1", got "500 millicores"',
    ]);
  });

  test('throws if the log agent is unknown', () => {
    expect(problems({ logAgent: { kind: 'fluentd' } })).toEqual(['logAgent.kind must be "promtail" or "alloy", got "fluentd"']);
  });

  test('throws if the scrape timeout exceeds the interval', () => {
    expect(problems({ prometheus: { scrapeIntervalSeconds: 10, scrapeTimeoutSeconds: 30 } })).toEqual([
      'prometheus.scrapeTimeoutSeconds must be at most prometheus.scrapeIntervalSeconds (10), got 30',
    ]);
  });

  test('throws if the log agent shares a restricted namespace', () => {
    expect(problems({ logAgent: { namespace: 'monitoring' } })).toEqual([
      'logAgent.namespace must differ from namespace (monitoring) and app.namespace (demo): the agent\'s namespace is Pod Security "privileged", the others stay "restricted", got "monitoring"',
    ]);
  });

  test('throws if two compose ports collide', () => {
    expect(problems({ compose: { ports: { app: 3000 } } })).toEqual([
      'compose.ports.app must differ from compose.ports.grafana (both 3000), got 3000',
    ]);
  });

  test('throws if a remote-write URL is not http(s), naming the list index', () => {
    expect(problems({ prometheus: { remoteWrite: [{ name: 'mimir', url: 'ftp://mimir' }] } })).toEqual([
      'prometheus.remoteWrite[0].url must be an http(s) URL, got "ftp://mimir"',
    ]);
  });

  test('throws if a value has the wrong type', () => {
    expect(problems({ app: { replicas: '2' } })).toEqual(['app.replicas must be an integer from 1 to 50, got "2"']);
  });

  test('throws if a receiver is on without the Secret that holds its URL', () => {
    expect(problems({ alertmanager: { receivers: { webhook: { enabled: true } } } })).toEqual([
      'alertmanager.receivers.webhook.enabled needs alertmanager.receivers.webhook.urlSecret.name set (the URL comes from that Secret), got true',
    ]);
  });

  test('throws if email is on without recipient, sender and relay, naming each', () => {
    expect(problems({ alertmanager: { receivers: { email: { enabled: true } } } })).toEqual([
      'alertmanager.receivers.email.enabled needs alertmanager.receivers.email.to set (someone must receive it), got true',
      'alertmanager.receivers.email.enabled needs alertmanager.receivers.email.from set (the relay needs a sender), got true',
      'alertmanager.receivers.email.enabled needs alertmanager.receivers.email.smarthost set (it is sent through it), got true',
    ]);
  });

  test('throws if a receiver\'s Secret key is not a key name', () => {
    expect(problems({ alertmanager: { receivers: { slack: { apiUrlSecret: { name: 'alert-slack', key: 'webhook url' } } } } })).toEqual([
      'alertmanager.receivers.slack.apiUrlSecret.key must be a Secret key (letters, digits, "-", "_", "."), got "webhook url"',
    ]);
  });

  test('throws if an SMTP password Secret is named without a user', () => {
    expect(problems({ alertmanager: { receivers: { email: { authPasswordSecret: { name: 'smtp' } } } } })).toEqual([
      'alertmanager.receivers.email.authPasswordSecret.name needs alertmanager.receivers.email.authUsername set (the password belongs to a user), got "smtp"',
    ]);
  });

  test('throws if an SMTP user is set without the Secret of its password (the pod would mount a Secret named "")', () => {
    expect(problems({ alertmanager: { receivers: { email: { authUsername: 'alerts@example.com' } } } })).toEqual([
      'alertmanager.receivers.email.authUsername needs alertmanager.receivers.email.authPasswordSecret.name set (the relay checks the user\'s password, which comes from that Secret), got "alerts@example.com"',
    ]);
  });

  test('the receivers\' rules do not apply while Alertmanager is off', () => {
    const input = { alertmanager: { receivers: { webhook: { enabled: true }, email: { enabled: true, authUsername: 'u' } } } };
    expect(problems(input)).toHaveLength(5);
    expect(() => parseStackConfig({ alertmanager: { ...input.alertmanager, enabled: false } })).not.toThrow();
  });

  test('throws if notifications would repeat before their group interval', () => {
    expect(problems({ alertmanager: { groupIntervalSeconds: 7200, repeatIntervalSeconds: 3600 } })).toEqual([
      'alertmanager.groupIntervalSeconds must be at most alertmanager.repeatIntervalSeconds (3600), got 7200',
    ]);
  });

  test('throws if kubelet TLS verification is on with no CA, or a CA is given while it is off', () => {
    expect(problems({ kubelet: { tls: { verify: true } } })).toEqual([
      'kubelet.tls.verify needs kubelet.tls.caFile set (the kubelets\' certificates are checked against that CA), got true',
    ]);
    expect(problems({ kubelet: { tls: { caFile: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt' } } })).toEqual([
      'kubelet.tls.caFile needs kubelet.tls.verify set (the CA is only read when certificates are verified), got "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"',
    ]);
    expect(problems({ kubelet: { tls: { verify: true, caFile: 'ca.crt' } } })).toEqual([
      'kubelet.tls.caFile must be an absolute path in Prometheus\'s container, or "", got "ca.crt"',
    ]);
    expect(() => parseStackConfig({ kubelet: { enabled: false, tls: { verify: true } } })).not.toThrow();
  });

  test('throws if the kubelet jobs would scrape more often than the scrape timeout allows, or outside 10 to 60 s', () => {
    expect(problems({ prometheus: { scrapeIntervalSeconds: 60, scrapeTimeoutSeconds: 45 } })).toEqual([
      'prometheus.scrapeTimeoutSeconds must be at most kubelet.scrapeIntervalSeconds (30), got 45',
    ]);
    expect(problems({ kubelet: { scrapeIntervalSeconds: 5 } })).toEqual([
      'kubelet.scrapeIntervalSeconds must be an integer from 10 to 60, got 5',
      'prometheus.scrapeTimeoutSeconds must be at most kubelet.scrapeIntervalSeconds (5), got 10 (the default)',
    ]);
    expect(problems({ kubelet: { scrapeIntervalSeconds: 61 } })).toEqual(['kubelet.scrapeIntervalSeconds must be an integer from 10 to 60, got 61']);
    expect(() => parseStackConfig({ prometheus: { scrapeIntervalSeconds: 60, scrapeTimeoutSeconds: 45 }, kubelet: { enabled: false } })).not.toThrow();
  });

  test('node-exporter: the variable it listens by is the stack\'s, its resources as every component\'s, and nothing else is a setting', () => {
    expect(problems({ nodeExporter: { extraEnv: { HOST_IP: '0.0.0.0' } } })).toEqual(['nodeExporter.extraEnv.HOST_IP must not be set: the stack sets it itself, got "0.0.0.0"']);
    expect(problems({ nodeExporter: { resources: { requests: { memory: '256Mi' } } } })).toEqual(['nodeExporter.resources.requests.memory must be at most nodeExporter.resources.limits.memory (128Mi), got "256Mi"']);
    expect(problems({ nodeExporter: { hostNetwork: false } })).toEqual(['nodeExporter.hostNetwork is not a known setting (check the spelling; the settings are documented in lib/config.ts)']);
    expect(problems({ nodeExporter: { enabled: 'yes' } })).toEqual(['nodeExporter.enabled Invalid input: expected boolean, received string, got "yes"']);
    expect(problems({ networkPolicies: { enabled: 'no' } })).toEqual(['networkPolicies.enabled Invalid input: expected boolean, received string, got "no"']);
    expect(problems({ networkPolicies: { egress: true } })).toEqual(['networkPolicies.egress is not a known setting (check the spelling; the settings are documented in lib/config.ts)']);
  });

  test('Loki\'s ingestion limits and the agent\'s pushes: ranges, and the rules between them', () => {
    expect(problems({ loki: { ingestionLimits: { rateMb: 0 } } })).toEqual(['loki.ingestionLimits.rateMb must be a number from 0.1 to 1024, got 0']);
    expect(problems({ loki: { ingestionLimits: { perStreamRateMb: 2.5 } } })).toEqual(['loki.ingestionLimits.perStreamRateMb must be an integer from 1 to 1024, got 2.5']);
    expect(problems({ logAgent: { push: { batchSizeMb: 4 } } })).toEqual(['logAgent.push.batchSizeMb must be a number from 0.0625 to 3, got 4']);
    expect(problems({ logAgent: { push: { batchSizeMb: 3 } }, loki: { ingestionLimits: { burstSizeMb: 2 } } })).toEqual(['logAgent.push.batchSizeMb must be at most loki.ingestionLimits.burstSizeMb (2), or Loki refuses the whole batch on every attempt (it is over the tenant\'s burst), got 3']);
    expect(problems({ logAgent: { push: { batchSizeMb: 2 } }, loki: { ingestionLimits: { perStreamBurstMb: 1 } } })).toEqual(['logAgent.push.batchSizeMb must be at most loki.ingestionLimits.perStreamBurstMb (1), or a batch of one busy stream is refused on every attempt (it is over the stream\'s burst), got 2']);
    expect(problems({ logAgent: { push: { attempts: 0 } } })).toEqual(['logAgent.push.attempts must be an integer from 1 to 100, got 0']);
    expect(problems({ logAgent: { push: { minBackoffSeconds: 30, maxBackoffSeconds: 10 } } })).toEqual(['logAgent.push.minBackoffSeconds must be at most logAgent.push.maxBackoffSeconds (10), the first wait is the shortest, got 30']);
    // Without Loki the agent pushes nowhere: its batch is not judged against Loki's burst.
    expect(() => parseStackConfig({ loki: { enabled: false, ingestionLimits: { burstSizeMb: 1 } }, logAgent: { push: { batchSizeMb: 2 } } })).not.toThrow();
  });

  test('compose.apps: a name no stack service has, once per project, a port in range, a compose project name', () => {
    const app = { name: 'web', project: 'shop', port: 9102 };
    expect(() => parseStackConfig({ compose: { apps: [app] } })).not.toThrow();
    expect(problems({ compose: { apps: [{ ...app, name: 'grafana' }] } })).toEqual([
      'compose.apps[0].name must not be the name of a service of the stack (prometheus, grafana, loki, promtail, alloy, alertmanager, node-exporter, cadvisor, demo-app, demo-app-traffic): on the shared network it would answer for the stack\'s own, got "grafana"',
    ]);
    expect(problems({ compose: { apps: [{ ...app, name: 'demo-app' }] } })[0]).toMatch(/^compose\.apps\[0\]\.name must not be the name of a service of the stack .*got "demo-app"$/);
    expect(problems({ compose: { apps: [app, { ...app, port: 9103 }] } })).toEqual(['compose.apps[1].name must be listed once per project (shop lists it twice), got "web"']);
    expect(problems({ compose: { apps: [{ ...app, port: 70000 }] } })).toEqual(['compose.apps[0].port must be an integer from 1 to 65535, got 70000']);
    expect(problems({ compose: { apps: [{ ...app, project: 'My Shop' }] } })).toEqual([
      'compose.apps[0].project must be a compose project name: lowercase letters, digits, "-" and "_", starting with a letter or digit (compose lowercases a directory\'s name and drops other characters: "My Shop" runs as "myshop"), got "My Shop"',
    ]);
  });

  test('compose\'s cAdvisor: a pinned image, consistent resources, and no privilege setting to turn on', () => {
    expect(problems({ compose: { cadvisor: { image: { tag: 'latest' } } } })).toEqual(['compose.cadvisor.image.tag must be a pinned tag, not "latest" (pin the version you tested), got "latest"']);
    expect(problems({ compose: { cadvisor: { privileged: true } } })).toEqual(['compose.cadvisor.privileged is not a known setting (check the spelling; the settings are documented in lib/config.ts)']);
    expect(problems({ compose: { cadvisor: { resources: { limits: { memory: '32Mi' } } } } })).toEqual([
      'compose.cadvisor.resources.requests.memory must be at most compose.cadvisor.resources.limits.memory (32Mi), got "64Mi" (the default)',
    ]);
  });

  test('throws if kube-state-metrics\' label allowlist is not resource=[label,...], lists "*", or drops the app labels', () => {
    expect(problems({ kubeStateMetrics: { metricLabelsAllowlist: 'pods=app' } })).toEqual([
      'kubeStateMetrics.metricLabelsAllowlist must be resource=[label,...] (comma-separated), e.g. pods=[app.kubernetes.io/name,app], got "pods=app"',
      'kubeStateMetrics.metricLabelsAllowlist must keep pods=[app.kubernetes.io/name,app]: the `app` of container series comes from them, got "pods=app"',
    ]);
    expect(problems({ kubeStateMetrics: { metricLabelsAllowlist: 'pods=[app.kubernetes.io/name,app],deployments=[*]' } })).toEqual([
      'kubeStateMetrics.metricLabelsAllowlist must not list "*": every label of every object would become a series label, got "pods=[app.kubernetes.io/name,app],deployments=[*]"',
    ]);
    expect(problems({ kubeStateMetrics: { metricLabelsAllowlist: 'pods=[team]' } })).toEqual([
      'kubeStateMetrics.metricLabelsAllowlist must keep pods=[app.kubernetes.io/name,app]: the `app` of container series comes from them, got "pods=[team]"',
    ]);
    expect(() => parseStackConfig({ kubeStateMetrics: { metricLabelsAllowlist: 'pods=[app.kubernetes.io/name,app,team.example.com/*]' } })).not.toThrow();
  });

  test('throws if a Slack channel, an email address or a relay is malformed', () => {
    expect(problems({ alertmanager: { receivers: { slack: { channel: 'alerts room' }, email: { to: 'oncall', smarthost: 'smtp.example.com' } } } })).toEqual([
      'alertmanager.receivers.slack.channel must be a Slack channel such as "#alerts", got "alerts room"',
      'alertmanager.receivers.email.to must be email addresses, separated by commas, got "oncall"',
      'alertmanager.receivers.email.smarthost must be host:port, got "smtp.example.com"',
    ]);
  });

  test('reports every bad setting at once', () => {
    expect(problems({ prometheus: { retentionDays: -1 }, grafana: { service: { type: 'LoadBalancer' } } })).toEqual([
      'prometheus.retentionDays must be an integer from 1 to 3650, got -1',
      'grafana.service.type must be "ClusterIP" or "NodePort", got "LoadBalancer"',
    ]);
  });
});

/**
 * docker-compose.yml for a single host, assembled from one piece per service. Images come from the model's
 * image settings (lib/images.ts by default), the same ones the Kubernetes manifests use.
 */
import { Document, isMap, isScalar, Scalar, visit, YAMLMap } from 'yaml';
import { PodSettings, StackConfig } from '../config';
import { composeAlertmanagerService } from './alertmanager';
import { composeAlloyService } from './alloy';
import { composeAppService, composeTrafficService } from './app';
import { ComposeFile, ComposeServiceEntry } from './compose-types';
import { composeGrafanaService } from './grafana';
import { composeLokiService } from './loki';
import { composePrometheusService } from './prometheus';
import { composePromtailService } from './promtail';
import { composeNodeExporterService } from './node-exporter';
import { composeCadvisorService } from './cadvisor';
import { ComposeComponent } from './names';
import { componentNetworks, composeNetworks } from './networks';
import { composeRunsAlloy, composeRunsPromtail } from './scrape-targets';

/** The services of the stack on compose, in file order, each on its networks (lib/compose/networks.ts). */
export function composeServiceEntries(c: StackConfig): ComposeServiceEntry[] {
  const entries: ComposeServiceEntry[] = [];
  const add = (component: ComposeComponent, entry: ComposeServiceEntry) =>
    entries.push({ ...entry, service: { ...entry.service, networks: componentNetworks(c, component) } });
  const prometheus = c.prometheus.enabled ? composePrometheusService(c) : undefined;
  const loki = c.loki.enabled ? composeLokiService(c) : undefined;
  if (prometheus) add('prometheus', withPodSettings(prometheus, c, c.prometheus));
  if (loki) add('loki', withPodSettings(loki, c, c.loki));
  if (composeRunsPromtail(c)) add('promtail', withPodSettings(composePromtailService(c, loki?.name), c, c.logAgent));
  if (composeRunsAlloy(c)) add('alloy', withPodSettings(composeAlloyService(c, loki?.name), c, c.logAgent));
  if (c.nodeExporter.enabled) add('node-exporter', withPodSettings(composeNodeExporterService(c), c, c.nodeExporter));
  if (c.compose.cadvisor.enabled) add('cadvisor', composeCadvisorService(c));
  if (c.alertmanager.enabled) add('alertmanager', withPodSettings(composeAlertmanagerService(c), c, c.alertmanager));
  if (c.grafana.enabled) add('grafana', withPodSettings(composeGrafanaService(c, [...(prometheus ? [prometheus.name] : []), ...(loki ? [loki.name] : [])]), c, c.grafana));
  if (c.app.enabled) {
    add('app', withPodSettings(composeAppService(c), c, c.app));
    // Placed like the app, but the app's environment is the app's alone.
    if (c.app.trafficGenerator.enabled) add('traffic', withPodSettings(composeTrafficService(c), c, { ...c.app, extraEnv: {} }));
  }
  return entries;
}

/**
 * The pod settings that have a counterpart on compose: extraEnv (after the stack's own, by name), and
 * commonLabels with podLabels as the container's labels. Scheduling (nodeSelector, tolerations, affinity,
 * priorityClassName) and imagePullSecrets have none on one host (`docker login` pulls private images).
 */
function withPodSettings(entry: ComposeServiceEntry, c: StackConfig, s: PodSettings): ComposeServiceEntry {
  // `$` doubled: compose would interpolate it from the host, the container must see the text as Kubernetes passes it.
  const extraEnv = Object.fromEntries(Object.keys(s.extraEnv).sort().map((k) => [k, s.extraEnv[k].replace(/\$/g, '$$$$')]));
  const labels = { ...c.commonLabels, ...s.podLabels };
  const environment = { ...(entry.service.environment ?? {}), ...extraEnv };
  return {
    ...entry,
    service: {
      ...entry.service,
      ...(Object.keys(environment).length > 0 ? { environment } : {}),
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
    },
  };
}

/** The compose file as data. */
export function renderComposeFile(c: StackConfig): ComposeFile {
  const entries = composeServiceEntries(c);
  const volumes = entries.flatMap((e) => e.namedVolumes);
  const secrets = entries.flatMap((e) => Object.entries(e.secrets ?? {}));
  return {
    name: c.compose.projectName,
    services: Object.fromEntries(entries.map((e) => [e.name, e.service])),
    networks: composeNetworks(entries.map((e) => e.service.networks ?? [])),
    volumes: Object.fromEntries(volumes.map((v) => [v, {}])),
    ...(secrets.length > 0 ? { secrets: Object.fromEntries(secrets.map(([name, file]) => [name, { file }])) } : {}),
  };
}

/** What docker-compose.yml says at its top, after the generated-file header. */
function introComment(c: StackConfig): string {
  return [
    `The observability stack on one docker host: docker compose -f compose/docker-compose.yml up -d`,
    `(first: cp compose/.env.example compose/.env and set GF_ADMIN_PASSWORD). See compose/README.md.`,
    '',
    'Every service: pinned image (lib/images.ts, the tags the Kubernetes manifests use), restart unless-stopped,',
    'read-only root (tmpfs /tmp where it writes temp files), cap_drop ALL, no-new-privileges, a healthcheck',
    'that works with its image, and json-file logging whose `tag` and `labels` options put the container name',
    'and compose service/project into every log line, which is how the log agent labels logs without the Docker socket.',
    `Ports are published on 127.0.0.1 only, for what a person opens: Grafana ${c.compose.ports.grafana},`,
    `Prometheus ${c.compose.ports.prometheus}, the app ${c.compose.ports.app}. Data lives in named volumes.`,
    '',
    'Label contract (the same names as on Kubernetes): namespace = compose project, app = compose service,',
    'container = pod = container name (set explicitly: <project>-<service>), node = "docker-host".',
    'Keep the project name in the model (compose.projectName); `docker compose -p other` would break the match',
    'between Prometheus\'s static labels and the log labels.',
  ].join('\n');
}

/** docker-compose.yml as YAML text, with a comment above each service (no header). */
export function composeFileYaml(c: StackConfig): string {
  const entries = composeServiceEntries(c);
  const doc = new Document(renderComposeFile(c), { aliasDuplicateObjects: false });
  doc.commentBefore = comment(introComment(c));
  const services = doc.get('services', true);
  if (!isMap(services)) throw new Error('compose file: services is not a map');
  entries.forEach((entry, i) => {
    const key = findKey(services, entry.name);
    if (i > 0) key.spaceBefore = true;
    key.commentBefore = comment(entry.comment);
  });
  // Quote digits-and-colons strings ("127.0.0.1:3000:3000", "0:0"): YAML 1.1 parsers read 0:0 as a
  // base-60 number, the classic compose ports pitfall.
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && /^[0-9.:]+$/.test(node.value)) node.type = Scalar.QUOTE_DOUBLE;
    },
  });
  const volumes = doc.contents as YAMLMap;
  const networksKey = findKey(volumes, 'networks');
  networksKey.spaceBefore = true;
  networksKey.commentBefore = comment([
    'frontend: what publishes a port on 127.0.0.1 (Grafana, Prometheus, the app). backend, internal: no published',
    'port, no route out (the host\'s own processes can still reach its containers\' addresses): Loki, the log agent,',
    'the exporters and Alertmanager live there only; Prometheus and Grafana join it to scrape and read them.',
    'egress (with a receiver on): Alertmanager\'s way out to notify.',
  ].join('\n'));
  const volumesKey = findKey(volumes, 'volumes');
  volumesKey.spaceBefore = true;
  volumesKey.commentBefore = comment('Named volumes for every data directory: they survive `docker compose down` (not `down -v`).');
  return doc.toString({ lineWidth: 0 });
}

function findKey(map: YAMLMap, name: string): Scalar {
  const pair = map.items.find((p) => isScalar(p.key) && p.key.value === name);
  if (!pair || !isScalar(pair.key)) throw new Error(`compose file: no key ${name}`);
  return pair.key;
}

/** A YAML comment block: each line gets one leading space after the `#` the library writes. */
function comment(text: string): string {
  return text.split('\n').map((line) => (line ? ` ${line}` : '')).join('\n');
}

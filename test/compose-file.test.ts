/**
 * compose/docker-compose.yml: valid against the official Compose Specification schema, every file it mounts
 * is generated, and the rules of the issue hold (no `version:`, pinned images, loopback-only ports for the
 * UIs, a password only from the environment, a healthcheck and the hardening on every service). Also: the
 * committed compose/ is exactly what the model renders, and `npm run synth` writes it all or nothing.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import draft07MetaSchema from 'ajv/dist/refs/json-schema-draft-07.json';
import { parse, parseDocument } from 'yaml';
import {
  COMPOSE_FILES,
  COMPOSE_HEADER,
  ComposeFile,
  parseStackConfig,
  README_HEADER,
  renderCompose,
  renderComposeFile,
  StackInput,
  nodeExporterArgs,
} from '../lib';
import { freePort } from './support/prometheus';
import { composeContainerRuns } from './support/container-start';
import { EVERY_RECEIVER_INPUT, podSettingsInput } from './helpers/stack';
import { sharedPath } from './support/shared-dir';

const ROOT = path.resolve(__dirname, '..');
const COMPOSE_DIR = path.join(ROOT, 'compose');
const SCHEMA_FILE = sharedPath('schemas', 'compose-spec.json');

/**
 * The compose-spec schema, compiled once. It declares draft-07 (checked here), which is the dialect of Ajv's
 * default class; its `$schema` spells the meta-schema's URI with https and no `#`, so the draft-07
 * meta-schema is registered under that URI too.
 */
function schemaValidator() {
  const schema = JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8'));
  if (!/^https?:\/\/json-schema\.org\/draft-07\/schema#?$/.test(schema.$schema)) {
    throw new Error(`expected a draft-07 schema, got ${schema.$schema}: use the matching Ajv class`);
  }
  // Strict about the schema's keywords (an unknown or misspelt one throws), not about its authoring style:
  // strictTypes flags type-less subschemas such as {oneOf: [..., {additionalProperties: ...}]}, which are
  // valid draft-07 and validate the same either way.
  const ajv = new Ajv({ allErrors: true, strictSchema: true, strictTypes: false, strictTuples: false });
  addFormats(ajv);
  ajv.addMetaSchema({ ...draft07MetaSchema, $id: schema.$schema });
  return ajv.compile(schema);
}
const validate = schemaValidator();

function schemaErrors(doc: unknown): string[] {
  return validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
}

/** Every file under dir, relative path → content, sorted like renderCompose's map. */
function readTree(dir: string): Map<string, string> {
  const out: Array<[string, string]> = [];
  const walk = (sub: string) => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(rel);
      else out.push([rel, fs.readFileSync(path.join(dir, rel), 'utf8')]);
    }
  };
  walk('');
  return new Map(out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** A loopback HTTP server answering `status` on `path` and 404 elsewhere. */
async function answer(pathname: string, status: number): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    res.writeHead(req.url === pathname ? status : 404, { 'Content-Type': 'text/plain' });
    res.end('x\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { port, close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }) };
}

/** Runs a command and resolves with its exit code. */
function exitCode(command: string, args: string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
}

/** Customised stacks that change what compose renders. */
const VARIANTS: Record<string, StackInput> = {
  defaults: {},
  'no Grafana, no Loki': { grafana: { enabled: false }, loki: { enabled: false } },
  'no app': { app: { enabled: false } },
  'Alloy as the log agent': { logAgent: { kind: 'alloy' } },
  'pod settings and common labels': podSettingsInput(),
  customised: {
    app: { name: 'shop', port: 9000, metricsPath: '/internal/metrics', trafficGenerator: { enabled: false } },
    prometheus: { alertRules: false, remoteWrite: [{ name: 'mimir', url: 'https://mimir.example.com/api/v1/push' }] },
    compose: { projectName: 'obs', ports: { grafana: 13000, prometheus: 19090, app: 18080 } },
  },
};

describe('docker-compose.yml', () => {
  const files = renderCompose(parseStackConfig({}));
  const text = files.get(COMPOSE_FILES.compose)!;
  const doc = parse(text) as ComposeFile & Record<string, unknown>;
  const services = Object.entries(doc.services);

  test.each(Object.entries(VARIANTS))('is valid against the official compose-spec schema (%s)', (_name, input) => {
    const rendered = parse(renderCompose(parseStackConfig(input)).get(COMPOSE_FILES.compose)!);
    expect(schemaErrors(rendered)).toEqual([]);
  });

  test('the schema check can fail: an unknown service key is rejected', () => {
    const broken = structuredClone(doc) as any;
    broken.services.prometheus.restart_policy = 'always';
    expect(schemaErrors(broken)).toEqual(['/services/prometheus must NOT have additional properties {"additionalProperty":"restart_policy"}']);
  });

  test('parses as YAML without warnings, equals the renderer\'s data, and starts with the generated-file header', () => {
    const parsed = parseDocument(text);
    expect(parsed.errors).toEqual([]);
    expect(parsed.warnings).toEqual([]);
    expect(parsed.toJS()).toEqual(JSON.parse(JSON.stringify(renderComposeFile(parseStackConfig({})))));
    expect(text.startsWith(COMPOSE_HEADER)).toBe(true);
    expect(COMPOSE_HEADER).toContain('npm run synth');
  });

  test('has a top-level name and no version key', () => {
    expect(doc.name).toBe('observability');
    expect(Object.keys(doc)).toEqual(['name', 'services', 'networks', 'volumes']);
    expect(text).not.toMatch(/^version:/m);
  });

  test('only what publishes a port is outside the internal backend network; what nobody opens from the host is only inside it', () => {
    const networks = Object.fromEntries(services.map(([name, s]) => [name, s.networks]));
    expect(networks).toEqual({
      prometheus: ['frontend', 'backend'],
      grafana: ['frontend', 'backend'],
      'demo-app': ['frontend'],
      'demo-app-traffic': ['frontend'],
      loki: ['backend'],
      promtail: ['backend'],
      'node-exporter': ['backend'],
      cadvisor: ['backend'],
      // No receiver on by default: nothing to reach outside the host.
      alertmanager: ['backend'],
    });
    expect(doc.networks).toEqual({ frontend: {}, backend: { internal: true } });
    // Every service that publishes a port is on the frontend network; every one outside it publishes none, or
    // is the traffic generator, which calls the app there.
    for (const [name, s] of services) {
      const onFrontend = (s.networks ?? []).includes('frontend');
      expect([name, onFrontend]).toEqual([name, (s.ports ?? []).length > 0 || name === 'demo-app-traffic']);
    }
    // Each service reaches what it talks to over a network both join.
    const shared = (a: string, b: string) => (networks[a] ?? []).some((n: string) => (networks[b] ?? []).includes(n));
    for (const [from, to] of [
      ['prometheus', 'demo-app'], ['prometheus', 'loki'], ['prometheus', 'promtail'], ['prometheus', 'node-exporter'], ['prometheus', 'cadvisor'],
      ['prometheus', 'alertmanager'], ['prometheus', 'grafana'], ['grafana', 'prometheus'], ['grafana', 'loki'], ['grafana', 'alertmanager'],
      ['promtail', 'loki'], ['demo-app-traffic', 'demo-app'],
    ]) expect([from, to, shared(from, to)]).toEqual([from, to, true]);
    // And what must not: the app and its traffic cannot reach Loki, the log agent, the exporters or Alertmanager.
    for (const from of ['demo-app', 'demo-app-traffic']) {
      for (const to of ['loki', 'promtail', 'node-exporter', 'cadvisor', 'alertmanager']) expect([from, to, shared(from, to)]).toEqual([from, to, false]);
    }
  });

  test('the README\'s snippet for a user\'s own compose app is valid compose, joins the stack\'s frontend network by its real name, and logs with the stack\'s options', () => {
    const readme = files.get(COMPOSE_FILES.readme)!;
    const snippet = parse(/## Your own apps[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)![1]);
    expect(schemaErrors({ name: 'shop', ...snippet })).toEqual([]);
    // compose names a project's network <project>_<network>.
    expect(Object.keys(snippet.networks)).toEqual([`${doc.name}_frontend`]);
    expect(snippet.networks[`${doc.name}_frontend`]).toEqual({ external: true });
    expect(snippet.services.web.networks).toEqual(['default', `${doc.name}_frontend`]);
    // The stack's own logging options exactly: the labels' tag and attributes, and the rotation.
    expect(snippet.services.web.logging).toEqual(doc.services['demo-app'].logging);
  });

  test('with a receiver on, Alertmanager alone gets a way out (egress), still publishing nothing', () => {
    const withWebhook = parse(renderCompose(parseStackConfig(EVERY_RECEIVER_INPUT)).get(COMPOSE_FILES.compose)!);
    expect(withWebhook.services.alertmanager.networks).toEqual(['backend', 'egress']);
    expect(withWebhook.networks).toEqual({ frontend: {}, backend: { internal: true }, egress: {} });
    expect(Object.entries(withWebhook.services).filter(([, s]: [string, any]) => s.networks.includes('egress')).map(([n]) => n)).toEqual(['alertmanager']);
    expect(withWebhook.services.alertmanager.ports).toBeUndefined();
    // Each receiver alone is enough for the way out.
    const only = (receivers: object) => parse(renderCompose(parseStackConfig({ alertmanager: { receivers } })).get(COMPOSE_FILES.compose)!).services.alertmanager.networks;
    expect(only({ webhook: (EVERY_RECEIVER_INPUT.alertmanager as any).receivers.webhook })).toEqual(['backend', 'egress']);
    expect(only({ slack: (EVERY_RECEIVER_INPUT.alertmanager as any).receivers.slack })).toEqual(['backend', 'egress']);
    expect(only({ email: (EVERY_RECEIVER_INPUT.alertmanager as any).receivers.email })).toEqual(['backend', 'egress']);
  });

  test('runs the app, Prometheus, Grafana, Loki, Promtail and Alertmanager, and the traffic generator only in its profile', () => {
    expect(services.map(([name]) => name)).toEqual(['prometheus', 'loki', 'promtail', 'node-exporter', 'cadvisor', 'alertmanager', 'grafana', 'demo-app', 'demo-app-traffic']);
    expect(services.filter(([, s]) => s.profiles).map(([name, s]) => [name, s.profiles])).toEqual([['demo-app-traffic', ['traffic']]]);
    const traffic = doc.services['demo-app-traffic'];
    expect(traffic.command).toEqual(['node', 'build/traffic.js']);
    expect(traffic.environment).toEqual({ TRAFFIC_TARGET_URL: 'http://demo-app:8080', TRAFFIC_RPS: '5', TRAFFIC_HEALTH_PORT: '8081' });
    expect(traffic.healthcheck.test.join(' ')).toContain('http://127.0.0.1:8081/healthz');
    expect(traffic.image).toBe(doc.services['demo-app'].image);
  });

  test('builds the app from app/ and tags it with the pinned demo-app tag', () => {
    const app = doc.services['demo-app'];
    expect(app.build).toEqual({ context: '../app' });
    expect(app.image).toBe('demo-app:0.1.0');
    expect(fs.existsSync(path.join(COMPOSE_DIR, app.build!.context, 'Dockerfile'))).toBe(true);
  });

  test('pins every image to an exact tag (no latest, no untagged image)', () => {
    for (const [name, s] of services) {
      expect([name, s.image]).toEqual([name, expect.stringMatching(/^[a-z0-9./-]+:[A-Za-z0-9_][A-Za-z0-9_.-]*$/)]);
      expect(s.image.endsWith(':latest')).toBe(false);
    }
  });

  test('publishes ports on 127.0.0.1 only, and only for what a person opens (Grafana, Prometheus, the app)', () => {
    const published = services.filter(([, s]) => s.ports).map(([name, s]) => [name, s.ports]);
    expect(published).toEqual([
      ['prometheus', ['127.0.0.1:9090:9090']],
      ['grafana', ['127.0.0.1:3000:3000']],
      ['demo-app', ['127.0.0.1:8080:8080']],
    ]);
    const custom = renderComposeFile(parseStackConfig(VARIANTS.customised));
    expect(custom.services.grafana.ports).toEqual(['127.0.0.1:13000:3000']);
    expect(custom.services.prometheus.ports).toEqual(['127.0.0.1:19090:9090']);
    expect(custom.services.shop.ports).toEqual(['127.0.0.1:18080:9000']);
  });

  test('takes the Grafana admin password only from the environment, and refuses to start without it', () => {
    const env = doc.services.grafana.environment!;
    expect(env.GF_SECURITY_ADMIN_PASSWORD).toBe('${GF_ADMIN_PASSWORD:?set GF_ADMIN_PASSWORD in compose/.env (see .env.example)}');
    // No literal password anywhere in compose/: every GF_SECURITY_ADMIN_PASSWORD value is a required ${...:?...}.
    for (const [name, content] of files) {
      for (const m of content.matchAll(/GF_SECURITY_ADMIN_PASSWORD\w*\s*[:=]\s*(.*)$/gm)) {
        expect([name, m[1]]).toEqual([name, expect.stringMatching(/^\$\{[A-Z_]+:\?[^}]+\}$/)]);
      }
    }
    // The only interpolations in the compose file are that one and the host's Docker containers directory
    // (anything else with a $ would be expanded too).
    expect(text.match(/\$\{[^}]*\}/g)).toEqual([
      '${DOCKER_CONTAINERS_DIR:-/var/lib/docker/containers}',
      '${GF_ADMIN_PASSWORD:?set GF_ADMIN_PASSWORD in compose/.env (see .env.example)}',
    ]);
    // Every other `$` is escaped as `$$` (node-exporter's regexes), which compose passes on as one `$`.
    expect(text.replace(/\$\$/g, '').match(/\$/g)).toHaveLength(2);
    // node-exporter's regexes: the component's arguments with each `$` doubled, so the container gets them as they are.
    const command: string[] = doc.services['node-exporter']?.command ?? [];
    expect(command.map((a) => a.replace(/\$\$/g, '$'))).toEqual(nodeExporterArgs({ listenAddress: ':9100', hostNetwork: false }));
    expect(command.filter((a) => a.includes('$')).every((a) => a.includes('$$'))).toBe(true);
    expect(command.some((a) => a.endsWith('($$|/)'))).toBe(true);
  });

  test('.env.example holds no usable password, explains how to make one, and git ignores .env', () => {
    const example = files.get(COMPOSE_FILES.envExample)!;
    expect(example).toMatch(/^GF_ADMIN_PASSWORD=$/m);
    expect(example).toContain('openssl rand -base64 24');
    const assignments = example.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(assignments).toEqual(['GF_ADMIN_PASSWORD=']);
    expect(files.get(COMPOSE_FILES.gitignore)!.split('\n')).toContain('.env');
  });

  test('sets Grafana up as on Kubernetes: admin user from the model, no anonymous access, no plugin downloads, no analytics', () => {
    expect(doc.services.grafana.environment).toMatchObject({
      GF_SECURITY_ADMIN_USER: 'admin',
      GF_AUTH_ANONYMOUS_ENABLED: 'false',
      GF_PLUGINS_PREINSTALL_DISABLED: 'true',
      GF_ANALYTICS_REPORTING_ENABLED: 'false',
      GF_ANALYTICS_CHECK_FOR_UPDATES: 'false',
      GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES: 'false',
      GF_NEWS_NEWS_FEED_ENABLED: 'false',
      GF_SNAPSHOTS_EXTERNAL_ENABLED: 'false',
      GF_SECURITY_DISABLE_GRAVATAR: 'true',
      GF_SECURITY_ALLOW_EMBEDDING: 'false',
      GF_USERS_ALLOW_SIGN_UP: 'false',
      GF_PLUGINS_PUBLIC_KEY_RETRIEVAL_DISABLED: 'true',
    });
  });

  test('hardens every service: restart unless-stopped, read-only root, no capabilities, no privilege gain', () => {
    for (const [name, s] of services) {
      expect([name, s.restart, s.read_only, s.cap_drop, s.security_opt]).toEqual([name, 'unless-stopped', true, ['ALL'], ['no-new-privileges:true']]);
      expect((s as any).privileged).toBeUndefined();
      expect((s as any).cap_add).toBeUndefined();
    }
  });

  test('runs as the images\' non-root users; only Promtail is root, and says why', () => {
    expect(Object.fromEntries(services.map(([name, s]) => [name, s.user]))).toEqual({
      prometheus: '65534:65534',
      'node-exporter': '65534:65534',
      // Relaxed: the image's root, with every capability dropped (what it reads is root-owned).
      cadvisor: '0:0',
      loki: '10001',
      promtail: '0:0',
      alertmanager: '65534:65534',
      grafana: '472',
      'demo-app': '1000',
      'demo-app-traffic': '1000',
    });
    expect(text).toMatch(/Relaxed: uid 0, because Docker writes those files root:root 0640/);
  });

  test('has a healthcheck on every service that execs a tool its image has', () => {
    const tests = Object.fromEntries(services.map(([name, s]) => [name, s.healthcheck.test.slice(0, 2)]));
    expect(tests).toEqual({
      prometheus: ['CMD', 'wget'],
      'node-exporter': ['CMD', 'wget'],
      cadvisor: ['CMD', 'wget'],
      loki: ['CMD', '/usr/bin/loki'],
      promtail: ['CMD', 'bash'],
      alertmanager: ['CMD', 'wget'],
      grafana: ['CMD', 'wget'],
      'demo-app': ['CMD', 'node'],
      'demo-app-traffic': ['CMD', 'node'],
    });
    expect(doc.services.loki.healthcheck.test).toEqual(['CMD', '/usr/bin/loki', '-health']);
    // `loki -health` waits up to 5 s for /ready itself: the healthcheck must allow more than that.
    expect(parseInt(doc.services.loki.healthcheck.timeout, 10)).toBeGreaterThan(5);
    expect(doc.services.prometheus.healthcheck.test.at(-1)).toBe('http://127.0.0.1:9090/-/ready');
    expect(doc.services.grafana.healthcheck.test.at(-1)).toBe('http://127.0.0.1:3000/api/health');
    expect(doc.services.alertmanager.healthcheck.test.at(-1)).toBe('http://127.0.0.1:9093/-/ready');
    expect(doc.services['node-exporter'].healthcheck.test.at(-1)).toBe('http://127.0.0.1:9100/');
    expect(doc.services.cadvisor.healthcheck.test.at(-1)).toBe('http://127.0.0.1:8080/healthz');
    expect(doc.services.promtail.healthcheck.test[3]).toContain('/dev/tcp/127.0.0.1/3101');
    expect(doc.services.promtail.healthcheck.test[3]).toContain('GET /ready HTTP/1.0');
    expect(doc.services['demo-app'].healthcheck.test[3]).toContain('http://127.0.0.1:8080/readyz');
  });

  test('the app\'s node -e healthcheck is valid JavaScript that exits 0 on 200 and 1 otherwise', async () => {
    const script = doc.services['demo-app'].healthcheck.test[3];
    for (const status of [200, 503]) {
      const server = await answer('/readyz', status);
      const code = await exitCode(process.execPath, ['-e', script.replace('127.0.0.1:8080', `127.0.0.1:${server.port}`)]);
      await server.close();
      expect([status, code]).toEqual([status, status === 200 ? 0 : 1]);
    }
    // Nothing listening: exit 1, not a crash.
    const closed = await freePort();
    expect(await exitCode(process.execPath, ['-e', script.replace('127.0.0.1:8080', `127.0.0.1:${closed}`)])).toBe(1);
  });

  test('the Promtail healthcheck is a valid bash script that passes on 200 and fails on 500 (/ready before any file is tailed)', async () => {
    const script = doc.services.promtail.healthcheck.test[3];
    for (const status of [200, 500]) {
      const server = await answer('/ready', status);
      const code = await exitCode('bash', ['-c', script.replace('/dev/tcp/127.0.0.1/3101', `/dev/tcp/127.0.0.1/${server.port}`)]);
      await server.close();
      expect([status, code]).toEqual([status, status === 200 ? 0 : 1]);
    }
  });

  test('starts services in order: Grafana after Prometheus and Loki, Promtail after Loki, traffic after the app (all healthy)', () => {
    const deps = Object.fromEntries(services.filter(([, s]) => s.depends_on).map(([name, s]) => [name, s.depends_on]));
    const healthy = { condition: 'service_healthy' };
    expect(deps).toEqual({
      promtail: { loki: healthy },
      grafana: { prometheus: healthy, loki: healthy },
      'demo-app-traffic': { 'demo-app': healthy },
    });
  });

  test('keeps every data directory on a named volume', () => {
    expect(doc.volumes).toEqual({ 'prometheus-data': {}, 'loki-data': {}, 'promtail-positions': {}, 'alertmanager-data': {}, 'grafana-data': {} });
    const named = (name: string) => (doc.services[name].volumes ?? []).filter((v) => !/^[./$]/.test(v));
    expect(named('prometheus')).toEqual(['prometheus-data:/prometheus']);
    expect(named('loki')).toEqual(['loki-data:/loki']);
    expect(named('alertmanager')).toEqual(['alertmanager-data:/alertmanager']);
    expect(named('grafana')).toEqual(['grafana-data:/var/lib/grafana']);
    expect(named('promtail')).toEqual(['promtail-positions:/run/promtail']);
  });

  test('mounts config files read-only, and every one it mounts is generated into compose/', () => {
    for (const [name, s] of services) {
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0];
        if (!/^[./$]/.test(source)) continue; // a named volume
        // Read-only; the host's root with rslave too (node-exporter: disks mounted later appear under it).
        expect([name, v, v.split(':').at(-1)]).toEqual([name, v, name === 'node-exporter' && v.startsWith('/:') ? 'ro,rslave' : 'ro']);
        if (!source.startsWith('.')) continue; // a host path (Docker's log directory), checked below
        const rel = path.posix.normalize(source);
        const generated = [...files.keys()].some((f) => f === rel || f.startsWith(`${rel}/`));
        expect([name, rel, generated]).toEqual([name, rel, true]);
        expect([name, rel, fs.existsSync(path.join(COMPOSE_DIR, rel))]).toEqual([name, rel, true]);
      }
    }
    // The one host path: Docker's container logs, read-only, for Promtail only; its host side a variable whose
    // default is Docker's own directory (rootless Docker and custom data-roots keep it elsewhere).
    const hostPaths = services.flatMap(([name, s]) => (s.volumes ?? []).filter((v) => !v.startsWith('.') && /^[/$]/.test(v)).map((v) => [name, v]));
    // And the host's /proc, /sys and / for node-exporter, read-only.
    expect(hostPaths).toEqual([
      ['promtail', '${DOCKER_CONTAINERS_DIR:-/var/lib/docker/containers}:/var/lib/docker/containers:ro'],
      ['node-exporter', '/proc:/host/proc:ro'],
      ['node-exporter', '/sys:/host/sys:ro'],
      ['node-exporter', '/:/host/root:ro,rslave'],
      // cAdvisor: the host's / (its /proc: each container's network; Docker's data), /var/run (Docker's and
      // containerd's sockets: root on the host, named in the service's comment) and /sys (the cgroups).
      ['cadvisor', '/:/rootfs:ro'],
      ['cadvisor', '/var/run:/var/run:ro'],
      ['cadvisor', '/sys:/sys:ro'],
    ]);
    expect(text).toMatch(/Docker's socket: even read-only\n\s*# it is the whole Engine API, i\.e\. root on the host/);
    // Only cAdvisor gets the socket (through /var/run), nobody mounts it by name, and turning cAdvisor off takes it away.
    expect(text).not.toContain('docker.sock');
    expect(parse(renderCompose(parseStackConfig({ compose: { cadvisor: { enabled: false } } })).get(COMPOSE_FILES.compose)!).services.cadvisor).toBeUndefined();
  });

  test('takes the host\'s Docker containers directory from DOCKER_CONTAINERS_DIR, named in .env.example and the README', () => {
    const mount = (env: Record<string, string>) => composeContainerRuns(text, files, { GF_ADMIN_PASSWORD: 'x', ...env })
      .find((r) => r.where === 'compose service promtail')!.mounts.find((m) => m.path === '/var/lib/docker/containers');
    expect(mount({})?.hostPath).toBe('/var/lib/docker/containers');
    expect(mount({ DOCKER_CONTAINERS_DIR: '/home/u/.local/share/docker/containers' })).toMatchObject({ hostPath: '/home/u/.local/share/docker/containers', readOnly: true });
    // Inside, the agent reads the same path whatever the host's is.
    const promtail = parse(files.get(COMPOSE_FILES.promtailConfig)!);
    expect(promtail.scrape_configs[0].static_configs[0].labels.__path__).toBe('/var/lib/docker/containers/*/*-json.log');
    expect(files.get(COMPOSE_FILES.envExample)).toMatch(/^# DOCKER_CONTAINERS_DIR=\/home\/you\/\.local\/share\/docker\/containers$/m);
    expect(files.get(COMPOSE_FILES.readme)).toContain('set `DOCKER_CONTAINERS_DIR` in `compose/.env`');
  });

  test('gives every service the json-file logging options that put the contract\'s values into each line', () => {
    for (const [name, s] of services) {
      expect([name, s.logging]).toEqual([name, {
        driver: 'json-file',
        options: { tag: '{{.Name}}', labels: 'com.docker.compose.service,com.docker.compose.project', 'max-size': '10m', 'max-file': '3' },
      }]);
    }
  });

  test('names every container <project>-<service>', () => {
    for (const [name, s] of services) expect(s.container_name).toBe(`observability-${name}`);
  });

  test('explains the log discovery choice in a comment above Promtail', () => {
    const promtail = text.slice(text.indexOf('# Promtail:'), text.indexOf('  promtail:'));
    expect(promtail).toContain('NOT the Docker socket');
    expect(promtail).toContain('root on the host');
    expect(promtail).toContain('DOCKER_CONTAINERS_DIR');
  });

  test('leaves out what is disabled', () => {
    const bare = renderCompose(parseStackConfig(VARIANTS['no Grafana, no Loki']));
    expect(Object.keys(parse(bare.get(COMPOSE_FILES.compose)!).services)).toEqual(['prometheus', 'node-exporter', 'cadvisor', 'alertmanager', 'demo-app', 'demo-app-traffic']);
    expect([...bare.keys()].filter((f) => /^(loki|promtail|grafana)\//.test(f))).toEqual([]);
    const noAlertmanager = renderCompose(parseStackConfig({ alertmanager: { enabled: false } }));
    expect(Object.keys(parse(noAlertmanager.get(COMPOSE_FILES.compose)!).services)).not.toContain('alertmanager');
    expect([...noAlertmanager.keys()].filter((f) => f.startsWith('alertmanager/'))).toEqual([]);
    expect(parse(noAlertmanager.get(COMPOSE_FILES.prometheusConfig)!).alerting).toBeUndefined();
    const noApp = parse(renderCompose(parseStackConfig(VARIANTS['no app'])).get(COMPOSE_FILES.compose)!);
    expect(Object.keys(noApp.services)).toEqual(['prometheus', 'loki', 'promtail', 'node-exporter', 'cadvisor', 'alertmanager', 'grafana']);
    const noNodeExporter = renderCompose(parseStackConfig({ nodeExporter: { enabled: false } }));
    expect(Object.keys(parse(noNodeExporter.get(COMPOSE_FILES.compose)!).services)).not.toContain('node-exporter');
    expect(parse(noNodeExporter.get(COMPOSE_FILES.prometheusConfig)!).scrape_configs.map((j: any) => j.job_name)).not.toContain('node-exporter');
  });
});

describe('the other files in compose/', () => {
  const files = renderCompose(parseStackConfig({}));

  test('are the compose file, everything it mounts, the README, .env.example and .gitignore', () => {
    expect([...files.keys()]).toEqual([
      '.env.example',
      '.gitignore',
      'README.md',
      'alertmanager/alertmanager.yml',
      'docker-compose.yml',
      'grafana/dashboards/README.md',
      'grafana/dashboards/app.json',
      'grafana/dashboards/containers.json',
      'grafana/dashboards/nodes.json',
      'grafana/dashboards/stack.json',
      'grafana/provisioning/dashboards/provider.yaml',
      'grafana/provisioning/datasources/datasources.yaml',
      'loki/loki.yaml',
      'prometheus/prometheus.yml',
      'prometheus/rules/stack-rules.yaml',
      'promtail/promtail.yaml',
    ]);
  });

  test('each start with a header naming `npm run synth`, and the YAML ones parse', () => {
    for (const [name, content] of files) {
      // JSON has no comments: a dashboard says it in its description.
      const first = name.endsWith('.json') ? (JSON.parse(content) as { description: string }).description : content.split('\n')[0];
      expect([name, first]).toEqual([name, expect.stringContaining('Generated by `npm run synth`')]);
      if (/\.ya?ml$/.test(name)) expect([name, parseDocument(content).errors]).toEqual([name, []]);
    }
    expect(files.get(COMPOSE_FILES.readme)!.startsWith(README_HEADER)).toBe(true);
  });

  test('the README tells how to start, the .env step, the URLs and what was and was not run', () => {
    const readme = files.get(COMPOSE_FILES.readme)!;
    expect(readme).toContain('cp compose/.env.example compose/.env');
    expect(readme).toContain('docker compose -f compose/docker-compose.yml up -d');
    expect(readme).toContain('http://localhost:9090');
    expect(readme).toContain('http://localhost:3000');
    expect(readme).toContain('http://localhost:8080/');
    expect(readme).toContain('my_app_requests_total');
    expect(readme).toContain('no Docker engine');
    expect(readme).toContain('Not run here');
  });
});

describe('compose/ in the repository', () => {
  test('holds exactly what the model renders, byte for byte (run `npm run synth` after changing lib/)', () => {
    const rendered = renderCompose(parseStackConfig({}));
    const committed = fs.existsSync(COMPOSE_DIR) ? readTree(COMPOSE_DIR) : new Map<string, string>();
    committed.delete('.env'); // the person's own password file, never generated
    const problems: string[] = [];
    for (const [name, content] of rendered) {
      if (!committed.has(name)) problems.push(`compose/${name} is missing`);
      else if (committed.get(name) !== content) problems.push(`compose/${name} differs from what lib/ renders`);
    }
    for (const name of committed.keys()) if (!rendered.has(name)) problems.push(`compose/${name} is not generated any more`);
    if (problems.length > 0) throw new Error(`${problems.join('\n')}\nRun \`npm run synth\` and commit compose/.`);
  });
});

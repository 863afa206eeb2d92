import * as fs from 'fs';
import * as path from 'path';
import { OTEL_DURATION_BUCKETS } from '../app/src/telemetry';
import { APP_DASHBOARD_FILE, GRAFANA_ADMIN_PASSWORD_COMMAND, IMAGES, imageString, PROBLEM_LEVELS, renderDashboards } from '../lib';
import { IMAGE_FACTS } from '../lib/images';

const ROOT = path.resolve(__dirname, '..');
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

describe('README', () => {
  test('its component table names exactly the pinned images of lib/images.ts', () => {
    const start = readme.indexOf('## Components');
    const section = readme.slice(start, readme.slice(start + 1).search(/\n#{2,3} /) + start + 1);
    const table = section.split('\n').filter((l) => l.startsWith('| ') && l.includes('`'));
    const images = table.map((l) => /`([^`]+:[^`]+)`/.exec(l.split('|')[2])?.[1]).filter(Boolean);
    const pinned = Object.values(IMAGES).map(imageString);
    expect(images.sort()).toEqual(pinned.sort());
  });

  test('its image facts table agrees with lib/image-facts.ts: every pinned image, with the uid:gid it runs as', () => {
    const section = readme.slice(readme.indexOf('### What each image holds'), readme.indexOf('\n## ', readme.indexOf('### What each image holds')));
    const rows = section.split('\n').filter((l) => l.startsWith('| `'));
    const table = rows.map((l) => {
      const cells = l.split('|').map((c) => c.trim());
      return [/`([^`]+)`/.exec(cells[1])![1], /([0-9]+:[0-9]+)|root/.exec(cells[2])![0]];
    });
    const facts = Object.values(IMAGE_FACTS).map((f) => [imageString(f.image), f.user.uid === 0 ? 'root' : `${f.user.uid}:${f.user.gid}`]);
    expect(table.sort()).toEqual(facts.sort());
  });

  test('prints the Grafana password with the command the stack is built for', () => {
    expect(readme).toContain(GRAFANA_ADMIN_PASSWORD_COMMAND);
  });

  test('where it shows storage.size, says that volume sizes and classes are fixed after the first apply on kind', () => {
    const settings = readme.slice(readme.indexOf('## Settings'), readme.indexOf('## Kubernetes on kind')).replace(/\s+/g, ' ');
    expect(settings).toContain('storage: { size: 50Gi }');
    expect(settings).toContain('kind\'s `standard` StorageClass (the local-path provisioner) does not allow volume expansion');
    expect(settings).toContain('`storageClassName` never changes');
  });

  test('its two set-up commands exist', () => {
    expect(readme).toContain('npm ci && npm run synth');
    expect(readme).toContain('npm test');
    expect(pkg.scripts.synth).toBeDefined();
    expect(pkg.scripts.test).toBeDefined();
  });

  test('.ci/run runs the README\'s test command', () => {
    const ci = fs.readFileSync(path.join(ROOT, '.ci/run'), 'utf8');
    expect(ci).toMatch(/^npm ci\b/m);
    expect(ci).toMatch(/^npm test$/m);
  });
});

describe('README, "Instrument your app"', () => {
  const start = readme.indexOf('## Instrument your app');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));

  test('names every metric the App dashboard queries, and the labels and buckets the demo app gives its histogram', () => {
    const app = JSON.parse(renderDashboards({ loki: true, alertmanager: false }).get(APP_DASHBOARD_FILE)!);
    const exprs: string[] = app.panels.flatMap((p: any) => (p.targets ?? []).map((t: any) => t.expr ?? ''));
    const metrics = new Set(exprs.flatMap((e) => [...e.matchAll(/([a-z_][a-z0-9_]*)(?:_bucket|_count|_sum)?\{namespace=/g)].map((m) => m[1].replace(/_(bucket|count|sum)$/, ''))));
    metrics.delete('up');
    expect([...metrics].sort()).toEqual(['http_server_request_duration_seconds', 'nodejs_eventloop_lag_p99_seconds', 'process_cpu_seconds_total', 'process_resident_memory_bytes']);
    for (const m of metrics) expect({ metric: m, named: section.includes(`\`${m}\``) }).toEqual({ metric: m, named: true });
    for (const label of ['method', 'route', 'status_code']) expect(section).toContain(`\`${label}\``);
    expect(section).toContain(`${OTEL_DURATION_BUCKETS[0]} to ${OTEL_DURATION_BUCKETS.at(-1)} s`);
  });

  test('names the log field the log panels parse', () => {
    expect(section).toContain('under `level`');
    expect(PROBLEM_LEVELS).toBe('(?i)(fatal|critical|error|warn(ing)?)');
    for (const l of ['fatal', 'critical', 'error', 'warn', 'warning']) expect(section).toContain(`\`${l}\``);
  });
});

/**
 * The stack as a cdk8s construct library, used the way a user uses it: `npm pack` makes the package (its prepack
 * builds build/), the tarball is unpacked into a scratch project's node_modules outside the repository, beside
 * exactly what the package declares it needs (its dependencies and peer dependencies, linked from the repository's
 * node_modules, and nothing else: a missing declaration fails here), and the README's example (section "In your
 * own cdk8s app") becomes that project's main.ts. It must type-check against the packed declarations (with a strict
 * Node-resolution tsconfig, and with `cdk8s init`'s own tsconfig plus the skipLibCheck the README asks for),
 * import only through the package's entry point, synthesize the stack and the user's own annotated Deployment, and
 * the real Prometheus (Debian), configured with the prometheus.yml the packed library synthesized, must scrape
 * that Deployment's pod (file_sd with discovery's __meta_kubernetes_* labels in place of kubernetes_sd) with the
 * label contract.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { ROOT } from './helm-support';
import { deploymentPodTargets } from './support/pod-targets';
import { RunningPrometheus, serveMetrics, startPrometheus, withFileSd } from './support/prometheus';

const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
/** The README's example: the TypeScript block that starts with "// main.ts of your cdk8s app". */
const EXAMPLE = [...README.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]).find((b) => b.startsWith('// main.ts of your cdk8s app'));

let scratch: string;
let packed: string[];
let objects: Record<string, any[]>;

beforeAll(() => {
  if (!EXAMPLE) throw new Error('README.md has no ```ts block starting with "// main.ts of your cdk8s app"');
  // Outside the repository: nothing resolves through its node_modules but what is linked below.
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'library-'));
  execFileSync('npm', ['pack', '--pack-destination', scratch], { cwd: ROOT, stdio: 'pipe' });
  const tarball = fs.readdirSync(scratch).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack wrote no tarball into ${scratch}`);
  packed = execFileSync('tar', ['-tzf', path.join(scratch, tarball)], { encoding: 'utf8' }).trim().split('\n');
  const modules = path.join(scratch, 'node_modules');
  const installed = path.join(modules, 'observability-stack');
  fs.mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', path.join(scratch, tarball), '-C', installed, '--strip-components=1']);
  // What the package declares, as npm would install it for the user (their own cdk8s, cdk8s-plus-27 and constructs
  // for the peers), and tsx to run main.ts with, as the user's own dev tool.
  const manifest = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8'));
  for (const name of [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {}), 'tsx']) {
    fs.mkdirSync(path.dirname(path.join(modules, name)), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules', name), path.join(modules, name), 'dir');
  }
  fs.writeFileSync(path.join(scratch, 'main.ts'), EXAMPLE);
  fs.writeFileSync(path.join(scratch, 'package.json'), JSON.stringify({ name: 'shop-infra', private: true }));
  // A user's strict TypeScript project, resolving packages as Node does (package.json "exports").
  fs.writeFileSync(path.join(scratch, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'node16', moduleResolution: 'node16', strict: true, noEmit: true, skipLibCheck: true, types: [] },
    files: ['main.ts'],
  }));
}, 120000);

afterAll(() => {
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

describe('the package', () => {
  test('holds the built library and its declarations, and nothing of the repository besides', () => {
    const files = packed.map((f) => f.replace(/^package\//, ''));
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'build/lib/index.js', 'build/lib/index.d.ts', 'build/lib/k8s/stack.d.ts', 'build/imports/servicemonitor-monitoring.coreos.com.js']));
    const outside = files.filter((f) => !f.startsWith('build/lib/') && !f.startsWith('build/imports/') && !['package.json', 'README.md', 'LICENSE'].includes(f));
    expect(outside).toEqual([]);
  });

  const tsc = (config: string): string => {
    try {
      execFileSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', path.join(scratch, config)], { cwd: scratch, encoding: 'utf8', stdio: 'pipe' });
      return '';
    } catch (e: any) {
      return `${e.stdout}${e.stderr}`;
    }
  };

  test('the README\'s example type-checks against the packed declarations (strict, Node\'s package resolution)', () => {
    expect(tsc('tsconfig.json')).toBe('');
  });

  test('and in a project made by `cdk8s init` (its tsconfig), with the skipLibCheck the README asks for; without it, not', () => {
    const template = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', 'cdk8s-cli', 'templates', 'typescript-app', 'tsconfig.json'), 'utf8'));
    const asInit = { ...template, compilerOptions: { ...template.compilerOptions, noEmit: true }, include: ['main.ts'] };
    fs.writeFileSync(path.join(scratch, 'tsconfig.init.json'), JSON.stringify(asInit));
    fs.writeFileSync(path.join(scratch, 'tsconfig.init-skip.json'), JSON.stringify({ ...asInit, compilerOptions: { ...asInit.compilerOptions, skipLibCheck: true } }));
    expect(tsc('tsconfig.init-skip.json')).toBe('');
    expect(tsc('tsconfig.init.json')).toContain('error TS');
    expect(README).toContain('"skipLibCheck": true');
  });

  test('a wrong setting fails the type check, naming it', () => {
    const bad = EXAMPLE!.replace("grafana: { service: { type: 'NodePort' } }", "grafana: { service: { type: 'LoadBalancer' } }");
    expect(bad).not.toBe(EXAMPLE);
    fs.writeFileSync(path.join(scratch, 'bad.ts'), bad);
    fs.writeFileSync(path.join(scratch, 'tsconfig.bad.json'), JSON.stringify({ extends: './tsconfig.json', files: ['bad.ts'] }));
    const output = tsc('tsconfig.bad.json');
    expect(output).toContain('bad.ts');
    expect(output).toContain('"LoadBalancer"');
  });
});

describe('the README\'s example, synthesized through the package', () => {
  beforeAll(() => {
    execFileSync(process.execPath, ['--import', 'tsx', 'main.ts'], { cwd: scratch, stdio: 'pipe' });
    const dist = path.join(scratch, 'dist');
    objects = Object.fromEntries(fs.readdirSync(dist).sort().map((f) => [f, parseAllDocuments(fs.readFileSync(path.join(dist, f), 'utf8')).map((d) => d.toJS()).filter(Boolean)]));
  }, 60000);

  test('writes the namespaces first, then the stack, then the user\'s chart', () => {
    expect(Object.keys(objects)).toEqual(['0000-observability-namespaces.k8s.yaml', '0001-observability.k8s.yaml', '0002-shop.k8s.yaml']);
    expect(objects['0000-observability-namespaces.k8s.yaml'].map((o) => o.metadata.name)).toEqual(['monitoring', 'monitoring-agent']);
  });

  test('the stack follows the settings: no demo app, Grafana on a NodePort, the Slack receiver', () => {
    const stack = objects['0001-observability.k8s.yaml'];
    expect(stack.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name)).not.toContain('demo-app');
    expect(stack.find((o) => o.kind === 'Service' && o.metadata.name === 'grafana').spec.type).toBe('NodePort');
    expect(stack.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'alertmanager-config').data['alertmanager.yml']).toContain('slack_configs');
  });

  test('the user\'s Deployment carries the scrape annotations scrapeWorkload wrote', () => {
    const api = objects['0002-shop.k8s.yaml'].find((o) => o.kind === 'Deployment');
    expect(api.spec.template.metadata.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9102', 'prometheus.io/path': '/metrics' });
  });

  describe('scraped by the real Prometheus with the synthesized configuration', () => {
    let prometheus: RunningPrometheus;
    let server: { port: number; close: () => Promise<void> };
    let api: any;

    beforeAll(async () => {
      api = objects['0002-shop.k8s.yaml'].find((o) => o.kind === 'Deployment');
      const configMap = objects['0001-observability.k8s.yaml'].find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'prometheus-config');
      const config = parse(configMap.data['prometheus.yml']);
      // Faster than the example's 15 s, for the test only.
      config.global = { ...config.global, scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' };
      server = await serveMetrics('# TYPE orders_total counter\norders_total 7\n');
      // Discovery's view of the pod, its annotated port moved to the stand-in's free port.
      const { config: swapped, files } = withFileSd(config, {
        'kubernetes-pods': deploymentPodTargets(api, { namespace: 'shop', hash: '7c9d5b8f6a', suffix: 'x7k2p', port: server.port }),
      });
      delete swapped.rule_files;
      prometheus = await startPrometheus({ config: stringify(swapped), files });
    }, 60000);

    afterAll(async () => {
      await prometheus?.stop();
      await server?.close();
    });

    test('one series, with exactly the contract\'s labels', async () => {
      const series = await prometheus.queryUntilData('orders_total', 30000, 'the user\'s Deployment');
      expect(series).toHaveLength(1);
      const { __name__, job, instance, ...contract } = series[0].metric;
      expect([job, instance]).toEqual(['kubernetes-pods', `127.0.0.1:${server.port}`]);
      expect(contract).toEqual({ namespace: 'shop', pod: `${api.metadata.name}-7c9d5b8f6a-x7k2p`, container: api.spec.template.spec.containers[0].name, node: 'kind-worker', app: 'shop-api' });
    });
  });
});

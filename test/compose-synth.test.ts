/**
 * `npm run synth` (synthesize) writes compose/ next to dist/, renders both before writing either, and keeps
 * the person's compose/.env. To prove "a compose failure writes neither" while the Kubernetes rendering
 * succeeds, the compose renderer is wrapped so that one project name makes it throw.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseStackConfig, renderCompose, synthesize } from '../lib';
import { replaceDir } from '../lib/synth';
import { tempDir } from './helpers/temp-dir';

jest.mock('../lib/compose/render-compose', () => {
  const actual = jest.requireActual('../lib/compose/render-compose');
  return {
    ...actual,
    renderCompose: (c: { compose: { projectName: string } }) => {
      if (c.compose.projectName === 'fail-in-compose') throw new Error('the compose renderer failed (test)');
      return actual.renderCompose(c);
    },
  };
});

function tempOut(): { dir: string; dist: string; compose: string } {
  const dir = tempDir('compose-synth-');
  return { dir, dist: path.join(dir, 'dist'), compose: path.join(dir, 'compose') };
}

/** Every file under dir, relative path → content. */
function readTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (sub: string) => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(rel);
      else out[rel] = fs.readFileSync(path.join(dir, rel), 'utf8');
    }
  };
  walk('');
  return out;
}

describe('synthesis of compose/', () => {
  test('writes compose/ next to dist/ with everything renderCompose renders', () => {
    const out = tempOut();
    synthesize({}, { distDir: out.dist });
    expect(readTree(out.compose)).toEqual(Object.fromEntries(renderCompose(parseStackConfig({}))));
    expect(fs.readdirSync(out.dist).length).toBeGreaterThan(0);
    expect(fs.readdirSync(out.dir).sort()).toEqual(['compose', 'dist']);
  });

  test('keeps the person\'s compose/.env (and its mode) but replaces everything generated', () => {
    const out = tempOut();
    fs.mkdirSync(out.compose, { recursive: true });
    fs.writeFileSync(path.join(out.compose, '.env'), 'GF_ADMIN_PASSWORD=only-for-this-test\n', { mode: 0o600 });
    fs.writeFileSync(path.join(out.compose, 'stale.yml'), 'old: true\n');
    synthesize({}, { distDir: out.dist, composeDir: out.compose });
    expect(fs.readFileSync(path.join(out.compose, '.env'), 'utf8')).toBe('GF_ADMIN_PASSWORD=only-for-this-test\n');
    expect(fs.statSync(path.join(out.compose, '.env')).mode & 0o777).toBe(0o600);
    expect(fs.existsSync(path.join(out.compose, 'stale.yml'))).toBe(false);
    expect(fs.readdirSync(out.dir).sort()).toEqual(['compose', 'dist']);
  });

  test('keeps the receivers\' secret files as they are (same file: owner and mode), and git ignores them', () => {
    const out = tempOut();
    const secret = path.join(out.compose, 'alertmanager', 'secrets', 'webhook-url');
    fs.mkdirSync(path.dirname(secret), { recursive: true });
    fs.writeFileSync(secret, 'https://hooks.example.com/only-for-this-test\n', { mode: 0o400 });
    const before = fs.statSync(secret);
    synthesize({}, { distDir: out.dist, composeDir: out.compose });
    const after = fs.statSync(secret);
    expect(fs.readFileSync(secret, 'utf8')).toBe('https://hooks.example.com/only-for-this-test\n');
    // Moved, not copied: the same inode, so an owner set with chown (uid 65534) survives synthesis.
    expect([after.ino, after.uid, after.mode & 0o777]).toEqual([before.ino, before.uid, 0o400]);
    expect(fs.readFileSync(path.join(out.compose, '.gitignore'), 'utf8').split('\n')).toContain('alertmanager/secrets/');
  });

  test('writes neither dist/ nor compose/ when the compose rendering fails', () => {
    const out = tempOut();
    for (const d of [out.dist, out.compose]) {
      fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(path.join(d, 'previous.yaml'), 'kind: Previous\n');
    }
    expect(() => synthesize({ compose: { projectName: 'fail-in-compose' } }, { distDir: out.dist, composeDir: out.compose })).toThrow(
      'the compose renderer failed (test)',
    );
    expect(readTree(out.dist)).toEqual({ 'previous.yaml': 'kind: Previous\n' });
    expect(readTree(out.compose)).toEqual({ 'previous.yaml': 'kind: Previous\n' });
    expect(fs.readdirSync(out.dir).sort()).toEqual(['compose', 'dist']);
  });

  test('a failure after the person\'s files were moved puts them back where they were', () => {
    const out = tempOut();
    fs.mkdirSync(path.join(out.compose, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(out.compose, '.env'), 'GF_ADMIN_PASSWORD=only-for-this-test\n');
    fs.writeFileSync(path.join(out.compose, 'sub', 'kept'), 'kept\n');
    // The new tree has a file `sub`, so the second kept file has nowhere to go: .env, moved first, must come back.
    expect(() => replaceDir(out.compose, new Map([['sub', 'now a file\n']]), ['.env', 'sub/kept'])).toThrow();
    expect(readTree(out.compose)).toEqual({ '.env': 'GF_ADMIN_PASSWORD=only-for-this-test\n', 'sub/kept': 'kept\n' });
    expect(fs.readdirSync(out.dir).sort()).toEqual(['compose']);
  });

  test('writes files everyone can read whatever the umask: non-root container users read the bind mounts', () => {
    const out = tempOut();
    const previous = process.umask(0o077);
    try {
      synthesize({}, { distDir: out.dist, composeDir: out.compose });
    } finally {
      process.umask(previous);
    }
    expect(fs.statSync(out.compose).mode & 0o777).toBe(0o755);
    expect(fs.statSync(path.join(out.compose, 'grafana/provisioning/datasources')).mode & 0o777).toBe(0o755);
    expect(fs.statSync(path.join(out.compose, 'loki/loki.yaml')).mode & 0o777).toBe(0o644);
  });
});

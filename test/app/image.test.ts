// The container build: app/package.json, app/tsconfig.build.json and app/Dockerfile. No Docker engine
// runs here, so these check what can be checked without one.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';

const REPO = path.resolve(__dirname, '../..');
const APP = path.join(REPO, 'app');
const readJson = (file: string): any => JSON.parse(fs.readFileSync(file, 'utf8'));
const root = readJson(path.join(REPO, 'package.json'));
const app = readJson(path.join(APP, 'package.json'));
const dockerfile = fs.readFileSync(path.join(APP, 'Dockerfile'), 'utf8');
const instructions = dockerfile
  .split('\n')
  .filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'))
  .map((line) => line.trim());

describe('app/package.json', () => {
  test('is private, named, and starts the compiled server', () => {
    expect(app).toMatchObject({ name: 'demo-app', private: true });
    expect(app.scripts.start).toBe('node build/server.js');
  });

  test('its dependencies have exactly the versions of the root package.json (the root\'s development dependencies: the library does not need them)', () => {
    for (const [name, version] of Object.entries(app.dependencies)) {
      expect([name, version]).toEqual([name, root.devDependencies[name]]);
    }
    for (const [name, version] of Object.entries(app.devDependencies)) {
      expect([name, version]).toEqual([name, root.devDependencies[name]]);
    }
  });

  test('the runtime dependencies are express, pino and prom-client', () => {
    expect(Object.keys(app.dependencies).sort()).toEqual(['express', 'pino', 'prom-client']);
  });
});

describe('app/tsconfig.build.json', () => {
  test('compiles app/src to build/, and the compiled code requires only declared dependencies', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-app-build-'));
    try {
      const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(APP, 'tsconfig.build.json'), '--outDir', out], {
        encoding: 'utf8',
      });
      expect(tsc.stdout + tsc.stderr).toBe('');
      expect(tsc.status).toBe(0);
      const js = fs.readdirSync(out).filter((f) => f.endsWith('.js'));
      expect(js).toEqual(expect.arrayContaining(['server.js', 'traffic.js', 'app.js', 'telemetry.js', 'logger.js', 'config.js']));

      const required = new Set<string>();
      for (const file of js) {
        for (const [, spec] of fs.readFileSync(path.join(out, file), 'utf8').matchAll(/require\("([^"]+)"\)/g)) {
          if (!spec.startsWith('.')) required.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
        }
      }
      const undeclared = [...required].filter((m) => !m.startsWith('node:') && !builtinModules.includes(m) && !(m in app.dependencies));
      expect(undeclared).toEqual([]);
      expect([...required].filter((m) => m in app.dependencies).sort()).toEqual(['express', 'pino', 'prom-client']);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('app/package-lock.json', () => {
  const lock = JSON.parse(fs.readFileSync(path.join(APP, 'package-lock.json'), 'utf8'));
  const rootLock = JSON.parse(fs.readFileSync(path.join(APP, '..', 'package-lock.json'), 'utf8'));

  test('locks exactly app/package.json\'s dependencies (regenerate: cd app && npm install --package-lock-only)', () => {
    expect(lock.packages[''].dependencies).toEqual(app.dependencies);
    expect(lock.packages[''].devDependencies).toEqual(app.devDependencies);
  });

  test('resolves every shared package to the version the root lock tests with', () => {
    const differ = Object.keys(lock.packages)
      .filter((k) => k.startsWith('node_modules/') && rootLock.packages[k] && rootLock.packages[k].version !== lock.packages[k].version)
      .map((k) => `${k}: app ${lock.packages[k].version}, root ${rootLock.packages[k].version}`);
    expect(differ).toEqual([]);
  });
});

describe('app/Dockerfile', () => {
  test('is multi-stage on one pinned Node LTS image, never latest', () => {
    const froms = instructions.filter((line) => line.startsWith('FROM '));
    expect(froms).toEqual(['FROM node:22.21.1-bookworm-slim AS build', 'FROM node:22.21.1-bookworm-slim']);
    expect(dockerfile).not.toMatch(/:latest\b/);
  });

  test('compiles in the build stage and installs production dependencies only in the runtime stage', () => {
    const runtime = instructions.slice(instructions.lastIndexOf('FROM node:22.21.1-bookworm-slim'));
    expect(instructions).toContain('RUN npx tsc -p tsconfig.build.json');
    expect(instructions).toContain('RUN npm ci --no-audit --no-fund');
    expect(runtime).toContain('RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force');
    expect(runtime).toContain('COPY --from=build /app/build ./build');
  });

  test('runs as the numeric node user, exposes 8080, has no HEALTHCHECK, starts build/server.js', () => {
    const last = instructions.slice(-3);
    expect(last).toEqual(['USER 1000', 'EXPOSE 8080', 'CMD ["node", "build/server.js"]']);
    expect(instructions.some((line) => line.startsWith('HEALTHCHECK'))).toBe(false);
  });

  test('copies only what .dockerignore lets through: package.json, package-lock.json, tsconfig.build.json, src/', () => {
    const copies = instructions.filter((line) => line.startsWith('COPY ') && !line.includes('--from'));
    expect(copies).toEqual(['COPY package.json package-lock.json ./', 'COPY tsconfig.build.json ./', 'COPY src ./src', 'COPY package.json package-lock.json ./']);
    const ignored = fs.readFileSync(path.join(APP, '.dockerignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'build']));
  });
});

// The tree reads as the design: the model (config, images, image facts, network access, components), the pure config
// renderers (lib/render/), and three renderings side by side (lib/k8s/, lib/compose/, lib/helm/) that import
// the layers below them and never each other. Checked on every import of every file under lib/.
import * as fs from 'fs';
import * as path from 'path';

const LIB = path.resolve(__dirname, '..', 'lib');

/** The layer of a module path relative to lib/ (without extension). */
function layer(rel: string): string {
  const [top, rest] = rel.split('/');
  if (rest === undefined) return ['config', 'images', 'image-facts', 'validate-stack', 'network-access'].includes(top) ? 'model' : 'entry';
  return top;
}

/** What each layer may import (besides itself and npm packages). */
const ALLOWED: Record<string, string[]> = {
  model: ['components'],
  components: ['model'],
  render: ['model', 'components'],
  k8s: ['model', 'components', 'render', 'imports'],
  compose: ['model', 'components', 'render'],
  helm: ['model', 'components', 'render'],
  entry: ['model', 'components', 'render', 'k8s', 'compose', 'helm'],
};

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

/** Every relative import of a file, as a layer name. */
function importedLayers(file: string): Array<[string, string]> {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)].map((m) => {
    const target = path.relative(LIB, path.resolve(path.dirname(file), m[1]));
    return [m[1], target.startsWith('..') ? target.split(path.sep)[1] === 'imports' ? 'imports' : 'outside lib' : layer(target.split(path.sep).join('/'))];
  });
}

describe('layers', () => {
  const all = files(LIB);

  test('every file of lib/ belongs to a known layer', () => {
    expect(all.map((f) => layer(path.relative(LIB, f).replace(/\.ts$/, '')))).not.toContain(undefined);
    for (const f of all) expect(Object.keys(ALLOWED)).toContain(layer(path.relative(LIB, f).replace(/\.ts$/, '')));
  });

  test.each(Object.keys(ALLOWED))('%s imports only the layers below it; the renderings never import each other', (name) => {
    const wrong = all.filter((f) => layer(path.relative(LIB, f).replace(/\.ts$/, '')) === name)
      .flatMap((f) => importedLayers(f).filter(([, l]) => l !== name && !ALLOWED[name].includes(l)).map(([spec, l]) => `${path.relative(LIB, f)} imports ${spec} (${l})`));
    expect(wrong).toEqual([]);
  });

  test('the check sees a violation: a renderer importing a rendering is caught', () => {
    const fake = path.join(LIB, 'render', 'x.ts');
    const layers = [['../compose/names', 'compose']].map(([spec]) => layer(path.relative(LIB, path.resolve(path.dirname(fake), spec))));
    expect(layers).toEqual(['compose']);
    expect(ALLOWED.render).not.toContain('compose');
  });
});

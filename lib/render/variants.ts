/**
 * Files that differ by which optional components a stack runs (a dashboard's rows, the rule file's groups):
 * the Helm chart cannot run the renderers, so it carries one file per combination of the components a file
 * depends on, named by the components that are on, and picks the one its values call for
 * (templates/_helpers.tpl: observability-stack.variant).
 */

/** The name of a variant: the components of `dependsOn` that are on, joined by "-", or "none". */
export function variantName(dependsOn: readonly string[], on: Readonly<Record<string, boolean>>): string {
  const names = dependsOn.filter((name) => on[name]);
  return names.length > 0 ? names.join('-') : 'none';
}

/** Every combination of `dependsOn` on and off (2^n of them), as switches by name, the first with all on. */
export function everyCombination(dependsOn: readonly string[]): Array<Record<string, boolean>> {
  const out: Array<Record<string, boolean>> = [];
  for (let mask = 0; mask < 1 << dependsOn.length; mask++) {
    out.push(Object.fromEntries(dependsOn.map((name, i) => [name, (mask & (1 << i)) === 0])));
  }
  return out;
}

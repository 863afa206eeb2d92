/**
 * A small writer for Grafana Alloy's configuration syntax: blocks (`name "label" { … }`), attributes
 * (`name = value`) and the values the stack's configs need: strings, numbers, booleans, lists, objects and
 * expressions (references to other components' exports, function calls). No library writes Alloy syntax
 * from JavaScript; this covers exactly what lib/render/alloy-config.ts uses, deterministically, laid out
 * as `alloy fmt` lays it out (two-space indents, `=` aligned within a run of attributes).
 *
 * Strings are written with JSON's escapes (\" \\ \n \uXXXX), a subset of the Go-style escapes Alloy's
 * string literals accept (JSON.stringify never writes `\/`, which Alloy rejects); `$` has no meaning inside
 * them (relabel replacements keep their `$1`).
 */

/** An expression written as it is: a reference (`discovery.relabel.pods.output`) or a call (`sys.env("X")`). */
export class AlloyExpression {
  constructor(readonly text: string) {}
}

export type AlloyValue = string | number | boolean | AlloyExpression | readonly AlloyValue[] | { readonly [key: string]: AlloyValue };

export interface AlloyBlock {
  /** e.g. `loki.source.file`, `rule`, `stage.cri`. */
  readonly name: string;
  /** The component's label (`"pods"`); nested blocks have none. */
  readonly label?: string;
  /** In order; `undefined` values are left out. */
  readonly attributes?: ReadonlyArray<readonly [string, AlloyValue | undefined]>;
  readonly blocks?: readonly AlloyBlock[];
}

export function expression(text: string): AlloyExpression {
  return new AlloyExpression(text);
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function value(v: AlloyValue, indent: string): string {
  if (v instanceof AlloyExpression) return v.text;
  if (typeof v === 'string') {
    // JSON.stringify writes a lone surrogate as \uD8xx, which Alloy rejects as an invalid code point.
    if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(v)) throw new Error(`not a well-formed Unicode string: ${JSON.stringify(v)}`);
    return JSON.stringify(v);
  }
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`Alloy syntax has no ${v}`);
    return String(v);
  }
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map((item) => value(item, indent)).join(', ')}]`;
  const entries = Object.entries(v as { readonly [key: string]: AlloyValue });
  if (entries.length === 0) return '{}';
  const inner = `${indent}  `;
  const width = Math.max(...entries.map(([k]) => key(k).length));
  return `{\n${entries.map(([k, item]) => `${inner}${key(k).padEnd(width)} = ${value(item, inner)},`).join('\n')}\n${indent}}`;
}

/** Object keys: bare when they are identifiers, quoted otherwise. */
function key(k: string): string {
  return IDENTIFIER.test(k) ? k : JSON.stringify(k);
}

function block(b: AlloyBlock, indent: string): string {
  const attributes = (b.attributes ?? []).filter((a): a is readonly [string, AlloyValue] => a[1] !== undefined);
  for (const [name] of attributes) {
    if (!IDENTIFIER.test(name)) throw new Error(`not an Alloy attribute name: ${JSON.stringify(name)}`);
  }
  const head = `${indent}${b.name}${b.label === undefined ? '' : ` ${JSON.stringify(b.label)}`}`;
  const blocks = b.blocks ?? [];
  if (attributes.length === 0 && blocks.length === 0) return `${head} { }`;
  const inner = `${indent}  `;
  const width = Math.max(0, ...attributes.map(([name]) => name.length));
  const lines = attributes.map(([name, v]) => `${inner}${name.padEnd(width)} = ${value(v, inner)}`);
  const parts = [lines.join('\n'), ...blocks.map((child) => block(child, inner))].filter((part) => part !== '');
  return `${head} {\n${parts.join('\n\n')}\n${indent}}`;
}

/** A whole file: `header` lines as `//` comments, then the blocks separated by blank lines. */
export function renderAlloy(blocks: readonly AlloyBlock[], header: readonly string[] = []): string {
  const comments = header.map((line) => (line === '' ? '//' : `// ${line}`)).join('\n');
  return `${comments === '' ? '' : `${comments}\n\n`}${blocks.map((b) => block(b, '')).join('\n\n')}\n`;
}

/**
 * A reader for the part of Grafana Alloy's configuration syntax the stack writes, written from the syntax
 * reference (grafana/alloy docs/sources/get-started/configuration-syntax/: blocks, attributes, expressions,
 * types and values), independently of lib/render/alloy-syntax.ts, so tests can check that what the writer
 * produced is well formed and read its blocks and values back. No Alloy binary runs here.
 *
 * Grammar read: `//` comments; blocks `name.path "label"? { body }`; attributes `name = expression`,
 * separated by newlines; expressions: strings (Go escapes), numbers, true/false/null, lists `[a, b,]`,
 * objects `{ key = value, }` (keys identifiers or strings), references `a.b.c`, calls `f(x, y)`, and `+`.
 */

export interface ParsedBlock {
  readonly name: string;
  readonly label?: string;
  readonly attributes: Array<[string, ParsedValue]>;
  readonly blocks: ParsedBlock[];
}

/** A literal value, or a reference/call/operation kept as its source text. */
export type ParsedValue = string | number | boolean | null | ParsedValue[] | { [key: string]: ParsedValue } | { readonly expression: string };

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"' };

class Reader {
  private pos = 0;
  constructor(private readonly text: string) {}

  fail(message: string): never {
    const line = this.text.slice(0, this.pos).split('\n').length;
    throw new Error(`Alloy syntax, line ${line}: ${message}`);
  }

  /** Skips spaces, tabs and comments; newlines too unless `keepNewlines`. */
  skip(keepNewlines = false): void {
    for (;;) {
      const ch = this.text[this.pos];
      if (ch === ' ' || ch === '\t' || ch === '\r' || (!keepNewlines && ch === '\n')) this.pos++;
      else if (this.text.startsWith('//', this.pos)) {
        while (this.pos < this.text.length && this.text[this.pos] !== '\n') this.pos++;
      } else return;
    }
  }

  peek(): string | undefined {
    return this.text[this.pos];
  }

  expect(ch: string): void {
    this.skip();
    if (this.text[this.pos] !== ch) this.fail(`expected "${ch}", found ${JSON.stringify(this.text.slice(this.pos, this.pos + 20))}`);
    this.pos++;
  }

  identifierPath(): string {
    this.skip();
    const m = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(this.text.slice(this.pos));
    if (!m) this.fail(`expected an identifier, found ${JSON.stringify(this.text.slice(this.pos, this.pos + 20))}`);
    this.pos += m[0].length;
    return m[0];
  }

  string(): string {
    this.expect('"');
    let out = '';
    for (;;) {
      const ch = this.text[this.pos++];
      if (ch === undefined || ch === '\n') this.fail('unterminated string');
      if (ch === '"') return out;
      if (ch !== '\\') {
        out += ch;
        continue;
      }
      const e = this.text[this.pos++];
      if (e in ESCAPES) out += ESCAPES[e];
      else if (e === 'u' || e === 'U' || e === 'x') {
        const len = e === 'u' ? 4 : e === 'U' ? 8 : 2;
        const hex = this.text.slice(this.pos, this.pos + len);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) this.fail(`bad \\${e} escape`);
        const code = parseInt(hex, 16);
        if (code >= 0xd800 && code <= 0xdfff) this.fail('invalid Unicode code point (a surrogate)');
        out += String.fromCodePoint(code);
        this.pos += len;
      } else this.fail(`unknown escape sequence \\${e}`);
    }
  }

  /** One operand: a literal, a list, an object, or a reference/call. */
  operand(): ParsedValue {
    this.skip();
    const ch = this.peek();
    if (ch === '"') return this.string();
    if (ch === '[') {
      this.pos++;
      const items: ParsedValue[] = [];
      for (;;) {
        this.skip();
        if (this.peek() === ']') break;
        items.push(this.value());
        this.skip();
        if (this.peek() === ',') this.pos++;
        else if (this.peek() !== ']') this.fail('expected "," or "]" in a list');
      }
      this.pos++;
      return items;
    }
    if (ch === '{') {
      this.pos++;
      const obj: { [key: string]: ParsedValue } = {};
      for (;;) {
        this.skip();
        if (this.peek() === '}') break;
        const key = this.peek() === '"' ? this.string() : this.identifierPath();
        if (key in obj) this.fail(`duplicate key ${key}`);
        this.expect('=');
        obj[key] = this.value();
        this.skip(true);
        if (this.peek() === ',') this.pos++;
        else {
          this.skip();
          if (this.peek() !== '}') this.fail('expected "," between object fields');
        }
      }
      this.pos++;
      return obj;
    }
    const number = /^-?\d+(\.\d+)?/.exec(this.text.slice(this.pos));
    if (number) {
      this.pos += number[0].length;
      return Number(number[0]);
    }
    const start = this.pos;
    const path = this.identifierPath();
    if (path === 'true' || path === 'false') return path === 'true';
    if (path === 'null') return null;
    this.skip(true);
    if (this.peek() === '(') {
      this.pos++;
      for (;;) {
        this.skip();
        if (this.peek() === ')') break;
        this.value();
        this.skip();
        if (this.peek() === ',') this.pos++;
        else if (this.peek() !== ')') this.fail('expected "," or ")" in a call');
      }
      this.pos++;
    }
    return { expression: this.text.slice(start, this.pos) };
  }

  /** An operand, or operands joined by `+` (kept as source text). */
  value(): ParsedValue {
    const start = this.pos;
    const first = this.operand();
    this.skip(true);
    if (this.peek() !== '+') return first;
    while (this.peek() === '+') {
      this.pos++;
      this.operand();
      this.skip(true);
    }
    return { expression: this.text.slice(start, this.pos).trim() };
  }

  body(closing: string | undefined): { attributes: Array<[string, ParsedValue]>; blocks: ParsedBlock[] } {
    const attributes: Array<[string, ParsedValue]> = [];
    const blocks: ParsedBlock[] = [];
    for (;;) {
      this.skip();
      if (this.pos >= this.text.length) {
        if (closing !== undefined) this.fail('unexpected end of file inside a block');
        return { attributes, blocks };
      }
      if (this.peek() === closing) {
        this.pos++;
        return { attributes, blocks };
      }
      const name = this.identifierPath();
      this.skip(true);
      if (this.peek() === '=') {
        if (name.includes('.')) this.fail(`attribute names have no dots: ${name}`);
        this.pos++;
        attributes.push([name, this.value()]);
        // Attributes end at a newline (or the block's end).
        this.skip(true);
        if (this.peek() !== '\n' && this.peek() !== closing && this.pos < this.text.length) this.fail(`expected a newline after attribute ${name}`);
      } else {
        this.skip();
        const label = this.peek() === '"' ? this.string() : undefined;
        this.expect('{');
        blocks.push({ name, label, ...this.body('}') });
      }
    }
  }
}

/** The file's top-level attributes and blocks. Throws, naming the line, on anything outside the grammar above. */
export function parseAlloy(text: string): ParsedBlock {
  return { name: '', ...new Reader(text).body(undefined) };
}

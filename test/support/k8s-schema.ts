// Strict OpenAPI validation of Kubernetes objects against the definitions cdk8s imports from
// (../shared/schemas/kubernetes/v1.27.0-definitions.json and v1.36.0-definitions.json), plus YAML loading
// that reads manifests the way kubectl does.
//
// "Strict" means stricter than the schema file alone:
// - every object schema that lists `properties` rejects fields it does not list (the file leaves
//   additionalProperties open; the API server's strict field validation would reject them, or worse,
//   silently drop them). Maps (schemas with an additionalProperties schema) keep their meaning.
// - `required`, `type` and the formats int32/int64/byte/date-time are enforced. (`enum` too, but the file's
//   only enums are on `kind`: values such as restartPolicy are plain strings there, so a typo passes.)
// - null is rejected everywhere: the API server reads null as "unset", so a null in a generated manifest
//   is almost always a template bug (e.g. an empty `env:`). Omit the field instead.
//
// How the file encodes the two special types (and how we read them):
// - IntOrString: {oneOf: [{type: string}, {type: integer}]} → {type: [integer, string]}
// - Quantity:    {oneOf: [{type: string}, {type: number}]}  → {type: [string, number], format: quantity},
//   where the quantity format checks a string against Kubernetes' quantity grammar ("100m", "128Mi", "1e3"),
//   so "512MB" fails here as it would on the API server.
// Rewriting the oneOf also keeps the error messages to one line instead of three.
//
// Performance: the whole file is added to Ajv once per version, and a validator is compiled per kind on
// first use (Ajv compiles only the definitions that kind reaches), then cached.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parseAllDocuments, type Tags } from 'yaml';
import { sharedPath } from './shared-dir';

export type KubeVersion = '1.27' | '1.36';

const SCHEMA_DIR = sharedPath('schemas', 'kubernetes');
const SCHEMA_FILES: Record<KubeVersion, string> = {
  '1.27': path.join(SCHEMA_DIR, 'v1.27.0-definitions.json'),
  '1.36': path.join(SCHEMA_DIR, 'v1.36.0-definitions.json'),
};

const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';

/** Kubernetes' quantity grammar (k8s.io/apimachinery/pkg/api/resource/quantity.go): number, then an optional suffix. */
const QUANTITY_PATTERN = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))?$/;
/** Standard base64 with padding, as Go's base64.StdEncoding decodes it (it ignores \r and \n). */
const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The JSON Schema keywords the definitions use for validation; everything else (descriptions, x-kubernetes-*) is dropped. */
const KEPT_KEYWORDS = new Set(['type', 'format', 'enum', 'required', 'properties', 'additionalProperties', 'items', '$ref', 'oneOf', 'anyOf', 'allOf']);

interface CompiledVersion {
  readonly ajv: Ajv;
  readonly schemaId: string;
  /** "apps/v1/Deployment" (core group: "v1/Service") → definition name */
  readonly definitionByGvk: Map<string, string>;
  readonly validators: Map<string, ValidateFunction>;
}

const compiled = new Map<KubeVersion, CompiledVersion>();

/**
 * Validates one Kubernetes object against the given version's definitions. Returns readable errors, each
 * `Kind/name: /json/pointer: problem`, e.g. `Deployment/prometheus: /spec/template/spec/containers/0: unknown field "foo"`;
 * an empty list when the object is valid.
 */
export function validateManifest(obj: any, version: KubeVersion): string[] {
  const kind = typeof obj?.kind === 'string' ? obj.kind : '<no kind>';
  const name = typeof obj?.metadata?.name === 'string' ? obj.metadata.name : '<unnamed>';
  const label = `${kind}/${name}`;
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj) || typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') {
    return [`${label}: a manifest must be an object with string apiVersion and kind`];
  }

  const schemas = load(version);
  const definition = schemas.definitionByGvk.get(`${obj.apiVersion}/${obj.kind}`);
  if (definition === undefined) {
    return [`${label}: unknown kind ${obj.kind} for apiVersion ${obj.apiVersion} in Kubernetes ${version}`];
  }

  let validate = schemas.validators.get(definition);
  if (validate === undefined) {
    validate = schemas.ajv.compile({ $ref: `${schemas.schemaId}#/definitions/${definition}` });
    schemas.validators.set(definition, validate);
  }
  if (validate(obj)) return [];
  const messages = (validate.errors ?? []).map((error) => `${label}: ${error.instancePath || '/'}: ${describe(error)}`);
  return [...new Set(messages)];
}

/** validateManifest() over many objects, errors concatenated. */
export function validateManifests(objs: any[], version: KubeVersion): string[] {
  return objs.flatMap((obj) => validateManifest(obj, version));
}

/** Every kind (as "apiVersion/Kind") the given version's definitions know; for error messages and tests. */
export function knownKinds(version: KubeVersion): string[] {
  return [...load(version).definitionByGvk.keys()].sort();
}

/**
 * Parses every `*.yaml` file of `dir` (not recursive), in sorted file-name order, each possibly holding
 * several documents; empty documents are skipped. See parseManifests() for how YAML is read.
 */
export function loadManifests(dir: string): any[] {
  return fs
    .readdirSync(dir)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .flatMap((file) => parseManifests(fs.readFileSync(path.join(dir, file), 'utf8'), path.join(dir, file)));
}

/**
 * Parses a multi-document YAML stream (e.g. `helm template` output) into objects, skipping empty
 * documents; throws on a YAML error, naming `source`.
 *
 * YAML is read as YAML 1.1, as kubectl's sigs.k8s.io/yaml (go-yaml v2) reads it: unquoted on/off/yes/no
 * are booleans and 0644 is octal (420). Like go-yaml, timestamps and base-60 numbers stay strings.
 */
export function parseManifests(text: string, source = '<string>'): any[] {
  const documents = parseAllDocuments(text, { version: '1.1', customTags: goYamlTags });
  const list = Array.isArray(documents) ? documents : [documents];
  const objects: any[] = [];
  for (const doc of list) {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0].message}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) objects.push(value);
  }
  return objects;
}

/** YAML 1.1 tags minus those go-yaml v2 does not apply when decoding into interface{} (timestamps, base 60). */
function goYamlTags(tags: Tags): Tags {
  return tags.filter((tag) => {
    const t = tag as { tag?: string; format?: string };
    return t.tag !== 'tag:yaml.org,2002:timestamp' && t.format !== 'TIME';
  });
}

// ---------------------------------------------------------------------------------------------------------

function load(version: KubeVersion): CompiledVersion {
  const cached = compiled.get(version);
  if (cached) return cached;

  const file = JSON.parse(fs.readFileSync(SCHEMA_FILES[version], 'utf8')) as { definitions: Record<string, any> };
  const definitions: Record<string, any> = {};
  const definitionByGvk = new Map<string, string>();
  for (const [name, schema] of Object.entries(file.definitions)) {
    definitions[name] = name === INT_OR_STRING ? { type: ['integer', 'string'] } : name === QUANTITY ? { type: ['string', 'number'], format: 'quantity' } : strict(schema);
    for (const gvk of schema['x-kubernetes-group-version-kind'] ?? []) {
      const apiVersion = gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
      definitionByGvk.set(`${apiVersion}/${gvk.kind}`, name);
    }
  }

  const ajv = new Ajv({ strict: false, allErrors: true, verbose: true });
  addFormats(ajv, ['date-time']);
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('double', { type: 'number', validate: () => true });
  ajv.addFormat('byte', { type: 'string', validate: (s: string) => BASE64_PATTERN.test(s.replace(/[\r\n]/g, '')) });
  ajv.addFormat('quantity', { type: 'string', validate: (s: string) => QUANTITY_PATTERN.test(s) });

  const schemaId = `kubernetes-${version}`;
  ajv.addSchema({ $id: schemaId, definitions });
  const result: CompiledVersion = { ajv, schemaId, definitionByGvk, validators: new Map() };
  compiled.set(version, result);
  return result;
}

/**
 * A copy of one schema with only the validation keywords kept, and additionalProperties: false added to
 * every schema that lists properties without saying anything about other fields. Walks schema positions
 * only (properties' values, items, …), so a property that happens to be named "properties" or
 * "x-kubernetes-…" (CustomResourceDefinition's JSONSchemaProps has both) is treated as a property.
 */
function strict(schema: any): any {
  if (schema === null || typeof schema !== 'object') return schema; // boolean schemas
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (!KEPT_KEYWORDS.has(key)) continue;
    if (key === 'properties') {
      out.properties = Object.fromEntries(Object.entries(value as Record<string, any>).map(([prop, sub]) => [prop, strict(sub)]));
    } else if (key === 'additionalProperties' || key === 'items') {
      out[key] = Array.isArray(value) ? value.map(strict) : strict(value);
    } else if (key === 'oneOf' || key === 'anyOf' || key === 'allOf') {
      out[key] = (value as any[]).map(strict);
    } else {
      out[key] = value;
    }
  }
  if (out.properties !== undefined && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

/** One Ajv error as a short sentence. */
function describe(error: ErrorObject): string {
  const params = error.params as Record<string, any>;
  switch (error.keyword) {
    case 'additionalProperties':
      return `unknown field "${params.additionalProperty}"`;
    case 'required':
      return `missing required field "${params.missingProperty}"`;
    case 'type': {
      const expected = Array.isArray(params.type) ? params.type.join(' or ') : String(params.type);
      if (error.data === null) return `must be ${expected}, not null (omit the field instead)`;
      return `must be ${expected}, got ${typeName(error.data)} ${preview(error.data)}`;
    }
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, got ${preview(error.data)}`;
    case 'format':
      if (params.format === 'quantity') return `must be a Kubernetes quantity such as "100m", "0.5" or "128Mi", got ${preview(error.data)}`;
      if (params.format === 'byte') return `must be base64-encoded, got ${preview(error.data)}`;
      return `must be a valid ${params.format}, got ${preview(error.data)}`;
    default:
      return error.message ?? error.keyword;
  }
}

function typeName(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && Number.isInteger(value)) return 'integer';
  return typeof value;
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

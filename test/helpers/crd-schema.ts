/**
 * Strict validation of custom resources (ServiceMonitor, PrometheusRule) against the Prometheus Operator
 * CRDs in ../shared/crds: their openAPIV3Schema, with unknown fields rejected as the API server's
 * structural-schema pruning would drop them.
 */
import * as fs from 'fs';
import * as path from 'path';
import Ajv, { ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { sharedPath } from '../support/shared-dir';

const CRD_DIR = sharedPath('crds');
const validators = new Map<string, ValidateFunction>();

/** Adds `additionalProperties: false` wherever a schema lists properties and does not keep unknown fields. */
function strict(schema: any): any {
  if (Array.isArray(schema)) return schema.map(strict);
  if (!schema || typeof schema !== 'object') return schema;
  const out: any = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k.startsWith('x-kubernetes-')) continue;
    // Patterns are Go (RE2) regular expressions; the few JavaScript cannot compile (e.g. `(?i)`) are left out.
    if (k === 'pattern' && typeof v === 'string' && !compiles(v)) continue;
    out[k] = strict(v);
  }
  if (schema.properties && schema.additionalProperties === undefined && !schema['x-kubernetes-preserve-unknown-fields']) {
    out.additionalProperties = false;
  }
  if (schema['x-kubernetes-int-or-string']) {
    delete out.type;
    out.anyOf = out.anyOf ?? [{ type: 'integer' }, { type: 'string' }];
  }
  return out;
}

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}

function load(): void {
  if (validators.size) return;
  const compiled = new Map<string, ValidateFunction>();
  const ajv = new Ajv({ strict: false, allErrors: true });
  // OpenAPI's integer formats: the `type` already checks these values, the format adds nothing to check.
  for (const format of ['int32', 'int64', 'float', 'double', 'byte', 'date-time']) ajv.addFormat(format, true);
  for (const file of fs.readdirSync(CRD_DIR).filter((f) => f.endsWith('.yaml'))) {
    const crd = parse(fs.readFileSync(path.join(CRD_DIR, file), 'utf8'));
    for (const v of crd.spec.versions) {
      const schema = strict(v.schema.openAPIV3Schema);
      // metadata is validated by the API server's ObjectMeta, not the CRD schema.
      schema.properties.metadata = { type: 'object' };
      compiled.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, ajv.compile(schema));
    }
  }
  for (const [k, v] of compiled) validators.set(k, v);
}

/** Errors for one custom resource; empty when valid. */
export function validateCustomResource(obj: any): string[] {
  load();
  const validate = validators.get(`${obj.apiVersion}/${obj.kind}`);
  if (!validate) return [`${obj.kind}/${obj.metadata?.name}: no CRD for ${obj.apiVersion} ${obj.kind} in ../shared/crds`];
  if (validate(obj)) return [];
  return (validate.errors ?? []).map((e) => `${obj.kind}/${obj.metadata?.name}: ${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` "${(e.params as any).additionalProperty}"` : ''}`);
}

/** True for kinds the CRDs define. */
export function isCustomResource(obj: any): boolean {
  return String(obj.apiVersion).startsWith('monitoring.coreos.com/');
}

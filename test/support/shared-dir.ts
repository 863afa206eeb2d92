// The project's reference data (Kubernetes OpenAPI definitions, the compose-spec schema, the Prometheus
// Operator CRDs): OBS_SHARED_DIR, which `npm test` (scripts/test.mjs) sets after finding it, else the
// `shared/` folder beside the checkout.
import * as path from 'path';

export const SHARED_DIR = process.env.OBS_SHARED_DIR ?? path.resolve(__dirname, '../../../shared');

/** A path inside the reference data directory. */
export function sharedPath(...parts: string[]): string {
  return path.join(SHARED_DIR, ...parts);
}

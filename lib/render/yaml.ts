/** YAML output for the rendered config files: stable, no anchors, no line folding. */
import { stringify } from 'yaml';

export function toYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0, aliasDuplicateObjects: false, sortMapEntries: false });
}

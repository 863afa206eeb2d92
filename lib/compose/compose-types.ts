/**
 * The subset of the Compose Specification (https://github.com/compose-spec/compose-spec) the stack writes.
 * The generated file is checked against the official JSON schema (../shared/schemas/compose-spec.json) by
 * test/compose-file.test.ts; these types only keep the renderer honest about names and shapes.
 */

/** A healthcheck. Durations are Go durations ("10s"). */
export interface ComposeHealthcheck {
  /** ["CMD", binary, ...args]: exec'd in the container, no shell. */
  readonly test: string[];
  readonly interval: string;
  readonly timeout: string;
  readonly retries: number;
  readonly start_period: string;
}

export interface ComposeDependency {
  readonly condition: 'service_started' | 'service_healthy' | 'service_completed_successfully';
}

export interface ComposeLogging {
  readonly driver: string;
  readonly options: Record<string, string>;
}

export interface ComposeService {
  readonly image: string;
  readonly build?: { readonly context: string };
  readonly container_name: string;
  readonly command?: string[];
  readonly user?: string;
  readonly profiles?: string[];
  readonly environment?: Record<string, string>;
  readonly labels?: Record<string, string>;
  readonly ports?: string[];
  /** The networks it joins (lib/compose/networks.ts). */
  readonly networks?: string[];
  readonly volumes?: string[];
  /** Compose secrets (from files), each mounted read-only at `target`. */
  readonly secrets?: Array<{ readonly source: string; readonly target: string }>;
  readonly tmpfs?: string[];
  readonly depends_on?: Record<string, ComposeDependency>;
  readonly healthcheck: ComposeHealthcheck;
  readonly restart: 'unless-stopped';
  readonly read_only: boolean;
  readonly cap_drop: string[];
  readonly security_opt: string[];
  readonly stop_grace_period?: string;
  readonly logging: ComposeLogging;
  readonly deploy: { readonly resources: { readonly limits: { readonly cpus: string; readonly memory: string } } };
}

export interface ComposeFile {
  readonly name: string;
  readonly services: Record<string, ComposeService>;
  readonly networks: Record<string, { readonly internal?: true }>;
  readonly volumes: Record<string, Record<string, never>>;
  readonly secrets?: Record<string, { readonly file: string }>;
}

/** One service as a renderer piece returns it: its name, definition, named volumes and the comment above it. */
export interface ComposeServiceEntry {
  readonly name: string;
  readonly service: ComposeService;
  /** Named volumes the service mounts (declared at the top level). */
  readonly namedVolumes: string[];
  /** Compose secrets the service uses (declared at the top level): name → file, relative to compose/. */
  readonly secrets?: Record<string, string>;
  /** Printed above the service in docker-compose.yml: why it is set up this way. */
  readonly comment: string;
}

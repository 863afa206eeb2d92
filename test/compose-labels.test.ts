/**
 * The label contract on compose, proved from the generated files: for every container of
 * compose/docker-compose.yml, the log streams Promtail makes of its json-file log lines carry the same label
 * names (CONTRACT_LABELS) and values as the series Prometheus scrapes from it (the static labels of
 * compose/prometheus/prometheus.yml, which test/compose-prometheus.test.ts shows the real Prometheus attaches).
 *
 * There is no Docker engine and no Promtail binary here, so both ends are modelled, narrowly and strictly:
 * - Docker: the json-file driver's line for a container of a compose service, built from that service's
 *   `logging` options the way moby does it (daemon/logger/jsonfilelog/jsonfilelog.go: `tag` and the
 *   `labels` option's container labels go into `attrs`; daemon/logger/loginfo.go: `{{.Name}}` is the container
 *   name without "/"; jsonlog/jsonlogbytes.go: `{"log","stream","attrs","time"}`), with the labels compose puts
 *   on every container (com.docker.compose.project / .service).
 * - Promtail: the pipeline stages promtail.yaml uses, with the semantics of grafana/loki@v3.6
 *   clients/pkg/logentry/stages (json: JMESPath, a missing path extracts null; labels; match with action
 *   drop: all matchers match, a missing label reads as ""; structured_metadata; labeldrop; docker). Any stage
 *   or expression outside that subset throws, so the model cannot silently skip what it does not know.
 */
import { parse } from 'yaml';
import {
  COMPOSE_FILES,
  composeContractLabels,
  ComposeFile,
  ComposeService,
  CONTRACT_LABELS,
  DOCKER_CONTAINERS_DIR,
  parseStackConfig,
  renderCompose,
} from '../lib';

// -------------------------------------------------------------------------------------------------------------
// Docker's side: a json-file log line

interface LogFile {
  /** Where Docker writes it: /var/lib/docker/containers/<id>/<id>-json.log */
  readonly path: string;
  readonly line: string;
}

/** The labels compose sets on a service's container (docker/compose pkg/api/labels.go). */
function composeContainerLabels(project: string, service: string): Record<string, string> {
  return {
    'com.docker.compose.project': project,
    'com.docker.compose.service': service,
    'com.docker.compose.container-number': '1',
    'com.docker.compose.oneoff': 'False',
    'com.docker.compose.version': '2.40.0',
  };
}

/** The line Docker's json-file driver writes for one message of a container of `service`. */
function jsonFileLine(project: string, serviceName: string, service: Partial<ComposeService>, message: string, stream = 'stdout'): LogFile {
  const containerName = service.container_name ?? `${project}-${serviceName}-1`;
  const id = Buffer.from(containerName).toString('hex').padEnd(64, '0').slice(0, 64);
  const options: Record<string, string> = service.logging?.options ?? {};
  if (service.logging && service.logging.driver !== 'json-file') throw new Error(`${serviceName}: log driver ${service.logging.driver} writes no json-file`);
  for (const key of Object.keys(options)) {
    if (!['tag', 'labels', 'max-size', 'max-file'].includes(key)) throw new Error(`${serviceName}: the Docker model does not know log option ${key}`);
  }
  const containerLabels = composeContainerLabels(project, serviceName);
  const attrs: Record<string, string> = {};
  for (const label of (options.labels ?? '').split(',').filter(Boolean)) {
    if (label in containerLabels) attrs[label] = containerLabels[label];
  }
  if (options.tag !== undefined) {
    if (options.tag !== '{{.Name}}') throw new Error(`${serviceName}: the Docker model only knows the tag template {{.Name}}, got ${options.tag}`);
    attrs.tag = containerName;
  }
  const record: Record<string, unknown> = { log: `${message}\n`, stream };
  if (Object.keys(attrs).length > 0) record.attrs = attrs;
  record.time = '2026-11-25T08:30:00.123456789Z';
  return { path: `${DOCKER_CONTAINERS_DIR}/${id}/${id}-json.log`, line: JSON.stringify(record) };
}

// -------------------------------------------------------------------------------------------------------------
// Promtail's side: the pipeline

interface Entry {
  line: string;
  timestamp?: string;
  labels: Record<string, string>;
  extracted: Record<string, unknown>;
  structuredMetadata: Record<string, string>;
}

/** A JMESPath expression of the subset promtail.yaml uses: identifiers and "quoted identifiers" joined by dots. */
function jmespath(expression: string, data: unknown): unknown {
  const segment = /^(?:([A-Za-z_][A-Za-z0-9_]*)|"((?:[^"\\]|\\.)*)")(?:\.|$)/;
  let rest = expression;
  let value: unknown = data;
  while (rest.length > 0) {
    const m = segment.exec(rest);
    if (!m) throw new Error(`the JMESPath model does not know ${JSON.stringify(expression)}`);
    const key = m[1] ?? JSON.parse(`"${m[2]}"`);
    value = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[key] ?? null : null;
    rest = rest.slice(m[0].length);
  }
  return value;
}

/**
 * A LogQL stream selector of `name="v"`, `name!="v"`, `name=~"re"` and `name!~"re"` matchers (regexes fully
 * anchored, as Loki's are; only regexes JavaScript reads the same as RE2: letters, digits, -, _ and |).
 */
function selectorMatches(selector: string, labels: Record<string, string>): boolean {
  const body = /^\{(.*)\}$/.exec(selector.trim());
  if (!body) throw new Error(`the LogQL model does not know ${selector}`);
  return body[1].split(',').every((matcher) => {
    const m = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=|!=|=~|!~)\s*"((?:[^"\\]|\\.)*)"\s*$/.exec(matcher);
    if (!m) throw new Error(`the LogQL model does not know the matcher ${matcher}`);
    const value = labels[m[1]] ?? '';
    if (m[2] === '=' || m[2] === '!=') return (value === m[3]) === (m[2] === '=');
    if (!/^[a-z0-9_|-]+$/.test(m[3])) throw new Error(`the LogQL model does not know the regex ${m[3]}`);
    return new RegExp(`^(?:${m[3]})$`).test(value) === (m[2] === '=~');
  });
}

/** Runs one entry through Promtail's stages; undefined when a stage drops it. */
function runPipeline(stages: Array<Record<string, any>>, entry: Entry): Entry | undefined {
  const asString = (v: unknown) => (v === null || v === undefined ? '' : String(v));
  for (const stage of stages) {
    const [type, config] = Object.entries(stage)[0];
    switch (type) {
      case 'json': {
        if (config.source !== undefined || config.drop_malformed !== undefined) throw new Error('json: only expressions are modelled');
        const data = JSON.parse(entry.line);
        for (const [name, expression] of Object.entries<string>(config.expressions)) entry.extracted[name] = jmespath(expression || name, data);
        break;
      }
      case 'docker': {
        // = json {output: log, stream: stream, timestamp: time} + labels {stream} + timestamp + output.
        const data = JSON.parse(entry.line);
        Object.assign(entry.extracted, { output: data.log, stream: data.stream, timestamp: data.time });
        entry.labels.stream = data.stream;
        entry.timestamp = data.time;
        entry.line = data.log;
        break;
      }
      case 'labels':
      case 'structured_metadata': {
        const target = type === 'labels' ? entry.labels : entry.structuredMetadata;
        for (const [name, source] of Object.entries<string | null>(config)) {
          const key = source ?? name;
          if (key in entry.extracted) target[name] = asString(entry.extracted[key]);
        }
        break;
      }
      case 'match': {
        if (config.action !== 'drop' || config.stages !== undefined) throw new Error('match: only action drop is modelled');
        if (selectorMatches(config.selector, entry.labels)) return undefined;
        break;
      }
      case 'labeldrop':
        for (const name of config as string[]) delete entry.labels[name];
        break;
      case 'replace': {
        // Every capture group of every match in the line is replaced by `replace` (a template; only a literal is
        // modelled). RE2 and JavaScript agree on the expressions used here (groups, ?, $, \r, \n); the test
        // below checks the model on a group that is not the first occurrence of its text.
        if (config.source !== undefined || /\{\{/.test(config.replace ?? '') || /\(\?/.test(config.expression)) throw new Error('replace: only a literal replace of plain groups in the line is modelled');
        // As getReplacedEntry (stages/replace.go): the text between groups is kept, each group's span replaced.
        const re = new RegExp(config.expression, 'gd');
        let out = '';
        let previous = 0;
        for (const m of entry.line.matchAll(re)) {
          for (const span of (m.indices ?? []).slice(1)) {
            if (!span) continue;
            out += entry.line.slice(previous, span[0]) + (config.replace ?? '');
            previous = span[1];
          }
        }
        entry.line = out + entry.line.slice(previous);
        break;
      }
      default:
        throw new Error(`the Promtail model does not know the stage ${type}`);
    }
  }
  return entry;
}

/** What Promtail pushes to Loki for one line of `file`, given the job of promtail.yaml that tails it. */
function promtailStream(job: any, file: LogFile): Entry | undefined {
  const [target] = job.static_configs;
  const glob = new RegExp(`^${String(target.labels.__path__).split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
  if (!glob.test(file.path)) return undefined; // not tailed at all
  const labels = Object.fromEntries(Object.entries<string>(target.labels).filter(([k]) => !k.startsWith('__')));
  // Promtail's file target adds the file's path as `filename`.
  return runPipeline(job.pipeline_stages, { line: file.line, labels: { ...labels, filename: file.path }, extracted: {}, structuredMetadata: {} });
}

// -------------------------------------------------------------------------------------------------------------

describe('the label contract on compose', () => {
  const c = parseStackConfig({});
  const files = renderCompose(c);
  const compose = parse(files.get(COMPOSE_FILES.compose)!) as ComposeFile;
  const promtail = parse(files.get(COMPOSE_FILES.promtailConfig)!);
  const prometheus = parse(files.get(COMPOSE_FILES.prometheusConfig)!);
  const [job] = promtail.scrape_configs;
  // The jobs of the contract: node-exporter's describes the host (node, instance), not its own container.
  const staticLabels = Object.fromEntries(prometheus.scrape_configs.filter((j: any) => j.job_name !== 'node-exporter').map((j: any) => [j.job_name, j.static_configs[0].labels]));

  test('Promtail has one job, and no Docker socket discovery', () => {
    expect(promtail.scrape_configs).toHaveLength(1);
    expect(job.docker_sd_configs).toBeUndefined();
    expect(job.static_configs[0].labels.__path__).toBe('/var/lib/docker/containers/*/*-json.log');
  });

  test.each(Object.keys(parse(files.get(COMPOSE_FILES.compose)!).services))(
    'the log streams of %s carry exactly the contract\'s labels, with its series\' values',
    (service) => {
      const stream = promtailStream(job, jsonFileLine(compose.name, service, compose.services[service], '{"level":"info","msg":"listening"}'));
      expect(stream).toBeDefined();
      const labels = stream!.labels;
      expect(Object.keys(labels).sort()).toEqual([...CONTRACT_LABELS].sort());
      expect(Object.values(labels).every((v) => v.length > 0)).toBe(true);
      expect(labels).toEqual(composeContractLabels(c, service));
      // The same values as Prometheus's static labels for the same container (the traffic generator serves
      // no metrics, so it has no job; node-exporter's series describe the host, so it has none of the contract).
      if (service in staticLabels) expect(labels).toEqual(staticLabels[service]);
      else expect(['demo-app-traffic', 'node-exporter']).toContain(service);
    },
  );

  test('every scraped service also ships logs: the two sides cover the same containers', () => {
    expect(Object.keys(staticLabels).every((s) => s in compose.services)).toBe(true);
  });

  test('the line is the container\'s own output, timestamped by Docker, and stdout/stderr is structured metadata, not a label', () => {
    const stream = promtailStream(job, jsonFileLine(compose.name, 'demo-app', compose.services['demo-app'], '{"level":"error","msg":"boom"}', 'stderr'))!;
    // Docker keeps the program's newline at the end of `log`; the pipeline drops it (a CRI record on Kubernetes has none).
    expect(JSON.parse(jsonFileLine(compose.name, 'demo-app', compose.services['demo-app'], 'x').line).log).toBe('x\n');
    expect(stream.line).toBe('{"level":"error","msg":"boom"}');
    expect(stream.timestamp).toBe('2026-11-25T08:30:00.123456789Z');
    expect(stream.structuredMetadata).toEqual({ stream: 'stderr' });
    expect(stream.labels.stream).toBeUndefined();
    expect(stream.labels.filename).toBeUndefined();
  });

  test('only the last newline goes: a message with newlines inside keeps them, a CRLF ending goes whole', () => {
    const service = compose.services['demo-app'];
    expect(promtailStream(job, jsonFileLine(compose.name, 'demo-app', service, 'Error: boom\n    at f (x.js:1:1)'))!.line).toBe('Error: boom\n    at f (x.js:1:1)');
    expect(promtailStream(job, jsonFileLine(compose.name, 'demo-app', service, 'dos line\r'))!.line).toBe('dos line');
    // Without the replace stage the newline would reach Loki (the bug this stage fixes).
    const withoutReplace = job.pipeline_stages.filter((st: Record<string, unknown>) => !('replace' in st));
    expect(promtailStream({ ...job, pipeline_stages: withoutReplace }, jsonFileLine(compose.name, 'demo-app', service, 'x'))!.line).toBe('x\n');
  });

  test('the replace model replaces each group by its position, as Promtail does, not the first equal text', () => {
    const entry = { line: 'a1b1', labels: {}, extracted: {}, structuredMetadata: {} };
    expect(runPipeline([{ replace: { expression: 'b(1)', replace: 'X' } }], entry)!.line).toBe('a1bX');
  });

  test('drops the lines of containers of another compose project on the same host', () => {
    const other = jsonFileLine('someone-else', 'web', { container_name: 'someone-else-web', logging: compose.services['demo-app'].logging }, 'hello');
    expect(JSON.parse(other.line).attrs['com.docker.compose.project']).toBe('someone-else');
    expect(promtailStream(job, other)).toBeUndefined();
  });

  test('keeps the lines of a user\'s app in compose.apps, with the labels Prometheus gives its series; still drops a third project\'s', () => {
    const withApp = parseStackConfig({ compose: { apps: [{ name: 'web', project: 'shop', port: 9102 }] } });
    const files = renderCompose(withApp);
    const [appJob] = parse(files.get(COMPOSE_FILES.promtailConfig)!).scrape_configs;
    const prom = parse(files.get(COMPOSE_FILES.prometheusConfig)!).scrape_configs.find((j: any) => j.job_name === 'shop/web');
    // The user's service logs with the stack's options (compose/README.md), its container named by compose.
    const logging = compose.services['demo-app'].logging;
    const shop = promtailStream(appJob, jsonFileLine('shop', 'web', { logging }, '{"level":"info","msg":"order placed"}'));
    expect(shop!.labels).toEqual(prom.static_configs[0].labels);
    expect(shop!.labels).toEqual({ namespace: 'shop', app: 'web', pod: 'shop-web-1', container: 'shop-web-1', node: 'docker-host' });
    // The stack's own lines still pass; another project's are still dropped.
    expect(promtailStream(appJob, jsonFileLine(compose.name, 'demo-app', compose.services['demo-app'], 'hi'))).toBeDefined();
    expect(promtailStream(appJob, jsonFileLine('someone-else', 'web', { logging }, 'hello'))).toBeUndefined();
    // Alloy's pipeline drops by the same selector (its stages mirror Promtail's: test/logs-alloy.test.ts).
    const selector = appJob.pipeline_stages.find((st: any) => st.match)!.match.selector;
    expect(selector).toBe('{namespace!~"observability|shop"}');
    const alloy = renderCompose(parseStackConfig({ logAgent: { kind: 'alloy' }, compose: { apps: [{ name: 'web', project: 'shop', port: 9102 }] } })).get(COMPOSE_FILES.alloyConfig)!;
    expect(alloy).toMatch(/selector\s+= "\{namespace!~\\"observability\|shop\\"\}"/);
  });

  test('drops the lines of containers started without the logging options (no attrs, no labels to give them)', () => {
    const plain = jsonFileLine('observability', 'adhoc', {}, 'hello');
    expect(JSON.parse(plain.line).attrs).toBeUndefined();
    expect(promtailStream(job, plain)).toBeUndefined();
  });

  test('without the logging options a service\'s streams would lack the contract (the options are what make it hold)', () => {
    const { logging: _logging, ...bare } = compose.services['demo-app'];
    const line = jsonFileLine(compose.name, 'demo-app', bare, 'hello');
    // json, docker, replace, labels: the stages before the drop.
    const extracted = runPipeline(job.pipeline_stages.slice(0, 4), { line: line.line, labels: {}, extracted: {}, structuredMetadata: {} })!;
    expect(extracted.labels).toEqual({ namespace: '', app: '', container: '', pod: '', stream: 'stdout' });
  });

  test('the models refuse what they do not know', () => {
    expect(() => runPipeline([{ cri: {} }], { line: '', labels: {}, extracted: {}, structuredMetadata: {} })).toThrow('the Promtail model does not know the stage cri');
    expect(() => jmespath('attrs[0]', {})).toThrow('the JMESPath model does not know');
    expect(() => jsonFileLine('p', 's', { logging: { driver: 'json-file', options: { tag: '{{.ID}}' } } }, 'x')).toThrow('only knows the tag template');
  });
});

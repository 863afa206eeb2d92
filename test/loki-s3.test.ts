/**
 * loki.storage.s3 against a real S3 server on loopback (s3rver, with the SigV4 signature of every request checked,
 * and, with virtual-host buckets off, answers path-style requests only, as self-hosted servers commonly do).
 * A signature check is put in front of s3rver, which checks a SigV4 request's key id only (test/support/sigv4.ts).
 * Loki cannot run here; its S3 client is aws-sdk-go-v2, set up from loki.yaml as
 * grafana/loki@v3.7.6 pkg/storage/chunk/client/aws/s3_storage_client.go does (s3ClientConfigFunc: endpoint with
 * http:// when insecure, else https://; UsePathStyle from s3forcepathstyle; region, or "dummy" when empty; the keys
 * from the environment, the SDK's default chain, since the file names none). The same set-up is made here with
 * the JavaScript SDK of the same family, from each rendering's own loki.yaml and Loki container environment
 * (the Secret's keys resolved as the kubelet resolves them, compose's variables as compose does), and must write,
 * list and read an object in the bucket; changing the bucket, the addressing, the scheme or a key must fail.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { parse } from 'yaml';
import { parseStackConfig, type StackInput } from '../lib';
import { COMPOSE_FILES } from '../lib/compose/config-files';
import { renderCompose } from '../lib/compose/render-compose';
import { helm } from './helm-support';
import { find, synthObjects } from './helpers/stack';
import { tempDir } from './helpers/temp-dir';
import { freePort } from './support/prometheus';
import { sigV4Mismatch } from './support/sigv4';

// s3rver ships no types: the part of its API used here (a Koa application).
interface KoaContext { req: import('node:http').IncomingMessage; status: number; type: string; body: unknown }
type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;
const S3rver = require('s3rver') as new (o: Record<string, unknown>) => { middleware: KoaMiddleware[]; run(): Promise<unknown>; close(): Promise<void> };

const BUCKET = 'loki-chunks';
/** The region the server signs for (as Garage's s3_region, or an AWS bucket's): a request signed for another is refused. */
const SERVER_REGION = 'eu-west-1';
/** s3rver's one account (lib/models/account.js). */
const KEYS = { id: 'S3RVER', secret: 'S3RVER' };

/** What Loki's S3 client is made of: loki.yaml's storage_config.aws and the container's environment. */
interface LokiS3Setup {
  readonly aws: { endpoint: string; bucketnames: string; region?: string; s3forcepathstyle: boolean; insecure: boolean };
  readonly env: Record<string, string>;
}

/** A home directory without ~/.aws: the SDK's chain finds no shared config or credentials file. */
const EMPTY_HOME = tempDir('no-aws-home-');

/** The client as Loki 3.7.6 builds it (see the file's comment). */
function lokiClient(s: LokiS3Setup): { client: S3Client; bucket: string } {
  const endpoint = s.aws.endpoint.includes('://') ? s.aws.endpoint : `${s.aws.insecure ? 'http' : 'https'}://${s.aws.endpoint}`;
  const client = new S3Client({
    endpoint,
    forcePathStyle: s.aws.s3forcepathstyle,
    region: s.aws.region || 'dummy',
    // No credentials: the SDK's default chain finds them, as Loki's does (roundTrip sets the container's environment).
    maxAttempts: 1,
  });
  return { client, bucket: s.aws.bucketnames.split(',')[0] };
}

/**
 * Writes, lists and reads back one object with the container's environment as this process's (the default
 * chain reads AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from it); the error's name (S3's code or Node's) when
 * any step fails.
 */
async function roundTrip(s: LokiS3Setup): Promise<string> {
  const saved = { ...process.env };
  // Nothing of this machine's own: no keys, profiles, identity variables or shared files (a runner on a cloud may have them).
  for (const name of Object.keys(process.env).filter((n) => n.startsWith('AWS_'))) delete process.env[name];
  process.env.HOME = EMPTY_HOME;
  Object.assign(process.env, s.env);
  try {
    return await roundTripWith(lokiClient(s));
  } finally {
    process.env = saved;
  }
}

async function roundTripWith({ client, bucket }: { client: S3Client; bucket: string }): Promise<string> {
  // Shaped as Loki's chunk keys (<tenant>/<fingerprint>:<from>:<through>:<checksum>), written as Loki writes them
  // (s3_storage_client.go PutObject: a SHA-256 checksum and the STANDARD storage class).
  const Key = `fake/${Date.now().toString(16)}:${Math.random().toString(16).slice(2)}:1a2b:3c4d`;
  try {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'a chunk', ChecksumAlgorithm: 'SHA256', StorageClass: 'STANDARD' }));
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'fake/' }));
    if (!listed.Contents?.some((o) => o.Key === Key)) return 'not listed';
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key }));
    return (await got.Body!.transformToString()) === 'a chunk' ? 'ok' : 'wrong content';
  } catch (err) {
    const e = err as { name?: string; code?: string; Code?: string };
    return e.Code ?? e.code ?? e.name ?? String(err);
  } finally {
    client.destroy();
  }
}

/** The Loki container's environment in a Deployment, valueFrom.secretKeyRef resolved from the given Secrets. */
function containerEnv(deployment: any, secrets: Record<string, Record<string, string>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of deployment.spec.template.spec.containers[0].env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef) {
      const { name, key } = e.valueFrom.secretKeyRef;
      const value = secrets[name]?.[key];
      if (value === undefined) throw new Error(`${e.name}: Secret ${name} has no key ${key}`);
      env[e.name] = value;
    }
  }
  return env;
}

describe('Loki on S3: what the settings name is what a real S3 server accepts', () => {
  let server: { close(): Promise<void> };
  let endpoint: string;
  /** The region the server checks; undefined: any (servers that ignore regions). */
  let serverRegion: string | undefined = SERVER_REGION;
  const s3Input = (over: Record<string, unknown> = {}): StackInput => ({
    loki: {
      storage: {
        s3: {
          enabled: true, since: '2027-01-01', endpoint, bucket: BUCKET, region: SERVER_REGION, pathStyle: true, insecure: true,
          credentialsSecret: { name: 'loki-s3', accessKeyIdKey: 'access-key', secretAccessKeyKey: 'secret-key' }, ...over,
        },
      },
    },
  });
  /** The cdk8s rendering's setup, the Secret holding `keys`. */
  const kubernetes = (input: StackInput, keys = KEYS): LokiS3Setup => {
    const objects = synthObjects(input);
    return {
      aws: parse(find(objects, 'ConfigMap', 'loki-config').data['loki.yaml']).storage_config.aws,
      env: containerEnv(find(objects, 'Deployment', 'loki'), { 'loki-s3': { 'access-key': keys.id, 'secret-key': keys.secret } }),
    };
  };

  beforeAll(async () => {
    const port = await freePort();
    endpoint = `localhost:${port}`;
    const s3rver = new S3rver({
      address: '127.0.0.1', port, silent: true, directory: tempDir('s3rver-'),
      // Path-style only, as RustFS and Garage answer by default.
      vhostBuckets: false,
      configureBuckets: [{ name: BUCKET }],
    });
    // s3rver checks a SigV4 request's key id, not its signature: check that first, as S3 does.
    s3rver.middleware.unshift(async (ctx, next) => {
      const why = await sigV4Mismatch({ method: ctx.req.method!, url: ctx.req.url!, headers: ctx.req.headers }, { [KEYS.id]: KEYS.secret }, serverRegion);
      if (why === undefined || why.startsWith('unknown access key id')) return next();
      ctx.status = 403;
      ctx.type = 'application/xml';
      const code = why === 'SignatureDoesNotMatch' ? why : why.startsWith('AuthorizationHeaderMalformed') ? 'AuthorizationHeaderMalformed' : 'AccessDenied';
      ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${why}</Message></Error>`;
    });
    await s3rver.run();
    server = s3rver;
  });
  afterAll(async () => {
    await server?.close();
  });

  test('cdk8s: the bucket, path style, plain http and the keys from the Secret work', async () => {
    const setup = kubernetes(s3Input());
    expect(setup.aws).toEqual({ endpoint, bucketnames: BUCKET, region: SERVER_REGION, s3forcepathstyle: true, insecure: true });
    expect(Object.keys(setup.env).sort()).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
    expect(await roundTrip(setup)).toBe('ok');
  });

  test('and each of them, changed, fails against the same server', async () => {
    expect(await roundTrip(kubernetes(s3Input({ bucket: 'other-bucket' })))).toBe('NoSuchBucket');
    expect(await roundTrip(kubernetes(s3Input(), { id: KEYS.id, secret: 'not-the-secret' }))).toBe('SignatureDoesNotMatch');
    expect(await roundTrip(kubernetes(s3Input(), { id: 'SOMEONE', secret: KEYS.secret }))).toBe('InvalidAccessKeyId');
    // https to a plain-http server.
    expect(await roundTrip(kubernetes(s3Input({ insecure: false })))).not.toBe('ok');
    // Virtual-hosted addressing (loki-chunks.localhost) to a path-style server: unresolvable, or the wrong bucket.
    expect(await roundTrip(kubernetes(s3Input({ pathStyle: false })))).not.toBe('ok');
  });

  test('workloadIdentity: no keys in the environment, so the SDK\'s chain reaches what EKS Pod Identity\'s webhook injects (its agent stood in for on loopback)', async () => {
    const input = s3Input({ workloadIdentity: true, credentialsSecret: {} });
    const objects = synthObjects({ loki: { ...input.loki, serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/loki' } } } });
    const deployment = find(objects, 'Deployment', 'loki');
    expect(deployment.spec.template.spec.containers[0].env).toBeUndefined();
    expect(deployment.spec.template.spec.serviceAccountName).toBe('loki');
    expect(find(objects, 'ServiceAccount', 'loki').metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/loki' });
    const aws = parse(find(objects, 'ConfigMap', 'loki-config').data['loki.yaml']).storage_config.aws;

    // The agent answers a request carrying the pod's projected token with the role's temporary keys
    // (amazon-eks-pod-identity-webhook injects the two variables below and mounts the token).
    const token = 'projected-service-account-token';
    const tokenFile = path.join(tempDir('pod-identity-'), 'eks-pod-identity-token');
    fs.writeFileSync(tokenFile, token);
    let handedOut = KEYS;
    const agent = http.createServer((req, res) => {
      if (req.url !== '/v1/credentials' || req.headers.authorization !== token) {
        res.statusCode = 403;
        res.end();
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ AccessKeyId: handedOut.id, SecretAccessKey: handedOut.secret, Token: 'session-token', Expiration: new Date(Date.now() + 3_600_000).toISOString() }));
    });
    const port = await freePort();
    await new Promise<void>((resolve) => agent.listen(port, '127.0.0.1', resolve));
    const injected = { AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${port}/v1/credentials`, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile };
    try {
      expect(await roundTrip({ aws, env: injected })).toBe('ok');
      // The keys the agent hands out are what signs: other ones are refused.
      handedOut = { id: KEYS.id, secret: 'not-the-secret' };
      expect(await roundTrip({ aws, env: injected })).toBe('SignatureDoesNotMatch');
      handedOut = KEYS;
      // Why the model refuses a Secret with workloadIdentity: keys in the environment come first in the chain,
      // and the identity is never asked.
      expect(await roundTrip({ aws, env: { ...injected, AWS_ACCESS_KEY_ID: KEYS.id, AWS_SECRET_ACCESS_KEY: 'a-stale-key' } })).toBe('SignatureDoesNotMatch');
    } finally {
      await new Promise((resolve) => agent.close(resolve));
    }
  });

  test('workloadIdentity: the same chain reaches IAM roles for service accounts (the role and token the webhook injects, a stand-in STS on loopback)', async () => {
    const input = s3Input({ workloadIdentity: true, credentialsSecret: {} });
    const role = 'arn:aws:iam::111122223333:role/loki';
    const objects = synthObjects({ loki: { ...input.loki, serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': role } } } });
    const deployment = find(objects, 'Deployment', 'loki');
    expect(deployment.spec.template.spec.containers[0].env).toBeUndefined();
    const aws = parse(find(objects, 'ConfigMap', 'loki-config').data['loki.yaml']).storage_config.aws;
    // What amazon-eks-pod-identity-webhook adds for the annotated ServiceAccount (pkg/handler/handler.go): the role
    // from the annotation, the projected token's file, and the region.
    const token = 'projected-sts-token';
    const tokenFile = path.join(tempDir('irsa-'), 'token');
    fs.writeFileSync(tokenFile, token);
    const asked: Array<Record<string, string>> = [];
    const sts = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        const form = Object.fromEntries(new URLSearchParams(body));
        asked.push(form);
        if (form.Action !== 'AssumeRoleWithWebIdentity' || form.RoleArn !== role || form.WebIdentityToken !== token) {
          res.statusCode = 403;
          res.end('<ErrorResponse><Error><Code>AccessDenied</Code><Message>not this role or token</Message></Error></ErrorResponse>');
          return;
        }
        res.setHeader('content-type', 'text/xml');
        res.end(`<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>
<Credentials><AccessKeyId>${KEYS.id}</AccessKeyId><SecretAccessKey>${KEYS.secret}</SecretAccessKey><SessionToken>session</SessionToken><Expiration>${new Date(Date.now() + 3_600_000).toISOString()}</Expiration></Credentials>
<AssumedRoleUser><Arn>arn:aws:sts::111122223333:assumed-role/loki/s</Arn><AssumedRoleId>AROAEXAMPLE:s</AssumedRoleId></AssumedRoleUser>
</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`);
      });
    });
    const port = await freePort();
    await new Promise<void>((resolve) => sts.listen(port, '127.0.0.1', resolve));
    const injected = { AWS_ROLE_ARN: role, AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile, AWS_REGION: SERVER_REGION, AWS_ENDPOINT_URL_STS: `http://127.0.0.1:${port}` };
    try {
      expect(await roundTrip({ aws, env: injected })).toBe('ok');
      expect(asked.map((f) => [f.Action, f.RoleArn])).toContainEqual(['AssumeRoleWithWebIdentity', role]);
      // Another role than the one STS trusts for this token: refused, and no keys.
      expect(await roundTrip({ aws, env: { ...injected, AWS_ROLE_ARN: 'arn:aws:iam::111122223333:role/other' } })).not.toBe('ok');
    } finally {
      await new Promise((resolve) => sts.close(resolve));
    }
  });

  test('workloadIdentity: a changed role annotation rolls Loki\'s pods (the webhook injects a role only into new pods), in cdk8s and the chart', () => {
    const input = (role?: string): StackInput => ({ loki: { ...s3Input({ workloadIdentity: true, credentialsSecret: {} }).loki, ...(role ? { serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': role } } } : {}) } });
    const cdk8s = (role?: string) => find(synthObjects(input(role)), 'Deployment', 'loki').spec.template.metadata.annotations['checksum/config'];
    const roles = [undefined, 'arn:aws:iam::111122223333:role/a', 'arn:aws:iam::111122223333:role/b'];
    expect(new Set(roles.map(cdk8s)).size).toBe(3);
    const chart = (role?: string) => {
      const r = helm(['template', 'obs', 'charts/observability-stack', '-n', 'monitoring', '-f', 'charts/observability-stack/ci/19-loki-s3-values.yaml',
        ...(role ? ['--set-string', `loki.serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=${role}`] : [])]);
      expect(r.stderr).toBe('');
      return find(r.stdout.split(/^---$/m).map((d) => parse(d)).filter(Boolean), 'Deployment', 'loki').spec.template.metadata.annotations['checksum/config'];
    };
    expect(new Set(roles.map(chart)).size).toBe(3);
  });

  test('the region is signed into every request: another, or none ("dummy"), is refused by a server with one', async () => {
    expect(await roundTrip(kubernetes(s3Input({ region: 'us-east-1' })))).toBe('AuthorizationHeaderMalformed');
    const none = kubernetes(s3Input({ region: '' }));
    expect(none.aws.region).toBeUndefined();
    expect(await roundTrip(none)).toBe('AuthorizationHeaderMalformed');
    // A server that ignores regions takes the placeholder.
    serverRegion = undefined;
    try {
      expect(await roundTrip(none)).toBe('ok');
    } finally {
      serverRegion = SERVER_REGION;
    }
  });

  test('Helm (ci/19 with the endpoint here): the same', async () => {
    const dir = tempDir('helm-s3-');
    const values = path.join(dir, 'values.yaml');
    fs.writeFileSync(values, `loki:\n  storage:\n    s3:\n      endpoint: "${endpoint}"\n`);
    const r = helm(['template', 'obs', 'charts/observability-stack', '-n', 'monitoring', '-f', 'charts/observability-stack/ci/19-loki-s3-values.yaml', '-f', values]);
    expect(r.stderr).toBe('');
    const objects = r.stdout.split(/^---$/m).map((d) => parse(d)).filter(Boolean);
    const setup: LokiS3Setup = {
      aws: parse(find(objects, 'ConfigMap', 'loki-config').data['loki.yaml']).storage_config.aws,
      env: containerEnv(find(objects, 'Deployment', 'loki'), { 'loki-s3': { 'access-key': KEYS.id, 'secret-key': KEYS.secret } }),
    };
    expect(setup.aws.bucketnames).toBe(BUCKET);
    expect(setup.env.GOMAXPROCS).toBe('2');
    // ci/19 names the same region as the server's.
    expect(setup.aws.region).toBe(SERVER_REGION);
    expect(await roundTrip(setup)).toBe('ok');
  });

  test('compose: the keys from compose/.env, as compose fills the variables', async () => {
    const files = renderCompose(parseStackConfig(s3Input()));
    const loki = parse(files.get(COMPOSE_FILES.compose)!).services.loki;
    const dotEnv: Record<string, string> = { LOKI_S3_ACCESS_KEY_ID: KEYS.id, LOKI_S3_SECRET_ACCESS_KEY: KEYS.secret };
    // ${NAME:?message}: the variable's value, or compose stops with the message.
    const filled = (env: Record<string, string>, vars: Record<string, string>) => Object.fromEntries(Object.entries(env).map(([k, v]) => {
      const m = /^\$\{(\w+):\?(.+)\}$/.exec(v);
      if (!m) return [k, v];
      if (!vars[m[1]]) throw new Error(m[2]);
      return [k, vars[m[1]]];
    }));
    const setup: LokiS3Setup = { aws: parse(files.get(COMPOSE_FILES.lokiConfig)!).storage_config.aws, env: filled(loki.environment, dotEnv) };
    expect(await roundTrip(setup)).toBe('ok');
    expect(() => filled(loki.environment, { LOKI_S3_ACCESS_KEY_ID: KEYS.id })).toThrow('set LOKI_S3_SECRET_ACCESS_KEY in compose/.env (loki.storage.s3)');
    expect(files.get(COMPOSE_FILES.envExample)).toMatch(/^# LOKI_S3_ACCESS_KEY_ID=$/m);
  });

  test('without S3, no bucket: no storage_config, no keys in the environment', () => {
    const objects = synthObjects({});
    expect(parse(find(objects, 'ConfigMap', 'loki-config').data['loki.yaml']).storage_config).toBeUndefined();
    expect(find(objects, 'Deployment', 'loki').spec.template.spec.containers[0].env).toBeUndefined();
    expect(parse(renderCompose(parseStackConfig({})).get(COMPOSE_FILES.compose)!).services.loki.environment).toBeUndefined();
  });
});

// Checks a request's AWS Signature Version 4 against the keys an S3 server knows. s3rver 3.7.1 checks only
// the access key id of a v4 request ("Signature version 4 calculation is unimplemented",
// lib/middleware/authentication.js), so a test that must prove the secret key right puts this in front of it:
// the request is signed again with the known secret (@smithy/signature-v4, the AWS SDK's signer), with the
// date, region, headers and payload hash the client signed, and the two signatures must be equal.
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';

type Bytes = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: Bytes): string | Buffer =>
  typeof data === 'string' ? data : ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);

/** node:crypto as the signer's hash constructor (an HMAC when given a secret). */
class Sha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: Bytes) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: Bytes): void {
    this.h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
}

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;

/**
 * Why the request's signature is not the one the secret gives (or it is signed for another region than
 * `region`, when given), or undefined when it is right.
 */
export async function sigV4Mismatch(
  request: { method: string; url: string; headers: IncomingHttpHeaders },
  secrets: Readonly<Record<string, string>>,
  region?: string,
): Promise<string | undefined> {
  const auth = AUTHORIZATION.exec(String(request.headers.authorization ?? ''));
  if (!auth) return `not a SigV4 Authorization header: ${request.headers.authorization}`;
  const [, accessKeyId, , signedRegion, service, signedHeaders, signature] = auth;
  const secretAccessKey = secrets[accessKeyId];
  if (secretAccessKey === undefined) return `unknown access key id ${accessKeyId}`;
  if (region !== undefined && signedRegion !== region) return `AuthorizationHeaderMalformed: signed for region ${signedRegion}, the server's is ${region}`;
  const url = new URL(request.url, 'http://placeholder');
  const headers: Record<string, string> = {};
  for (const name of signedHeaders.split(';')) headers[name] = String(request.headers[name] ?? '');
  const amzDate = headers['x-amz-date'];
  const signingDate = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13)}`);
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) query[k] = k in query ? [...[query[k]].flat(), v] : v;
  // S3 signs the path as sent, already escaped (no second escaping), and the payload hash from its header.
  const signer = new SignatureV4({ credentials: { accessKeyId, secretAccessKey }, region: signedRegion, service, sha256: Sha256, uriEscapePath: false });
  const signed = await signer.sign(
    { method: request.method, protocol: 'http:', hostname: headers.host ?? '', path: url.pathname, query, headers },
    { signingDate, signingRegion: signedRegion, signingService: service },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1];
  return expected === signature ? undefined : 'SignatureDoesNotMatch';
}

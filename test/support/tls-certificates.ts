import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCertificates {
  /** the test CA's certificate: what NODE_EXTRA_CA_CERTS points the service at */
  readonly ca: string;
  /** the server's certificate, for 127.0.0.1 (an IP subjectAltName, as TLS checks it) */
  readonly cert: string;
  readonly key: string;
}

/** A throw-away CA and a server certificate signed by it, made with openssl in `dir`, valid one day. */
export async function makeTestCertificates(dir: string): Promise<TestCertificates> {
  const file = (name: string): string => join(dir, name);
  const openssl = (args: string[]) => run('openssl', args, { timeout: 30_000 });
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
    '-days',
    '1',
    '-subj',
    '/CN=flash-sale test CA',
  ]);
  await openssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    file('redis.key'),
    '-out',
    file('redis.csr'),
    '-subj',
    '/CN=127.0.0.1',
  ]);
  writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  await openssl([
    'x509',
    '-req',
    '-in',
    file('redis.csr'),
    '-CA',
    file('ca.crt'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-out',
    file('redis.crt'),
    '-days',
    '1',
    '-extfile',
    file('san.ext'),
  ]);
  return { ca: file('ca.crt'), cert: file('redis.crt'), key: file('redis.key') };
}

// Certificates made at test time with the real `openssl`, as docs/security.md tells an operator
// to make them: a CA, a server certificate for 127.0.0.1, and client certificates whose SAN
// names an identity (a spiffe:// URI or a DNS name). EC P-256 keys, so making them is quick.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A self-signed CA in `dir` named `name` (files `<name>.crt`, `<name>.key`). */
export function makeCa(dir: string, name: string): CertFiles {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  openssl([
    'req', '-x509', ...EC, '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { cert, key };
}

/** When a certificate is valid, for one that must expire during a test. */
export interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** openssl's time form: YYYYMMDDHHMMSSZ, UTC. */
const opensslTime = (date: Date) => `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;

/**
 * A certificate signed by `ca` with these subject alternative names (`URI:…`, `DNS:…`, `IP:…`;
 * a value may hold commas: each name is its own line of the extension's section). With
 * `validity`, issued by `openssl ca`, which takes exact dates; otherwise valid for two days.
 */
export function issue(dir: string, ca: CertFiles, name: string, subjectAltNames: string[], validity?: Validity): CertFiles {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const extensions = path.join(dir, `${name}.ext`);
  const counts = new Map<string, number>();
  const sanLines = subjectAltNames.map((san) => {
    const colon = san.indexOf(':');
    const type = san.slice(0, colon);
    const n = (counts.get(type) ?? 0) + 1;
    counts.set(type, n);
    return `${type}.${n} = ${san.slice(colon + 1)}`;
  });
  writeFileSync(
    extensions,
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth,clientAuth',
      'subjectAltName=@alt_names',
      '[alt_names]',
      ...sanLines,
    ].join('\n'),
  );
  openssl(['req', ...EC, '-keyout', key, '-out', csr, '-subj', `/CN=${name}`]);
  if (!validity) {
    openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', extensions]);
    return { cert, key };
  }
  const caDir = path.join(dir, `${name}.ca`);
  mkdirSync(caDir, { recursive: true });
  writeFileSync(path.join(caDir, 'index.txt'), '');
  writeFileSync(path.join(caDir, 'serial'), `${randomBytes(8).toString('hex')}\n`);
  const config = path.join(caDir, 'ca.cnf');
  writeFileSync(
    config,
    [
      '[ca]',
      'default_ca = test_ca',
      '[test_ca]',
      `database = ${path.join(caDir, 'index.txt')}`,
      `new_certs_dir = ${caDir}`,
      `serial = ${path.join(caDir, 'serial')}`,
      'default_md = sha256',
      'policy = any_name',
      'unique_subject = no',
      '[any_name]',
      'commonName = supplied',
    ].join('\n'),
  );
  openssl([
    'ca', '-batch', '-notext', '-config', config, '-cert', ca.cert, '-keyfile', ca.key, '-in', csr, '-out', cert,
    '-startdate', opensslTime(validity.notBefore), '-enddate', opensslTime(validity.notAfter),
    '-extfile', extensions,
  ]);
  return { cert, key };
}

/** The server's certificate: valid for 127.0.0.1 and localhost. */
export function issueServer(dir: string, ca: CertFiles, name = 'server'): CertFiles {
  return issue(dir, ca, name, ['IP:127.0.0.1', 'DNS:localhost']);
}

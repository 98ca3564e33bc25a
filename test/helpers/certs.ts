// Certificates made at test time with the real `openssl`, as docs/security.md tells an operator
// to make them: a CA, a server certificate for 127.0.0.1, and client certificates whose SAN
// names an identity (a spiffe:// URI or a DNS name). EC P-256 keys, so making them is quick.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
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

/** A certificate signed by `ca` with these subject alternative names (`URI:…`, `DNS:…`, `IP:…`). */
export function issue(dir: string, ca: CertFiles, name: string, subjectAltNames: string[]): CertFiles {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const extensions = path.join(dir, `${name}.ext`);
  writeFileSync(
    extensions,
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth,clientAuth',
      `subjectAltName=${subjectAltNames.join(',')}`,
    ].join('\n'),
  );
  openssl(['req', ...EC, '-keyout', key, '-out', csr, '-subj', `/CN=${name}`]);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', extensions]);
  return { cert, key };
}

/** The server's certificate: valid for 127.0.0.1 and localhost. */
export function issueServer(dir: string, ca: CertFiles, name = 'server'): CertFiles {
  return issue(dir, ca, name, ['IP:127.0.0.1', 'DNS:localhost']);
}

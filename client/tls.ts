// The client's TLS: channel credentials from PEM files (a CA bundle, and for mutual TLS this
// client's certificate and key), with an error naming the file that cannot be read.

import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';

export interface ClientTlsFiles {
  /** CA bundle to trust for the server's certificate (default: the system's roots). */
  readonly caFile?: string;
  /** This client's certificate, for mutual TLS (with `keyFile`). */
  readonly certFile?: string;
  readonly keyFile?: string;
}

/** Channel credentials from PEM files, with an error naming the file that cannot be read. */
export function tlsCredentials(files: ClientTlsFiles): grpc.ChannelCredentials {
  const read = (path: string | undefined, what: string) => {
    if (path === undefined) return null;
    try {
      return readFileSync(path);
    } catch (error) {
      throw new Error(`cannot read the ${what} ${path}: ${(error as Error).message}`);
    }
  };
  if ((files.certFile === undefined) !== (files.keyFile === undefined)) throw new Error('--tls-cert and --tls-key go together');
  return grpc.credentials.createSsl(read(files.caFile, 'CA bundle'), read(files.keyFile, 'TLS key'), read(files.certFile, 'TLS certificate'));
}

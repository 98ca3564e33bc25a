// The server's TLS credentials, reloaded when their files change: a certificate rotated on disk
// (by cert-manager, an ACME client or an operator) takes effect for new connections without a
// restart. grpc-js applies a new secure context to its listening sockets through the watcher
// every ServerCredentials keeps; this class feeds it from the files.
//
// Client certificates are requested but not required at the TLS layer (rejectUnauthorized is
// false): a connection without one, or with one no --client-ca vouches for, still completes its
// handshake and grpc-js then gives its calls an empty auth context, so that the call is refused
// with UNAUTHENTICATED, a status the caller can read, instead of a bare handshake failure.

import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import * as grpc from '@grpc/grpc-js';

export interface TlsFiles {
  /** PEM certificate chain the server presents. */
  readonly certFile: string;
  /** PEM private key of that certificate. */
  readonly keyFile: string;
  /** PEM CA bundle that client certificates must chain to; absent = no client certificates (TLS only). */
  readonly clientCaFile?: string;
}

/** How often the files are checked for changes (default 5 s). */
export const DEFAULT_TLS_RELOAD_INTERVAL_MS = 5000;

function readAll(files: TlsFiles): SecureContextOptions {
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new Error(`cannot read the ${what} ${path}: ${(error as Error).message}`);
    }
  };
  return {
    cert: read(files.certFile, 'TLS certificate (--tls-cert)'),
    key: read(files.keyFile, 'TLS private key (--tls-key)'),
    ...(files.clientCaFile && { ca: read(files.clientCaFile, 'client CA bundle (--client-ca)') }),
  };
}

export class ReloadingServerCredentials extends grpc.ServerCredentials {
  private readonly paths: string[];
  private readonly listener = (current: Stats, previous: Stats) => {
    if (current.mtimeMs !== previous.mtimeMs || current.size !== previous.size) this.reload();
  };

  /** Reads the files now (throwing a clear error naming the one that fails), then watches them. */
  constructor(
    private readonly files: TlsFiles,
    private readonly events: { reloaded?: () => void; failed?: (error: Error) => void } = {},
    intervalMs = DEFAULT_TLS_RELOAD_INTERVAL_MS,
  ) {
    const options = readAll(files);
    createSecureContext(options);
    super({ requestCert: files.clientCaFile !== undefined, rejectUnauthorized: false }, options);
    this.paths = [files.certFile, files.keyFile, ...(files.clientCaFile ? [files.clientCaFile] : [])];
    for (const path of this.paths) watchFile(path, { interval: intervalMs, persistent: false }, this.listener);
  }

  /** Re-reads the files; a pair that does not load keeps the previous context serving. */
  reload(): void {
    let options: SecureContextOptions;
    try {
      options = readAll(this.files);
      // Parsed before it is handed over: a half-written key would otherwise stop new connections.
      createSecureContext(options);
    } catch (error) {
      this.events.failed?.(error as Error);
      return;
    }
    this.updateSecureContextOptions(options);
    this.events.reloaded?.();
  }

  stop(): void {
    for (const path of this.paths) unwatchFile(path, this.listener);
  }

  _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

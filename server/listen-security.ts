// Whether the server may listen where and how it was told: the security options checked before
// anything is opened (a mistake here must not half-start). A module of its own because two
// callers check them: `devcompat serve`, before it starts opening the database in the storage
// worker while the server's modules load (server/serve.ts), and startServer, for every other
// caller; both refuse with the same words.

/** What the check needs to know of the options: which were given. */
export interface ListenSecurity {
  /** --tls-cert and --tls-key. */
  readonly tls: boolean;
  /** --client-ca (mutual TLS). */
  readonly clientCa: boolean;
  /** --authz. */
  readonly authz: boolean;
  /** --insecure. */
  readonly insecure: boolean;
}

/** True for addresses only this machine can reach. */
function isLoopback(address: string): boolean {
  const host = address.slice(0, address.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Throws when the options must not start a server on `address`; otherwise says what the
 * server should warn about: plaintext on a non-loopback address (--insecure), or TLS that
 * authenticates no caller (no --client-ca).
 */
export function checkListenSecurity(options: ListenSecurity, address: string): 'insecure' | 'unauthenticated-tls' | undefined {
  if (options.authz && !options.clientCa) {
    throw new Error('--authz needs mutual TLS: give --tls-cert, --tls-key and --client-ca');
  }
  if (options.clientCa && !options.authz) {
    throw new Error('--client-ca needs an authorization policy (--authz FILE) mapping identities to roles');
  }
  if (!options.tls && !isLoopback(address)) {
    if (!options.insecure) {
      throw new Error(
        `refusing to listen on ${address} without TLS: anyone who reaches it could rewrite the registry; ` +
          'give --tls-cert and --tls-key (and --client-ca with --authz), or --insecure to accept the risk',
      );
    }
    return 'insecure';
  }
  if (options.tls && !options.clientCa) return 'unauthenticated-tls';
  return undefined;
}

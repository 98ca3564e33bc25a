// The default host lease TTL (leases.ts has the rules), in a module of its own: `devcompat
// serve` shows it in its help and applies it to --lease-ttl before it loads the core, which it
// does only once the storage worker is started (server/serve.ts).
//
// May import: nothing.

export const DEFAULT_LEASE_TTL_MS = 30_000;

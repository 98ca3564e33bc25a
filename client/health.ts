// The standard gRPC health check (grpc.health.v1.Health/Check) of a devcompat server, for
// `devcompat health`, container HEALTHCHECKs and systemd: one call, no retry, the answer as
// the status name. The server's health service (server/grpc/health-service.ts) knows '' (the
// whole server) and each devcompat service; health stays open even with mutual TLS (a probe has
// no certificate to show), but over TLS the probe still needs the CA that signed the server's
// certificate.

import * as grpc from '@grpc/grpc-js';
import { serviceDefinition } from '../proto/load.ts';

export type HealthAnswer =
  | { readonly serving: true; readonly status: 'SERVING' }
  | { readonly serving: false; readonly status: string; readonly reason: string };

/** Asks `address` whether `serviceName` ('' for the whole server) is SERVING. */
export function checkHealth(
  address: string,
  credentials: grpc.ChannelCredentials,
  options: { service?: string; deadlineMs: number },
): Promise<HealthAnswer> {
  const Health = grpc.makeClientConstructor(serviceDefinition('grpc.health.v1.Health'), 'Health');
  const client = new Health(address, credentials) as grpc.Client & Record<string, Function>;
  const service = options.service ?? '';
  return new Promise<HealthAnswer>((resolve) => {
    client.Check({ service }, { deadline: Date.now() + options.deadlineMs }, (error: grpc.ServiceError | null, response?: { status: string | number }) => {
      client.close();
      if (error) {
        const code = grpc.status[error.code] ?? String(error.code);
        const reason =
          error.code === grpc.status.NOT_FOUND
            ? `the server at ${address} knows no service "${service}"`
            : error.code === grpc.status.DEADLINE_EXCEEDED
              ? `the server at ${address} did not answer within ${options.deadlineMs} ms`
              : `cannot reach the server at ${address}: ${(error.details || error.message).replace(/\s*Resolution note:\s*$/, '')}`;
        resolve({ serving: false, status: code, reason });
        return;
      }
      const status = typeof response?.status === 'number' ? ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'][response.status] ?? String(response.status) : String(response?.status);
      if (status === 'SERVING') resolve({ serving: true, status });
      else resolve({ serving: false, status, reason: `the server at ${address} is ${status}${status === 'NOT_SERVING' ? ' (shutting down)' : ''}` });
    });
  });
}

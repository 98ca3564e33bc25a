// docs/api.md lists every service and RPC the protos define: its services table is read and
// compared with the services protobufjs parses from proto/, so an RPC added to a .proto
// without a line in the doc fails here (and so does a doc line for an RPC that is gone).

import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { protoRoot } from '../proto/load.ts';
import { REPO_ROOT } from './helpers/cli.ts';

/** service name -> RPC names, from the parsed protos. */
function protoServices(): Map<string, string[]> {
  const services = new Map<string, string[]>();
  const visit = (namespace: protobuf.NamespaceBase) => {
    for (const nested of namespace.nestedArray) {
      if (nested instanceof protobuf.Service && nested.fullName.startsWith('.devcompat.')) {
        services.set(nested.name, nested.methodsArray.map((method) => method.name).sort());
      } else if (nested instanceof protobuf.Namespace) visit(nested);
    }
  };
  visit(protoRoot());
  return services;
}

/** service name -> RPC names, from docs/api.md's table (`| service | RPC | kind | what |`). */
function documentedServices(): Map<string, string[]> {
  const doc = readFileSync(path.join(REPO_ROOT, 'docs/api.md'), 'utf8');
  const services = new Map<string, string[]>();
  let current: string | undefined;
  for (const line of doc.split('\n')) {
    if (!line.startsWith('| ')) {
      if (current !== undefined && line.trim() === '') current = undefined; // the table ended
      continue;
    }
    const cells = line.split('|').map((cell) => cell.trim());
    if (cells[1] === 'service' && cells[2] === 'RPC') {
      current = '';
      continue;
    }
    if (current === undefined || /^-+$/.test(cells[1])) continue;
    if (cells[1] !== '') current = cells[1].replace(/`/g, '');
    const rpcs = [...cells[2].matchAll(/`([A-Za-z]+)`/g)].map((match) => match[1]);
    services.set(current, [...(services.get(current) ?? []), ...rpcs].sort());
  }
  return services;
}

test('docs/api.md lists every service and every RPC of the protos, and no other', (t) => {
  const protos = protoServices();
  t.true(protos.size >= 5, 'the protos were parsed');
  t.deepEqual(Object.fromEntries(documentedServices()), Object.fromEntries(protos));
});

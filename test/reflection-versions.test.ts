// Server reflection in both of the protocol's versions (v1, and v1alpha, which older grpcurl and
// grpcio tools still ask), through the protocol's own .proto files as @grpc/reflection ships them.
// The server registers both methods at start and makes the reflection itself at the first call
// (server/grpc/reflection.ts): each version's first call is a server's first.

import test from 'ava';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { REPO_ROOT } from './helpers/cli.ts';
import { startTestServer, tempDir } from './helpers/server.ts';

const REFLECTION_PROTOS = path.join(path.dirname(createRequire(import.meta.url).resolve('@grpc/reflection/package.json')), 'build', 'proto');

for (const version of ['v1', 'v1alpha'] as const) {
  test(`reflection ${version}: the first call of a fresh server lists the API's services and health, and describes a file`, async (t) => {
    const { server } = await startTestServer(t);
    const definition = protoLoader.loadSync(`grpc/reflection/${version}/reflection.proto`, { keepCase: true, includeDirs: [REFLECTION_PROTOS] });
    const Reflection = (grpc.loadPackageDefinition(definition) as any).grpc.reflection[version].ServerReflection;
    const client = new Reflection(server.address, grpc.credentials.createInsecure());
    t.teardown(() => client.close());
    const call = client.ServerReflectionInfo();
    const answers: any[] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on('data', (answer: any) => {
        answers.push(answer);
        if (answers.length === 2) call.end();
      });
      call.on('end', resolve);
      call.on('error', reject);
    });
    call.write({ list_services: '' });
    call.write({ file_containing_symbol: 'devcompat.v1.RegistryService' });
    await done;
    const names = answers[0].list_services_response.service.map((service: { name: string }) => service.name);
    for (const name of ['devcompat.v1.RegistryService', 'devcompat.v1.CompatibilityService', 'grpc.health.v1.Health']) t.true(names.includes(name), name);
    t.true(answers[1].file_descriptor_response.file_descriptor_proto.length > 0, 'the file declaring RegistryService, and what it uses');
  });
}

test('a server that has started has loaded neither @grpc/reflection nor proto-loader: they load at the first reflection call', (t) => {
  // A process of its own (this one loads proto-loader for its clients), from a script outside
  // the checkout that imports the server's modules by their paths.
  const dir = tempDir(t);
  const module = (relative: string) => pathToFileURL(path.join(REPO_ROOT, relative)).href;
  const script = path.join(dir, 'lazy.mjs');
  writeFileSync(
    script,
    `
    import { createRequire } from 'node:module';
    import { startServer } from '${module('server/server.ts')}';
    import { reflectionService } from '${module('server/grpc/reflection.ts')}';
    const server = await startServer({ address: '127.0.0.1:0', dbPath: process.argv[2] });
    const loaded = () => Object.keys(createRequire(import.meta.url).cache).filter((file) => /@grpc[\\/](reflection|proto-loader)[\\/]/.test(file)).length;
    const atStart = loaded();
    reflectionService();
    console.log('LAZY ' + JSON.stringify({ atStart, afterReflection: loaded() }));
    await server.close();
  `,
  );
  const output = execFileSync(process.execPath, ['--import', 'tsx', script, path.join(dir, 'lazy.db')], { cwd: REPO_ROOT, encoding: 'utf8' });
  const line = output.split('\n').find((text) => text.startsWith('LAZY '));
  const { atStart, afterReflection } = JSON.parse(line!.slice('LAZY '.length));
  t.is(atStart, 0, 'nothing of either package loaded by a started server');
  t.true(afterReflection > 0, 'the check sees them once reflection is made');
});

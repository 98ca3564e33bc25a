// `devcompat agent describe` and `devcompat agent --once` as an operator runs them: what they
// print, their exit codes (0 all described, 1 some skipped, 2 error), and where the settings
// come from (flags, DEVCOMPAT_AGENT_* variables, a --config file).

import test from 'ava';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { DevcompatClient } from '../client/client.ts';
import { devcompat, lines } from './helpers/cli.ts';
import { hostFlags, SYSFS_FIXTURES } from './helpers/agent.ts';
import { startTestServer, tempDir } from './helpers/server.ts';

test.serial('describe: every device with its profile, exit 0 when all are described', async (t) => {
  const result = await devcompat(null, ['agent', 'describe', ...hostFlags('mlx-a')]);
  t.is(result.code, 0, result.stderr);
  const output = lines(result.stdout);
  t.deepEqual(output.slice(0, 3), [
    'DEVICE        PROFILE        TYPE           VERSION     FREE',
    '0000:3b:00.2  mlx5-vfio-pci  mlx5_vfio_pci  28.41.1000  1/1',
    '0000:3b:00.3  mlx5-vfio-pci  mlx5_vfio_pci  28.41.1000  1/1',
  ]);
  t.true(output.includes('0000:3b:00.2: vendor 15b3, vfio-pci, software_version 28.41.1000 (EQUAL)'));
  t.true(output.includes('  psid="MT_0000000838" (EQUAL)'));
  t.is(output.at(-1), '2 described, 0 skipped, 0 profile errors');
});

test.serial('describe: a skipped device says why, exit 1; --json has the same', async (t) => {
  const text = await devcompat(null, ['agent', 'describe', ...hostFlags('mixed-01')]);
  t.is(text.code, 1);
  t.true(lines(text.stdout).includes('  0000:5e:01.0: no profile matched (vendor 8086, device 1889, driver vfio-pci)'));
  const json = await devcompat(null, ['--json', 'agent', 'describe', ...hostFlags('mixed-01')]);
  t.is(json.code, 1);
  const parsed = JSON.parse(json.stdout);
  t.deepEqual(parsed.skipped, [{ device_id: '0000:5e:01.0', reason: 'no profile matched (vendor 8086, device 1889, driver vfio-pci)' }]);
  t.is(parsed.devices.length, 6);
  t.deepEqual(parsed.profile_errors, []);
});

test.serial('describe: a broken profile directory is reported, exit 1; an unknown config key is an error, exit 2', async (t) => {
  const dir = tempDir(t);
  writeFileSync(path.join(dir, 'mine.json'), '{"match": {"kind": "usb"}}');
  const broken = await devcompat(null, ['agent', 'describe', '--profiles', dir, ...hostFlags('mlx-a')]);
  t.is(broken.code, 1);
  t.true(lines(broken.stdout).includes(`  ${path.join(dir, 'mine.json')}: match.kind: must be one of pci, mdev_type`));

  const config = path.join(dir, 'agent.yaml');
  writeFileSync(config, 'host: a\nintervall: 5s\n');
  const bad = await devcompat(null, ['agent', 'describe', '--config', config]);
  t.is(bad.code, 2);
  t.is(bad.stderr.trim(), `devcompat: error: ${config}: intervall: unknown key (known: host, interval, sysfs_root, proc_root, profiles, devices_dir, drain_on_exit, labels, replay_commands, log_level, address)`);

  // Values an operator gets wrong: each refused naming the file and the key, exit 2.
  const refused = async (yaml: string, message: string) => {
    writeFileSync(config, yaml);
    const result = await devcompat(null, ['agent', 'describe', '--config', config, ...hostFlags('mlx-a')]);
    t.is(result.code, 2, yaml);
    t.is(result.stderr.trim(), `devcompat: error: ${config}: ${message}`);
  };
  await refused('host: a\ninterval: 30\n', 'interval: "30" has no unit: write 30s, 30ms or 30m');
  await refused('host: a\nlog_level: verbose\n', 'log_level: "verbose" is not one of debug, info, warn, error');
  await refused('host: a\nlabels: { zone: { name: z1 } }\n', 'labels.zone: must be a string, a number or true/false, not a mapping');
  const flag = await devcompat(null, ['agent', 'describe', '--interval', '30', ...hostFlags('mlx-a')]);
  t.is(flag.code, 2);
  t.is(flag.stderr.trim(), 'devcompat: error: --interval: "30" has no unit: write 30s, 30ms or 30m');
});

test.serial('--once syncs the host and exits 0; skipped devices exit 1; an unreachable registry exits 2', async (t) => {
  const { server } = await startTestServer(t);
  const client = new DevcompatClient({ address: server.address });
  t.teardown(() => client.close());
  const once = await devcompat(server.address, ['agent', '--host', 'mlx-a', '--once', '--label', 'zone=z1', ...hostFlags('mlx-a')]);
  t.is(once.code, 0, once.stdout + once.stderr);
  const synced = lines(once.stdout).map((line) => JSON.parse(line)).find((entry) => entry.msg === 'synced');
  t.like(synced, { changed: true, created: 2, devices: 2 });
  const host = await client.getHost('hosts/mlx-a');
  t.deepEqual(host.labels, { zone: 'z1' });
  t.is(host.device_count, 2);
  const [entry] = await first(client.history({ resource: 'hosts/mlx-a' }));
  t.is(entry.actor, 'agent@mlx-a', 'the agent writes as agent@<host> unless --actor says otherwise');

  // Settings from the environment and a config file: the same host, nothing changes.
  const config = path.join(tempDir(t), 'agent.yaml');
  writeFileSync(config, `host: mlx-a\nsysfs_root: ${path.join(SYSFS_FIXTURES, 'mlx-a/sys')}\nlabels: { zone: z1 }\n`);
  const again = await devcompat(server.address, ['agent', '--once', '--config', config], {
    env: { DEVCOMPAT_AGENT_REPLAY_COMMANDS: path.join(SYSFS_FIXTURES, 'mlx-a/commands.json'), DEVCOMPAT_AGENT_DEVICES_DIR: path.join(SYSFS_FIXTURES, 'mlx-a/devices.d') },
  });
  t.is(again.code, 0, again.stdout + again.stderr);
  t.like(lines(again.stdout).map((line) => JSON.parse(line)).find((entry) => entry.msg === 'synced'), { changed: false });

  const mixed = await devcompat(server.address, ['agent', '--host', 'mixed-01', '--once', ...hostFlags('mixed-01')]);
  t.is(mixed.code, 1, 'a device was skipped');
  t.is((await client.getHost('hosts/mixed-01')).device_count, 6);

  const down = await devcompat('127.0.0.1:1', ['--timeout', '2000', 'agent', '--host', 'mlx-a', '--once', ...hostFlags('mlx-a')]);
  t.is(down.code, 2);
  const failure = lines(down.stdout).map((line) => JSON.parse(line)).find((entry) => entry.msg === 'sync failed');
  // Refused at once (UNAVAILABLE), or, on a machine too busy to connect in time, out of time.
  t.true(['UNAVAILABLE', 'DEADLINE_EXCEEDED'].includes(failure?.code), JSON.stringify(failure));
});

test.serial('--host is required and checked', async (t) => {
  const missing = await devcompat('127.0.0.1:1', ['agent', '--once', ...hostFlags('mlx-a')]);
  t.is(missing.code, 2);
  t.regex(missing.stderr, /--host \(or DEVCOMPAT_AGENT_HOST, or host: in --config\) is required/);
  const bad = await devcompat('127.0.0.1:1', ['agent', '--host', 'Bad Host', '--once']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--host: "Bad Host" is not a host id/);
});

async function first<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  for await (const item of iterable) return [item];
  return [];
}

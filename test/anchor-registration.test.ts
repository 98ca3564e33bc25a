// The head anchor's registration (migration 0006, server/store/anchor-registration.ts): a
// database remembers that its head is anchored beside it, so deleting the anchor together with
// the tail of history is refused at start-up, naming both files; the operator's way out,
// `--reanchor <reason>`, is recorded in the database with who and why; a fresh database still
// starts with no flags at all, as the README's `npm start` does.

import test from 'ava';
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DevcompatClient } from '../client/client.ts';
import { startServer } from '../server/server.ts';
import { SEMI_SPACE_FLAG } from '../server/heap-settings.ts';
import { decideRegistration } from '../server/store/anchor-registration.ts';
import { REPO_ROOT, spawnWithOutput } from './helpers/cli.ts';
import { failedStart, spawnServer } from './helpers/process.ts';
import { execSql, queryRow } from './helpers/db-file.ts';
import { startTestServer, tempDir } from './helpers/server.ts';

const host = (name: string, zone: string) => ({ name: `hosts/${name}`, labels: { zone }, devices: [] });




/** A database with five revisions, its server stopped. */
async function fiveRevisions(t: Parameters<typeof startTestServer>[0]) {
  const first = await startTestServer(t);
  for (let i = 0; i < 5; i++) await first.client.syncHost(host('a', `z${i}`));
  await first.server.close();
  return first;
}

test('the anchor and the tail deleted together: refused at start-up, naming both files; --reanchor is recorded and lets it start', async (t) => {
  const first = await fiveRevisions(t);
  const anchor = `${first.dbPath}.head`;
  // Behind the server's back: revisions 4 and 5 gone, and the anchor that remembers them.
  execSql(first.dbPath, 'DELETE FROM history WHERE revision > 3; DELETE FROM revisions WHERE revision > 3');
  rmSync(anchor);

  const refused = await failedStart(['--db', first.dbPath, '--address', '127.0.0.1:0']);
  t.is(refused.code, 1);
  t.false(refused.served);
  t.is(
    refused.fatal,
    `devcompat cannot start: the head anchor ${anchor} is missing, but the database ${first.dbPath} records that it has been anchored ` +
      `since revision 0 (anchor ${queryRow<{ id: string }>(first.dbPath, 'SELECT substr(anchor_id, 1, 8) AS id FROM head_anchor').id}…). ` +
      'A deleted anchor is how a rolled-back database or a deleted history tail would hide. Refusing to start. ' +
      'If only the anchor was lost (not history), check the history against a head kept elsewhere ' +
      '(devcompat audit verify --expect-head <logged head>) and start once with --reanchor "<reason>": ' +
      'the re-anchoring is recorded as a revision in the database',
  );
  t.false(existsSync(anchor), 'a refused start leaves no anchor behind to vouch for the file next time');

  // The documented recovery: one start with --reanchor and a reason. It is logged loudly and
  // recorded as the next revision, by the reserved server actor, naming the OS user and why.
  const reanchored = await spawnServer(['--db', first.dbPath, '--address', '127.0.0.1:0', '--reanchor', 'INC-99: anchor lost with /var/lib restore']);
  t.teardown(() => void reanchored.child.kill('SIGKILL'));
  const warning = reanchored.stdout.map((line) => JSON.parse(line)).find((line) => line.level === 40);
  t.regex(warning?.msg ?? '', /^RE-ANCHORED by \S+@\S+ \(INC-99: anchor lost with \/var\/lib restore\): the head anchor .*registry\.db\.head is missing.*; recorded as revision 4$/);
  const client = new DevcompatClient({ address: reanchored.address });
  t.teardown(() => client.close());
  t.is((await client.syncHost(host('a', 'after'))).revision, '5');
  reanchored.child.kill('SIGTERM');
  await reanchored.exited;
  const record = queryRow<{ actor: string; reason: string }>(first.dbPath, 'SELECT actor, reason FROM revisions WHERE revision = 4');
  t.is(record.actor, 'devcompat');
  t.regex(record.reason, /^re-anchored by \S+@\S+: INC-99: anchor lost with \/var\/lib restore; the head anchor .* is missing/);
  t.like(queryRow(first.dbPath, 'SELECT since_revision AS since, anchor_path AS at FROM head_anchor'), { since: 4, at: anchor });

  // From then on the new anchor vouches: no flag needed, and a second deletion is caught again.
  const next = await startTestServer(t, { dbPath: first.dbPath, dir: first.dir });
  t.is((await next.client.getHost('hosts/a')).labels.zone, 'after');
  await next.server.close();
  rmSync(anchor);
  const again = await t.throwsAsync(startServer({ dbPath: first.dbPath, address: '127.0.0.1:0' }));
  t.regex(again!.message, /the head anchor .* is missing, but the database .* has been anchored since revision 4/);
});

test('deleting the registration too, or putting another database\'s anchor in place, is refused', async (t) => {
  const first = await fiveRevisions(t);
  const anchor = `${first.dbPath}.head`;

  // The anchor replaced by another database's (which would vouch for any head it is given).
  const other = await fiveRevisions(t);
  copyFileSync(`${other.dbPath}.head`, anchor);
  const foreign = await t.throwsAsync(startServer({ dbPath: first.dbPath, address: '127.0.0.1:0' }));
  t.regex(foreign!.message, /the head anchor .*registry\.db\.head is not the one the database .*registry\.db registered .*belongs to another database or was replaced\. Refusing to start/);

  // The registration row and the anchor deleted, and the tail with them.
  rmSync(anchor);
  execSql(first.dbPath, 'DELETE FROM head_anchor; DELETE FROM history WHERE revision > 3; DELETE FROM revisions WHERE revision > 3');
  const unregistered = await t.throwsAsync(startServer({ dbPath: first.dbPath, address: '127.0.0.1:0' }));
  t.regex(unregistered!.message, /the database .*registry\.db has no head-anchor registration \(its head_anchor row was deleted\).*--reanchor/);

  // A moved database names where its anchor was registered.
  const moved = path.join(first.dir, 'moved.db');
  const fresh = await fiveRevisions(t);
  copyFileSync(fresh.dbPath, moved);
  const away = await t.throwsAsync(startServer({ dbPath: moved, address: '127.0.0.1:0' }));
  t.regex(away!.message, /it was registered at .*registry\.db\.head: if the database was moved, move its anchor beside it/);
  copyFileSync(`${fresh.dbPath}.head`, `${moved}.head`);
  const served = await startTestServer(t, { dbPath: moved, dir: first.dir });
  t.is((await served.client.getHost('hosts/a')).labels.zone, 'z4', 'moved with its anchor, it starts');
});

test('a fresh database starts with no flags at all (the README\'s npm start), and restarts without any', async (t) => {
  const dir = tempDir(t);
  // `npm start` in a new checkout: ./data/devcompat.db under the working directory, node given
  // npm start's flag. The port comes from the environment so that the test does not take 50051.
  const main = path.join(REPO_ROOT, 'server/main.ts');
  const start = async () => {
    const child = spawnWithOutput(process.execPath, [SEMI_SPACE_FLAG, '--import', import.meta.resolve('tsx'), main], {
      cwd: dir,
      env: { DEVCOMPAT_LISTEN_ADDRESS: '127.0.0.1:0' },
    });
    t.teardown(() => void child.child.kill('SIGKILL'));
    await child.waitForLine((line) => line.includes('"msg":"devcompat serving"'), 20_000);
    child.child.kill('SIGTERM');
    t.is((await child.exited).code, 0, child.stdout.join('\n'));
    return child.stdout.map((line) => JSON.parse(line) as Record<string, unknown>);
  };
  const created = await start();
  t.like(created.find((line) => line.msg === 'database checked'), { head_anchor: 'create' });
  t.true(existsSync(path.join(dir, 'data/devcompat.db.head')));
  const restarted = await start();
  t.like(restarted.find((line) => line.msg === 'database checked'), { head_anchor: 'match' });
  t.false(restarted.some((line) => (line.level as number) >= 40), 'nothing to warn about');
});

test('a database upgraded to migration 0006 registers the anchor it has, without a flag', (t) => {
  const found = { state: 'present' as const, id: undefined, path: '/d/x.db.head' };
  const decision = decideRegistration({ anchorId: null, anchorPath: null, sinceRevision: null }, found, '/d/x.db', undefined);
  t.is(decision.action, 'register');
  // An anchor written by a start that crashed before registering it is adopted, not refused.
  t.like(decideRegistration({ anchorId: null, anchorPath: null, sinceRevision: null }, { ...found, id: 'ab'.repeat(16) }, '/d/x.db', undefined), {
    action: 'register',
    anchorId: 'ab'.repeat(16),
  });
  t.deepEqual(decideRegistration({ anchorId: 'ab'.repeat(16), anchorPath: found.path, sinceRevision: 3 }, { ...found, id: 'ab'.repeat(16) }, '/d/x.db', undefined), {
    action: 'registered',
  });
  // An unreadable anchor of a registered database needs the recorded act, not --accept-restore.
  t.throws(() => decideRegistration({ anchorId: 'ab'.repeat(16), anchorPath: found.path, sinceRevision: 3 }, { ...found, state: 'unreadable' }, '/d/x.db', undefined), {
    message: /the head anchor \/d\/x\.db\.head of the database \/d\/x\.db is unreadable.*--reanchor/,
  });
});

// The CLI never prints a control character from a stored value raw: an escape sequence in a
// label (from a database written before the server refused them, or edited) cannot recolour,
// clear or forge lines of an operator's terminal. Table cells escape newlines too, so one row
// stays one line; JSON output escapes what JSON.stringify leaves raw (DEL, the C1 controls),
// with JSON's own escapes (`\u007f`), so that it still parses and gives the stored value back.

import test from 'ava';
import { openDatabase } from '../server/store/open-database.ts';
import { devcompat, jsonLines, lines } from './helpers/cli.ts';
import { startTestServer } from './helpers/server.ts';

// ESC [31m (red), BEL, the one-character CSI U+009B, a newline, DEL.
const HOSTILE = '\u001b[31mred\u0007\u009b2J\nforged line\u007f';
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

/** What `parse` gives, or an error naming the command and showing what it printed. */
function parsed(parse: () => any, args: string[], stdout: string): any {
  try {
    return parse();
  } catch (error) {
    throw new Error(`${args.join(' ')}: not JSON (${(error as Error).message}): ${JSON.stringify(stdout)}`);
  }
}

test('stored control characters are escaped in tables, single values, JSON and errors', async (t) => {
  const first = await startTestServer(t);
  await first.client.syncHost({ name: 'hosts/a', labels: { note: 'plain' }, devices: [] });
  await first.server.close();
  const db = openDatabase(first.dbPath);
  db.prepare('UPDATE hosts SET labels = ? WHERE host_id = ?').run(JSON.stringify({ note: HOSTILE }), 'a');
  db.close();
  const server = await startTestServer(t, { dbPath: first.dbPath, dir: first.dir });
  const cli = (...args: string[]) => devcompat(server.server.address, args);

  const list = await cli('hosts', 'list');
  t.is(list.code, 0, list.stderr);
  t.false(RAW_CONTROL.test(list.stdout), JSON.stringify(list.stdout));
  t.is(lines(list.stdout).length, 2, 'a header and one row: the newline in the label did not forge a line');
  t.true(list.stdout.includes('note=\\x1b[31mred\\x07\\x9b2J\\x0aforged line\\x7f'), list.stdout);

  for (const args of [['hosts', 'get', 'a'], ['--json', 'hosts', 'get', 'a'], ['--json', 'hosts', 'list']]) {
    const result = await cli(...args);
    t.is(result.code, 0, result.stderr);
    t.false(RAW_CONTROL.test(result.stdout), `${args.join(' ')}: ${JSON.stringify(result.stdout)}`);
    t.true(result.stdout.includes('red'), `${args.join(' ')} still shows the value`);
  }

  // JSON output is still JSON, and reads back as the stored value, every character of it.
  for (const args of [['--json', 'hosts', 'get', 'a'], ['-o', 'json', 'hosts', 'get', 'a']]) {
    const result = await cli(...args);
    t.is(result.code, 0, result.stderr);
    const host = parsed(() => JSON.parse(result.stdout), args, result.stdout);
    t.is(host?.labels?.note, HOSTILE, args.join(' '));
  }
  for (const args of [['--json', 'hosts', 'list'], ['-o', 'json', 'hosts', 'list']]) {
    const result = await cli(...args);
    t.is(result.code, 0, result.stderr);
    const hosts = parsed(() => jsonLines(result.stdout), args, result.stdout);
    t.deepEqual(hosts?.map((host: any) => host.labels.note), [HOSTILE], args.join(' '));
  }

  // An error that echoes input back (here a host name the user typed) is escaped too.
  const refused = await cli('hosts', 'get', 'bad\u001b]0;title\u0007');
  t.is(refused.code, 2);
  t.false(RAW_CONTROL.test(refused.stderr.trimEnd()), JSON.stringify(refused.stderr));
  t.regex(refused.stderr, /\\x1b\]0;title\\x07/);
});

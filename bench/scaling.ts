// The scaling table (`npm run bench:scaling`): how the server's costs grow with the fleet. For
// each fleet size, one after the other, it runs the benchmark as
//
//   npm run bench -- --only sync,rss,restart,find --hosts N --out <out-dir>/scaling-N.json
//
// (each run's output goes to <out-dir>/scaling-N.log), then prints one table: sync time, server
// RSS after seeding and the RSS each device added over the previous size, restart time and the
// FindTargets p99 of the three sources, with each run's load average at start and noise.
//
//   npm run bench:scaling -- [--sizes 2500,10000,20000] [--out-dir bench/results] [-- <bench options>]
//   npm run bench:scaling -- --sizes 100000 -- --sync-timeout 900     (the 100,000-host fleet alone)
//   npm run bench:scaling -- --sizes 2500,10000,20000,100000 --print-only   (the table again, from the JSON files)
//
// On a shared machine the wall times move with the load; the server's CPU seconds for the sync
// and for the restart are printed next to them, as they move much less.

import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from './processes.ts';
import { fmt, markdownTable, textTable } from './stats.ts';

const separator = process.argv.indexOf('--', 2);
const own = separator === -1 ? process.argv.slice(2) : process.argv.slice(2, separator);
const passed = separator === -1 ? [] : process.argv.slice(separator + 1);
const { values } = parseArgs({
  args: own,
  options: {
    sizes: { type: 'string', default: '2500,10000,20000' },
    'out-dir': { type: 'string', default: 'bench/results' },
    'print-only': { type: 'boolean', default: false },
  },
  strict: true,
});
const sizes = String(values.sizes).split(',').map((s) => Number(s.trim()));
if (sizes.length === 0 || sizes.some((n) => !Number.isSafeInteger(n) || n < 1)) {
  console.error(`--sizes must be a comma-separated list of host counts, got ${values.sizes}`);
  process.exit(2);
}
const outDir = path.resolve(REPO_ROOT, String(values['out-dir']));
mkdirSync(outDir, { recursive: true });

/** The fields of bench/run.ts's JSON results this table reads. */
interface RunJson {
  command: string;
  loadAverageAtStart?: number[];
  machine: { source: { commit: string; dirty: boolean } };
  fleet?: { devices: number };
  sync?: { seconds: number; failures: number; timedOut: boolean; cpu?: { serverCpuS: number; otherCpuS: number; wallS: number } };
  rss?: { afterSeedBytes: number; afterSettleBytes: number };
  restart?: { readyMs: number; firstAnswerMs: number; bareStartMs: number; rssBytes?: number; cpu?: { serverCpuS: number } };
  find?: { source: string; lastMs: { p99: number } }[];
  errors: string[];
}

/** A path relative to the repository when it is inside it. */
const shown = (file: string) => (path.relative(REPO_ROOT, file).startsWith('..') ? file : path.relative(REPO_ROOT, file));

function runBench(hosts: number): Promise<RunJson> {
  const out = path.join(outDir, `scaling-${hosts}.json`);
  if (values['print-only']) return Promise.resolve(JSON.parse(readFileSync(out, 'utf8')) as RunJson);
  const logFile = path.join(outDir, `scaling-${hosts}.log`);
  const args = ['--import', 'tsx', 'bench/run.ts', '--only', 'sync,rss,restart,find', '--hosts', String(hosts), '--out', out, ...passed];
  console.log(`\n== ${fmt(hosts)} hosts: node ${args.join(' ')}  (output in ${shown(logFile)})`);
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      log.end();
      let json: RunJson;
      try {
        json = JSON.parse(readFileSync(out, 'utf8'));
      } catch {
        reject(new Error(`the ${hosts}-host run (${signal ?? `exit code ${code}`}) wrote no results; see ${logFile}`));
        return;
      }
      if (json.errors.length > 0) console.log(`  the run reported errors (exit ${signal ?? code}): ${json.errors[0].split('\n')[0]}`);
      resolve(json);
    });
  });
}

const MB = 1e6;
const header = ['hosts', 'devices', 'sync (server CPU)', 'RSS after seeding', 'RSS per added device', 'restart to first answer (server CPU; bare grpc-js start)', 'FindTargets last p99 gvtg / nvidia / mlx5', 'load avg at start', 'sync noise'];
const rows: string[][] = [];
let previous: { devices: number; rss: number } | undefined;
let commit = '';
for (const hosts of sizes) {
  const r = await runBench(hosts);
  commit = `${r.machine.source.commit}${r.machine.source.dirty ? ' (uncommitted changes)' : ''}`;
  const devices = r.fleet?.devices ?? Number.NaN;
  const rss = r.rss ? r.rss.afterSeedBytes : Number.NaN;
  const slope = previous ? `${fmt((rss - previous.rss) / (devices - previous.devices))} B` : '';
  previous = { devices, rss };
  const sync = r.sync
    ? `${fmt(r.sync.seconds, 2)} s (${fmt(r.sync.cpu?.serverCpuS ?? Number.NaN, 1)} s)${r.sync.failures > 0 || r.sync.timedOut ? ' INCOMPLETE' : ''}`
    : 'failed';
  const restart = r.restart
    ? `${fmt(r.restart.firstAnswerMs / 1000, 2)} s (${fmt(r.restart.cpu?.serverCpuS ?? Number.NaN, 1)} s; ${fmt(r.restart.bareStartMs / 1000, 2)} s)`
    : 'not measured';
  const find = r.find && r.find.length > 0 ? `${r.find.map((f) => fmt(f.lastMs.p99, 1)).join(' / ')} ms` : 'not measured';
  const load = r.loadAverageAtStart ? r.loadAverageAtStart[0].toFixed(2) : '?';
  const noise = r.sync?.cpu ? `${fmt((r.sync.cpu.otherCpuS / r.sync.cpu.wallS) * 100)}%` : '';
  rows.push([fmt(hosts), fmt(devices), sync, r.rss ? `${fmt(rss / MB)} MB` : 'not measured', slope, restart, find, load, noise]);
  console.log(`  ${rows.at(-1)!.map((cell, i) => `${header[i]}: ${cell}`).join('; ')}`);
}
console.log(`\n== scaling at commit ${commit} (RSS: right after seeding; per added device: the RSS difference with the previous size over the devices added)\n`);
console.log(textTable(header, rows));
console.log(`\nas Markdown:\n\n${markdownTable(header, rows)}`);

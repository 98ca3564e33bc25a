// The CLI's output formats (`-o json|yaml|table|wide`, `--json` being `-o json`) and how a
// message is written in the two machine-readable ones: proto3 JSON (client/proto-json.ts),
// pretty for one answer and one object per line for lists and streams (JSON Lines); YAML, the
// same data, one document per answer and a `---` separated document per list or stream item.
// `table` and `wide` are the commands' own human output (wide adds columns).

import { Option } from 'commander';
import { stringify } from 'yaml';
import { toProtoJson } from './proto-json.ts';

export const OUTPUT_FORMATS = ['json', 'yaml', 'table', 'wide'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export const outputOption = () =>
  new Option('-o, --output <format>', 'output format: json (proto3 JSON, as buf curl prints), yaml, table or wide (more columns)')
    .choices(OUTPUT_FORMATS);

/** The format asked for: `-o`, else `--json`, else a table. Both given and different is a usage error (`conflict`). */
export function outputFormat(options: { output?: OutputFormat; json?: boolean }, conflict: (message: string) => never): OutputFormat {
  if (options.json && options.output !== undefined && options.output !== 'json') {
    conflict(`--json is -o json: it cannot go with -o ${options.output}`);
  }
  return options.output ?? (options.json ? 'json' : 'table');
}

/** One answer, `value` a message of `devcompat.v1.{type}`. */
export function renderOne(format: 'json' | 'yaml', type: string, value: unknown): string {
  const json = toProtoJson(`devcompat.v1.${type}`, value);
  return format === 'json' ? JSON.stringify(json, null, 2) : stringify(json).trimEnd();
}

/** One item of a list or a stream. */
export function renderItem(format: 'json' | 'yaml', type: string, value: unknown): string {
  const json = toProtoJson(`devcompat.v1.${type}`, value);
  return format === 'json' ? JSON.stringify(json) : `---\n${stringify(json).trimEnd()}`;
}

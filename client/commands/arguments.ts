// The argument and option readers that several command groups share: numbers and revisions,
// repeatable key=value labels, host and device names, JSON input files checked against their
// proto message, ISO times and the point-in-time options. Each refuses bad input with a
// UsageError (or commander's InvalidArgumentError) that names the flag.

import { InvalidArgumentError, Option } from 'commander';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readMessageJson, JsonShapeError } from '../../proto/strict-json.ts';
import type { AsOf, Descriptor, DeviceRef } from '../types.ts';
// `gpu-07` or `hosts/gpu-07`: both name hosts/gpu-07, as in the client library.
export { hostName } from '../errors.ts';
import { UsageError } from './context.ts';

export function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number <= 0) throw new InvalidArgumentError('must be a positive integer');
  return number;
}

/** A revision: a whole number >= 0, passed on as a decimal string (int64 stays exact). */
export function revision(value: string): string {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number (a revision)');
  return value;
}

/** A repeatable option's values, in order. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function labelsOf(pairs: string[] | undefined, flag: string): Record<string, string> | undefined {
  if (!pairs || pairs.length === 0) return undefined;
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new UsageError(`${flag} takes key=value, got "${pair}"`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

/** Reads a JSON file against a proto message, refusing unknown fields with their path. */
export function readJsonFile(file: string, typeName: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`${file}: no such file`);
    if (code === 'EISDIR') throw new UsageError(`${file}: is a directory, not a file`);
    throw new UsageError(`${file}: cannot read it (${(error as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  try {
    return readMessageJson(typeName, parsed);
  } catch (error) {
    if (error instanceof JsonShapeError) throw new UsageError(`${file}: ${error.message}`);
    throw error;
  }
}

/** An argument naming an existing file is a descriptor JSON file; otherwise a device name. */
export function deviceRef(argument: string): DeviceRef {
  if (existsSync(argument) && statSync(argument).isFile()) {
    return readJsonFile(argument, 'devcompat.v1.Descriptor') as unknown as Descriptor;
  }
  if (!argument.startsWith('hosts/')) {
    throw new UsageError(`${argument}: no such file (nor a device name hosts/{host}/devices/{device})`);
  }
  return argument;
}

/** How output names a device argument: its name, or the file it was read from. */
export function refLabel(argument: string, ref: DeviceRef): string {
  return typeof ref === 'string' ? ref : `${argument} (inline)`;
}

/** An ISO 8601 time given to `flag`. */
export function isoTime(text: string | undefined, flag: string): Date | undefined {
  if (text === undefined) return undefined;
  const parsed = new Date(text);
  if (Number.isNaN(parsed.getTime())) throw new UsageError(`${flag} takes an ISO 8601 time, got "${text}"`);
  return parsed;
}

/** `--as-of-revision` / `--as-of-time`: a point-in-time read, at most one of the two. */
export function asOfOf(options: { asOfRevision?: string; asOfTime?: string }): AsOf {
  if (options.asOfRevision !== undefined && options.asOfTime !== undefined) {
    throw new UsageError('give at most one of --as-of-revision and --as-of-time');
  }
  return { asOfRevision: options.asOfRevision, asOfTime: isoTime(options.asOfTime, '--as-of-time') };
}

export const asOfRevisionOption = () =>
  new Option('--as-of-revision <n>', 'answer as the registry would have at this revision').argParser(revision);
/** `--min-revision`: read your own writes made through another replica (request field min_revision). */
export const minRevisionOption = () =>
  new Option('--min-revision <n>', 'answer only once the server has applied this revision (waits up to the deadline, at most 5 s): read a write made through another replica').argParser(
    revision,
  );
export const asOfTimeOption = () => new Option('--as-of-time <time>', 'answer as the registry would have at this time (ISO 8601)');

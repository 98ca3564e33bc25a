// What a command group gets from the program (client/cli.ts) besides the commander program
// itself: a client built from the global options, the output streams in the CLI's two forms
// (tables/lines, or proto3 JSON / YAML with -o), and a way to set the exit code. The exit codes
// and the usage error live here too, since both the groups and cli.ts use them; keeping them
// out of cli.ts lets a group import them without importing the program that imports it.

import type { Command } from 'commander';
import type { DevcompatClient } from '../client.ts';
import type { OutputFormat } from '../output.ts';

export const EXIT_OK = 0;
export const EXIT_INCOMPATIBLE = 1;
export const EXIT_ERROR = 2;
/** `audit verify`: the history chain is broken. */
export const EXIT_BROKEN = 1;

/** Wrong input from the user (a bad flag value, an unreadable file): printed as `error: ...`, exit 2. */
export class UsageError extends Error {}

/** The program's own options, valid anywhere on the command line. */
export interface GlobalOptions {
  address: string;
  json: boolean;
  /** -o: unset when not given (--json may then choose json). */
  output?: OutputFormat;
  actor?: string;
  reason?: string;
  timeout: number;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
}

export interface CommandContext {
  /** The global options as parsed (read them inside an action, never at registration). */
  options(): GlobalOptions;
  /** A new client for the registry at --address; close it when done (withClient does). */
  client(): DevcompatClient;
  /** Runs `use` with a new client and closes the client however `use` ends. */
  withClient<T>(use: (client: DevcompatClient) => Promise<T>): Promise<T>;
  /** The output format: -o, or --json (json), else table. */
  output(): OutputFormat;
  /** Machine-readable output was asked (-o json or yaml, --json): print messages with print/printLine. */
  json(): boolean;
  /** -o wide: tables with their extra columns. */
  wide(): boolean;
  /** One line (or block) on stdout. */
  out(text: string): void;
  /** One line on stderr. */
  err(text: string): void;
  /** `value`, a `devcompat.v1.{type}` message, in proto3 JSON (pretty) or YAML: one object answers. */
  print(type: string, value: unknown): void;
  /** `value` as one JSON line or one YAML document: each item of a list or a stream. */
  printLine(type: string, value: unknown): void;
  setExitCode(code: number): void;
  /** The one-line text of an error, as the CLI prints it after `devcompat: `. */
  describeError(error: unknown): string;
}

/**
 * A command group: adds its commands to the program. Every file of client/commands/ (but this
 * one and arguments.ts) exports one, and client/cli.ts calls each once. A group that needs no
 * context may take only `program`.
 */
export type RegisterCommands = (program: Command, cli: CommandContext) => void;

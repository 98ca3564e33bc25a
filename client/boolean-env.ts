// A boolean flag's environment variable, read by its value. commander turns a boolean flag on
// when its variable is set at all, whatever it holds, so `DEVCOMPAT_INSECURE=false` would turn
// insecure mode on; here `1`/`true`/`yes`/`on` turn it on, `0`/`false`/`no`/`off` or an empty
// value leave it off, and anything else is an error naming the variable. Used by every command
// whose boolean flags take a variable (`devcompat serve`, the agent).

import type { Command } from 'commander';

export class BooleanEnvError extends Error {}

const ON = new Set(['1', 'true', 'yes', 'on']);
const OFF = new Set(['', '0', 'false', 'no', 'off']);

/** The value of a boolean variable, case and surrounding blanks ignored. Throws BooleanEnvError. */
export function parseBooleanEnv(name: string, value: string): boolean {
  const word = value.trim().toLowerCase();
  if (ON.has(word)) return true;
  if (OFF.has(word)) return false;
  throw new BooleanEnvError(`${name}=${JSON.stringify(value)}: must be true or false (also 1/0, yes/no, on/off)`);
}

/** Sets each of `command`'s boolean flags that commander took from its variable to what the variable says. */
export function applyBooleanEnvironment(command: Command): void {
  for (const option of command.options) {
    if (option.required || option.optional || !option.envVar) continue;
    const attribute = option.attributeName();
    if (command.getOptionValueSource(attribute) !== 'env') continue;
    const value = parseBooleanEnv(option.envVar, process.env[option.envVar] ?? '');
    command.setOptionValueWithSource(attribute, option.negate ? !value : value, 'env');
  }
}

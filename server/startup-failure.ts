// Why the server could not start, in words, whatever was thrown: an Error's message with its
// causes, or a description of a thrown value that is not an Error (`String(undefined)` and an
// Error without a message once made `npm start` log "devcompat cannot start: undefined").

import { inspect } from 'node:util';

export function startupFailureCause(thrown: unknown): string {
  const parts: string[] = [];
  let current: unknown = thrown;
  for (let depth = 0; depth < 5 && current !== undefined; depth++) {
    if (current instanceof Error) {
      parts.push(current.message || current.name || 'an error without a message');
      current = current.cause;
    } else {
      parts.push(typeof current === 'string' ? current : `a thrown ${inspect(current, { depth: 2, breakLength: Infinity })}`);
      break;
    }
  }
  if (parts.length === 0) return 'an unknown error (undefined was thrown)';
  // A wrapper's message usually quotes its cause already.
  return parts.filter((part, i) => i === 0 || !parts[i - 1].includes(part)).join(': ');
}

// A server's log, kept in memory: tests wait for the line that says an event happened (a
// compaction, a start-up step) instead of polling for its effects or sleeping.

import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export interface CapturedLog {
  readonly logger: Logger;
  readonly lines: Record<string, any>[];
  /** Resolves with the first line whose `msg` is `message`, failing after `timeoutMs`. */
  waitFor(message: string, timeoutMs?: number): Promise<Record<string, any>>;
}

export function capturedLog(): CapturedLog {
  const lines: Record<string, any>[] = [];
  const listeners = new Set<() => void>();
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n')) if (text) lines.push(JSON.parse(text));
      for (const listener of [...listeners]) listener();
      done();
    },
  });
  return {
    logger: pino({ level: 'info' }, stream),
    lines,
    waitFor(message, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = lines.find((candidate) => candidate.msg === message);
          if (!line) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve(line);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no "${message}" log line within ${timeoutMs} ms; got ${lines.map((l) => l.msg).join(', ')}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
  };
}

// A server's log, kept in memory: tests wait for the line that says an event happened (a
// compaction, a start-up step) instead of polling for its effects or sleeping.

import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export interface CapturedLog {
  readonly logger: Logger;
  readonly lines: Record<string, any>[];
  /** Resolves with the first line whose `msg` is `message`, failing after `timeoutMs`. */
  waitFor(message: string, timeoutMs?: number): Promise<Record<string, any>>;
  /** Resolves with the `count`th line that `accepts`, failing after `timeoutMs`. */
  waitForLine(accepts: (line: Record<string, any>) => boolean, count?: number, timeoutMs?: number): Promise<Record<string, any>>;
}

export function capturedLog(level: 'info' | 'debug' = 'info'): CapturedLog {
  const lines: Record<string, any>[] = [];
  const listeners = new Set<() => void>();
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n')) if (text) lines.push(JSON.parse(text));
      for (const listener of [...listeners]) listener();
      done();
    },
  });
  const waitForLine = (accepts: (line: Record<string, any>) => boolean, count = 1, timeoutMs = 20_000, what = 'such') =>
    new Promise<Record<string, any>>((resolve, reject) => {
      const check = () => {
        const found = lines.filter(accepts);
        if (found.length < count) return;
        clearTimeout(timer);
        listeners.delete(check);
        resolve(found[count - 1]);
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`no ${what} log line within ${timeoutMs} ms; got ${lines.map((l) => l.msg).join(', ')}`));
      }, timeoutMs);
      listeners.add(check);
      check();
    });
  return {
    logger: pino({ level }, stream),
    lines,
    waitFor: (message, timeoutMs = 20_000) => waitForLine((line) => line.msg === message, 1, timeoutMs, `"${message}"`),
    waitForLine: (accepts, count, timeoutMs) => waitForLine(accepts, count, timeoutMs),
  };
}

// gRPC spoken by hand over a plain HTTP/2 session, so that a test can misbehave precisely: open
// calls that never read their answers, send a request in parts or never end it, and see how the
// server ended each call (its status and message, and how its stream was reset).

import * as http2 from 'node:http2';

export interface RawOutcome {
  status?: number;
  message?: string;
  rstCode?: number;
}

/**
 * An HTTP/2 session that speaks gRPC framing by hand, so that a test can misbehave precisely.
 * `options.maxSessionMemory` (MB, Node's default 10) bounds what it may queue to send: past it,
 * Node refuses the session's new streams itself (RST_STREAM ENHANCE_YOUR_CALM).
 */
export function rawSession(address: string, settings: http2.Settings = {}, options: Pick<http2.ClientSessionOptions, 'maxSessionMemory'> = {}) {
  const session = http2.connect(`http://${address}`, { settings, ...options });
  session.on('error', () => {});
  /** Opens a call; its responses are read unless `read` is false (a client that never reads). */
  const open = (method: string, read = true) => {
    const stream = session.request({
      ':method': 'POST',
      ':path': method,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const outcome: RawOutcome = {};
    const headers = (fields: http2.IncomingHttpHeaders) => {
      if (fields['grpc-status'] !== undefined) {
        outcome.status = Number(fields['grpc-status']);
        outcome.message = decodeURIComponent(String(fields['grpc-message'] ?? ''));
      }
    };
    stream.on('response', headers);
    stream.on('trailers', headers);
    stream.on('error', () => {});
    if (read) stream.resume();
    const ended = new Promise<RawOutcome>((resolve) =>
      stream.on('close', () => {
        outcome.rstCode = stream.rstCode;
        resolve(outcome);
      }),
    );
    return { stream, ended };
  };
  return { session, open };
}

/** A gRPC frame: the flag byte, the length, then the message bytes. */
export function frame(message: Uint8Array): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

// The HTTP/2 flow-control window the server grants its clients (issue 7): how many bytes a
// client may send on a connection, and on one stream, before the server has read them.
//
// HTTP/2's default is 64 KB, and grpc-js's server keeps it (its `grpc-node.flow_control_window`
// channel option exists on the client only). With it, one CheckCompatibilityStream that keeps 8
// messages of 500 checks (~43 KB each) unanswered has barely one and a half of them at the
// server: the rest wait in the client until the server reads and grants more, a round of
// WINDOW_UPDATEs that the client, busy decoding responses, answers late. The two processes then
// take turns instead of working at the same time. A window of 512 KB holds the stream phase's
// whole window of requests.
//
// The bound on unread bytes is per STREAM, not per connection: Node's HTTP/2 gives back the
// connection window as data arrives and holds back only each stream's window until the stream is
// read. Unary and server-streaming calls are read at once (grpc-js asks for their message as
// the call starts); a request stream is read only as its client reads the answers (streams.ts
// stops reading one whose answers wait, at the source). So the unread request bytes one
// connection can make the server hold are its open request streams times this window, and
// stream-cap.ts bounds those streams (--max-request-streams-per-connection, 32): about
// 16 MB per connection (plus what Node's HTTP/2 buffers per stream, 16-80 KB; in memory, heap and
// buffers 61-62 MB and RSS +75-79 MB at worst, measured: docs/operations.md), against 512 MB with every
// one of --max-concurrent-streams (1,000) holding a window, and 64 MB with HTTP/2's 64 KB
// default window and no cap. The window stays
// wide for every stream: a narrower per-stream window would bring back the turn-taking above,
// and narrowing it later by a SETTINGS frame would bind only a client that acknowledges it.
//
// grpc-js 1.14 keeps its HTTP/2 servers in a private map (`http2Servers`); if a later version
// does not, the window stays at the default and the server says so once.

import type * as grpc from '@grpc/grpc-js';
import type http2 from 'node:http2';
import type { Logger } from 'pino';

/** The window the server grants, per connection and per stream (bytes). */
export const SERVER_FLOW_CONTROL_WINDOW = 512 * 1024;

/**
 * Grants every connection the server accepts from now on a flow-control window of `bytes`, on
 * the connection and on each of its streams. Call after `bindAsync` (which creates the HTTP/2
 * servers). Returns how many HTTP/2 servers it applies to (0: grpc-js's internals moved).
 */
export function widenFlowControlWindow(server: grpc.Server, bytes: number, log: Logger): number {
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map) || servers.size === 0) {
    log.warn({ bytes }, 'cannot widen the HTTP/2 flow-control window (grpc-js internals changed): streams keep the 64 KB default');
    return 0;
  }
  for (const http2Server of servers.keys() as IterableIterator<http2.Http2Server>) {
    http2Server.on('session', (session: http2.ServerHttp2Session) => {
      try {
        session.settings({ initialWindowSize: bytes });
        session.setLocalWindowSize(bytes);
      } catch (error) {
        // A session destroyed before its first turn: nothing to widen.
        log.debug({ err: error }, 'flow-control window not set on a closing session');
      }
    });
  }
  return servers.size;
}

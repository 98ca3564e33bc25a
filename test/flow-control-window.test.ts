// The HTTP/2 flow-control windows each side grants the other (issue 7): the server lets a client
// send SERVER_FLOW_CONTROL_WINDOW bytes ahead of what it has read, on the connection and on
// each stream, and the client lets the server send CLIENT_FLOW_CONTROL_WINDOW. Read off the
// wire by a plain HTTP/2 peer: the SETTINGS and the connection's WINDOW_UPDATE it receives.

import test from 'ava';
import http2 from 'node:http2';
import { once } from 'node:events';
import { CLIENT_FLOW_CONTROL_WINDOW, DevcompatClient } from '../client/client.ts';
import { SERVER_FLOW_CONTROL_WINDOW } from '../server/grpc/flow-control-window.ts';
import { startTestServer } from './helpers/server.ts';

test('the server grants each connection and each stream its wide window', async (t) => {
  const { server } = await startTestServer(t);
  const session = http2.connect(`http://${server.address}`);
  t.teardown(() => session.destroy());
  await once(session, 'remoteSettings');
  // The server's own SETTINGS and WINDOW_UPDATE, sent as the connection opened, precede its
  // answer to a ping: read after it.
  await new Promise<void>((resolve, reject) => session.ping((error) => (error ? reject(error) : resolve())));
  t.is(session.remoteSettings.initialWindowSize, SERVER_FLOW_CONTROL_WINDOW);
  t.is(session.state.remoteWindowSize, SERVER_FLOW_CONTROL_WINDOW);
  t.true(SERVER_FLOW_CONTROL_WINDOW > 65_535, 'wider than HTTP/2\'s default');
});

test('the client grants the server its wide window, on the connection and each stream', async (t) => {
  const peer = http2.createServer();
  const sessions: http2.ServerHttp2Session[] = [];
  peer.on('session', (session) => sessions.push(session));
  // Answers every call UNAVAILABLE at once (trailers only): the client only has to connect.
  peer.on('stream', (stream) => stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14' }, { endStream: true }));
  peer.listen(0, '127.0.0.1');
  await once(peer, 'listening');
  t.teardown(() => {
    for (const session of sessions) session.destroy();
    peer.close();
  });
  const { port } = peer.address() as { port: number };
  const client = new DevcompatClient({ address: `127.0.0.1:${port}`, retry: { maxAttempts: 1 } });
  t.teardown(() => client.close());
  await t.throwsAsync(client.getHost('hosts/h1'));
  await new Promise<void>((resolve, reject) => sessions[0].ping((error) => (error ? reject(error) : resolve())));
  t.is(sessions[0].remoteSettings.initialWindowSize, CLIENT_FLOW_CONTROL_WINDOW);
  t.is(sessions[0].state.remoteWindowSize, CLIENT_FLOW_CONTROL_WINDOW);
});

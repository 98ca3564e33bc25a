// The HTTP/2 flow-control windows each side grants the other (issue 7): the server lets a client
// send SERVER_FLOW_CONTROL_WINDOW bytes ahead of what it has read, on the connection and on
// each stream, and a client's check streams (their own connection) let the server send
// CLIENT_FLOW_CONTROL_WINDOW; its other calls keep HTTP/2's default. Read off the wire by a
// plain HTTP/2 peer: the SETTINGS and the connection's WINDOW_UPDATE it receives.

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

test('check streams get a connection with the wide window; other calls keep the default', async (t) => {
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
  const ping = (session: http2.ServerHttp2Session) =>
    new Promise<void>((resolve, reject) => session.ping((error) => (error ? reject(error) : resolve())));

  // A unary call (and a watch, on the same connection): 64 KB, so that a watch too slow for
  // the server is found out after that much unread.
  await t.throwsAsync(client.getHost('hosts/h1'));
  t.is(sessions.length, 1);
  await ping(sessions[0]);
  t.is(sessions[0].remoteSettings.initialWindowSize, 65_535);
  t.is(sessions[0].state.remoteWindowSize, 65_535);

  // A check stream: its own connection, with the wide window on it and on each stream.
  const stream = client.checkStream();
  await t.throwsAsync(stream.check('hosts/a/devices/x', 'hosts/b/devices/y'));
  t.is(sessions.length, 2);
  await ping(sessions[1]);
  t.is(sessions[1].remoteSettings.initialWindowSize, CLIENT_FLOW_CONTROL_WINDOW);
  t.is(sessions[1].state.remoteWindowSize, CLIENT_FLOW_CONTROL_WINDOW);
  t.true(CLIENT_FLOW_CONTROL_WINDOW > 65_535);
});

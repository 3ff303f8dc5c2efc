'use strict';
// TLS (node-redis's socket.tls / ca / cert / key, rediss:// URLs) and ACL users, on real servers.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const { createClient, ConnectionError, AuthenticationError, ErrorReply } = require('..');
const { startServer, startTlsServer, stopServer } = require('./support');

async function exercise(c) {
  assert.strictEqual(await c.set('tls:k', 'v'), 'OK');
  assert.strictEqual(await c.get('tls:k'), 'v');
  assert.strictEqual(await c.blPop('tls:empty', 0.05), null); // a leased connection
  const replies = await c.multi().incr('tls:n').incr('tls:n').exec();
  assert.ok(replies[1] >= 2);
  const all = await Promise.all(Array.from({ length: 50 }, () => c.incr('tls:many')));
  assert.strictEqual(new Set(all).size, 50);
}

test('TLS: CA as node passes it, rediss:// URL, verification off, mutual TLS, clear errors', async (t) => {
  const s = startTlsServer();
  t.after(() => stopServer(s));
  const ca = fs.readFileSync(s.ca);
  const c = await createClient({ url: s.url, socket: { ca } }).connect();
  await exercise(c);
  await c.close();
  const byHost = await createClient({ socket: { host: s.host, port: s.port, tls: true, ca: ca.toString() } }).connect();
  assert.strictEqual(await byHost.get('tls:k'), 'v');
  await byHost.close();
  const insecure = await createClient({ url: s.url, socket: { rejectUnauthorized: false } }).connect();
  assert.strictEqual(await insecure.get('tls:k'), 'v');
  await insecure.close();

  for (const socket of [{ connectTimeout: 1000 }, { connectTimeout: 1000, ca: fs.readFileSync(s.other_ca) }]) {
    await assert.rejects(createClient({ url: s.url, socket }).connect(), (e) => e instanceof ConnectionError && /not signed by a CA/.test(e.message));
  }
  await assert.rejects(
    createClient({ url: `rediss://localhost:${s.port}`, socket: { ca, connectTimeout: 1000 } }).connect(),
    (e) => e instanceof ConnectionError && /not valid for the host name "localhost"/.test(e.message),
  );
  assert.throws(() => createClient({ socket: { tls: 'yes' } }), /socket.tls must be a boolean/);
  assert.throws(() => createClient({ socket: { tls: true, ca: 42 } }), /socket.ca must be a PEM string or Buffer/);

  const m = startTlsServer('--tls-auth-clients', 'yes');
  t.after(() => stopServer(m));
  await assert.rejects(createClient({ url: m.url, socket: { ca: fs.readFileSync(m.ca), connectTimeout: 1000 } }).connect(), /client certificate/);
  const key = fs.readFileSync(m.key, 'utf8');
  const mtls = createClient({ url: m.url, socket: { ca: fs.readFileSync(m.ca), cert: fs.readFileSync(m.cert), key } });
  await mtls.connect();
  await exercise(mtls);
  assert.ok(!String(mtls).includes('PRIVATE KEY'));
  await mtls.close();
});

test('ACL user on every connection; NOPERM names the command; wrong password fails clearly', async (t) => {
  const s = startServer();
  t.after(() => stopServer(s));
  const admin = await createClient({ url: s.url }).connect();
  await admin.sendCommand(['ACL', 'SETUSER', 'app', 'on', '>pw-1234', '~*', '+@all', '-keys']);
  const c = await createClient({ url: s.url, username: 'app', password: 'pw-1234' }).connect();
  await exercise(c);
  assert.strictEqual(await c.sendCommand(['ACL', 'WHOAMI']), 'app');
  await assert.rejects(c.sendCommand(['KEYS', '*']), (e) => e instanceof ErrorReply && /NOPERM/.test(e.message) && /keys/i.test(e.message));
  await admin.sendCommand(['CLIENT', 'KILL', 'USER', 'app']);
  assert.strictEqual(await c.get('tls:k'), 'v');
  await assert.rejects(
    createClient({ url: s.url, username: 'app', password: 'wrong-pw', socket: { connectTimeout: 1000 } }).connect(),
    (e) => e instanceof AuthenticationError && !e.message.includes('wrong-pw') && !String(e.stack).includes('wrong-pw'),
  );
  await c.close();
  await admin.close();
});

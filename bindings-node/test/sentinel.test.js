'use strict';
// createSentinel (issue #18) against a real deployment from the harness (a primary, two
// replicas, three sentinels): the same calls as node-redis's createSentinel give the same
// replies; the client follows a failover asked of a sentinel; a replica client reads a
// replica; bad options are refused with what to do.
const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const nodeRedis = require('redis');
const redbridge = require('..');
const { startSentinel, stopAll } = require('./support');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function role(port) {
  const c = nodeRedis.createClient({ socket: { port, connectTimeout: 300, reconnectStrategy: false } });
  c.on('error', () => {});
  try {
    await c.connect();
    const r = await c.sendCommand(['ROLE']);
    return String(r[0]);
  } catch {
    return 'down';
  } finally {
    if (c.isOpen) await c.close();
  }
}

test('createSentinel: the replies node-redis gives, a failover followed, a replica client', async (t) => {
  const d = startSentinel();
  t.after(() => stopAll(d));
  const options = { name: 'mymaster', sentinelRootNodes: [{ host: '127.0.0.1', port: d.sentinels[0] }] };

  const ours = await redbridge.createSentinel(options).connect();
  const theirs = await nodeRedis.createSentinel(options).connect();
  theirs.on('error', () => {});
  const steps = async (c, tag) => [
    await c.set(`s:${tag}`, 'v'),
    await c.get(`s:${tag}`),
    await c.incr(`s:n:${tag}`),
    await c.del(`s:${tag}`),
  ];
  assert.deepStrictEqual(await steps(ours, 'a'), await steps(theirs, 'b'));
  assert.strictEqual(String((await ours.sendCommand(['ROLE']))[0]), 'master');
  await theirs.close();

  // A failover asked of a sentinel: writes reach the new primary soon after it takes the role.
  const admin = await nodeRedis.createClient({ socket: { port: d.sentinels[1] } }).connect();
  await admin.sendCommand(['SENTINEL', 'FAILOVER', 'mymaster']);
  await admin.close();
  const deadline = Date.now() + 15000;
  let promoted;
  while (!promoted) {
    for (const p of d.replicas) if ((await role(p)) === 'master') promoted = p;
    assert.ok(Date.now() < deadline, 'no replica was promoted');
  }
  const at = Date.now();
  const direct = await nodeRedis.createClient({ socket: { port: promoted } }).connect();
  for (;;) {
    await ours.set('s:after', String(promoted)).catch(() => {});
    if ((await direct.get('s:after')) === String(promoted)) break;
    assert.ok(Date.now() - at < 3000, 'writes did not reach the new primary within 3 s');
    await sleep(5);
  }
  await direct.close();
  assert.strictEqual(ours.stats().sentinel_switches, 1);
  await ours.close();

  // Right after a failover no replica may confirm its role yet (the old primary is still
  // being turned into one, the other is moving to the new primary); a replica client
  // then uses the primary, as redis-py's slave_for does. Within seconds one confirms.
  let replica;
  for (const until = Date.now() + 10000; ; await sleep(200)) {
    replica = await redbridge.createSentinel({ ...options, role: 'replica' }).connect();
    if (String((await replica.sendCommand(['ROLE']))[0]) === 'slave') break;
    await replica.close();
    assert.ok(Date.now() < until, 'no replica client reached a replica within 10 s of the failover');
  }
  await assert.rejects(replica.set('k', 'v'), /READONLY/);
  await replica.close();
});

test('createSentinel: bad options are refused with what to do', () => {
  assert.throws(() => redbridge.createSentinel({ sentinelRootNodes: [{ host: 'h' }] }), /name must be the service name/);
  assert.throws(() => redbridge.createSentinel({ name: 'm', sentinelRootNodes: [] }), /sentinelRootNodes must be a non-empty array/);
  assert.throws(() => redbridge.createSentinel({ name: 'm', sentinelRootNodes: [{ host: 'h', port: 0 }] }), /port must be a whole number/);
  assert.throws(() => redbridge.createSentinel({ name: 'm', sentinelRootNodes: [{ host: 'h' }], role: 'boss' }), /role must be 'master' or 'replica'/);
});

test('createSentinel over TLS: the sentinels with their own CA and client certificate, the data nodes with theirs', async (t) => {
  const d = startSentinel('--tls');
  t.after(() => stopAll(d));
  const read = (p) => fs.readFileSync(p);
  const sentinelTls = { tls: true, ca: read(d.sentinel_ca), cert: read(d.sentinel_cert), key: read(d.sentinel_key) };
  const options = {
    name: d.service,
    sentinelRootNodes: d.sentinels.map((port) => ({ host: '127.0.0.1', port })),
    sentinelClientOptions: { socket: sentinelTls },
    nodeClientOptions: { socket: { tls: true, ca: read(d.ca) } },
  };
  const c = await redbridge.createSentinel(options).connect();
  assert.strictEqual(await c.set('stls:k', 'v'), 'OK');
  assert.strictEqual(await c.get('stls:k'), 'v');
  assert.strictEqual(String((await c.sendCommand(['ROLE']))[0]), 'master');
  await c.close();

  // The sentinels' CA given for the data nodes' (and the other way round): each
  // handshake fails, naming the sentinel or node and TLS.
  const wrong = redbridge.createSentinel({ ...options, sentinelClientOptions: { socket: { ...sentinelTls, ca: read(d.other_ca) } } });
  await assert.rejects(wrong.connect(), (e) => /sentinel 127\.0\.0\.1:\d+/.test(e.message) && /TLS|certificate/i.test(e.message));
});

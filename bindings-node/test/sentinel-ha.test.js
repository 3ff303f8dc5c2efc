'use strict';
// createSentinel through issue #18's test list, against real deployments from the harness
// (a primary, two replicas, three sentinels): discovery skips a dead first sentinel, an
// unknown service's error lists each sentinel's answer, a replica a sentinel names as the
// primary is refused by its ROLE; SENTINEL FAILOVER with the old primary alive under a
// GET/INCR loop: the client writes to the new primary within 2 s, no GET fails, READONLY
// at most once per connection it had on the old primary, none of them left there.
const { test } = require('node:test');
const assert = require('node:assert');
const net = require('node:net');
const nodeRedis = require('redis');
const redbridge = require('..');
const { startSentinel, stopAll } = require('./support');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A loopback port nobody listens on (bound, then released). */
function deadPort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** node-redis to one port, for the test's own questions. */
async function direct(port) {
  const c = nodeRedis.createClient({ socket: { port, connectTimeout: 300, reconnectStrategy: false } });
  c.on('error', () => {});
  await c.connect();
  return c;
}

async function role(port) {
  let c;
  try {
    c = await direct(port);
    return String((await c.sendCommand(['ROLE']))[0]);
  } catch {
    return 'down';
  } finally {
    if (c && c.isOpen) await c.close();
  }
}

async function named(port, name) {
  let c;
  try {
    c = await direct(port);
    const list = String(await c.sendCommand(['CLIENT', 'LIST']));
    return list.split('\n').filter((l) => l.includes(` name=${name} `)).length;
  } catch {
    return 0;
  } finally {
    if (c && c.isOpen) await c.close();
  }
}

const roots = (ports) => ports.map((port) => ({ host: '127.0.0.1', port }));
const timeouts = { socket: { connectTimeout: 500 } };

test('discovery: a dead first sentinel skipped, each answer listed, a replica refused by ROLE', async (t) => {
  const d = startSentinel();
  t.after(() => stopAll(d));
  const [s0, s1] = d.sentinels;
  const dead = await deadPort();

  const c = await redbridge.createSentinel({ name: 'mymaster', sentinelRootNodes: roots([dead, s0]), nodeClientOptions: timeouts }).connect();
  assert.strictEqual(await c.set('dead-first', '1'), 'OK');
  assert.match(String(await c.sendCommand(['INFO', 'server'])), new RegExp(`tcp_port:${d.primary}\\b`));
  await c.close();

  const unknown = redbridge.createSentinel({ name: 'nosuch', sentinelRootNodes: roots([dead, s0, s1]), nodeClientOptions: timeouts });
  await assert.rejects(unknown.connect().then(() => unknown.ping()), (e) => {
    assert.ok(e.message.includes(`sentinel 127.0.0.1:${dead}: `) && /refused/i.test(e.message), e.message);
    assert.ok(e.message.includes(`sentinels 127.0.0.1:${s0}, 127.0.0.1:${s1}: does not know service \`nosuch\``), e.message);
    return true;
  });
  await unknown.close().catch(() => {});

  // A sentinel told to watch a replica's address as another service's primary.
  const replica = d.replicas[0];
  const admin = await direct(s0);
  await admin.sendCommand(['SENTINEL', 'MONITOR', 'fake', '127.0.0.1', String(replica), '2']);
  try {
    const fake = redbridge.createSentinel({ name: 'fake', sentinelRootNodes: roots([s0]), nodeClientOptions: timeouts });
    await assert.rejects(fake.connect().then(() => fake.ping()), (e) => {
      assert.ok(e.message.includes(`named 127.0.0.1:${replica}, which says it is a slave (ROLE)`), e.message);
      return true;
    });
    await fake.close().catch(() => {});
  } finally {
    await admin.sendCommand(['SENTINEL', 'REMOVE', 'fake']);
    await admin.close();
  }
});

test('SENTINEL FAILOVER with the old primary alive, under a GET/INCR loop', async (t) => {
  const d = startSentinel();
  t.after(() => stopAll(d));
  const name = 'rb-node-loop';
  const c = await redbridge.createSentinel({
    name: 'mymaster', sentinelRootNodes: roots([d.sentinels[0]]), nodeClientOptions: { ...timeouts, name },
  }).connect();
  await c.set('loop:k', 'v');
  let stop = false;
  const getErrors = [];
  const incrErrors = [];
  const loop = (async () => {
    for (const t0 = Date.now(); !stop && Date.now() - t0 < 30000;) {
      try { await c.get('loop:k'); } catch (e) { getErrors.push(e.message); }
      try { await c.incr('loop:n'); } catch (e) { incrErrors.push(e.message); }
      await sleep(5);
    }
  })();
  await sleep(300);
  const onOld = await named(d.primary, name);
  assert.ok(onOld >= 1, 'the client has a connection on the primary');
  const admin = await direct(d.sentinels[0]);
  await admin.sendCommand(['SENTINEL', 'FAILOVER', 'mymaster']);
  await admin.close();
  let promoted;
  for (const deadline = Date.now() + 10000; !promoted; await sleep(5)) {
    for (const p of d.replicas) if ((await role(p)) === 'master') promoted = p;
    assert.ok(promoted || Date.now() < deadline, 'no replica was promoted');
  }
  const at = Date.now();
  const there = await direct(promoted);
  const before = await there.get('loop:n');
  while ((await there.get('loop:n')) === before) {
    assert.ok(Date.now() - at < 2000, 'the client did not write to the new primary within 2 s');
    await sleep(5);
  }
  const moved = Date.now() - at;
  await there.close();
  for (const deadline = Date.now() + 20000; (await role(d.primary)) !== 'slave' && Date.now() < deadline;) await sleep(20);
  await sleep(1000);
  stop = true;
  await loop;
  console.log(`SENTINEL FAILOVER under GET/INCR: writes on the new primary ${moved} ms after ROLE master; `
    + `GET errors ${JSON.stringify(getErrors)}, INCR errors ${JSON.stringify(incrErrors)}`);
  assert.deepStrictEqual(getErrors, []);
  assert.ok(incrErrors.filter((m) => m.includes('READONLY')).length <= onOld, incrErrors.join('; '));
  assert.strictEqual(await role(d.primary), 'slave');
  assert.strictEqual(await named(d.primary, name), 0, 'connections left on the old primary');
  await c.close();
});

// Skipped until client/mod.rs takes helper-31's on_shared patch: an INCR waiting for a
// reconnect to the dead primary waits out Node's 5 s command timeout after the client has
// moved (writes resumed 3.5-3.7 s after ROLE master; with the patch -37 ms, outage 1.41 s).
test('the primary SIGKILLed under ~200 INCR/s: writes resume, none go to the old primary when it returns', async (t) => {
  const { execFileSync } = require('node:child_process');
  const fs = require('node:fs');
  const path = require('node:path');
  const d = startSentinel();
  t.after(() => stopAll(d));
  const name = 'rb-node-writer';
  const c = await redbridge.createSentinel({
    name: 'mymaster', sentinelRootNodes: roots([d.sentinels[0]]), nodeClientOptions: { ...timeouts, name },
  }).connect();
  const shots = [];
  let stop = false;
  const writer = (async () => {
    for (const t0 = Date.now(); !stop && Date.now() - t0 < 60000;) {
      const sent = Date.now();
      let reply;
      try { reply = Number(await c.incr('w:node')); } catch (e) { reply = e; }
      shots.push({ sent, done: Date.now(), reply });
      await sleep(Math.max(0, 5 - (Date.now() - sent)));
    }
  })();
  await sleep(500);
  const old = d.primary;
  process.kill(Number(fs.readFileSync(d.pidfiles[0], 'utf8').trim()), 'SIGKILL');
  const killed = Date.now();
  let promoted;
  for (const deadline = Date.now() + 20000; !promoted; await sleep(5)) {
    for (const p of d.replicas) if ((await role(p)) === 'master') promoted = p;
    assert.ok(promoted || Date.now() < deadline, 'no replica was promoted within 20 s');
  }
  const promotedAt = Date.now();
  for (const deadline = Date.now() + 10000; !shots.some((s) => s.sent > killed && typeof s.reply === 'number'); await sleep(10)) {
    assert.ok(Date.now() < deadline, 'writes did not resume within 10 s of the promotion');
  }
  // The old primary's process back on its port, empty, until the sentinels demote it.
  execFileSync('python3', [path.join(__dirname, '..', '..', 'tests', 'harness', 'redis_server.py'), 'start',
    '--port', String(old), '--dir', path.dirname(d.pidfiles[0])]);
  const back = Date.now();
  let seen = 0;
  let demoted;
  while (Date.now() - back < 20000 && !(demoted !== undefined && Date.now() - back > demoted + 500)) {
    seen = Math.max(seen, await named(old, name));
    if (demoted === undefined && (await role(old)) === 'slave') demoted = Date.now() - back;
    await sleep(10);
  }
  stop = true;
  await writer;
  await c.close();
  assert.ok(demoted !== undefined, 'the returned old primary was not made a replica within 20 s');
  assert.strictEqual(seen, 0, 'the client had connections on the returned old primary');
  const before = Math.max(...shots.filter((s) => s.done <= killed && typeof s.reply === 'number').map((s) => s.done));
  const after = shots.filter((s) => s.sent > killed);
  const first = after.findIndex((s) => typeof s.reply === 'number');
  console.log(`SIGKILL under ~200 INCR/s: promoted ${promotedAt - killed} ms after the kill; outage ${after[first].done - before} ms, `
    + `writes resumed ${after[first].done - promotedAt} ms after ROLE master; old primary demoted ${demoted} ms after it returned`);
  const errs = after.slice(0, first).map((s) => `${s.sent - killed}+${s.done - s.sent}: ${s.reply.message}`);
  console.log(`${errs.length} failed: ${errs.slice(0, 6).join(" | ")} ... ${errs.slice(-4).join(" | ")}`);
  assert.ok(after[first].done - promotedAt < 1000);
  const replies = after.slice(first).map((s) => s.reply);
  assert.ok(replies.every((r) => typeof r === 'number'), `a write after the resume failed: ${replies.find((r) => typeof r !== 'number')}`);
  assert.ok(replies.length > 100);
  for (let i = 1; i < replies.length; i++) assert.strictEqual(replies[i], replies[i - 1] + 1, 'an INCR reply did not count on');
});

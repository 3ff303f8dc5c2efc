'use strict';
// Pub/Sub against real servers (issue #17): node-redis's subscribe / pSubscribe /
// sSubscribe with listeners, compared call for call with node-redis itself; binary
// delivery in order; commands on the subscribed client; resubscription after CLIENT
// KILL and server restarts, with a 'pubsub-gap' event each time; a frozen server noticed.
const { test } = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const nodeRedis = require('redis');
const redbridge = require('..');
const { startServer, startServerOn, stopServer, sharedServer } = require('./support');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 10 ms until it is truthy; fails after `ms`. */
async function until(what, ms, check) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${ms} ms`);
    await sleep(10);
  }
}

/** The same steps with either library; the listeners' calls in order, as text. */
async function scenario(lib, url, RESP) {
  const pub = await lib.createClient({ url, RESP }).connect();
  const sub = await lib.createClient({ url, RESP }).connect();
  const calls = [];
  const show = (v) => (Buffer.isBuffer(v) ? `<${v.toString('hex')}>` : JSON.stringify(v));
  const rec = (tag) => (message, channel) => calls.push(`${tag} ${show(message)} ${show(channel)}`);
  const a = rec('a');
  const b = rec('b');
  await sub.subscribe('d:one', a);
  await sub.subscribe(['d:one', 'd:two'], b);
  await sub.subscribe('d:bin', rec('buf'), true);
  await sub.pSubscribe('d:*', rec('p'));
  await sub.pSubscribe('d:t*', rec('pbuf'), true);
  await sub.sSubscribe('d:shard', rec('s'));
  const active = sub.isPubSubActive;
  await pub.publish('d:one', 'first');
  await pub.publish('d:two', 'zwei ü');
  await pub.publish('d:bin', Buffer.from([0, 0xff, 0x41]));
  await pub.sPublish('d:shard', 'sharded');
  await pub.publish('other', 'nobody');
  await sleep(150);
  await sub.unsubscribe('d:one', a);
  await pub.publish('d:one', 'only b');
  await sleep(100);
  await sub.unsubscribe('d:one');
  await sub.pUnsubscribe('d:t*');
  await pub.publish('d:one', 'pattern only');
  await pub.publish('d:two', 'b and pattern');
  await sleep(100);
  await sub.unsubscribe();
  await sub.pUnsubscribe();
  await sub.sUnsubscribe();
  await pub.publish('d:two', 'nobody again');
  await sleep(100);
  const after = sub.isPubSubActive;
  const numsub = await pub.pubSubNumSub(['d:one', 'd:two']);
  await pub.close();
  await sub.close();
  return { calls, active, after, numsub };
}

for (const RESP of [2, 3]) {
  test(`listeners are called as node-redis calls them (RESP${RESP})`, async (t) => {
    const { url } = sharedServer(t);
    const want = await scenario(nodeRedis, url, RESP);
    const got = await scenario(redbridge, url, RESP);
    assert.ok(want.calls.length >= 10, `node-redis made ${want.calls.length} calls`);
    assert.deepStrictEqual(got, want);
  });
}

test('100 channels × 1000 binary messages, patterns and shard channels: each once, in order', async (t) => {
  const { url } = sharedServer(t);
  const pub = await redbridge.createClient({ url }).connect();
  const sub = await redbridge.createClient({ url }).connect();
  t.after(() => Promise.all([pub.close(), sub.close()]));
  const CHANNELS = 100;
  const N = 1000;
  const payload = (c, i) => Buffer.from(`${c}\u0000${i}\u00ff`, 'latin1');
  const name = (c) => Buffer.from(`bin\u0000${c}\u00ff`, 'latin1');
  const seen = { channel: new Map(), pattern: new Map(), shard: new Map() };
  const record = (which) => (message, channel) => {
    const key = channel.toString('latin1');
    const got = seen[which].get(key) || [];
    got.push(message.toString('latin1'));
    seen[which].set(key, got);
  };
  const channels = Array.from({ length: CHANNELS }, (_, c) => name(c));
  await sub.subscribe(channels, record('channel'), true);
  await sub.pSubscribe(Buffer.from('bin\u0000*', 'latin1'), record('pattern'), true);
  const shards = Array.from({ length: 10 }, (_, c) => name(`s${c}`));
  await sub.sSubscribe(shards, record('shard'), true);
  for (let i = 0; i < N; i++) {
    const sends = channels.map((ch, c) => pub.publish(ch, payload(c, i)));
    if (i < 100) sends.push(...shards.map((ch, c) => pub.sPublish(ch, payload(c, i))));
    await Promise.all(sends);
  }
  await until('every message', 20000, () => [...seen.pattern.values()].reduce((n, l) => n + l.length, 0) >= CHANNELS * N);
  await sleep(50);
  for (let c = 0; c < CHANNELS; c++) {
    const want = Array.from({ length: N }, (_, i) => payload(c, i).toString('latin1'));
    assert.deepStrictEqual(seen.channel.get(name(c).toString('latin1')), want, `channel ${c}`);
    assert.deepStrictEqual(seen.pattern.get(name(c).toString('latin1')), want, `pattern, channel ${c}`);
  }
  for (let c = 0; c < shards.length; c++) {
    const want = Array.from({ length: 100 }, (_, i) => payload(c, i).toString('latin1'));
    assert.deepStrictEqual(seen.shard.get(shards[c].toString('latin1')), want, `shard channel ${c}`);
  }
  const stats = sub.stats();
  assert.strictEqual(stats.pubsub_dropped, 0);
  assert.strictEqual(stats.pubsub_messages, 2 * CHANNELS * N + 10 * 100);
});

test('10k commands on the subscribed client during a flood: every reply to its caller (RESP2 too)', async (t) => {
  const { url } = sharedServer(t);
  const pub = await redbridge.createClient({ url }).connect();
  const sub = await redbridge.createClient({ url, RESP: 2 }).connect();
  t.after(() => Promise.all([pub.close(), sub.close()]));
  let received = 0;
  await sub.subscribe('flood', () => received++);
  const flood = (async () => {
    for (let i = 0; i < 50; i++) await Promise.all(Array.from({ length: 200 }, () => pub.publish('flood', 'x'.repeat(100))));
  })();
  const replies = await Promise.all(Array.from({ length: 10000 }, (_, i) => sub.set(`fl:${i}`, String(i)).then(() => sub.get(`fl:${i}`))));
  await flood;
  replies.forEach((r, i) => assert.strictEqual(r, String(i)));
  await until('the flood', 10000, () => received === 10000);
});

test('pubSubQueue bounds the queue: what overflows while the loop is busy is dropped, counted, reported', async (t) => {
  const { url } = sharedServer(t);
  assert.throws(() => redbridge.createClient({ url, pubSubQueue: { maxMessages: 0 } }), /pubSubQueue.maxMessages must be a whole number of at least 1, got a number/);
  assert.throws(() => redbridge.createClient({ url, pubSubQueue: 5 }), /pubSubQueue must be an object, got a number/);
  const sub = await redbridge.createClient({ url, pubSubQueue: { maxMessages: 5 } }).connect();
  t.after(() => sub.close());
  const got = [];
  const gaps = [];
  sub.on('pubsub-gap', (g) => gaps.push(g));
  await sub.subscribe('q:over', (m) => got.push(m));
  const seen = () => sub.stats().pubsub_messages + sub.stats().pubsub_dropped;
  const before = seen();
  // 50 messages while this thread is blocked (spawnSync, then a bounded wait until the
  // core's reader took them all in): 5 fit the queue, 45 are dropped.
  const port = new URL(url).port;
  const r = spawnSync('redis-cli', ['-p', port, 'EVAL', "for i=1,50 do redis.call('PUBLISH', KEYS[1], i) end", '1', 'q:over']);
  assert.strictEqual(r.status, 0, String(r.stderr));
  const deadline = Date.now() + 5000;
  while (seen() - before < 50) assert.ok(Date.now() < deadline, `the reader took ${seen() - before} of 50 in 5 s`);
  await until('the kept messages and the gap', 5000, () => got.length === 5 && gaps.length === 1);
  assert.deepStrictEqual(got, ['1', '2', '3', '4', '5']);
  assert.deepStrictEqual(gaps, [{ cause: 'overflow', dropped: 45 }]);
  await sub.publish('q:over', 'after');
  await until('a message after the gap', 5000, () => got.length === 6);
  assert.strictEqual(got[5], 'after');
});

test('a listener that throws: delivery goes on, the error reaches the client\'s error event', async (t) => {
  const { url } = sharedServer(t);
  const pub = await redbridge.createClient({ url }).connect();
  const sub = await redbridge.createClient({ url }).connect();
  t.after(() => Promise.all([pub.close(), sub.close()]));
  const errors = [];
  sub.on('error', (e) => errors.push(e));
  const seen = [];
  await sub.subscribe('thrower', (m) => {
    if (m === 'boom') throw new Error('listener failed');
    seen.push(m);
  });
  for (const m of ['1', 'boom', '2']) await pub.publish('thrower', m);
  await until('both messages', 5000, () => seen.length === 2 && errors.length === 1);
  assert.deepStrictEqual(seen, ['1', '2']);
  assert.strictEqual(errors[0].message, 'listener failed');
});

test('bad input is refused with what to do; a closed client rejects', async (t) => {
  const { url } = sharedServer(t);
  const sub = await redbridge.createClient({ url }).connect();
  await assert.rejects(sub.subscribe('x'), { name: 'TypeError', message: /listener must be a function, got undefined/ });
  await assert.rejects(sub.pSubscribe([], () => {}), { name: 'TypeError', message: /at least one channel/ });
  await assert.rejects(sub.subscribe({}, () => {}), { name: 'TypeError', message: /channels must be a string, Buffer or number/ });
  assert.strictEqual(sub.isPubSubActive, false);
  await sub.close();
  await assert.rejects(sub.subscribe('x', () => {}), { message: /closed/ });
});

test('a process whose client unsubscribed everything exits by itself', (t) => {
  const { url } = sharedServer(t);
  const script = `
    const { createClient } = require(${JSON.stringify(require.resolve('..'))});
    (async () => {
      const c = await createClient({ url: ${JSON.stringify(url)} }).connect();
      const l = () => {};
      await c.subscribe(['a', 'b'], l);
      await c.pSubscribe('p*', l);
      await c.unsubscribe();
      await c.pUnsubscribe('p*', l);
      console.log('done', c.isPubSubActive);
    })();`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10000 });
  assert.strictEqual(r.status, 0, r.stderr);
  assert.strictEqual(r.stdout.trim(), 'done false');
});

test('resubscribed after 10 CLIENT KILLs and 10 server restarts, a gap event each time', async (t) => {
  const info = startServer();
  t.after(() => stopServer(info));
  let server = info;
  const url = `redis://127.0.0.1:${info.port}`;
  const options = { url, socket: { connectTimeout: 500 }, responseTimeout: 500 };
  const pub = await redbridge.createClient(options).connect();
  const sub = await redbridge.createClient(options).connect();
  t.after(() => Promise.all([pub.close(), sub.close()]));
  const gaps = [];
  sub.on('pubsub-gap', (g) => gaps.push(g));
  const got = [];
  await sub.subscribe('rk', (m) => got.push(m));
  await sub.pSubscribe('rk*', (m) => got.push(`p:${m}`));
  const slowest = [0, 0];
  for (let round = 0; round < 20; round++) {
    if (round < 10) {
      assert.strictEqual(await pub.clientKill({ filter: 'TYPE', type: 'pubsub' }), 1);
    } else {
      stopServer(server);
      server = startServerOn(info.port);
      info.pidfile = server.pidfile;
    }
    // From the kill, or from the moment the restarted server answers.
    const lost = Date.now();
    await until(`round ${round}: resubscribed within 1 s`, 1000, async () => {
      const n = await pub.pubSubNumSub('rk').catch(() => null);
      return n && n.rk === 1 && (await pub.pubSubNumPat()) === 1;
    });
    await until(`round ${round}: the gap event`, 1000, () => gaps.length === round + 1);
    slowest[round < 10 ? 0 : 1] = Math.max(slowest[round < 10 ? 0 : 1], Date.now() - lost);
    await pub.publish('rk', `m${round}`);
    await until(`round ${round}: delivered`, 2000, () => got.includes(`m${round}`) && got.includes(`p:m${round}`));
  }
  t.diagnostic(`slowest resubscription: ${slowest[0]} ms after a CLIENT KILL, ${slowest[1]} ms after a restart`);
  assert.ok(gaps.every((g) => g.cause === 'reconnected' && g.dropped === 0), JSON.stringify(gaps));
  assert.strictEqual(gaps.length, 20);
  assert.strictEqual(got.length, 40, 'each message once, per subscription');
  assert.ok(sub.stats().pubsub_resubscribes >= 20);
});

test('a frozen server (SIGSTOP) is noticed within connect + response timeout', async (t) => {
  const info = startServer();
  t.after(() => {
    try {
      process.kill(info.pid, 'SIGCONT');
    } catch {}
    stopServer(info);
  });
  const url = `redis://127.0.0.1:${info.port}`;
  const sub = await redbridge.createClient({ url, socket: { connectTimeout: 300 }, responseTimeout: 300 }).connect();
  const pub = await redbridge.createClient({ url }).connect();
  t.after(() => Promise.all([pub.close(), sub.close()]));
  const gaps = [];
  sub.on('pubsub-gap', (g) => gaps.push(g));
  const got = [];
  await sub.subscribe('frozen', (m) => got.push(m));
  process.kill(info.pid, 'SIGSTOP');
  const stopped = Date.now();
  // The health check (every connect timeout) gets no PONG within the response timeout:
  // the subscriber counts the connection lost and reconnects once the server answers.
  await sleep(900);
  process.kill(info.pid, 'SIGCONT');
  await until('the gap after the freeze', 3000, () => gaps.length === 1);
  assert.ok(Date.now() - stopped < 4000);
  await until('resubscribed', 2000, async () => (await pub.pubSubNumSub('frozen')).frozen === 1);
  await pub.publish('frozen', 'thawed');
  await until('delivered', 2000, () => got.includes('thawed'));
});

'use strict';
// Redis Cluster with node-redis's createCluster surface, on a local 3+3 cluster.
const test = require('node:test');
const assert = require('node:assert');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { createClient, createCluster, RedisError } = require('..');
const nodeRedis = require('redis');

const HARNESS = path.join(__dirname, '..', '..', 'tests', 'harness', 'redis_server.py');

/** Moves a slot as `redis-cli --cluster reshard` does (half its keys when not `finish`). */
async function migrate(ports, slot, src, dst, finish) {
  const [a, b] = await Promise.all([src, dst].map((p) => createClient({ url: `redis://127.0.0.1:${p}` }).connect()));
  const [aId, bId] = await Promise.all([a, b].map((c) => c.sendCommand(['CLUSTER', 'MYID'])));
  await b.sendCommand(['CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', aId]);
  await a.sendCommand(['CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', bId]);
  const keys = await a.sendCommand(['CLUSTER', 'GETKEYSINSLOT', String(slot), '100000']);
  const moving = finish ? keys : keys.slice(0, Math.floor(keys.length / 2));
  if (moving.length) await a.sendCommand(['MIGRATE', '127.0.0.1', String(dst), '', '0', '5000', 'KEYS', ...moving]);
  if (finish) {
    for (const p of ports) {
      const c = await createClient({ url: `redis://127.0.0.1:${p}` }).connect();
      await c.sendCommand(['CLUSTER', 'SETSLOT', String(slot), 'NODE', bId]).catch(() => {}); // replicas refuse
      await c.close();
    }
  }
  await a.close();
  await b.close();
}

test('createCluster: routing, cross-slot pipelines and multi-key commands, transactions, SCAN', async (t) => {
  const info = JSON.parse(execFileSync('python3', [HARNESS, 'cluster'], { encoding: 'utf8' }));
  t.after(() => info.pidfiles.forEach((p) => execFileSync('python3', [HARNESS, 'stop', p])));
  const cluster = await createCluster({ rootNodes: info.nodes.slice(0, 2).map((url) => ({ url })) }).connect();

  // 10k keys: 100 batches of 100 concurrent SETs, then read back.
  for (let b = 0; b < 100; b++) {
    await Promise.all(Array.from({ length: 100 }, (_, i) => cluster.set(`js:${b * 100 + i}`, String(b * 100 + i))));
  }
  for (let i = 0; i < 10000; i += 333) assert.strictEqual(await cluster.get(`js:${i}`), String(i));

  // A cross-slot pipeline of 1000 commands: every reply, in order.
  const m = cluster.multi();
  for (let i = 0; i < 1000; i++) m.get(`js:${i}`);
  assert.deepStrictEqual(await m.execAsPipeline(), Array.from({ length: 1000 }, (_, i) => String(i)));

  // Multi-key commands across slots.
  const keys = Array.from({ length: 100 }, (_, i) => `js:${i}`);
  assert.deepStrictEqual(await cluster.mGet(keys), keys.map((_, i) => String(i)));
  assert.strictEqual(await cluster.exists(keys), 100);

  // Transactions keep to one slot, and say how when they do not.
  assert.deepStrictEqual(await cluster.multi().incr('{u1}:n').incr('{u1}:n').exec(), [1, 2]);
  await assert.rejects(cluster.multi().set('x', '1').set('y', '2').exec(), (e) => e instanceof RedisError && /\{user1\}/.test(e.message));

  // SCAN walks every primary: each key once.
  const seen = [];
  for await (const page of cluster.scanIterator({ MATCH: 'js:*', COUNT: 500 })) seen.push(...page);
  assert.strictEqual(seen.length, 10000);
  assert.strictEqual(new Set(seen).size, 10000);

  // node-redis's own cluster client reads the same data.
  const other = await nodeRedis.createCluster({ rootNodes: [{ url: info.url }] }).connect();
  assert.strictEqual(await other.get('js:42'), '42');
  await other.close();

  // SCAN while slots ahead of the walk move to another primary and one stays
  // half-migrated (half its keys on each node): still each key once.
  const ranges = await cluster.sendCommand(['CLUSTER', 'SLOTS']);
  const byStart = [...ranges].sort((a, b) => a[0] - b[0]);
  const [firstPort, lastRange] = [byStart[0][2][1], byStart[byStart.length - 1]];
  const lastPort = lastRange[2][1];
  const last = await createClient({ url: `redis://127.0.0.1:${lastPort}` }).connect();
  const ahead = [];
  for (let s = lastRange[0]; s <= lastRange[1] && ahead.length < 6; s++) {
    if ((await last.sendCommand(['CLUSTER', 'COUNTKEYSINSLOT', String(s)])) > 0) ahead.push(s);
  }
  await last.close();
  const walked = [];
  const pages = cluster.scanIterator({ MATCH: 'js:*' });
  walked.push(...(await pages.next()).value);
  for (const s of ahead.slice(0, 5)) await migrate(info.ports, s, lastPort, firstPort, true);
  await migrate(info.ports, ahead[5], lastPort, firstPort, false);
  for await (const page of pages) walked.push(...page);
  assert.strictEqual(walked.length, 10000);
  assert.strictEqual(new Set(walked).size, 10000);

  // Pub/sub on the cluster: shard channels at the node of their slot (one SSUBSCRIBE
  // each, no CROSSSLOT), channels heard whichever node a message is published on.
  const subscriber = await createCluster({ rootNodes: [{ url: info.url }] }).connect();
  const heard = { shard: [], channel: [] };
  const shards = Array.from({ length: 200 }, (_, i) => `jps:${i}`);
  await subscriber.sSubscribe(shards, (message, channel) => heard.shard.push(`${channel}=${message}`));
  await subscriber.subscribe('jps-news', (message) => heard.channel.push(message));
  await Promise.all(shards.map((ch) => cluster.sPublish(ch, 'hi')));
  for (const port of info.ports.slice(0, 3)) {
    const node = await createClient({ url: `redis://127.0.0.1:${port}` }).connect();
    await node.publish('jps-news', `via ${port}`);
    await node.close();
  }
  for (let i = 0; i < 500 && heard.shard.length + heard.channel.length < 203; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepStrictEqual(heard.shard.sort(), shards.map((ch) => `${ch}=hi`).sort());
  assert.deepStrictEqual(heard.channel.sort(), info.ports.slice(0, 3).map((p) => `via ${p}`).sort());
  await subscriber.sUnsubscribe();
  assert.deepStrictEqual(await cluster.pubSubShardNumSub(shards[0]), { [shards[0]]: 0 });
  await subscriber.close();

  assert.throws(() => createCluster({}), /rootNodes must be a non-empty array/);
  assert.throws(() => createCluster({ rootNodes: [{ url: 42 }] }), /rootNodes\[0\].url must be a string/);
  await cluster.close();
});

test('createCluster: a primary killed mid-run, its replica takes over, no acknowledged write lost', async (t) => {
  const info = JSON.parse(execFileSync('python3', [HARNESS, 'cluster'], { encoding: 'utf8' }));
  t.after(() => info.pidfiles.forEach((p) => execFileSync('python3', [HARNESS, 'stop', p])));
  const cluster = await createCluster({ rootNodes: [{ url: info.url }] }).connect();
  const slot = await cluster.sendCommand(['CLUSTER', 'KEYSLOT', 'fo:0']);
  const ranges = await cluster.sendCommand(['CLUSTER', 'SLOTS']);
  const owner = ranges.find((r) => r[0] <= slot && slot <= r[1])[2][1];
  const pidfile = info.pidfiles[info.ports.indexOf(owner)];
  process.kill(Number(require('node:fs').readFileSync(pidfile, 'utf8')), 'SIGKILL'); // by its PID
  const acked = new Map();
  let failures = 0;
  const deadline = Date.now() + 20000;
  for (let i = 0; Date.now() < deadline && acked.size < 100; i++) {
    const key = `fo:${i % 100}`;
    try {
      await cluster.set(key, `v${i}`);
      acked.set(key, `v${i}`);
    } catch {
      failures++;
    }
  }
  assert.ok(acked.size >= 100, `the cluster came back (${failures} failures)`);
  for (const [k, v] of acked) assert.strictEqual(await cluster.get(k), v);
  await cluster.close();
});

test('createCluster with clientSideCache: writer/reader over every primary, nodeStats()', async (t) => {
  const info = JSON.parse(execFileSync('python3', [HARNESS, 'cluster'], { encoding: 'utf8' }));
  t.after(() => info.pidfiles.forEach((p) => execFileSync('python3', [HARNESS, 'stop', p])));
  const keys = Array.from({ length: 12 }, (_, i) => `jsc:version:${i}`);
  const reader = await createCluster({ rootNodes: [{ url: info.url }], clientSideCache: {} }).connect();
  const writer = await createCluster({ rootNodes: [{ url: info.url }] }).connect();
  await Promise.all(keys.map((k) => writer.set(k, '0')));
  let done = false;
  const reading = (async () => {
    const last = Object.fromEntries(keys.map((k) => [k, 0]));
    let finished = null;
    for (;;) {
      // Cache hits resolve without I/O: let the writer's replies in between reads.
      await new Promise((r) => setImmediate(r));
      for (const k of keys) {
        const v = Number(await reader.get(k));
        assert.ok(v >= last[k], `${k} went down: ${last[k]} -> ${v}`);
        last[k] = v;
      }
      if (done) {
        finished = finished || Date.now();
        if (keys.every((k) => last[k] === 200)) return;
        assert.ok(Date.now() - finished < 100, `last versions not seen within 100 ms: ${JSON.stringify(last)}`);
      }
    }
  })();
  for (let i = 1; i <= 200; i++) await Promise.all(keys.map((k) => writer.set(k, String(i))));
  done = true;
  await reading;
  // The writer is done: a second read of each key is a hit on its node's part.
  for (const k of keys) {
    assert.strictEqual(await reader.get(k), '200');
    assert.strictEqual(await reader.get(k), '200');
  }
  const nodes = reader.nodeStats();
  const primaries = Object.entries(nodes).filter(([, n]) => n.primary === 1);
  assert.strictEqual(primaries.length, 3, JSON.stringify(nodes));
  for (const [addr, n] of primaries) {
    assert.ok(n.requests > 0 && n.cache_hits > 0 && n.cache_invalidations > 0, `${addr}: ${JSON.stringify(n)}`);
  }
  const hits = Object.values(nodes).reduce((a, n) => a + n.cache_hits, 0);
  assert.strictEqual(hits, reader.clientSideCache.stats().hitCount);
  assert.deepStrictEqual(writer.nodeStats()[primaries[0][0]].cache_hits, undefined, 'no cache, no cache counters');
  await reader.close();
  await writer.close();
});

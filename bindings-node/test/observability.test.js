'use strict';
// OpenTelemetry metrics through @opentelemetry/sdk-metrics, against a real server (with a
// password): node-redis's names and attributes for GETs, a failing command, connections
// and the client-side cache; never a password, key or argument value in an attribute; no
// listener registered with the core while metrics are off.
const { test } = require('node:test');
const assert = require('node:assert');
const { MeterProvider, MetricReader, AggregationTemporality } = require('@opentelemetry/sdk-metrics');
const { createClient, OpenTelemetry, METRIC_GROUP, SimpleError, TimeoutError, PoolTimeoutError } = require('..');
const native = require('../binding.js');
const { startServer, stopServer } = require('./support');

const PASSWORD = 'otel-pass-Zq81';
const KEY = 'otel:secret-key';
const VALUE = 'otel-secret-value';

/** A reader collected by hand, every point since the last collection (delta). */
class Reader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.DELTA });
  }
  async onForceFlush() {}
  async onShutdown() {}
}

/** Every data point since the last collection: { name: [{ attributes, value }] }. */
async function collect(reader) {
  const { resourceMetrics, errors } = await reader.collect();
  assert.deepStrictEqual(errors, []);
  const out = {};
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const m of scope.metrics) {
      for (const p of m.dataPoints) (out[m.descriptor.name] ||= []).push({ attributes: p.attributes, value: p.value, unit: m.descriptor.unit });
    }
  }
  return out;
}

/** The points of `name` whose attributes include `match`. */
function only(points, name, match = {}) {
  return (points[name] || []).filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v));
}

test('OpenTelemetry metrics', async (t) => {
  const server = startServer('--requirepass', PASSWORD);
  t.after(() => stopServer(server));
  const url = `redis://:${PASSWORD}@127.0.0.1:${server.port}`;

  await t.test('off: nothing is registered with the core', async () => {
    assert.strictEqual(native.observeActive(), false);
    const c = await createClient({ url }).connect();
    await c.get(KEY);
    OpenTelemetry.init({ metrics: { enabled: false } });
    assert.strictEqual(native.observeActive(), false, 'enabled: false registers nothing');
    assert.throws(() => OpenTelemetry.init({ metrics: { enabled: true } }), /already initialized/);
    OpenTelemetry.shutdown();
    assert.strictEqual(native.observeTake(10), null);
    await c.close();
  });

  const reader = new Reader();
  const provider = new MeterProvider({ readers: [reader] });
  OpenTelemetry.init({
    metrics: { enabled: true, meterProvider: provider, enabledMetricGroups: Object.values(METRIC_GROUP) },
  });
  t.after(() => OpenTelemetry.shutdown());
  assert.strictEqual(native.observeActive(), true);

  const all = [];
  const remember = (points) => {
    for (const list of Object.values(points)) all.push(...list);
    return points;
  };

  await t.test('GETs, a failing command and the connection', async () => {
    const c = await createClient({ url }).connect();
    await c.set(KEY, VALUE);
    for (let i = 0; i < 3; i++) assert.strictEqual(await c.get(KEY), VALUE);
    await assert.rejects(c.lPush(KEY, VALUE), SimpleError);
    const points = remember(await collect(reader));

    const gets = only(points, 'db.client.operation.duration', { 'db.operation.name': 'GET' });
    assert.strictEqual(gets.length, 1, JSON.stringify(gets));
    const [get] = gets;
    assert.strictEqual(get.value.count, 3);
    assert.strictEqual(get.unit, 's');
    assert.ok(get.value.sum > 0 && get.value.sum < 10, `${get.value.sum} s`);
    // node-redis 6.4's attributes, formats included (the port as a string).
    assert.deepStrictEqual(get.attributes, {
      'db.system.name': 'redis',
      'redis.client.library': `redbridge:${require('../package.json').version}`,
      'db.operation.name': 'GET',
      'db.namespace': '0',
      'server.address': '127.0.0.1',
      'server.port': String(server.port),
    });

    const [failed] = only(points, 'db.client.operation.duration', { 'db.operation.name': 'LPUSH' });
    assert.ok(failed, Object.keys(points).join());
    assert.strictEqual(failed.attributes['error.type'], 'SimpleError');
    assert.strictEqual(failed.attributes['db.response.status_code'], 'WRONGTYPE');
    assert.strictEqual(failed.attributes['redis.client.errors.category'], 'server');
    const errors = only(points, 'redis.client.errors', { 'error.type': 'SimpleError' });
    assert.strictEqual(errors.length, 1);
    assert.strictEqual(errors[0].value, 1);
    assert.strictEqual(errors[0].attributes['redis.client.errors.internal'], false);

    const created = points['db.client.connection.create_time'] || [];
    assert.ok(created.length >= 1 && created[0].value.count >= 1, JSON.stringify(created));
    assert.match(created[0].attributes['db.client.connection.pool.name'], new RegExp(`^127\\.0\\.0\\.1:${server.port}/0-\\d+$`));
    // node-redis's gauge: the client's open connections.
    const open = only(points, 'redis.client.connection.count', { 'db.client.connection.pool.name': created[0].attributes['db.client.connection.pool.name'] });
    assert.strictEqual(open.length, 1, JSON.stringify(points['redis.client.connection.count']));
    assert.ok(open[0].value >= 1);
    assert.strictEqual(open[0].attributes['server.port'], String(server.port));
    await c.close();
  });

  await t.test('a burst of unawaited GETs is recorded in full', async () => {
    const c = await createClient({ url }).connect();
    await Promise.all(Array.from({ length: 2000 }, () => c.get(KEY)));
    const points = remember(await collect(reader));
    const [get] = only(points, 'db.client.operation.duration', { 'db.operation.name': 'GET' });
    assert.strictEqual(get.value.count, 2000);
    assert.strictEqual(OpenTelemetry.dropped(), 0);
    await c.close();
  });

  await t.test('client-side cache hits and misses', async () => {
    const c = await createClient({ url, clientSideCache: { maxEntries: 100 } }).connect();
    await c.get(KEY);
    await c.get(KEY);
    await c.get(KEY);
    const points = remember(await collect(reader));
    const sum = (result) => only(points, 'redis.client.csc.requests', { 'redis.client.csc.result': result }).reduce((n, p) => n + p.value, 0);
    assert.strictEqual(sum('miss'), 1, JSON.stringify(points['redis.client.csc.requests']));
    assert.strictEqual(sum('hit'), 2);
    await c.close();
  });

  await t.test('a retried command and the reconnect', async () => {
    const c = await createClient({ url, name: 'otel-retry' }).connect();
    await c.set('otel:r', 'v');
    await collect(reader);
    const ctl = await createClient({ url }).connect();
    assert.ok(await ctl.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']) >= 1);
    assert.strictEqual(await c.get('otel:r'), 'v');
    const points = remember(await collect(reader));
    const gets = only(points, 'db.client.operation.duration', { 'db.operation.name': 'GET' });
    assert.strictEqual(gets.length, 1, JSON.stringify(gets));
    assert.strictEqual(gets[0].value.count, 1, 'one operation, however many attempts');
    assert.strictEqual(gets[0].attributes['error.type'], undefined, 'it succeeded in the end');
    // Written before the JS thread saw its connection close, the GET failed there and
    // was retried; after, it waited for the new connection.
    assert.ok(c.stats().retries <= 1, String(c.stats().retries));
    // The connection died and was opened again.
    const closed = only(points, 'redis.client.connection.closed', { 'redis.client.connection.close.reason': 'error' });
    assert.ok(closed.reduce((n, p) => n + p.value, 0) >= 1, JSON.stringify(points['redis.client.connection.closed']));
    assert.strictEqual(closed[0].attributes['error.type'], 'ConnectionError');
    const created = points['db.client.connection.create_time'] || [];
    assert.ok(created.reduce((n, p) => n + p.value.count, 0) >= 1, JSON.stringify(created));
    assert.ok(created.every((p) => p.value.sum > 0 && p.value.sum < 1));
    await ctl.close();
    await c.close();
  });

  // The JS thread's own connection (core/src/client/batch.rs) hands a request it must
  // retry to the runtime with its retry state, and reports its opens and closes (its
  // close after a timeout among them) as connection events.
  /** Waits until requests go on the JS thread's own connection (connect() opens it; a slow open is allowed for). */
  const ownConnectionOpen = async (c) => {
    for (let i = 0; i < 100 && c.stats().direct_requests === 0; i++) {
      await c.ping();
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(c.stats().direct_requests > 0, "the JS thread's connection did not open");
  };

  await t.test('a retried command on the JS thread\'s connection carries its retry count', async () => {
    const c = await createClient({ url }).connect();
    await c.set('otel:r', 'v');
    await ownConnectionOpen(c);
    const id = await c.sendCommand(['CLIENT', 'ID']); // of the JS thread's connection
    await collect(reader);
    // In one turn, so on that connection together: the server closes it after the KILL's
    // reply, and the GET behind it fails there and is resent through the runtime.
    const direct = c.stats().direct_requests;
    const killed = c.sendCommand(['CLIENT', 'KILL', 'ID', String(id), 'SKIPME', 'no']);
    assert.strictEqual(await c.get('otel:r'), 'v');
    assert.strictEqual(await killed, 1);
    assert.strictEqual(c.stats().direct_requests, direct + 2, "the GET's first attempt went on the JS thread's connection");
    const [get] = only(remember(await collect(reader)), 'db.client.operation.duration', { 'db.operation.name': 'GET' });
    assert.strictEqual(get.attributes['redis.client.operation.retry_attempts'], 1, JSON.stringify(get.attributes));
    await c.close();
  });

  /** What a client records when DEBUG SLEEP outlasts its 100 ms response timeout. */
  const timedOut = async () => {
    const c = await createClient({ url, responseTimeout: 100 }).connect();
    await ownConnectionOpen(c); // a timeout there closes it
    await collect(reader);
    await assert.rejects(c.sendCommand(['DEBUG', 'SLEEP', '0.3']), TimeoutError);
    await new Promise((r) => setTimeout(r, 300));
    await c.close();
    return remember(await collect(reader));
  };

  await t.test('a timeout', async () => {
    const points = await timedOut();
    const [op] = only(points, 'db.client.operation.duration', { 'db.operation.name': 'DEBUG' });
    assert.ok(op, JSON.stringify(points['db.client.operation.duration']));
    assert.strictEqual(op.value.count, 1);
    assert.ok(op.value.sum >= 0.1 && op.value.sum < 0.3, `${op.value.sum} s`);
    assert.strictEqual(op.attributes['error.type'], 'TimeoutError');
    assert.strictEqual(op.attributes['redis.client.errors.category'], 'network');
    const errors = only(points, 'redis.client.errors', { 'error.type': 'TimeoutError' });
    assert.strictEqual(errors.reduce((n, p) => n + p.value, 0), 1);
    assert.strictEqual(errors[0].attributes['redis.client.errors.internal'], false);
  });

  await t.test('the connection a timeout closes is reported', async () => {
    const closed = only(await timedOut(), 'redis.client.connection.closed', { 'error.type': 'TimeoutError' });
    assert.strictEqual(closed.reduce((n, p) => n + p.value, 0), 1);
  });

  await t.test('a pool wait that times out', async () => {
    const c = await createClient({ url, maxConnections: 1, poolTimeout: 200 }).connect();
    await c.ping();
    await collect(reader);
    const holding = c.blPop('otel:empty', 1); // holds the pool's one connection
    await new Promise((r) => setTimeout(r, 50));
    await assert.rejects(c.blPop('otel:empty', 1), PoolTimeoutError);
    assert.strictEqual(await holding, null);
    const points = remember(await collect(reader));
    const waits = points['db.client.connection.wait_time'] || [];
    assert.ok(waits.some((p) => p.value.max >= 0.2), JSON.stringify(waits));
    assert.ok(waits.every((p) => p.attributes['db.client.connection.pool.name']));
    assert.strictEqual((points['db.client.connection.timeouts'] || []).reduce((n, p) => n + p.value, 0), 1);
    const blpops = only(points, 'db.client.operation.duration', { 'db.operation.name': 'BLPOP' });
    assert.deepStrictEqual(blpops.map((p) => p.attributes['error.type']).sort(), ['PoolTimeoutError', undefined].sort());
    assert.ok(blpops.every((p) => p.attributes['redis.client.operation.blocking'] === true));
    await c.close();
  });

  await t.test('pub/sub messages published and received', async () => {
    const pub = await createClient({ url }).connect();
    const sub = await createClient({ url }).connect();
    const got = [];
    await sub.subscribe('otel:chan', (m) => got.push(m));
    await collect(reader);
    for (let i = 0; i < 3; i++) await pub.publish('otel:chan', VALUE);
    for (let i = 0; i < 100 && got.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepStrictEqual(got, [VALUE, VALUE, VALUE]);
    const points = remember(await collect(reader));
    const dir = (d) => only(points, 'redis.client.pubsub.messages', { 'redis.client.pubsub.message.direction': d });
    // node-redis's directions: in and out.
    assert.strictEqual(dir('in').reduce((n, p) => n + p.value, 0), 3, JSON.stringify(points['redis.client.pubsub.messages']));
    assert.strictEqual(dir('out').reduce((n, p) => n + p.value, 0), 3);
    assert.strictEqual(dir('out')[0].attributes['redis.client.pubsub.sharded'], false);
    await sub.close();
    await pub.close();
  });

  await t.test('no password, key or argument value in any attribute', () => {
    assert.ok(all.length > 0);
    for (const p of all) {
      for (const [k, v] of Object.entries(p.attributes)) {
        for (const secret of [PASSWORD, KEY, VALUE]) {
          assert.ok(!String(v).includes(secret) && !k.includes(secret), `${k}=${v}`);
        }
      }
    }
  });

  await t.test('after shutdown: the listener is gone and nothing is recorded', async () => {
    OpenTelemetry.shutdown();
    assert.strictEqual(native.observeActive(), false);
    const c = await createClient({ url }).connect();
    await c.get(KEY);
    const points = await collect(reader);
    assert.deepStrictEqual(only(points, 'db.client.operation.duration'), []);
    await c.close();
  });
});

'use strict';
// Spans and node-redis 6.4's diagnostics_channel tracing channels, against a real server
// (with a password): the channels' names and context objects as node-redis publishes
// them, one CLIENT span per command or batch through @opentelemetry/sdk-trace-base's
// in-memory exporter, a failing command's error.type, and never a password, key or
// argument value in a context or an attribute. Off by default: nothing is published
// while no one subscribes.
const { test } = require('node:test');
const assert = require('node:assert');
const dc = require('node:diagnostics_channel');
const api = require('@opentelemetry/api');
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { AsyncLocalStorage } = require('node:async_hooks');
const { createClient, OpenTelemetry, SimpleError } = require('..');
const { startServer, stopServer } = require('./support');

const PASSWORD = 'trace-pass-Xk27';
const KEY = 'trace:secret-key';
const VALUE = 'trace-secret-value';

/** The smallest context manager for @opentelemetry/api: the active context follows async calls. */
class ContextManager {
  constructor() {
    this.storage = new AsyncLocalStorage();
  }
  active() {
    return this.storage.getStore() || api.ROOT_CONTEXT;
  }
  with(context, fn, thisArg, ...args) {
    return this.storage.run(context, () => fn.call(thisArg, ...args));
  }
  bind(context, target) {
    return typeof target === 'function' ? (...args) => this.with(context, target, undefined, ...args) : target;
  }
  enable() {
    return this;
  }
  disable() {
    this.storage.disable();
    return this;
  }
}

/** Every message of the channel `name`'s events while `fn` runs. */
async function published(name, fn) {
  const seen = [];
  const handlers = {};
  for (const event of ['start', 'end', 'asyncStart', 'asyncEnd', 'error']) handlers[event] = (ctx) => seen.push([event, ctx]);
  const channel = dc.tracingChannel(name);
  channel.subscribe(handlers);
  try {
    await fn();
  } finally {
    channel.unsubscribe(handlers);
  }
  return seen;
}

test('tracing channels and spans', async (t) => {
  const server = startServer('--requirepass', PASSWORD);
  t.after(() => stopServer(server));
  const url = `redis://:${PASSWORD}@127.0.0.1:${server.port}/5`;
  const c = await createClient({ url }).connect();
  t.after(() => c.close());

  await t.test('node-redis:command: its context for a GET and a failing command', async () => {
    await c.set(KEY, VALUE);
    const seen = await published('node-redis:command', async () => {
      assert.strictEqual(await c.get(KEY), VALUE);
      await assert.rejects(c.incr(KEY), SimpleError);
    });
    assert.deepStrictEqual(seen.map(([e, ctx]) => `${ctx.command} ${e}`), [
      'GET start', 'GET end', 'GET asyncStart', 'GET asyncEnd',
      'INCR start', 'INCR end', 'INCR error', 'INCR asyncStart', 'INCR asyncEnd',
    ]);
    const get = seen[0][1];
    assert.deepStrictEqual(
      { command: get.command, args: get.args, database: get.database, serverAddress: get.serverAddress, serverPort: get.serverPort },
      { command: 'GET', args: ['GET', '?'], database: 5, serverAddress: '127.0.0.1', serverPort: server.port },
    );
    assert.match(get.clientId, /^127\.0\.0\.1:\d+\/5-\d+$/);
    assert.strictEqual(get.result, VALUE, 'tracePromise puts the result on the context');
    const incr = seen.find(([e]) => e === 'error')[1];
    assert.ok(incr.error instanceof SimpleError);
    // An argument passed inside the command name is not published: the command is UNKNOWN.
    const odd = await published('node-redis:command', async () => {
      await assert.rejects(c.sendCommand([`AUTH ${VALUE}`]), SimpleError);
    });
    assert.deepStrictEqual(odd[0][1].command, 'UNKNOWN');
    assert.ok(!JSON.stringify(odd.map(([e, ctx]) => [e, ctx.command, ctx.args])).includes(VALUE));
  });

  await t.test('node-redis:batch: MULTI and PIPELINE with their size', async () => {
    const seen = await published('node-redis:batch', async () => {
      await c.multi().set(KEY, VALUE).get(KEY).exec();
      await c.multi().get(KEY).get(KEY).get(KEY).execAsPipeline();
    });
    const starts = seen.filter(([e]) => e === 'start').map(([, ctx]) => ctx);
    assert.deepStrictEqual(starts.map((ctx) => [ctx.batchMode, ctx.batchSize, ctx.database, ctx.serverPort]), [
      ['MULTI', 2, 5, server.port],
      ['PIPELINE', 3, 5, server.port],
    ]);
    assert.strictEqual(seen.filter(([e]) => e === 'asyncEnd').length, 2);
  });

  await t.test('node-redis:command inside a pipeline: one trace per command, as node-redis publishes them', async () => {
    const nodeRedis = await require('redis').createClient({ url }).connect();
    t.after(() => nodeRedis.close());
    const events = async (client) => {
      await client.set(KEY, VALUE);
      const seen = await published('node-redis:command', async () => {
        // Each client's own SimpleError class.
        await assert.rejects(client.multi().get(KEY).incr(KEY).set(KEY, VALUE).execAsPipeline(), (e) => e.constructor.name === 'SimpleError');
        await client.multi().set(KEY, VALUE).get(KEY).exec(); // a MULTI: the batch only
      });
      return seen.map(([e, ctx]) => [ctx.command, e, ctx.batchMode, ctx.batchSize, ctx.args.length, ctx.database]);
    };
    const mine = await events(c);
    const theirs = await events(nodeRedis);
    // The order of events across the three commands may differ; each command's own order may not.
    const byCommand = (list) => Object.fromEntries(['GET', 'INCR', 'SET'].map((k) => [k, list.filter((x) => x[0] === k)]));
    assert.deepStrictEqual(byCommand(mine), byCommand(theirs));
    assert.deepStrictEqual(mine.filter((x) => x[0] === 'INCR').map((x) => x[1]), ['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    assert.strictEqual(mine.length, theirs.length);
  });

  await t.test('spans: off by default, then one CLIENT span per command under the caller\'s span', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    api.context.setGlobalContextManager(new ContextManager());
    t.after(() => {
      api.context.disable();
    });
    OpenTelemetry.init({ metrics: { enabled: false } });
    await c.get(KEY);
    OpenTelemetry.shutdown();
    assert.strictEqual(dc.tracingChannel('node-redis:command').hasSubscribers, false, 'off: no subscriber');
    assert.deepStrictEqual(exporter.getFinishedSpans(), []);

    OpenTelemetry.init({ tracing: { enabled: true, tracerProvider: provider } });
    t.after(() => OpenTelemetry.shutdown());
    const tracer = provider.getTracer('test');
    await tracer.startActiveSpan('request', async (parent) => {
      await c.set(KEY, VALUE);
      assert.strictEqual(await c.get(KEY), VALUE);
      await assert.rejects(c.incr(KEY), SimpleError);
      await c.multi().get(KEY).get(KEY).execAsPipeline();
      parent.end();
    });
    const spans = exporter.getFinishedSpans();
    const parent = spans.find((s) => s.name === 'request');
    const mine = spans.filter((s) => s !== parent);
    assert.deepStrictEqual(mine.map((s) => s.name), ['SET', 'GET', 'INCR', 'PIPELINE']);
    for (const s of mine) {
      assert.strictEqual(s.kind, api.SpanKind.CLIENT);
      assert.strictEqual(s.parentSpanContext.spanId, parent.spanContext().spanId, `${s.name} is a child of the caller's span`);
    }
    const [, get, incr, pipeline] = mine;
    assert.deepStrictEqual(get.attributes, {
      'db.system.name': 'redis',
      'db.operation.name': 'GET',
      'db.namespace': '5',
      'server.address': '127.0.0.1',
      'server.port': server.port,
    });
    assert.strictEqual(get.status.code, api.SpanStatusCode.UNSET);
    assert.strictEqual(incr.status.code, api.SpanStatusCode.ERROR);
    assert.strictEqual(incr.attributes['error.type'], 'SimpleError');
    assert.strictEqual(incr.attributes['db.response.status_code'], 'ERR');
    assert.strictEqual(pipeline.attributes['db.operation.batch.size'], 2);

    // Never a password, key or argument value: in a span, its status or its events.
    const bad = createClient({ url: `redis://:wrong-Yp33@127.0.0.1:${server.port}` });
    await assert.rejects(bad.connect());
    const text = JSON.stringify(exporter.getFinishedSpans().map((s) => [s.name, s.attributes, s.status, s.events]));
    for (const secret of [PASSWORD, 'wrong-Yp33', KEY, VALUE]) assert.ok(!text.includes(secret), `${secret} in ${text}`);
  });
});

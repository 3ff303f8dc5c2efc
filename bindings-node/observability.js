'use strict';
// OpenTelemetry metrics for every redbridge client, with node-redis 6.4's API:
//
//   const { metrics } = require('@opentelemetry/api');
//   metrics.setGlobalMeterProvider(provider);
//   const { OpenTelemetry } = require('redbridge');
//   OpenTelemetry.init({ metrics: { enabled: true, enabledMetricGroups: ['command'] } });
//
// The core reports what happens (operations, connections, pool waits, the client-side
// cache, pub/sub) to a listener registered only by init (src/observe.rs), which groups
// operations by key off the JS thread; they reach this module in batches, one call per
// burst: each key once, then only its durations (typed arrays). Attributes are built
// once per key and recorded through the application's MeterProvider, so its views and
// exporters apply. A reader's collection records what is gathered first.
//
// Metric and attribute names, values and formats are node-redis 6.4's (db.system.name,
// server.port as a string, redis.client.library as `redbridge:<version>`, pub/sub
// direction in/out, the redis.client.connection.count gauge), so its dashboards work
// unchanged. A command is named, never its arguments; keys, channels and passwords are
// never recorded. `@opentelemetry/api` is an optional peer dependency.

const native = require('./binding.js');
const { version } = require('./package.json');

// ---- diagnostics_channel (node-redis 6.4's tracing channels) and spans -----------------
//
// index.js runs each command and each MULTI/pipeline through `traceCommand`/`traceBatch`
// (and each command of a pipeline through `traceEach`, as node-redis does) only while the
// channel has subscribers (`commandChannel.hasSubscribers`); otherwise the
// command path is unchanged. The channels and their context objects are node-redis's
// (`node-redis:command`, `node-redis:batch`: start, end, asyncStart, asyncEnd, error),
// except that `args` holds the command name and a '?' for every argument: no argument
// value, key or password is ever published. Spans (OpenTelemetry.init({ tracing: { enabled:
// true } })) are one subscriber of these channels.

const dc = (() => {
  try {
    return require('node:diagnostics_channel');
  } catch {
    return undefined;
  }
})();
const NO_CHANNEL = Object.freeze({ hasSubscribers: false });
const channelOf = (name) => (dc && typeof dc.tracingChannel === 'function' ? dc.tracingChannel(name) : NO_CHANNEL);
/** node-redis's tracing channel names. */
const CHANNELS = Object.freeze({ TRACE_COMMAND: 'node-redis:command', TRACE_BATCH: 'node-redis:batch' });
const commandChannel = channelOf(CHANNELS.TRACE_COMMAND);
const batchChannel = channelOf(CHANNELS.TRACE_BATCH);

// Per client (its `_self`), the context fields that do not change until the next select():
// kept with the overrides they were read from.
const contexts = new WeakMap();
let nextClientId = 1;

/** The database a client's options and later select() name. */
function databaseOf(self) {
  const chosen = [...self._options, ...self._overrides].filter(([k]) => k === 'db').pop();
  if (chosen) return Number(chosen[1]);
  try {
    const url = new URL(self._url);
    const path = url.pathname.replace(/^\/+|\/+$/g, '');
    if (url.protocol !== 'unix:' && /^\d+$/.test(path)) return Number(path);
  } catch {
    // no URL
  }
  return 0;
}

/** node-redis's client context: database, serverAddress, serverPort, clientId (never a password). */
function clientContext(client) {
  const self = client._self || client;
  const known = contexts.get(self);
  if (known && known.overrides === self._overrides) return known.context;
  const option = (key) => {
    const found = self._options.filter(([k]) => k === key).pop();
    return found && found[1];
  };
  let serverAddress = option('unix_socket_path');
  let serverPort;
  if (serverAddress === undefined) {
    serverAddress = option('host');
    serverPort = option('port') === undefined ? undefined : Number(option('port'));
    try {
      const url = new URL(self._url);
      if (url.protocol === 'unix:') serverAddress = url.pathname;
      else {
        serverAddress = serverAddress ?? url.hostname.replace(/^\[|\]$/g, '');
        serverPort = serverPort ?? (url.port === '' ? undefined : Number(url.port));
      }
    } catch {
      // no URL
    }
    serverAddress = serverAddress || 'localhost';
    serverPort = serverPort ?? 6379;
  }
  const id = known ? known.id : nextClientId++;
  const database = databaseOf(self);
  const context = { database, serverAddress, serverPort, clientId: `${serverAddress}:${serverPort}/${database}-${id}` };
  contexts.set(self, { overrides: self._overrides, context, id });
  return context;
}

/** The command name and a '?' per argument: node-redis's `args` shape without the values. */
function hiddenArgs(command, n) {
  const out = new Array(n).fill('?');
  out[0] = command;
  return out;
}

/** For index.js: runs `run()` (a promise) in the `node-redis:command` channel. */
function traceCommand(client, args, run) {
  const command = native.commandWord(Buffer.isBuffer(args[0]) ? args[0] : String(args[0]));
  return commandChannel.tracePromise(run, { command, args: hiddenArgs(command, args.length), ...clientContext(client) });
}

/**
 * For index.js: node-redis's per-command traces inside a pipeline (not a MULTI): one
 * `node-redis:command` trace per queued command, with `batchMode: 'PIPELINE'` and
 * `batchSize`, started now and ended with that command's own slot. Returns what settles
 * them: `settle(slots)` (an Error in a slot fails that trace) or `fail(error)` (all).
 */
function traceEach(client, argsList) {
  const batchSize = argsList.length;
  const base = clientContext(client);
  const settlers = argsList.map((args) => {
    let settle;
    const slot = new Promise((resolve, reject) => {
      settle = (v) => (v instanceof Error ? reject(v) : resolve(v));
    });
    const command = native.commandWord(Buffer.isBuffer(args[0]) ? args[0] : String(args[0]));
    const ctx = { command, args: hiddenArgs(command, args.length), ...base, batchMode: 'PIPELINE', batchSize };
    // Nobody awaits the traced branch: its rejection is the slot's, reported by exec.
    commandChannel.tracePromise(() => slot, ctx).catch(() => {});
    return settle;
  });
  return {
    settle: (slots) => slots.forEach((v, i) => settlers[i](v)),
    fail: (error) => settlers.forEach((settle) => settle(error)),
  };
}

/** For index.js: runs `run()` (a MULTI or pipeline, a promise) in the `node-redis:batch` channel. */
function traceBatch(client, transaction, batchSize, run) {
  return batchChannel.tracePromise(run, { batchMode: transaction ? 'MULTI' : 'PIPELINE', batchSize, ...clientContext(client) });
}

/** Spans from the channels: one CLIENT span per command or batch, in the caller's context. */
class Spans {
  constructor(api, tracer) {
    this.api = api;
    this.tracer = tracer;
    this.spans = new WeakMap();
    const on = (name) => (ctx) => this.start(ctx, name(ctx));
    // A pipeline's commands are traced on the command channel too (with batchMode): their
    // pipeline's span stands for them, so they get none of their own.
    const command = (ctx) => {
      if (ctx.batchMode === undefined) this.start(ctx, ctx.command);
    };
    this.handlers = [
      [commandChannel, { start: command, asyncEnd: (ctx) => this.end(ctx), error: (ctx) => this.failed(ctx) }],
      [batchChannel, { start: on((ctx) => ctx.batchMode), asyncEnd: (ctx) => this.end(ctx), error: (ctx) => this.failed(ctx) }],
    ];
    for (const [channel, handlers] of this.handlers) channel.subscribe(handlers);
  }

  start(ctx, name) {
    const attributes = {
      'db.system.name': 'redis',
      'db.operation.name': name,
      'db.namespace': String(ctx.database),
      'server.address': ctx.serverAddress,
    };
    if (ctx.serverPort !== undefined) attributes['server.port'] = ctx.serverPort;
    if (ctx.batchSize !== undefined) attributes['db.operation.batch.size'] = ctx.batchSize;
    const span = this.tracer.startSpan(name, { kind: this.api.SpanKind.CLIENT, attributes }, this.api.context.active());
    this.spans.set(ctx, span);
  }

  failed(ctx) {
    const span = this.spans.get(ctx);
    if (!span) return;
    const error = ctx.error;
    // The class, and the server's error code; never the message (it may quote arguments).
    span.setAttribute('error.type', (error && error.constructor && error.constructor.name) || 'Error');
    if (error instanceof require('./index.js').ErrorReply) {
      const code = String(error.message).split(' ', 1)[0];
      if (/^[A-Z]+$/.test(code)) span.setAttribute('db.response.status_code', code);
    }
    span.setStatus({ code: this.api.SpanStatusCode.ERROR });
  }

  end(ctx) {
    const span = this.spans.get(ctx);
    if (!span) return;
    this.spans.delete(ctx);
    span.end();
  }

  close() {
    for (const [channel, handlers] of this.handlers) channel.unsubscribe(handlers);
  }
}

/** Groups of metrics, with node-redis's names. */
const METRIC_GROUP = Object.freeze({
  COMMAND: 'command',
  CONNECTION_BASIC: 'connection-basic',
  CONNECTION_ADVANCED: 'connection-advanced',
  RESILIENCY: 'resiliency',
  PUBSUB: 'pubsub',
  STREAMING: 'streaming',
  CLIENT_SIDE_CACHING: 'client-side-caching',
});
const DEFAULT_METRIC_GROUPS = [METRIC_GROUP.CONNECTION_BASIC, METRIC_GROUP.RESILIENCY];
const DEFAULT_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

// As node-redis writes its own (`node-redis:6.4.0`).
const LIBRARY = `redbridge:${version}`;
const METER_NAME = 'redbridge';
// Events queued at most between two batches (then dropped and counted), and taken per call.
const QUEUE_CAPACITY = 100000;
const BATCH = 4096;
// How long events gather after the first before they are recorded.
const DRAIN_DELAY_MS = 50;

const G = METRIC_GROUP;
// Every instrument: group, kind, name, unit, description, the config key of its buckets.
const INSTRUMENTS = [
  [G.COMMAND, 'Histogram', 'db.client.operation.duration', 's', 'Command execution duration', 'bucketsOperationDuration'],
  [G.RESILIENCY, 'Counter', 'redis.client.errors', '{error}', 'Errors returned to the application or handled inside the client'],
  [G.CONNECTION_BASIC, 'Histogram', 'db.client.connection.create_time', 's', 'Time to create a new connection', 'bucketsConnectionCreateTime'],
  [G.CONNECTION_ADVANCED, 'Histogram', 'db.client.connection.wait_time', 's', 'Time to obtain a connection from the pool', 'bucketsConnectionWaitTime'],
  [G.CONNECTION_ADVANCED, 'Counter', 'db.client.connection.timeouts', '{timeout}', 'Leases from the pool that gave up waiting'],
  [G.CONNECTION_ADVANCED, 'Counter', 'redis.client.connection.closed', '{connection}', 'Connections closed'],
  [G.PUBSUB, 'Counter', 'redis.client.pubsub.messages', '{message}', 'Pub/sub messages published and received'],
  [G.PUBSUB, 'Counter', 'redbridge.client.pubsub.dropped', '{message}', "Pub/sub messages received but dropped: a subscriber's queue was full"],
  [G.CLIENT_SIDE_CACHING, 'Counter', 'redis.client.csc.requests', '{request}', 'Reads the client-side cache was asked for'],
  [G.CLIENT_SIDE_CACHING, 'Counter', 'redis.client.csc.evictions', '{eviction}', 'Entries the client-side cache dropped'],
];

// Close reasons as node-redis names them.
const CLOSE_REASON = { application: 'application_close', idle: 'pool_eviction_idle', timeout: 'error', error: 'error' };
const AUTH_CODES = new Set(['NOAUTH', 'WRONGPASS', 'NOPERM']);

/** `redis.client.errors.category` of a failure: the core's kind, the server's code. */
function category(kind, code) {
  if (kind === 'CONNECTION' || kind === 'TIMEOUT' || kind === 'POOL_TIMEOUT') return 'network';
  if (kind === 'AUTHENTICATION' || AUTH_CODES.has(code)) return 'auth';
  return kind === 'RESPONSE' ? 'server' : 'other';
}

// The error class name (error.type) for a core error kind; index.js supplies its mapping.
let errorClassOf = () => 'RedisError';
const errorNames = new Map();
function errorType(kind) {
  let name = errorNames.get(kind);
  if (name === undefined) {
    name = errorClassOf(kind);
    errorNames.set(kind, name);
  }
  return name;
}

/** Turns the core's events into measurements on the enabled instruments. */
class Recorder {
  constructor(meter, options) {
    this.options = options;
    this.instruments = new Map();
    for (const [group, kind, name, unit, description, buckets] of INSTRUMENTS) {
      if (!options.enabledMetricGroups.includes(group)) continue;
      const opts = { unit, description };
      if (buckets) opts.advice = { explicitBucketBoundaries: options[buckets] };
      this.instruments.set(name, meter[`create${kind}`](name, opts));
    }
    this.include = options.includeCommands && new Set(options.includeCommands.map((c) => c.toUpperCase()));
    this.exclude = new Set((options.excludeCommands || []).map((c) => c.toUpperCase()));
    // Per operation key number, what to record for each of its operations (built once).
    this.plans = [];
    // Per client: its attributes as node-redis's client registry gives them, and the
    // connections it has open (redis.client.connection.count).
    this.clients = new Map();
  }

  add(name, value, attributes) {
    const instrument = this.instruments.get(name);
    if (instrument === undefined) return;
    if (instrument.record) instrument.record(value, attributes);
    else instrument.add(value, attributes);
  }

  tracks(command) {
    const name = command.toUpperCase();
    return this.include ? this.include.has(name) : !this.exclude.has(name);
  }

  /** The attributes node-redis puts on every point, the custom ones last. */
  base(extra) {
    return Object.assign({ 'db.system.name': 'redis', 'redis.client.library': LIBRARY }, extra, this.options.customAttributes);
  }

  /** node-redis's client attributes: namespace, server, and the client as pool name. */
  client(e) {
    return {
      'db.namespace': String(e.db),
      'server.address': e.host,
      'server.port': String(e.port),
      'db.client.connection.pool.name': `${e.host}:${e.port}/${e.db}-${e.client}`,
    };
  }

  /** Records one batch of native.observeTake (src/observe.rs); returns how many events it held. */
  recordBatch(batch) {
    for (const key of batch.keys) this.plans[key.id] = this.plan(key);
    const { ids, seconds } = batch;
    const n = ids.length;
    for (let i = 0; i < n; i++) {
      const plan = this.plans[ids[i]];
      if (plan === undefined) continue;
      if (plan.duration) plan.duration.record(seconds[i], plan.attributes);
      // Counters are added once per run of operations of one key (they come grouped).
      let run = 1;
      while (i + 1 < n && ids[i + 1] === ids[i]) {
        i++;
        run++;
        if (plan.duration) plan.duration.record(seconds[i], plan.attributes);
      }
      if (plan.errors) plan.errors.add(run, plan.errorAttributes);
      if (plan.published) plan.published.add(run, plan.publishAttributes);
    }
    for (const e of batch.others) {
      if (e.kind === 'connection') this.connection(e);
      else {
        const attributes = this.base(this.client(e));
        this.add('db.client.connection.wait_time', e.seconds, attributes);
        if (e.timedOut) this.add('db.client.connection.timeouts', 1, attributes);
      }
    }
    for (const e of batch.counts) this.count(e);
    return n + batch.others.length + batch.counts.length;
  }

  /** What each operation of one key records: instruments and their attributes, once. */
  plan(key) {
    const plan = {};
    const failure = {};
    if (key.retries > 0) failure['redis.client.operation.retry_attempts'] = key.retries;
    if (key.error) {
      failure['error.type'] = errorType(key.error);
      failure['redis.client.errors.category'] = category(key.error, key.code);
      failure['db.response.status_code'] = key.code || 'error';
      plan.errors = this.instruments.get('redis.client.errors');
      plan.errorAttributes = this.base({ ...this.client(key), ...failure, 'redis.client.errors.internal': false });
    }
    if (this.tracks(key.name)) {
      plan.duration = this.instruments.get('db.client.operation.duration');
      plan.attributes = this.base({
        'db.namespace': String(key.db),
        'server.address': key.host,
        'server.port': String(key.port),
        'db.operation.name': key.name,
        ...failure,
        ...(key.blocking ? { 'redis.client.operation.blocking': true } : {}),
      });
    }
    if (!key.error && (key.name === 'PUBLISH' || key.name === 'SPUBLISH')) {
      plan.published = this.instruments.get('redis.client.pubsub.messages');
      plan.publishAttributes = this.base({
        ...this.client(key),
        'redis.client.pubsub.message.direction': 'out',
        'redis.client.pubsub.sharded': key.name === 'SPUBLISH',
      });
    }
    return plan;
  }

  count(e) {
    if (e.kind === 'cache') {
      const what = e.name === 'invalidation'
        ? ['redis.client.csc.evictions', { 'redis.client.csc.reason': 'invalidation' }]
        : ['redis.client.csc.requests', { 'redis.client.csc.result': e.name }];
      this.add(what[0], e.count, this.base(what[1]));
    } else if (e.name === 'received') {
      this.add('redis.client.pubsub.messages', e.count, this.base({ 'redis.client.pubsub.message.direction': 'in', 'redis.client.pubsub.sharded': false }));
    } else {
      this.add('redbridge.client.pubsub.dropped', e.count, this.base());
    }
  }

  connection(e) {
    const client = this.client(e);
    if (e.name === 'created') {
      this.add('db.client.connection.create_time', e.seconds, this.base(client));
      this.opened(e, client, 1);
    } else if (e.name === 'closed') {
      this.opened(e, client, -1);
      const attributes = { ...client, 'redis.client.connection.close.reason': CLOSE_REASON[e.detail] || 'error' };
      if (e.detail === 'timeout') attributes['error.type'] = errorType('TIMEOUT');
      else if (e.detail === 'error') attributes['error.type'] = errorType('CONNECTION');
      this.add('redis.client.connection.closed', 1, this.base(attributes));
    } else if (e.name === 'failed') {
      this.add('redis.client.errors', 1, this.base({
        ...client,
        'error.type': errorType(e.error),
        'redis.client.errors.category': category(e.error),
        'redis.client.errors.internal': true,
      }));
    }
  }

  /** Counts a client's open connections, for the redis.client.connection.count gauge. */
  opened(e, attributes, delta) {
    const key = `${e.client} ${e.host}:${e.port}/${e.db}`;
    const c = this.clients.get(key) || { attributes: this.base(attributes), open: 0 };
    c.open = Math.max(0, c.open + delta);
    if (c.open === 0) this.clients.delete(key);
    else this.clients.set(key, c);
  }

  /** node-redis's redis.client.connection.count: connections open, per client. */
  observeConnections(result) {
    for (const c of this.clients.values()) result.observe(c.open, c.attributes);
  }
}

let active = null; // { recorder, gauges, timer } while init'ed with metrics on

/** Records every gathered event now; returns how many. */
function drain() {
  if (!active || !active.recorder) return 0;
  const { recorder } = active;
  let done = 0;
  for (;;) {
    const batch = native.observeTake(BATCH);
    if (!batch) return done;
    try {
      done += recorder.recordBatch(batch);
    } catch {
      // Telemetry never breaks the application.
      done += 1;
    }
  }
}

function loadApi() {
  try {
    return require('@opentelemetry/api');
  } catch {
    const err = new Error('redbridge OpenTelemetry needs @opentelemetry/api: npm install @opentelemetry/api (and an SDK, e.g. @opentelemetry/sdk-metrics)');
    err.code = 'ERR_REDBRIDGE_OTEL_API';
    throw err;
  }
}

/** node-redis's `OpenTelemetry`: `init` once, every client (made before or after) records. */
class OpenTelemetry {
  /**
   * Starts recording with `config.metrics` (node-redis's MetricConfig): `enabled`,
   * `meterProvider` (default: the global one), `enabledMetricGroups`, `includeCommands`,
   * `excludeCommands`, `bucketsOperationDuration`, `bucketsConnectionCreateTime`,
   * `bucketsConnectionWaitTime`, `customAttributes`; and `config.tracing` (redbridge's, off by
   * default): `enabled`, `tracerProvider` (default: the global one) for one CLIENT span per
   * command or MULTI/pipeline, made from the `node-redis:command` / `node-redis:batch`
   * channels. Throws when already initialized.
   */
  static init(config) {
    if (active) throw new Error('OpenTelemetry already initialized');
    const t = (config && config.tracing) || {};
    let spans = null;
    if (t.enabled) {
      const api = loadApi();
      const provider = t.tracerProvider || api.trace.getTracerProvider();
      spans = new Spans(api, provider.getTracer(METER_NAME, version));
    }
    const m = (config && config.metrics) || {};
    if (!m.enabled) {
      active = { recorder: null, spans };
      return;
    }
    const provider = m.meterProvider || loadApi().metrics.getMeterProvider();
    const meter = provider.getMeter(METER_NAME, version);
    const recorder = new Recorder(meter, {
      enabledMetricGroups: m.enabledMetricGroups || DEFAULT_METRIC_GROUPS,
      includeCommands: m.includeCommands,
      excludeCommands: m.excludeCommands,
      bucketsOperationDuration: m.bucketsOperationDuration || DEFAULT_BUCKETS,
      bucketsConnectionCreateTime: m.bucketsConnectionCreateTime || DEFAULT_BUCKETS,
      bucketsConnectionWaitTime: m.bucketsConnectionWaitTime || DEFAULT_BUCKETS,
      customAttributes: m.customAttributes || {},
    });
    // A reader's collection observes this gauge first, so what is gathered is recorded
    // before the other instruments are read; the gauge itself reports nothing.
    const gauge = meter.createObservableGauge('redbridge.observability.drain', {
      description: '(internal: records queued events before each collection)',
    });
    const drainCallback = () => {
      drain();
    };
    gauge.addCallback(drainCallback);
    const gauges = [[gauge, drainCallback]];
    if (recorder.options.enabledMetricGroups.includes(G.CONNECTION_BASIC)) {
      const count = meter.createObservableGauge('redis.client.connection.count', {
        unit: '{connection}',
        description: 'Current number of active connections',
      });
      const observe = (result) => {
        drain();
        recorder.observeConnections(result);
      };
      count.addCallback(observe);
      gauges.push([count, observe]);
    }
    active = { recorder, gauges, spans };
    // Woken when events start to gather: they are recorded DRAIN_DELAY_MS later, all at
    // once (a wake and a take per event would cost more than recording it).
    const drainLater = () => {
      active.timer = null;
      try {
        drain();
      } catch {
        // Telemetry never breaks the application.
      }
    };
    native.observeStart(() => {
      if (active && !active.timer) {
        active.timer = setTimeout(drainLater, DRAIN_DELAY_MS);
        active.timer.unref();
      }
    }, QUEUE_CAPACITY);
  }

  /** Records what is queued, stops listening (no cost any more) and allows a new init. */
  static shutdown() {
    if (!active) return;
    if (active.spans) active.spans.close();
    drain();
    native.observeStop();
    if (active.timer) clearTimeout(active.timer);
    for (const [gauge, callback] of active.gauges || []) gauge.removeCallback(callback);
    active = null;
  }

  /** Records every queued event now (a collection does this itself); returns how many. */
  static drain() {
    return drain();
  }

  /** Events dropped because the queue was full. */
  static dropped() {
    return native.observeDropped();
  }
}

/** For index.js: how its errors are named (error.type), by core error kind. */
function setErrorClassOf(fn) {
  errorClassOf = fn;
  errorNames.clear();
}

module.exports = { OpenTelemetry, METRIC_GROUP, setErrorClassOf, CHANNELS, commandChannel, batchChannel, traceCommand, traceEach, traceBatch };

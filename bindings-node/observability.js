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
   * `bucketsConnectionWaitTime`, `customAttributes`. Throws when already initialized.
   */
  static init(config) {
    if (active) throw new Error('OpenTelemetry already initialized');
    const m = (config && config.metrics) || {};
    if (!m.enabled) {
      active = { recorder: null };
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
    active = { recorder, gauges };
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

module.exports = { OpenTelemetry, METRIC_GROUP, setErrorClassOf };

'use strict';
// OpenTelemetry metrics for every redbridge client, with node-redis 6.4's API:
//
//   const { metrics } = require('@opentelemetry/api');
//   metrics.setGlobalMeterProvider(provider);
//   const { OpenTelemetry } = require('redbridge');
//   OpenTelemetry.init({ metrics: { enabled: true, enabledMetricGroups: ['command'] } });
//
// The core reports what happens (operations, connections, pool waits, the client-side
// cache, pub/sub) to a listener registered only by init (src/observe.rs); the events are
// queued off the JS thread and reach this module in batches, one call per burst, and are
// recorded through the application's MeterProvider, so its views and exporters apply.
// A reader's collection records what is queued first.
//
// Metric and attribute names are the database-client semantic conventions' and the
// anchors' (node-redis 6.4, redis-py 8.1), the same as redbridge.observability in
// Python, so one dashboard fits both. A command is named, never its arguments; keys,
// channels and passwords are never recorded. `@opentelemetry/api` is an optional peer
// dependency.

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

const LIBRARY = `redbridge:v${version}`;
const METER_NAME = 'redbridge';
// Events queued at most between two batches (then dropped and counted), and taken per call.
const QUEUE_CAPACITY = 100000;
const BATCH = 4096;

const G = METRIC_GROUP;
// Every instrument: group, kind, name, unit, description, the config key of its buckets.
const INSTRUMENTS = [
  [G.COMMAND, 'Histogram', 'db.client.operation.duration', 's', 'Command execution duration', 'bucketsOperationDuration'],
  [G.RESILIENCY, 'Counter', 'redis.client.errors', '{error}', 'Errors returned to the application or handled inside the client'],
  [G.CONNECTION_BASIC, 'Histogram', 'db.client.connection.create_time', 's', 'Time to create a new connection', 'bucketsConnectionCreateTime'],
  [G.CONNECTION_BASIC, 'UpDownCounter', 'db.client.connection.count', '{connection}', 'Connections open now, by state'],
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

  /** Attributes on every point; with an event's server, its address and port. */
  base(e) {
    const attributes = { 'db.system.name': 'redis', 'db.system': 'redis', 'redis.client.library': LIBRARY };
    if (e) {
      attributes['server.address'] = e.host;
      attributes['server.port'] = e.port;
    }
    return Object.assign(attributes, this.options.customAttributes);
  }

  pool(e) {
    const attributes = this.base();
    attributes['db.client.connection.pool.name'] = `${e.host}:${e.port}_${e.client}`;
    return attributes;
  }

  record(e) {
    switch (e.kind) {
      case 'operation':
        return this.operation(e);
      case 'connection':
        return this.connection(e);
      case 'pool_wait':
        this.add('db.client.connection.wait_time', e.seconds, this.pool(e));
        if (e.blocking) this.add('db.client.connection.timeouts', 1, this.pool(e));
        return;
      case 'cache':
        if (e.name === 'invalidation') {
          this.add('redis.client.csc.evictions', e.count, { ...this.base(), 'redis.client.csc.reason': 'invalidation' });
        } else {
          this.add('redis.client.csc.requests', e.count, { ...this.base(), 'redis.client.csc.result': e.name });
        }
        return;
      case 'pubsub':
        if (e.name === 'received') {
          this.add('redis.client.pubsub.messages', e.count, { ...this.base(), 'redis.client.pubsub.message.direction': 'receive' });
        } else {
          this.add('redbridge.client.pubsub.dropped', e.count, this.base());
        }
    }
  }

  operation(e) {
    // What goes on both the duration and the error counter.
    const common = this.base(e);
    common['network.peer.address'] = e.host;
    common['network.peer.port'] = e.port;
    if (e.retries > 0) common['redis.client.operation.retry_attempts'] = e.retries;
    if (e.error) {
      common['error.type'] = errorType(e.error);
      common['db.response.status_code'] = e.code || 'error';
      common['redis.client.errors.category'] = category(e.error, e.code);
      this.add('redis.client.errors', 1, { ...common, 'redis.client.errors.internal': false });
    }
    if (this.tracks(e.name)) {
      const attributes = { ...common, 'db.namespace': String(e.db), 'db.operation.name': e.name };
      if (e.blocking) attributes['redis.client.operation.blocking'] = true;
      this.add('db.client.operation.duration', e.seconds, attributes);
    }
    if (!e.error && (e.name === 'PUBLISH' || e.name === 'SPUBLISH')) {
      this.add('redis.client.pubsub.messages', 1, {
        ...this.base(),
        'redis.client.pubsub.message.direction': 'publish',
        'redis.client.pubsub.sharded': e.name === 'SPUBLISH',
      });
    }
  }

  connection(e) {
    const used = { ...this.pool(e), 'db.client.connection.state': 'used' };
    if (e.name === 'created') {
      this.add('db.client.connection.create_time', e.seconds, this.pool(e));
      this.add('db.client.connection.count', 1, used);
    } else if (e.name === 'closed') {
      this.add('db.client.connection.count', -1, used);
      const attributes = { ...this.base(), 'redis.client.connection.close.reason': CLOSE_REASON[e.detail] || 'error' };
      if (e.detail === 'timeout') attributes['error.type'] = errorType('TIMEOUT');
      else if (e.detail === 'error') attributes['error.type'] = errorType('CONNECTION');
      this.add('redis.client.connection.closed', 1, attributes);
    } else if (e.name === 'failed') {
      this.add('redis.client.errors', 1, {
        ...this.base(e),
        'error.type': errorType(e.error),
        'db.response.status_code': 'error',
        'redis.client.errors.category': category(e.error),
        'redis.client.errors.internal': true,
      });
    }
  }
}

let active = null; // { recorder, gauge, drainCallback } while init'ed with metrics on

/** Records every queued event now; returns how many. */
function drain() {
  if (!active || !active.recorder) return 0;
  const { recorder } = active;
  let done = 0;
  for (;;) {
    const events = native.observeTake(BATCH);
    if (events.length === 0) return done;
    for (const e of events) {
      try {
        recorder.record(e);
      } catch {
        // Telemetry never breaks the application.
      }
    }
    done += events.length;
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
    // A reader's collection observes this gauge first, so what is queued is recorded
    // before the other instruments are read; the gauge itself reports nothing.
    const gauge = meter.createObservableGauge('redbridge.observability.drain', {
      description: '(internal: records queued events before each collection)',
    });
    const drainCallback = () => {
      drain();
    };
    gauge.addCallback(drainCallback);
    active = { recorder, gauge, drainCallback };
    native.observeStart(() => {
      try {
        drain();
      } catch {
        // Telemetry never breaks the application.
      }
    }, QUEUE_CAPACITY);
  }

  /** Records what is queued, stops listening (no cost any more) and allows a new init. */
  static shutdown() {
    if (!active) return;
    drain();
    native.observeStop();
    if (active.gauge) active.gauge.removeCallback(active.drainCallback);
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

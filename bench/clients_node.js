'use strict';
// One Node client through the workloads W1-W7 of docs/architecture.md, "Bench workloads"; prints one JSON line.
// Run by bench/run.py (not by hand): `node clients_node.js <client>`, with REDIS_URL (db 0
// holds the GET keys, db 1 the 100k keys W4 scans), BENCH_NODE_MODULES (the scratch
// install of the anchors) and QUICK=1 for a tiny run. One process per client.
// BENCH_WORKLOADS: "W1-W6" (the default), "W7", "OTEL" (redbridge's W1 and W3 with
// OpenTelemetry metrics off and on), or several; W7 (pub/sub) needs run.py's
// publisher, asked for each round with a `W7 PUB ...` line on stdout.
// BENCH_REDBRIDGE_NODE: where the redbridge package is (default ../bindings-node).
const path = require('node:path');
const fs = require('node:fs');

const t0 = process.hrtime.bigint();
const QUICK = process.env.QUICK === '1';
const URL = process.env.REDIS_URL;
// BENCH_CLUSTER=1: REDIS_URL is a seed node of a cluster; W1-W4 only, W4 over all keys.
const CLUSTER = process.env.BENCH_CLUSTER === '1';
const SCAN_URL = CLUSTER ? URL : URL.replace(/(\/\d+)?$/, '/1');
const { hostname: HOST, port: PORT } = new globalThis.URL(URL);
const MODULES = process.env.BENCH_NODE_MODULES;
const N1 = QUICK ? 1000 : 20000;
const BATCHES = QUICK ? 10 : 200;
const N3 = QUICK ? 5000 : 100000;
const N5 = QUICK ? 2000 : 50000;
const N6 = QUICK ? 100 : 2000;
const W4_PASSES = QUICK ? 1 : 5; // W4: the median pass (one pass of ~50 ms was at the mercy of the moment)
const TASKS = 64;
const WANT = (process.env.BENCH_WORKLOADS || 'W1-W6').split(',');
const REDBRIDGE = process.env.BENCH_REDBRIDGE_NODE || path.join(__dirname, '..', 'bindings-node');
// W7: rounds of messages per subscriber (each round within the default queue bounds).
const [W7A_ROUNDS, W7A_N] = QUICK ? [1, 2000] : [4, 50000];
const [W7B_ROUNDS, W7B_N] = QUICK ? [1, 300] : [6, 20000];
const W7_SUBS = 10;
const IDLE_MS = 5000; // no message for this long: the round is over, short
const KEY = 'bench:key';
const BIG = 'bench:big';
const HOT = Array.from({ length: 100 }, (_, i) => `w5:${i}`);

const now = () => process.hrtime.bigint();
const secs = (t) => Number(now() - t) / 1e9;
const pct = (v, p) => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor(v.length * p))];
const rssMb = (field) => {
  const line = fs.readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith(field + ':'));
  return Number(line.split(/\s+/)[1]) / 1024;
};
const anchor = (name) => require(path.join(MODULES, name));
/** Context switches of every thread of this process so far (voluntary and not). */
const contextSwitches = () => {
  let n = 0;
  for (const task of fs.readdirSync('/proc/self/task')) {
    let status;
    try {
      status = fs.readFileSync(`/proc/self/task/${task}/status`, 'utf8');
    } catch {
      continue; // a thread that ended meanwhile
    }
    for (const m of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)/gm)) n += Number(m[1]);
  }
  return n;
};

/** CPU time of the whole process (every thread) since `from` (a process.cpuUsage()), in ms per 100k of `n`. */
const cpuPer100k = (from, n) => {
  const u = process.cpuUsage(from);
  return ((u.user + u.system) / 1000) * (1e5 / n);
};

async function w1(get) {
  const lat = new Array(N1);
  const cpu = process.cpuUsage();
  const t = now();
  for (let i = 0; i < N1; i++) {
    const a = now();
    await get(KEY);
    lat[i] = Number(now() - a) / 1000;
  }
  return { ops: N1 / secs(t), p50_us: pct(lat, 0.5), p99_us: pct(lat, 0.99), cpu_ms_per_100k: cpuPer100k(cpu, N1) };
}

async function w2(batch) {
  const t = now();
  for (let i = 0; i < BATCHES; i++) {
    const r = await batch(100);
    if (r.length !== 100) throw new Error(`batch gave ${r.length} replies`);
  }
  return { ops: (BATCHES * 100) / secs(t) };
}

async function w3(get) {
  const each = Math.floor(N3 / TASKS);
  const work = async () => {
    for (let i = 0; i < each; i++) await get(KEY);
  };
  const cs = contextSwitches();
  const cpu = process.cpuUsage();
  const t = now();
  await Promise.all(Array.from({ length: TASKS }, work));
  const ops = (each * TASKS) / secs(t);
  // Issue #19: context switches per 100k requests, every thread of the process.
  return {
    ops,
    in_flight: `${TASKS} promises`,
    ctx_per_100k: ((contextSwitches() - cs) * 1e5) / (each * TASKS),
    cpu_ms_per_100k: cpuPer100k(cpu, each * TASKS),
  };
}

async function w4(scan) {
  const passes = [];
  let keys = 0;
  for (let i = 0; i < W4_PASSES; i++) {
    const t = now();
    keys = await scan();
    passes.push(secs(t));
  }
  passes.sort((a, b) => a - b);
  return { secs: passes[passes.length >> 1], keys, passes: passes.length };
}

async function w5(get) {
  for (const k of HOT) await get(k);
  const t = now();
  for (let i = 0; i < N5; i++) await get(HOT[i % 100]);
  return { ops: N5 / secs(t) };
}

async function w6(get) {
  let total = 0;
  const t = now();
  for (let i = 0; i < N6; i++) total += (await get(BIG)).length;
  return { mb_s: total / 1e6 / secs(t) };
}

// --- W7: pub/sub --------------------------------------------------------------------------
// A subscriber kit: sub(channel, onMessage) opens one new subscriber connection whose
// messages call onMessage() (the library's own listener or callback) and resolves with a
// close function; troubles() gives [dropped, gaps] (redbridge: its bounded queue's drops
// and 'pubsub-gap' events), what would make a run invalid on the client's side.

const ask = (tag, channel, subs, n) => process.stdout.write(`W7 PUB ${tag} ${channel} ${subs} ${n}\n`);

function counter() {
  const st = { n: 0, target: 0, first: 0, last: 0, reached: null };
  st.on = () => {
    const t = performance.now();
    if (++st.n === 1) st.first = t;
    st.last = t;
    if (st.n === st.target && st.reached) st.reached();
  };
  return st;
}

/** One round: each counter takes n messages (or goes IDLE_MS without one); [received, first, last]. */
function round(states, n, ask) {
  return new Promise((resolve) => {
    let pending = states.length;
    const since = performance.now();
    let timer = null;
    const finish = () => {
      clearInterval(timer);
      for (const st of states) st.reached = null;
      resolve([states.reduce((a, st) => a + st.n, 0), Math.min(...states.map((st) => st.first)), Math.max(...states.map((st) => st.last))]);
    };
    for (const st of states) {
      st.n = 0;
      st.first = Infinity;
      st.last = 0;
      st.target = n;
      st.reached = () => {
        st.reached = null;
        if (--pending === 0) finish();
      };
    }
    timer = setInterval(() => {
      if (performance.now() - Math.max(since, ...states.map((st) => st.last)) > IDLE_MS) finish();
    }, 100);
    ask();
  });
}

function verdict(kit, before, rounds, n, subs) {
  const [dropped, gaps] = kit.troubles().map((x, i) => x - before[i]);
  const got = rounds.reduce((a, r) => a + r[0], 0);
  const want = rounds.length * n * subs;
  if (got < want) return { error: `invalid: received ${got} of ${want} messages in round ${rounds.length} (dropped ${dropped}, gaps ${gaps})` };
  if (dropped || gaps) return { error: `invalid: ${dropped} dropped by the bounded queue (pubsub_dropped), ${gaps} gap(s)` };
  const secs = rounds.reduce((a, r) => a + (r[2] - r[1]) / 1000, 0);
  const counted = got - (subs === 1 ? rounds.length : 0);
  return { msgs: counted / secs, messages: got, rounds: rounds.length, subscribers: subs };
}

async function w7(kit) {
  const out = {};
  try {
    const before = kit.troubles();
    const st = counter();
    const close = await kit.sub('bench:w7a', st.on);
    const rounds = [];
    for (let i = 0; i < W7A_ROUNDS; i++) {
      rounds.push(await round([st], W7A_N, () => ask('W7a', 'bench:w7a', 1, W7A_N)));
      if (rounds[i][0] < W7A_N) break;
    }
    await close();
    out.W7a = verdict(kit, before, rounds, W7A_N, 1);
  } catch (e) {
    out.W7a = { error: String(e.message || e).slice(0, 160) };
  }
  try {
    const before = kit.troubles();
    const states = Array.from({ length: W7_SUBS }, counter);
    const closes = [];
    for (const st of states) closes.push(await kit.sub('bench:w7b', st.on));
    const rounds = [];
    for (let i = 0; i < W7B_ROUNDS; i++) {
      rounds.push(await round(states, W7B_N, () => ask('W7b', 'bench:w7b', W7_SUBS, W7B_N)));
      if (rounds[i][0] < W7_SUBS * W7B_N) break;
    }
    for (const close of closes) await close();
    out.W7b = verdict(kit, before, rounds, W7B_N, W7_SUBS);
  } catch (e) {
    out.W7b = { error: String(e.message || e).slice(0, 160) };
  }
  return out;
}

const W7_KITS = {
  redbridge() {
    const base = require(REDBRIDGE).createClient({ url: URL });
    const subs = [];
    let gaps = 0;
    return {
      sub: async (channel, on) => {
        const s = base.duplicate();
        s.on('pubsub-gap', () => gaps++);
        await s.connect();
        await s.subscribe(channel, on);
        subs.push(s);
        return () => s.close();
      },
      troubles: () => [subs.reduce((a, s) => a + (s.isOpen === false ? 0 : Number(s.stats().pubsub_dropped || 0)), 0), gaps],
    };
  },
  'node-redis'() {
    const base = anchor('redis').createClient({ url: URL });
    return {
      sub: async (channel, on) => {
        const s = base.duplicate();
        await s.connect();
        await s.subscribe(channel, on);
        return () => s.close();
      },
      troubles: () => [0, 0],
    };
  },
  ioredis() {
    const Redis = anchor('ioredis');
    return {
      sub: async (channel, on) => {
        const s = new Redis(URL);
        s.on('message', on);
        await s.subscribe(channel);
        return () => s.disconnect();
      },
      troubles: () => [0, 0],
    };
  },
  glide() {
    const { GlideClient, GlideClientConfiguration } = anchor('@valkey/valkey-glide');
    return {
      sub: async (channel, on) => {
        const c = await GlideClient.createClient({
          addresses: [{ host: HOST, port: Number(PORT) }],
          requestTimeout: 5000,
          pubsubSubscriptions: { channelsAndPatterns: { [GlideClientConfiguration.PubSubChannelModes.Exact]: new Set([channel]) }, callback: on },
        });
        return () => c.close();
      },
      troubles: () => [0, 0],
    };
  },
};

const VERSION = {
  redbridge: () => `redbridge ${require(path.join(REDBRIDGE, 'package.json')).version}`,
  'node-redis': () => `redis ${require(path.join(MODULES, 'redis', 'package.json')).version}`,
  ioredis: () => `ioredis ${require(path.join(MODULES, 'ioredis', 'package.json')).version}`,
  glide: () => `@valkey/valkey-glide ${require(path.join(MODULES, '@valkey/valkey-glide', 'package.json')).version}`,
};

// OpenTelemetry metrics on and off (issue #21), redbridge only: W1 and W3 with no listener
// (off: what every other run measures) and with OpenTelemetry.init recording every metric
// group into an SDK MeterProvider read by hand (on), alternated in one process, OTEL_ROUNDS
// rounds, medians. An "on" time includes recording what is still queued when the workload
// ends; the reader collects between rounds, untimed.
const OTEL_ROUNDS = QUICK ? 2 : 5;

async function otel(get) {
  const { OpenTelemetry, METRIC_GROUP } = require(REDBRIDGE);
  const sdkPath = require.resolve('@opentelemetry/sdk-metrics', { paths: [REDBRIDGE, MODULES || REDBRIDGE] });
  const sdk = require(sdkPath);
  class Reader extends sdk.MetricReader {
    async onForceFlush() {}
    async onShutdown() {}
  }
  const reader = new Reader();
  const meterProvider = new sdk.MeterProvider({ readers: [reader] });
  const sw = async (on) => {
    OpenTelemetry.shutdown();
    await reader.collect();
    if (on) OpenTelemetry.init({ metrics: { enabled: true, meterProvider, enabledMetricGroups: Object.values(METRIC_GROUP) } });
  };
  const rounds = [];
  for (let i = 0; i < OTEL_ROUNDS; i++) {
    const got = {};
    for (const on of i % 2 === 0 ? [false, true] : [true, false]) {
      await sw(on);
      for (const [w, run, n] of [['W1', w1, N1], ['W3', w3, Math.floor(N3 / TASKS) * TASKS]]) {
        const t = now();
        await run(get);
        OpenTelemetry.drain();
        got[`OTEL-${w}-${on ? 'on' : 'off'}`] = n / secs(t);
      }
    }
    rounds.push(got);
  }
  await sw(false);
  const out = {};
  for (const k of Object.keys(rounds[0])) out[k] = { ops: pct(rounds.map((r) => r[k]), 0.5) };
  // on/off of each round (both measured side by side), then the median.
  for (const w of ['W1', 'W3']) out[`OTEL-${w}-ratio`] = { ratio: pct(rounds.map((r) => r[`OTEL-${w}-on`] / r[`OTEL-${w}-off`]), 0.5) };
  const sdkVersion = require(path.join(sdkPath.split('/build/')[0], 'package.json')).version;
  out['OTEL-sdk'] = { version: `@opentelemetry/sdk-metrics ${sdkVersion}` };
  return out;
}

// Each opener requires its library, connects (one PING) and returns what the workloads need.
const CLIENTS = {
  async redbridge() {
    const redbridge = require(REDBRIDGE);
    const c = await redbridge.createClient({ url: URL }).connect();
    await c.ping();
    const s = await redbridge.createClient({ url: SCAN_URL }).connect();
    return {
      get: (k) => c.get(k),
      batch: (n) => {
        const m = c.multi();
        for (let i = 0; i < n; i++) m.get(KEY);
        return m.execAsPipeline();
      },
      scan: async () => {
        let n = 0;
        for await (const keys of s.scanIterator({ COUNT: 1000 })) n += keys.length;
        return n;
      },
      cached: async () => {
        const cc = await redbridge.createClient({ url: URL, clientSideCache: {} }).connect();
        return (k) => cc.get(k);
      },
    };
  },
  async 'node-redis'() {
    const redis = anchor('redis');
    const c = await redis.createClient({ url: URL }).connect();
    await c.ping();
    const s = await redis.createClient({ url: SCAN_URL }).connect();
    return {
      get: (k) => c.get(k),
      batch: (n) => {
        const m = c.multi();
        for (let i = 0; i < n; i++) m.get(KEY);
        return m.execAsPipeline();
      },
      scan: async () => {
        let n = 0;
        for await (const keys of s.scanIterator({ COUNT: 1000 })) n += keys.length;
        return n;
      },
      cached: async () => {
        const cc = await redis.createClient({ url: URL, RESP: 3, clientSideCache: { ttl: 0, maxEntries: 0 } }).connect();
        return (k) => cc.get(k);
      },
    };
  },
  async ioredis() {
    const Redis = anchor('ioredis');
    const c = new Redis(URL);
    await c.ping();
    const s = new Redis(SCAN_URL);
    return {
      get: (k) => c.get(k),
      batch: async (n) => {
        const p = c.pipeline();
        for (let i = 0; i < n; i++) p.get(KEY);
        return p.exec();
      },
      scan: async () => {
        let n = 0;
        for await (const keys of s.scanStream({ count: 1000 })) n += keys.length;
        return n;
      },
      cached: null,
    };
  },
  async glide() {
    const { GlideClient, Batch, ClientSideCache } = anchor('@valkey/valkey-glide');
    const config = (db, extra = {}) => ({ addresses: [{ host: HOST, port: Number(PORT) }], databaseId: db, requestTimeout: 5000, ...extra });
    const c = await GlideClient.createClient(config(0));
    await c.ping();
    const s = await GlideClient.createClient(config(1));
    return {
      get: (k) => c.get(k),
      batch: async (n) => {
        const b = new Batch(false);
        for (let i = 0; i < n; i++) b.get(KEY);
        return c.exec(b, true);
      },
      scan: async () => {
        let cursor = '0';
        let n = 0;
        do {
          const [next, keys] = await s.scan(cursor, { count: 1000 });
          n += keys.length;
          cursor = String(next);
        } while (cursor !== '0');
        return n;
      },
      cached: async () => {
        const cache = new ClientSideCache({ maxCacheKb: 1024, entryTtlMs: 0, serverAssisted: true });
        const cc = await GlideClient.createClient(config(0, { clientSideCache: cache }));
        return (k) => cc.get(k);
      },
    };
  },
};

const CLUSTER_CLIENTS = {
  async redbridge() {
    const redbridge = require(REDBRIDGE);
    const c = await redbridge.createCluster({ rootNodes: [{ url: URL }] }).connect();
    return {
      get: (k) => c.get(k),
      batch: (n) => {
        const m = c.multi();
        for (let i = 0; i < n; i++) m.get(KEY);
        return m.execAsPipeline();
      },
      scan: async () => {
        let n = 0;
        for await (const keys of c.scanIterator({ COUNT: 1000 })) n += keys.length;
        return n;
      },
    };
  },
  async 'node-redis'() {
    const redis = anchor('redis');
    const c = await redis.createCluster({ rootNodes: [{ url: URL }] }).connect();
    return {
      get: (k) => c.get(k),
      batch: (n) => {
        const m = c.multi();
        for (let i = 0; i < n; i++) m.get(KEY);
        return m.execAsPipeline();
      },
      scan: async () => {
        let n = 0;
        for (const master of c.masters) {
          const node = await c.nodeClient(master);
          for await (const keys of node.scanIterator({ COUNT: 1000 })) n += keys.length;
        }
        return n;
      },
    };
  },
  async ioredis() {
    const Redis = anchor('ioredis');
    const c = new Redis.Cluster([{ host: HOST, port: Number(PORT) }]);
    await c.ping();
    return {
      get: (k) => c.get(k),
      batch: async (n) => {
        const p = c.pipeline();
        for (let i = 0; i < n; i++) p.get(KEY);
        return p.exec();
      },
      scan: async () => {
        let n = 0;
        for (const node of c.nodes('master')) {
          for await (const keys of node.scanStream({ count: 1000 })) n += keys.length;
        }
        return n;
      },
      close: () => c.disconnect(),
    };
  },
  async glide() {
    const { GlideClusterClient, ClusterBatch, ClusterScanCursor } = anchor('@valkey/valkey-glide');
    const c = await GlideClusterClient.createClient({ addresses: [{ host: HOST, port: Number(PORT) }], requestTimeout: 5000 });
    return {
      get: (k) => c.get(k),
      batch: async (n) => {
        const b = new ClusterBatch(false);
        for (let i = 0; i < n; i++) b.get(KEY);
        return c.exec(b, true);
      },
      scan: async () => {
        let cursor = new ClusterScanCursor();
        let n = 0;
        while (!cursor.isFinished()) {
          let keys;
          [cursor, keys] = await c.scan(cursor, { count: 1000 });
          n += keys.length;
        }
        return n;
      },
    };
  },
};

(async () => {
  if (CLUSTER) {
    const c = await CLUSTER_CLIENTS[process.argv[2]]();
    const out = { startup_ms: Number(now() - t0) / 1e6, rss_mb: rssMb('VmRSS') };
    const results = { W1: await w1(c.get), W2: await w2(c.batch), W3: await w3(c.get), W4: await w4(c.scan) };
    console.log(JSON.stringify({ ...out, results, peak_rss_mb: rssMb('VmHWM') }));
    process.exit(0);
  }
  const name = process.argv[2];
  const c = await CLIENTS[name]();
  const out = { startup_ms: Number(now() - t0) / 1e6, rss_mb: rssMb('VmRSS'), version: VERSION[name]() };
  const results = {};
  if (WANT.includes('W1-W6')) {
    Object.assign(results, { W1: await w1(c.get), W2: await w2(c.batch), W3: await w3(c.get), W4: await w4(c.scan) });
    if (!c.cached) results.W5 = { error: 'no client-side cache in this client' };
    else {
      try {
        results.W5 = await w5(await c.cached());
      } catch (e) {
        results.W5 = { error: String(e.message || e).slice(0, 160) };
      }
    }
    results.W6 = await w6(c.get);
  }
  const peak = rssMb('VmHWM'); // W1-W6's peak; W7's subscribers come after
  if (WANT.includes('OTEL') && name === 'redbridge') Object.assign(results, await otel(c.get));
  if (WANT.includes('W7')) Object.assign(results, await w7(W7_KITS[name]()));
  console.log(JSON.stringify({ ...out, results, peak_rss_mb: peak }));
  process.exit(0);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});

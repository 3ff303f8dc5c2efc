'use strict';
// One Node client through the workloads W1-W6 of docs/architecture.md, "Bench workloads"; prints one JSON line.
// Run by bench/run.py (not by hand): `node clients_node.js <client>`, with REDIS_URL (db 0
// holds the GET keys, db 1 the 100k keys W4 scans), BENCH_NODE_MODULES (the scratch
// install of the anchors) and QUICK=1 for a tiny run. One process per client.
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
const TASKS = 64;
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

async function w1(get) {
  const lat = new Array(N1);
  const t = now();
  for (let i = 0; i < N1; i++) {
    const a = now();
    await get(KEY);
    lat[i] = Number(now() - a) / 1000;
  }
  return { ops: N1 / secs(t), p50_us: pct(lat, 0.5), p99_us: pct(lat, 0.99) };
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
  const t = now();
  await Promise.all(Array.from({ length: TASKS }, work));
  return { ops: (each * TASKS) / secs(t), in_flight: `${TASKS} promises` };
}

async function w4(scan) {
  const t = now();
  const keys = await scan();
  return { secs: secs(t), keys };
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

// Each opener requires its library, connects (one PING) and returns what the workloads need.
const CLIENTS = {
  async redbridge() {
    const redbridge = require(path.join(__dirname, '..', 'bindings-node'));
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
    const redbridge = require(path.join(__dirname, '..', 'bindings-node'));
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
  const c = await CLIENTS[process.argv[2]]();
  const out = { startup_ms: Number(now() - t0) / 1e6, rss_mb: rssMb('VmRSS') };
  const results = { W1: await w1(c.get), W2: await w2(c.batch), W3: await w3(c.get), W4: await w4(c.scan) };
  if (!c.cached) results.W5 = { error: 'no client-side cache in this client' };
  else {
    try {
      results.W5 = await w5(await c.cached());
    } catch (e) {
      results.W5 = { error: String(e.message || e).slice(0, 160) };
    }
  }
  results.W6 = await w6(c.get);
  console.log(JSON.stringify({ ...out, results, peak_rss_mb: rssMb('VmHWM') }));
  process.exit(0);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});

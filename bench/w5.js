'use strict';
// W5 for Node: 50k GETs over 100 hot keys, cached vs uncached, beside node-redis's own
// client-side cache (clientSideCache with RESP3). Uses REDIS_URL; QUICK=1 for a tiny run.
const path = require('node:path');
const redbridge = require(path.join(__dirname, '..', 'bindings-node'));
const nodeRedis = require(path.join(__dirname, '..', 'bindings-node', 'node_modules', 'redis'));

const url = process.env.REDIS_URL;
const quick = process.env.QUICK === '1';
const N = quick ? 5000 : 50000;
const RUNS = quick ? 1 : 3;
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function rate(client, n, keys) {
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await client.get(keys[i % 100]);
  return n / (Number(process.hrtime.bigint() - t) / 1e9);
}

(async () => {
  const keys = Array.from({ length: 100 }, (_, i) => `w5:${i}`);
  const setup = await redbridge.createClient({ url }).connect();
  for (const k of keys) await setup.set(k, 'x'.repeat(100));
  const clients = {
    'redbridge (cache)': await redbridge.createClient({ url, clientSideCache: {} }).connect(),
    'redbridge (no cache, W1)': await redbridge.createClient({ url }).connect(),
    'node-redis (cache)': await nodeRedis.createClient({ url, RESP: 3, clientSideCache: { ttl: 0, maxEntries: 0 } }).connect(),
    'node-redis (no cache, W1)': await nodeRedis.createClient({ url }).connect(),
  };
  const rows = {};
  for (let r = 0; r < RUNS; r++) {
    for (const [name, c] of Object.entries(clients)) {
      const n = name.includes('no cache') ? N / 10 : N;
      (rows[name] ||= []).push(await rate(c, n, keys));
    }
  }
  console.log('| W5 (Node) | ops/s |\n|---|---:|');
  const med = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, median(v)]));
  for (const [k, v] of Object.entries(med)) console.log(`| ${k} | ${Math.round(v).toLocaleString('en')} |`);
  console.log(`redbridge cached / uncached: ${(med['redbridge (cache)'] / med['redbridge (no cache, W1)']).toFixed(1)}x (goal >= 20x)`);
  console.log(`redbridge cached / node-redis cached: ${(med['redbridge (cache)'] / med['node-redis (cache)']).toFixed(2)}x`);
  for (const c of [setup, ...Object.values(clients)]) await c.close();
})();

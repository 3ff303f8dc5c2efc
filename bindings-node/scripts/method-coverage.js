// Measures the command surface (issue #16): node-redis's camelCase command methods (the
// commands map of the installed @redis/client), which of them are for commands Redis 7.0
// has (spec/servers.json, by the command file's name), and how many redbridge's client has.
//   node scripts/method-coverage.js [package dir, default ..] [--missing] [--unmatched]
'use strict';
const fs = require('fs'), path = require('path');
const dir = path.dirname(require.resolve('@redis/client/dist/lib/commands'));
const c = require('@redis/client/dist/lib/commands').default;
const servers = JSON.parse(fs.readFileSync(path.join(__dirname, '../../spec/servers.json'))).commands;
const byObj = new Map();
for (const f of fs.readdirSync(dir)) if (f.endsWith('.js') && f !== 'index.js') { const m = require(path.join(dir, f)); if (m && m.default) byObj.set(m.default, f.slice(0, -3)); }
const rows = [];
for (const k of Object.keys(c)) {
  if (!/^[a-z]/.test(k)) continue;
  const file = byObj.get(c[k]) || '?';
  const w = file.split('_');
  let cmd = null;
  for (let n = Math.min(w.length, 3); n > 0; n--) { const cand = w.slice(0, n).join(' '); if (servers[cand]) { cmd = cand; break; } const cand2 = w.slice(0, n).join('-'); if (servers[cand2]) { cmd = cand2; break; } }
  const redis = cmd && servers[cmd].servers.includes('redis');
  rows.push({ k, file, cmd, redis });
}
let ours = null;
try { const rb = require(process.argv.slice(2).find((a) => !a.startsWith('--')) || '..'); const cl = rb.createClient({}); ours = new Set(); let p = Object.getPrototypeOf(cl); while (p && p !== Object.prototype) { for (const n of Object.getOwnPropertyNames(p)) ours.add(n); p = Object.getPrototypeOf(p); } } catch (e) { console.error(e.message); }
const r7 = rows.filter((r) => r.redis);
console.log('node-redis camelCase command methods:', rows.length, '; for Redis 7.0 commands:', r7.length);
if (ours) {
  console.log('redbridge has:', rows.filter((r) => ours.has(r.k)).length, 'of', rows.length, ';', r7.filter((r) => ours.has(r.k)).length, 'of', r7.length, 'for Redis 7.0 commands');
  if (process.argv.includes('--missing')) console.log(r7.filter((r) => !ours.has(r.k)).map((r) => `${r.k}(${r.cmd})`).join(' '));
}
if (process.argv.includes('--unmatched')) console.log(rows.filter((r) => !r.redis).map((r) => `${r.k}:${r.file}:${r.cmd}`).join('\n'));

// The other client methods: what a created node-redis client has beyond the command map and
// EventEmitter (module namespaces such as json/ft left out: modules are not Redis 7.0's).
if (ours) {
  const { EventEmitter } = require('node:events');
  const names = (o) => { const out = new Set(); let p = Object.getPrototypeOf(o); while (p && p !== Object.prototype) { for (const n of Object.getOwnPropertyNames(p)) out.add(n); p = Object.getPrototypeOf(p); } return out; };
  const theirs = names(require('redis').createClient());
  const emitter = new Set(Object.getOwnPropertyNames(EventEmitter.prototype));
  const modules = new Set(['bf', 'cms', 'cf', 'tDigest', 'topK', 'json', 'ft', 'ts']);
  const other = [...theirs].filter((n) => /^[a-z]/.test(n) && !c[n] && n !== 'constructor' && !emitter.has(n) && !modules.has(n));
  console.log('other client methods:', other.filter((n) => ours.has(n)).length, 'of', other.length);
  if (process.argv.includes('--missing')) console.log(other.filter((n) => !ours.has(n)).join(' '));
}

// Measures the command surface (issue #16) against the installed node-redis (@redis/client):
// its camelCase command methods, which of them are for commands Redis 7.0 has
// (spec/servers.json, by the command file's name), and for each of those whether redbridge's
// client
//   - has it, in both casings;
//   - has a call in the differential test (test/differential-cases.js), which compares the
//     replies and error classes with node-redis's under RESP2 and RESP3;
//   - builds, for every such call, the same command node-redis builds (node-redis's own
//     parseCommand against the table's builder; methods outside the table are left to the
//     differential test);
//   - accepts in index.d.ts every argument list node-redis's types accept (each member of
//     node-redis's Parameters<> against the method's type), and declares a reply type that
//     fits node-redis's under RESP2 or RESP3, or one that spec/node.toml's [reply-types]
//     says differs on purpose, and why (while it does differ): checked by tsc --strict
//     (--no-types skips it).
// A method "matches" when all of these hold; a method the spec declines (`declined`) does not.
//   node scripts/method-coverage.js [package dir, default ..] [--missing] [--unmatched] [--no-types]
'use strict';
const fs = require('fs'), path = require('path');
const { execFileSync } = require('child_process');

const ROOT = path.join(__dirname, '..');
const pkg = path.resolve(process.argv.slice(2).find((a) => !a.startsWith('--')) || ROOT);
const dir = path.dirname(require.resolve('@redis/client/dist/lib/commands'));
const c = require('@redis/client/dist/lib/commands').default;
const servers = JSON.parse(fs.readFileSync(path.join(ROOT, '../spec/servers.json'))).commands;

// node-redis's methods, each with the command it sends (from its file's name).
const byObj = new Map();
for (const f of fs.readdirSync(dir)) if (f.endsWith('.js') && f !== 'index.js') { const m = require(path.join(dir, f)); if (m && m.default) byObj.set(m.default, f.slice(0, -3)); }
const rows = [];
for (const k of Object.keys(c)) {
  if (!/^[a-z]/.test(k)) continue;
  const file = byObj.get(c[k]) || '?';
  const w = file.split('_');
  let cmd = null;
  for (let n = Math.min(w.length, 3); n > 0; n--) { const cand = w.slice(0, n).join(' '); if (servers[cand]) { cmd = cand; break; } const cand2 = w.slice(0, n).join('-'); if (servers[cand2]) { cmd = cand2; break; } }
  rows.push({ k, file, cmd, redis: Boolean(cmd && servers[cmd].servers.includes('redis')) });
}
const r7 = rows.filter((r) => r.redis);

const rb = require(pkg);
const names = (o) => { const out = new Set(); let p = Object.getPrototypeOf(o); while (p && p !== Object.prototype) { for (const n of Object.getOwnPropertyNames(p)) out.add(n); p = Object.getPrototypeOf(p); } return out; };
// Ours also counts the instance's own properties: `options` is one (set in the constructor),
// where node-redis has a getter on its prototype.
const mine = rb.createClient({});
const ours = new Set([...names(mine), ...Object.getOwnPropertyNames(mine)]);

const { STEPS } = require(path.join(ROOT, 'test/differential-cases.js'));
const { declined, replyTypes } = require(path.join(ROOT, 'test/spec-cases.generated.js'));
const { builtDifferences } = require(path.join(ROOT, 'test/built-commands.js'));
const cases = new Set(STEPS.map(([m]) => m));
const built = builtDifferences(rb, STEPS);

// Types, in one tsc --strict run: for every method, whether index.d.ts takes each argument
// list node-redis's types take (Accepts: true, else the first list refused, which tsc names),
// and whether the reply type it declares fits node-redis's under RESP2 or RESP3 (Fits: true,
// else [ours, theirs]). Returns { args, reply }: method → tsc's message.
function typeErrors(methods) {
  const file = path.join(ROOT, `scripts/.coverage-${process.pid}.ts`);
  const lines = ["import type { RedisClientType } from 'redis';", "import type { RedisClient } from '..';",
    'declare const nr2: RedisClientType<{}, {}, {}, 2>;', 'declare const nr3: RedisClientType<{}, {}, {}, 3>;', 'declare const rb: RedisClient;',
    'type List<P> = P extends unknown[] ? P : never;',
    'type Accepts<F, P> = P extends unknown ? (F extends (...a: List<P>) => unknown ? true : P) : never;',
    'type Reply<F> = F extends (...a: any[]) => infer T ? Awaited<T> : never;',
    'type Fits<A, B> = [A] extends [B] ? true : [A, B];',
    'declare function ok<T extends true>(): T;'];
  const at = new Map();
  for (const k of methods) {
    at.set(lines.length + 1, ['args', k]);
    lines.push(`ok<Accepts<typeof rb.${k}, Parameters<typeof nr3.${k}>>>();`);
    at.set(lines.length + 1, ['reply', k]);
    lines.push(`ok<Fits<Reply<typeof rb.${k}>, Reply<typeof nr2.${k}> | Reply<typeof nr3.${k}>>>();`);
  }
  fs.writeFileSync(file, lines.join('\n') + '\n');
  let out = '';
  try {
    execFileSync(path.join(ROOT, 'node_modules/.bin/tsc'), ['--noEmit', '--strict', '--skipLibCheck', '--target', 'es2020', '--moduleResolution', 'node', '--esModuleInterop', '--types', 'node', file], { cwd: ROOT, encoding: 'utf8' });
  } catch (e) {
    out = e.stdout;
  } finally {
    fs.rmSync(file, { force: true });
  }
  const errs = { args: new Map(), reply: new Map() };
  const re = new RegExp(`${path.basename(file).replace('.', '\\.')}\\((\\d+),\\d+\\): (.*)`);
  for (const line of out.split('\n')) {
    const m = re.exec(line);
    if (m && at.has(Number(m[1]))) { const [kind, k] = at.get(Number(m[1])); errs[kind].set(k, m[2]); }
    else if (m) throw new Error(`the type check itself fails: ${line}`);
  }
  if (out && !errs.args.size && !errs.reply.size) throw new Error(`tsc failed:\n${out}`);
  return errs;
}

const report = [];
const typeErr = process.argv.includes('--no-types') ? null : typeErrors(r7.filter((r) => ours.has(r.k)).map((r) => r.k));
let present = 0, compared = 0, argsChecked = 0, argsSame = 0, typed = 0, replyTyped = 0, replyOnPurpose = 0, matching = 0;
for (const k of Object.keys(replyTypes)) if (!r7.some((r) => r.k === k)) report.push({ k, cmd: '?', problems: [`spec/node.toml [reply-types] names ${k}, which is no node-redis method of a Redis 7.0 command`] });
for (const r of r7) {
  const problems = [];
  const has = ours.has(r.k) && ours.has(r.k.toUpperCase());
  if (has) present++; else problems.push(ours.has(r.k) ? 'no upper-case twin' : 'missing');
  if (has && declined[r.k]) problems.push(`declined: ${declined[r.k]}`);
  else if (has && cases.has(r.k)) compared++;
  else if (has) problems.push('no differential case');
  if (built.has(r.k)) {
    argsChecked++;
    if (built.get(r.k).length) problems.push(...built.get(r.k)); else argsSame++;
  }
  if (typeErr && has) {
    if (!typeErr.args.has(r.k)) typed++; else problems.push(`argument types: ${typeErr.args.get(r.k)}`);
    if (!typeErr.reply.has(r.k)) {
      replyTyped++;
      if (replyTypes[r.k]) problems.push("reply type fits node-redis's: remove it from spec/node.toml [reply-types]");
    } else if (replyTypes[r.k]) replyOnPurpose++;
    else problems.push(`reply type: ${typeErr.reply.get(r.k)}`);
  }
  if (!problems.length) matching++;
  report.push({ k: r.k, cmd: r.cmd, problems });
}

console.log(`node-redis ${require('@redis/client/package.json').version} camelCase command methods: ${rows.length}; for Redis 7.0 commands: ${r7.length}`);
console.log(`redbridge has: ${present} of ${r7.length} (both casings)`);
console.log(`declined (rejects with a TypeError saying why; spec/node.toml): ${Object.keys(declined).length}`);
console.log(`with a differential case (replies and errors vs node-redis, RESP2 and RESP3): ${compared}`);
console.log(`same command built as node-redis for every case: ${argsSame} of ${argsChecked} table-built methods (${compared - argsChecked} others: the differential test only)`);
if (typeErr) {
  console.log(`index.d.ts accepts node-redis's argument types: ${typed} of ${present}`);
  console.log(`index.d.ts's reply type fits node-redis's (RESP2 or RESP3): ${replyTyped} of ${present}; differs on purpose (spec/node.toml [reply-types], README): ${replyOnPurpose}`);
}
const onlyDeclined = report.every((r) => !r.problems.length || (declined[r.k] && r.problems.length === 1));
console.log(`present and matching: ${matching} of ${r7.length}${onlyDeclined && matching < r7.length ? ` (the other ${r7.length - matching}: declined)` : ''}`);
if (process.argv.includes('--missing')) {
  for (const r of report) if (r.problems.length) console.log(`  ${r.k} (${r.cmd}): ${r.problems.join('; ')}`);
  if (typeErr) for (const r of r7) if (replyTypes[r.k] && typeErr.reply.has(r.k)) console.log(`  ${r.k} (${r.cmd}): reply type differs on purpose: ${replyTypes[r.k]}`);
}
if (process.argv.includes('--unmatched')) console.log(rows.filter((r) => !r.redis).map((r) => `${r.k}:${r.file}:${r.cmd}`).join('\n'));

// The other client methods: what a created node-redis client has beyond the command map and
// EventEmitter (module namespaces such as json/ft left out: modules are not Redis 7.0's).
const { EventEmitter } = require('node:events');
const theirs = names(require('redis').createClient());
const emitter = new Set(Object.getOwnPropertyNames(EventEmitter.prototype));
const modules = new Set(['bf', 'cms', 'cf', 'tDigest', 'topK', 'json', 'ft', 'ts']);
const other = [...theirs].filter((n) => /^[a-z]/.test(n) && !c[n] && n !== 'constructor' && !emitter.has(n) && !modules.has(n));
console.log('other client methods:', other.filter((n) => ours.has(n)).length, 'of', other.length);
if (process.argv.includes('--missing')) console.log('  ' + other.filter((n) => !ours.has(n)).join(' '));

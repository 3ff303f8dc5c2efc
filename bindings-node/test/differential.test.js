'use strict';
// Differential test: the same calls against node-redis (the `redis` package) and
// redbridge — every result and error class compared, with the default type mapping and
// with Buffers for strings — under RESP2 and RESP3, each
// redbridge protocol against node-redis speaking the same one (node-redis 6.4's default
// is RESP3; under RESP2 some of its reply types differ, e.g. geoPos gives the server's text).
const { test } = require('node:test');
const assert = require('node:assert');
const nodeRedis = require('redis');
const redbridge = require('..');
const { sharedServer, startServer, stopServer } = require('./support');
const { STEPS, SPEC, COMPARED_ELSEWHERE } = require('./differential-cases.js');
const { declined } = require('./spec-cases.generated.js');
const { builtDifferences } = require('./built-commands.js');

// Error classes compare by name: a server error is a SimpleError (an ErrorReply) on both.

// Buffers out (node-redis's type mapping of blob strings), the one mapping command replies honour.
const BUFFERS = { [nodeRedis.RESP_TYPES.BLOB_STRING]: Buffer };

async function run(client) {
  // Every database: MOVE and SWAPDB reach db 9.
  await client.flushAll('ASYNC');
  const out = [];
  for (const [method, args, normalise] of STEPS) {
    try {
      const v = await client[method](...args);
      out.push(normalise ? normalise(v) : v);
    } catch (e) {
      out.push(['raised', e.constructor.name]);
    }
  }
  return out;
}

function compare(reference, ours, label) {
  const diffs = [];
  reference.forEach((want, i) => {
    try {
      assert.deepStrictEqual(ours[i], want);
    } catch {
      diffs.push(`${STEPS[i][0]}(${JSON.stringify(STEPS[i][1])}): node-redis ${JSON.stringify(want)} != redbridge ${JSON.stringify(ours[i])}`);
    }
  });
  assert.deepStrictEqual(diffs, [], `${label}: ${diffs.length} differences\n${diffs.join('\n')}`);
}

test('every command method is compared', () => {
  const proto = redbridge.RedisClient.prototype;
  const methods = Object.getOwnPropertyNames(proto).filter((n) => /^[a-z]/.test(n) && Object.prototype.hasOwnProperty.call(proto, n.toUpperCase()));
  const elsewhere = new Set(Object.values(COMPARED_ELSEWHERE).flat());
  const compared = new Set(STEPS.map(([m]) => m).filter((m) => m !== 'sendCommand'));
  for (const m of elsewhere) compared.add(m);
  const fromSpec = new Set(SPEC.map(([m]) => m));
  const missing = methods.filter((m) => !compared.has(m) && !declined[m]);
  console.log(`differential: ${compared.size} of ${methods.length} command methods × 2 protocols = ${compared.size * 2} ` +
    `compared with node-redis (${fromSpec.size} from spec/node.toml, ${compared.size - fromSpec.size - elsewhere.size} hand-written, ${elsewhere.size} in ${Object.keys(COMPARED_ELSEWHERE).map((k) => k.split(' ')[0]).join(' and ')}), ` +
    `${STEPS.length} calls each: redbridge RESP2 vs node-redis RESP2, redbridge RESP3 vs node-redis RESP3; ` +
    `${Object.keys(declined).length} declined (${Object.keys(declined).join(', ')})`);
  assert.deepStrictEqual(missing, [], `command methods with no differential case: ${missing.join(', ')}`);
});

test('every call builds the command node-redis builds for it (its parseCommand, no server)', () => {
  const built = builtDifferences(redbridge, STEPS);
  const differences = [...built.values()].flat();
  console.log(`built commands: ${built.size} table-built methods, ${STEPS.filter(([m]) => built.has(m)).length} calls, compared with node-redis's parseCommand`);
  assert.deepStrictEqual(differences, [], `${differences.length} calls build another command than node-redis's:\n${differences.join('\n')}`);
});

test('a declined method rejects with a TypeError saying why, in both casings and in multi()', async (t) => {
  const { url } = sharedServer(t);
  const ours = await redbridge.createClient({ url }).connect();
  t.after(() => ours.close());
  for (const [method, why] of Object.entries(declined)) {
    for (const name of [method, method.toUpperCase()]) {
      await assert.rejects(ours[name](), (e) => e instanceof TypeError && e.message.includes(why), name);
    }
    assert.throws(() => ours.multi()[method](), TypeError);
  }
});

for (const RESP of [2, 3]) {
  test(`every method matches node-redis (both RESP${RESP})`, async (t) => {
    const { url } = sharedServer(t);
    const reference = await nodeRedis.createClient({ url, RESP }).connect();
    const ours = await redbridge.createClient({ url, RESP }).connect();
    process.removeAllListeners('warning');
    process.on('warning', () => {});
    t.after(() => Promise.all([reference.close(), ours.close()]));
    const want = await run(reference);
    const got = await run(ours);
    compare(want, got, `RESP${RESP}`);
  });
}

for (const RESP of [2, 3]) {
  test(`every method matches node-redis with Buffers for strings (withTypeMapping, both RESP${RESP})`, async (t) => {
    const { url } = sharedServer(t);
    const reference = await nodeRedis.createClient({ url, RESP }).connect();
    const ours = await redbridge.createClient({ url, RESP }).connect();
    process.removeAllListeners('warning');
    process.on('warning', () => {});
    t.after(() => Promise.all([reference.close(), ours.close()]));
    const want = await run(reference.withTypeMapping(BUFFERS));
    const got = await run(ours.withTypeMapping(BUFFERS));
    compare(want, got, `RESP${RESP} with Buffers`);
  });
}

// HELLO (index.js, helloArgs): plain HELLO, and HELLO with the protocol the client speaks
// (sent as plain HELLO, the same reply), as node-redis gives them; what would change a
// connection (another protocol, AUTH, SETNAME) is a TypeError and changes nothing.
for (const RESP of [2, 3]) test(`hello() matches node-redis; another protocol, AUTH and SETNAME are TypeErrors (both RESP${RESP})`, async (t) => {
  const { url } = sharedServer(t);
  const reference = await nodeRedis.createClient({ url, RESP }).connect();
  const ours = await redbridge.createClient({ url, RESP, name: 'rb-hello' }).connect();
  t.after(() => Promise.all([reference.close(), ours.close()]));
  const calls = async (c) => {
    const out = [];
    for (const args of [[], [RESP], [String(RESP)]]) {
      const v = await c.hello(...args);
      out.push({ ...v, id: typeof v.id });
    }
    out.push((await c.multi().hello().ping().exec()).map((v) => (v && v.id ? { ...v, id: typeof v.id } : v)));
    out.push(Object.keys(await c.HELLO()));
    return out;
  };
  assert.deepStrictEqual(await calls(ours), await calls(reference));
  const other = RESP === 2 ? 3 : 2;
  await assert.rejects(ours.hello(other), (e) => e instanceof TypeError && e.message.includes(`from RESP${RESP} to RESP${other}; create a client with RESP: ${other}`));
  await assert.rejects(ours.hello(RESP, { AUTH: { username: 'default', password: 'x' } }), (e) => e instanceof TypeError && /^hello: HELLO with AUTH .* use auth\(\)/.test(e.message));
  await assert.rejects(ours.hello(RESP, { SETNAME: 'other' }), (e) => e instanceof TypeError && /^hello: HELLO with SETNAME .* use clientSetName\(\)/.test(e.message));
  assert.throws(() => ours.multi().hello(RESP, { SETNAME: 'other' }), TypeError);
  // The core refuses HELLO with a protocol version from sendCommand too, naming the option.
  await assert.rejects(ours.sendCommand(['HELLO', String(other)]), (e) => e instanceof TypeError && /HELLO \d would change the state .* the protocol option/.test(e.message));
  await assert.rejects(ours.sendCommand(['hello', String(RESP), 'SETNAME', 'x']), TypeError);
  // Nothing changed: the same protocol, the same name.
  assert.strictEqual((await ours.hello()).proto, RESP);
  assert.strictEqual(await ours.clientGetName(), 'rb-hello');
});

// FUNCTION STATS while a function runs (past busy-reply-threshold, when the server answers
// others meanwhile): running_script.command is the call's arguments, an array, in both.
test('functionStats() while a function runs matches node-redis (both RESP2 and RESP3)', async (t) => {
  const info = startServer('--busy-reply-threshold', '100');
  t.after(() => stopServer(info));
  const LIB = "#!lua name=rbbusy\nredis.register_function('rbbusy', function() local t = redis.call('TIME') " +
    "local start = t[1] * 1000000 + t[2] while true do local n = redis.call('TIME') " +
    "if n[1] * 1000000 + n[2] - start > 500000 then return 1 end end end)";
  const seen = [];
  for (const RESP of [2, 3]) {
    for (const lib of [nodeRedis, redbridge]) {
      const runner = await lib.createClient({ url: info.url, RESP }).connect();
      const watcher = await lib.createClient({ url: info.url, RESP }).connect();
      await runner.functionLoad(LIB, { REPLACE: true });
      const running = runner.fCall('rbbusy');
      await new Promise((r) => setTimeout(r, 250));
      const stats = await watcher.functionStats();
      assert.strictEqual(await running, 1);
      seen.push([RESP, lib === redbridge ? 'redbridge' : 'node-redis', { ...stats, running_script: stats.running_script && { ...stats.running_script, duration_ms: typeof stats.running_script.duration_ms } }]);
      await runner.close();
      await watcher.close();
    }
  }
  for (let i = 0; i < seen.length; i += 2) assert.deepStrictEqual(seen[i + 1][2], seen[i][2], `RESP${seen[i][0]}`);
  assert.deepStrictEqual(seen[1][2].running_script.command, ['FCALL', 'rbbusy', '0']);
});

for (const RESP of [2, 3]) test(`MULTI/EXEC and pipelines match node-redis (both RESP${RESP})`, async (t) => {
  const { url } = sharedServer(t);
  const reference = await nodeRedis.createClient({ url, RESP }).connect();
  const ours = await redbridge.createClient({ url, RESP }).connect();
  const flow = async (c) => {
    await c.flushDb();
    const out = [];
    out.push(await c.multi().set('a', '1').incr('a').get('a').hSet('h', { x: 1 }).hGetAll('h').zAdd('z', { score: 1, value: 'm' }).zRangeWithScores('z', 0, -1).exec());
    out.push(await c.multi().set('b', '2').get('b').sAdd('s', 'x').sMembers('s').execAsPipeline());
    await c.set('str', 'x');
    for (const [name, f] of [
      ['exec', () => c.multi().set('a', '1').lPush('str', 'x').get('a').exec()],
      ['pipe', () => c.multi().set('a', '1').lPush('str', 'x').get('a').execAsPipeline()],
    ]) {
      try {
        out.push([name, await f()]);
      } catch (e) {
        out.push([name, e.constructor.name, e.errorIndexes, e.replies && e.replies.map((r) => (r instanceof Error ? 'error' : r))]);
      }
    }
    return out;
  };
  assert.deepStrictEqual(await flow(ours), await flow(reference));
  await reference.close();
  await ours.close();
});

for (const RESP of [2, 3]) test(`scan iterators yield what node-redis yields (both RESP${RESP})`, async (t) => {
  const { url } = sharedServer(t);
  const reference = await nodeRedis.createClient({ url, RESP }).connect();
  const ours = await redbridge.createClient({ url, RESP }).connect();
  await ours.flushDb();
  const m = ours.multi();
  for (let i = 0; i < 500; i++) m.set(`it:${i}`, 'v').sAdd('it-s', String(i)).hSet('it-h', `f${i}`, String(i)).zAdd('it-z', { score: i, value: `m${i}` });
  await m.execAsPipeline();
  const collect = async (c) => {
    const flat = async (it) => {
      const all = [];
      for await (const batch of it) {
        assert.ok(Array.isArray(batch), 'each iteration yields a batch (an array)');
        all.push(...batch.map((x) => JSON.stringify(x)));
      }
      return all.sort();
    };
    return [
      await flat(c.scanIterator({ MATCH: 'it:*', COUNT: 100 })),
      await flat(c.sScanIterator('it-s', { COUNT: 100 })),
      await flat(c.hScanIterator('it-h', { COUNT: 100 })),
      await flat(c.hScanValuesIterator('it-h', { COUNT: 100 })),
      await flat(c.zScanIterator('it-z', { COUNT: 100 })),
    ];
  };
  const got = await collect(ours);
  assert.strictEqual(got[0].length, 500);
  assert.deepStrictEqual(got, await collect(reference));
  await reference.close();
  await ours.close();
});

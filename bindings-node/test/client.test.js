'use strict';
// Behaviour through the Node layer: errors, bad input, guard, WATCH, Buffers, timeouts,
// concurrency, process exit, worker_threads, garbage collection.
const { test } = require('node:test');
const assert = require('node:assert');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const net = require('node:net');
const redbridge = require('..');
const { createClient } = redbridge;
const { sharedServer, startServer, stopServer } = require('./support');

test('bad input is a TypeError naming the argument, and nothing crashes', async (t) => {
  const { url } = sharedServer(t);
  const c = await createClient({ url }).connect();
  await assert.rejects(c.get(undefined), (e) => e instanceof TypeError && /get: key .*undefined/.test(e.message));
  await assert.rejects(c.set('k', { a: 1 }), (e) => e instanceof TypeError && /value .*an object/.test(e.message));
  await assert.rejects(c.set('k', null), TypeError);
  await assert.rejects(c.sendCommand('PING'), TypeError);
  await assert.rejects(c.sendCommand([]), TypeError);
  await assert.rejects(c.zAdd('z', [3]), /score, value/);
  // the hand-written methods of #16: the argument is named, its value never shown
  const named = (re) => (e) => e instanceof TypeError && re.test(e.message) && !/s3cret/.test(e.message);
  await assert.rejects(c.xAdd('st', '*', null), named(/^xAdd: message must be an object/));
  await assert.rejects(c.geoSearch('g', 5, { radius: 1, unit: 'km' }), named(/^geoSearch: from must be \{ longitude, latitude \}, got a number/));
  await assert.rejects(c.eval('return 1', 's3cret'), named(/^eval: options must be an object, got a string/));
  await assert.rejects(c.xRead(['s3cret']), named(/^xRead: streams must be \{ key, id \} objects/));
  await assert.rejects(c.bitField('bf', [{ operation: 'NOPE' }]), named(/^bitField: operations\[0\]\.operation must be/));
  await assert.rejects(c.clientKill({ filter: 'ID' }), named(/^clientKill: filters\[0\] value must be a string, Buffer or number, got undefined/));
  await assert.rejects(c.migrate('h', 1, 'k', 0, 10, { AUTH: { password: { s3cret: 1 } } }), named(/options\.AUTH\.password must be/));
  assert.throws(() => c.multi().zUnion([{ key: 'a' }]), named(/^zUnion: keys\[0\]\.weight must be/));
  assert.throws(() => createClient({ url: 42 }), TypeError);
  assert.throws(() => createClient(null), TypeError);
  assert.throws(() => createClient({ responseTimeout: -5 }), /responseTimeout/);
  await assert.rejects(createClient({ url: 'ftp://nowhere' }).connect(), (e) => e instanceof TypeError && /scheme/.test(e.message));
  await assert.rejects(createClient({ url: 'redis://localhost/?colour=red' }).connect(), /colour/);
  assert.strictEqual(await c.ping(), 'PONG', 'the client still works');
  await c.close();
});

test('the fast crossing: strings of any length and script arrive byte for byte; bad input throws', async (t) => {
  const { url } = sharedServer(t);
  const c = await createClient({ url }).connect();
  const raw = c.withTypeMapping({ [redbridge.RESP_TYPES.BLOB_STRING]: Buffer });
  // Around the room a string is copied into in one go (4 KiB, or 8 KiB once the buffer
  // grew), ending in 1- to 4-byte characters; one larger than the room the buffer keeps.
  const pieces = ['a', 'é', '€', '😀', '\ud800'];
  const values = [];
  for (const n of [0, 1, 4090, 4093, 4096, 8170, 8174, 8176, 8178, 8180, 8182, 8186, 8192, 1 << 21]) {
    for (const p of pieces) values.push('x'.repeat(n) + p + p);
  }
  const keys = values.map((_, i) => `fast:${i}`);
  await Promise.all(values.map((v, i) => c.set(keys[i], v)));
  const back = await Promise.all(keys.map((k) => raw.get(k)));
  back.forEach((b, i) => assert.ok(b.equals(Buffer.from(values[i])), `value ${i} (${values[i].length} UTF-16 units)`));
  // Buffers and a key of non-ASCII text go the same way.
  const bin = Buffer.from([0, 255, 13, 10, 0]);
  await c.set('fast:é€😀', bin);
  assert.ok((await raw.get('fast:é€😀')).equals(bin));
  // The native function refuses what index.js never passes, with a TypeError naming it.
  const native = c._client();
  assert.throws(() => native.fast('GET', 4), /args must be an array/);
  assert.throws(() => native.fast(['GET', 1], 4), (e) => e instanceof TypeError && /args\[1\] must be a string or a Buffer/.test(e.message));
  assert.throws(() => native.fast(['GET', 'k']), /two arguments/);
  assert.strictEqual(await c.get('fast:1'), values[1], 'the client still works');
  await c.del(keys);
  await c.close();
});

test('server errors carry their code; state commands are refused', async (t) => {
  const { url } = sharedServer(t);
  const c = await createClient({ url }).connect();
  await c.set('e:s', 'x');
  await assert.rejects(c.lPush('e:s', 'y'), (e) => e instanceof redbridge.ResponseError && e.code === 'RESPONSE' && e.redisCode === 'WRONGTYPE');
  await assert.rejects(c.sendCommand(['SELECT', '1']), (e) => /database option|db option/.test(e.message));
  await c.close();
});

test('connect errors: unreachable server and wrong password', async () => {
  const port = await new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  const t0 = Date.now();
  await assert.rejects(createClient({ socket: { host: '127.0.0.1', port, connectTimeout: 500 } }).connect(), (e) => e instanceof redbridge.ConnectionError && e.message.includes(`127.0.0.1:${port}`));
  assert.ok(Date.now() - t0 < 3000);
  const info = startServer('--requirepass', 'the-right-one');
  try {
    const bad = createClient({ url: info.url, password: 'hunter2-secret' });
    await assert.rejects(bad.connect(), (e) => e instanceof redbridge.AuthenticationError && !e.message.includes('hunter2'));
    const good = await createClient({ url: info.url, password: 'the-right-one' }).connect();
    assert.strictEqual(await good.ping(), 'PONG');
    await good.close();
  } finally {
    stopServer(info);
  }
});

test('guard warnings go to process.emitWarning; deny mode rejects with GuardError', async (t) => {
  const { url } = sharedServer(t);
  const warnings = [];
  const onWarning = (w) => warnings.push(w);
  process.on('warning', onWarning);
  const c = await createClient({ url }).connect();
  await c.keys('*');
  await new Promise((r) => setTimeout(r, 50));
  process.off('warning', onWarning);
  assert.ok(warnings.some((w) => w.name === 'RedbridgeWarning' && /SCAN/.test(w.message)), JSON.stringify(warnings.map((w) => w.message)));
  const strict = await createClient({ url, guard: 'deny' }).connect();
  await assert.rejects(strict.keys('*'), redbridge.GuardError);
  await c.close();
  await strict.close();
});

test('watch + multi: a changed key rejects exec with WatchError', async (t) => {
  const { url } = sharedServer(t);
  const c = await createClient({ url }).connect();
  const other = await createClient({ url }).connect();
  await c.set('w', '1');
  await c.watch('w');
  assert.strictEqual(await c.get('w'), '1');
  await other.set('w', '5');
  await assert.rejects(c.multi().set('w', '2').exec(), redbridge.WatchError);
  assert.strictEqual(await c.get('w'), '5');
  await c.watch('w');
  assert.deepStrictEqual(await c.multi().incr('w').exec(), [6]);
  const result = await c.executeIsolated(async (iso) => {
    await iso.watch('w');
    const v = Number(await iso.get('w'));
    return iso.multi().set('w', String(v * 2)).get('w').exec();
  });
  assert.deepStrictEqual(result, ['OK', '12']);
  await c.close();
  await other.close();
});

test('Buffers in anywhere, Buffers out with withTypeMapping', async (t) => {
  const { url } = sharedServer(t);
  const c = await createClient({ url }).connect();
  const bin = Buffer.from([0, 255, 13, 10, 0]);
  await c.set(Buffer.from('b:key'), bin);
  const raw = c.withTypeMapping({ [redbridge.RESP_TYPES.BLOB_STRING]: Buffer });
  const got = await raw.get('b:key');
  assert.ok(Buffer.isBuffer(got) && got.equals(bin));
  assert.strictEqual(typeof (await c.get('b:key')), 'string');
  const batches = [];
  for await (const keys of raw.scanIterator({ MATCH: 'b:*' })) batches.push(...keys);
  assert.ok(batches.every(Buffer.isBuffer));
  await c.close();
});

test('timeouts: a stalled server gives TimeoutError; the next reply is its own', async () => {
  const info = startServer();
  try {
    const c = await createClient({ url: info.url, responseTimeout: 100 }).connect();
    await c.set('k', 'mine');
    const t0 = Date.now();
    await assert.rejects(c.sendCommand(['DEBUG', 'SLEEP', '0.4']), (e) => e instanceof redbridge.TimeoutError && e.code === 'TIMEOUT');
    assert.ok(Date.now() - t0 < 300);
    await new Promise((r) => setTimeout(r, 400));
    assert.strictEqual(await c.get('k'), 'mine');
    assert.strictEqual(c.stats().errors_timeout, 1);
    await c.close();
  } finally {
    stopServer(info);
  }
});

test('many concurrent calls share one connection; a blocking pop does not hold them up', async (t) => {
  const { url } = sharedServer(t);
  const c = await createClient({ url }).connect();
  const blocked = c.blPop('conc:q', 1);
  const t0 = Date.now();
  const replies = await Promise.all(Array.from({ length: 1000 }, (_, i) => c.echo(`m${i}`)));
  assert.ok(Date.now() - t0 < 900, `1000 calls took ${Date.now() - t0} ms`);
  replies.forEach((r, i) => assert.strictEqual(r, `m${i}`));
  assert.strictEqual(await blocked, null);
  const stats = c.stats();
  assert.ok(stats.requests >= 1001 && stats.pool_size >= 1);
  await c.close();
  await assert.rejects(c.get('x'), redbridge.ConnectionError);
  assert.strictEqual(c.isOpen, false);
});

test('a request overtaken by 70k newer ones still settles with its own reply', async (t) => {
  // Waiting requests sit in a ring of at most 65,536 slots; an older one moves out of it.
  const { url } = sharedServer(t);
  const c = await createClient({ url }).connect();
  const other = await createClient({ url }).connect();
  await c.del('ring:q');
  const blocked = c.blPop('ring:q', 0);
  const blockedTwice = c.blPop('ring:q', 0);
  for (let round = 0; round < 7; round++) {
    const replies = await Promise.all(Array.from({ length: 10000 }, (_, i) => c.echo(`r${round}:${i}`)));
    assert.strictEqual(replies[9999], `r${round}:9999`);
    assert.strictEqual(replies[1234], `r${round}:1234`);
  }
  await other.rPush('ring:q', ['first', 'second']);
  // Each blocking pop has a connection of its own: which one the server serves first is
  // its choice. Each gets one element.
  const got = [await blocked, await blockedTwice];
  assert.deepStrictEqual(got.map((r) => r.key), ['ring:q', 'ring:q']);
  assert.deepStrictEqual(got.map((r) => r.element).sort(), ['first', 'second']);
  assert.strictEqual(await c.echo('after'), 'after');
  await other.close();
  await c.close();
});

test("a lone request is carried by the JS thread's own connection; order and errors hold", async (t) => {
  const { url } = sharedServer(t);
  const c = await createClient({ url }).connect();
  await c.set('ld:k', '0');
  // The JS thread's connection opens in the background; requests take the runtime
  // until it is up.
  let direct = 0;
  for (let i = 0; i < 200 && direct === 0; i++) {
    const before = c.stats().direct_requests;
    await c.get('ld:k');
    direct = c.stats().direct_requests - before;
    if (direct === 0) await new Promise((r) => setTimeout(r, 5));
  }
  assert.strictEqual(direct, 1, 'a lone GET went on the JS thread connection');
  const before = c.stats().direct_requests;
  for (let i = 1; i <= 50; i++) {
    await c.set('ld:k', String(i));
    assert.strictEqual(await c.get('ld:k'), String(i));
  }
  assert.strictEqual(c.stats().direct_requests - before, 100, 'each awaited request on it');
  // Not awaited, in one turn: the runtime carries them (more than tokio's budget of 128
  // and the connection's queue once let later ones overtake); the server runs them in order.
  const got = await Promise.all(Array.from({ length: 2000 }, () => c.incr('ld:n')));
  got.forEach((v, i) => assert.strictEqual(v, i + 1));
  // A transaction and a pipeline alone, a server error, a refused command.
  assert.deepStrictEqual(await c.multi().set('ld:a', '1').get('ld:a').exec(), ['OK', '1']);
  assert.deepStrictEqual(await c.multi().get('ld:a').incr('ld:a').execAsPipeline(), ['1', 2]);
  await assert.rejects(c.lPush('ld:k', 'x'), (e) => e.redisCode === 'WRONGTYPE');
  await assert.rejects(c.sendCommand(['SELECT', '1']), /db option|database option/);
  assert.strictEqual(await c.get('ld:k'), '50');
  // Its connection killed by the server: the next requests still get their own replies.
  const ctl = await createClient({ url }).connect();
  await ctl.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
  for (let i = 0; i < 20; i++) assert.strictEqual(await c.get('ld:k'), '50');
  await ctl.close();
  await c.close();
  await assert.rejects(c.get('ld:k'), redbridge.ConnectionError);
});

test("a turn's requests go on the JS thread's connection together, in order; what cannot waits its turn", async (t) => {
  const { url } = sharedServer(t);
  const loopUp = async (client) => {
    for (let i = 0; i < 200 && client.stats().direct_requests === 0; i++) {
      await client.get('lb:k');
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(client.stats().direct_requests > 0, "the JS thread's connection is up");
  };
  const c = await createClient({ url }).connect();
  await loopUp(c);
  // 64 lanes: each turn's burst is written on it with one write.
  let before = c.stats().direct_requests;
  await Promise.all(Array.from({ length: 64 }, (_, i) => c.set(`lb:${i}`, String(i))));
  const got = await Promise.all(Array.from({ length: 64 }, (_, i) => c.get(`lb:${i}`)));
  got.forEach((v, i) => assert.strictEqual(v, String(i)));
  assert.strictEqual(c.stats().direct_requests - before, 128, 'every request of the bursts went on it');
  // 100k unawaited INCRs: the server sees them in submission order. A blocking pop in
  // the middle takes the runtime after what is in flight on the loop (so it finds the
  // element pushed before it), and the INCRs after it follow it there.
  const n = 100000;
  const incrs = [];
  let popped;
  for (let i = 0; i < n; i++) {
    if (i === n / 2) {
      incrs.push(c.rPush('lb:q', `at ${i}`));
      popped = c.blPop('lb:q', 1);
    }
    incrs.push(c.incr('lb:n'));
  }
  const replies = await Promise.all(incrs);
  replies.splice(n / 2, 1);
  replies.forEach((v, i) => assert.strictEqual(v, i + 1));
  assert.deepStrictEqual(await popped, { key: 'lb:q', element: `at ${n / 2}` });
  // A stalled server: everything in flight on the loop's connection fails (the oldest
  // with TimeoutError), the connection is replaced, and later requests get their own replies.
  const quick = await createClient({ url, responseTimeout: 200 }).connect();
  await loopUp(quick);
  const ctl = await createClient({ url }).connect();
  const sleeping = ctl.sendCommand(['DEBUG', 'SLEEP', '0.5']);
  await new Promise((r) => setTimeout(r, 50));
  before = quick.stats().direct_requests;
  const stalled = await Promise.allSettled(Array.from({ length: 10 }, () => quick.get('lb:0')));
  assert.strictEqual(quick.stats().direct_requests - before, 10, 'all sent on the loop');
  assert.ok(stalled.every((r) => r.status === 'rejected'), 'none answered by the stalled server in time');
  assert.ok(stalled[0].reason instanceof redbridge.TimeoutError, String(stalled[0].reason));
  await sleeping;
  for (let i = 0; i < 20; i++) assert.strictEqual(await quick.get(`lb:${i}`), String(i));
  assert.deepStrictEqual(await Promise.all([quick.get('lb:1'), quick.get('lb:2')]), ['1', '2']);
  await Promise.all([ctl.close(), quick.close(), c.close()]);
});

function node(script, env) {
  return execFileSync(process.execPath, ['--expose-gc', '-e', script], {
    encoding: 'utf8',
    timeout: 20000,
    env: { ...process.env, ...env },
    cwd: path.join(__dirname, '..'),
  });
}

test('the process exits by itself once the client is closed', (t) => {
  const { url } = sharedServer(t);
  const out = node(`
    const { createClient } = require('.');
    (async () => {
      const c = await createClient({ url: process.env.URL }).connect();
      await c.set('exit', 'ok');
      console.log(await c.get('exit'));
      await c.close();
    })();`, { URL: url });
  assert.strictEqual(out.trim(), 'ok');
});

test('works from worker_threads', (t) => {
  const { url } = sharedServer(t);
  const out = node(`
    const { Worker } = require('node:worker_threads');
    const w = new Worker(\`
      const { parentPort, workerData } = require('node:worker_threads');
      const { createClient } = require(workerData.dir);
      (async () => {
        const c = await createClient({ url: workerData.url }).connect();
        await c.set('worker', 'hello');
        parentPort.postMessage(await c.get('worker'));
        await c.close();
      })();\`, { eval: true, workerData: { url: process.env.URL, dir: process.cwd() } });
    w.on('message', (m) => console.log(m));`, { URL: url });
  assert.strictEqual(out.trim(), 'hello');
});

test('a garbage-collected client releases its connections', (t) => {
  const { url } = sharedServer(t);
  const out = node(`
    const { createClient } = require('.');
    const count = async (probe) => (await probe.sendCommand(['CLIENT', 'LIST'])).split('\\n').filter((l) => l.includes('name=gc-test')).length;
    (async () => {
      const probe = await createClient({ url: process.env.URL }).connect();
      await (async () => {
        const c = await createClient({ url: process.env.URL, name: 'gc-test' }).connect();
        await c.blPop('gc:q', 0.05);
      })();
      const before = await count(probe);
      for (let i = 0; i < 20 && (await count(probe)) > 0; i++) {
        global.gc();
        await new Promise((r) => setTimeout(r, 100));
      }
      console.log(before, await count(probe));
      await probe.close();
    })();`, { URL: url });
  const [before, after] = out.trim().split(' ').map(Number);
  assert.ok(before >= 2, `the client had its connections open (${before})`);
  assert.strictEqual(after, 0);
});

test('pipelines cross in one packed string: any text arrives as sent, Buffers still work', async (t) => {
  const { url } = sharedServer(t);
  const c = await createClient({ url }).connect();
  const values = ['', '*', ':', '12:34*', '3*2:ab', 'naïve ✓ 日本', '😀'.repeat(3), '\u0000nul', 'x'.repeat(70000), 'lone \ud800 surrogate'];
  const m = c.multi();
  values.forEach((v, i) => m.set(`pk:${i}:${v.slice(0, 8)}`, v));
  values.forEach((v, i) => m.get(`pk:${i}:${v.slice(0, 8)}`));
  const out = await m.execAsPipeline();
  assert.deepStrictEqual(out.slice(0, values.length), values.map(() => 'OK'));
  // A lone surrogate has no UTF-8 form: it is sent as U+FFFD, as a single command sends it.
  const expect = values.map((v) => v.replace('\ud800', '\ufffd'));
  assert.deepStrictEqual(out.slice(values.length), expect);
  assert.strictEqual(await c.get(`pk:9:${values[9].slice(0, 8)}`), expect[9]);
  // The same through MULTI/EXEC, and a pipeline with a Buffer (the unpacked path).
  assert.deepStrictEqual(await c.multi().set('pk:t', 'ü*1:').get('pk:t').exec(), ['OK', 'ü*1:']);
  const bin = Buffer.from([0, 255, 42, 58]);
  assert.deepStrictEqual(await c.multi().set('pk:b', bin).strLen('pk:b').execAsPipeline(), ['OK', 4]);
  await c.close();
});

test('node-redis client methods: duplicate, withAbortSignal, withCommandOptions, asap, ref/unref, hash iterators', async (t) => {
  const { url } = sharedServer(t);
  const c = await createClient({ url, name: 'rb-dup' }).connect();
  t.after(() => c.close());
  // duplicate: a new client with the same options (and overrides), not yet connected
  const twin = c.duplicate({ name: 'rb-twin' });
  assert.strictEqual(twin.isOpen, false);
  assert.deepStrictEqual(twin.options, { url, name: 'rb-twin' });
  await twin.connect();
  assert.strictEqual(await twin.clientGetName(), 'rb-twin');
  await twin.close();
  assert.strictEqual(await c.ping(), 'PONG', 'closing the duplicate leaves the original open');
  assert.throws(() => c.duplicate('x'), (e) => e instanceof TypeError && /duplicate: overrides must be an object/.test(e.message));
  // withAbortSignal: an aborted signal rejects without sending; one that fires later rejects a blocked call
  await c.del('abort:q');
  const done = new AbortController();
  done.abort();
  await assert.rejects(c.withAbortSignal(done.signal).incr('abort:n'), redbridge.AbortError);
  assert.strictEqual(await c.get('abort:n'), null, 'an already aborted command is not sent');
  const later = new AbortController();
  const blocked = c.withAbortSignal(later.signal).blPop('abort:q', 0.3);
  setTimeout(() => later.abort(), 20);
  await assert.rejects(blocked, (e) => e instanceof redbridge.AbortError && e instanceof redbridge.RedisError);
  const live = new AbortController();
  assert.strictEqual(await c.withAbortSignal(live.signal).set('abort:k', 'v'), 'OK', 'a signal that never fires changes nothing');
  assert.throws(() => c.withCommandOptions({ abortSignal: 5 }), /abortSignal must be an AbortSignal, got a number/);
  // withCommandOptions / asap: type mapping and the asap flag (accepted)
  const raw = c.withCommandOptions({ typeMapping: { [redbridge.RESP_TYPES.BLOB_STRING]: Buffer } }).asap();
  assert.ok(Buffer.isBuffer(await raw.get('abort:k')));
  assert.strictEqual(await c.asap().get('abort:k'), 'v');
  // ref/unref: a timer handle held while ref'd, dropped by unref() and close()
  c.ref();
  assert.ok(c._keepAlive);
  c.unref();
  assert.strictEqual(c._keepAlive, null);
  c.ref();
  // hash iterators over values and fields
  await c.hSet('abort:h', { a: '1', b: '2' });
  const values = [];
  for await (const batch of c.hScanValuesIterator('abort:h')) values.push(...batch);
  const fields = [];
  for await (const batch of c.hScanNoValuesIterator('abort:h')) fields.push(...batch);
  assert.deepStrictEqual([values.sort(), fields.sort()], [['1', '2'], ['a', 'b']]);
  await c.close();
  assert.strictEqual(c._keepAlive, null, 'close() drops the keep-alive handle');
});

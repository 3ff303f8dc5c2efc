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

test('spinWait: the loop polls for replies only while requests are in flight; bad values are refused', async (t) => {
  const { url } = sharedServer(t);
  assert.throws(() => createClient({ url, spinWait: -1 }), (e) => e instanceof TypeError && /spinWait/.test(e.message));
  assert.throws(() => createClient({ url, spinWait: '50' }), (e) => e instanceof TypeError && /spinWait/.test(e.message));
  await assert.rejects(createClient({ url, spinWait: 5000 }).connect(), (e) => /spin_wait/.test(e.message) && /1ms/.test(e.message));
  for (const spinWait of [undefined, 0]) {
    const c = await createClient({ url, spinWait }).connect();
    await c.set('sw:k', 'v');
    let direct = 0;
    for (let i = 0; i < 200 && direct < 100; i++) {
      const before = c.stats().direct_requests;
      for (let j = 0; j < 10; j++) assert.strictEqual(await c.get('sw:k'), 'v');
      direct += c.stats().direct_requests - before;
      if (direct === 0) await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(direct >= 100, `GETs on the JS thread's connection (spinWait ${spinWait})`);
    // Nothing in flight: the loop sleeps. A spin left on would keep this process busy
    // (about 300 ms of CPU in these 300 ms).
    const cpu = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 300));
    const used = process.cpuUsage(cpu);
    const ms = (used.user + used.system) / 1000;
    assert.ok(ms < 100, `idle for 300 ms, the process used ${ms} ms of CPU (spinWait ${spinWait})`);
    await c.close();
  }
});

test("a lone request is carried by the JS thread's own connection; order and errors hold", async (t) => {
  const { url } = sharedServer(t);
  const c = await createClient({ url }).connect();
  await c.set('ld:k', '0');
  // connect() opened the JS thread's connection: the first GET goes on it (the loop
  // below allows for a slow open).
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

test('a client holds one connection, as node-redis does: connect() opens the JS thread\'s own', async (t) => {
  const { url } = sharedServer(t);
  const c = await createClient({ url, name: 'one-conn' }).connect();
  assert.strictEqual(await c.set('oc:k', '1'), 'OK');
  const got = await Promise.all(Array.from({ length: 10 }, () => c.incr('oc:k')));
  assert.deepStrictEqual(got, Array.from({ length: 10 }, (_, i) => i + 2));
  assert.strictEqual(c.stats().direct_requests, 11, 'every request on that connection');
  const ctl = await createClient({ url }).connect();
  const list = await ctl.sendCommand(['CLIENT', 'LIST']);
  assert.strictEqual(list.split('\n').filter((l) => l.includes(' name=one-conn ')).length, 1, list);
  await Promise.all([ctl.close(), c.close()]);
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
  // A stalled server: the oldest request in flight on the loop's connection fails with
  // TimeoutError and the connection is dropped; those behind it are retried (GET is
  // safe) on a new connection, which opens once the server answers again; later
  // requests get their own replies.
  const quick = await createClient({ url, responseTimeout: 200 }).connect();
  await loopUp(quick);
  const ctl = await createClient({ url }).connect();
  const sleeping = ctl.sendCommand(['DEBUG', 'SLEEP', '0.5']);
  await new Promise((r) => setTimeout(r, 50));
  before = quick.stats().direct_requests;
  const stalled = await Promise.allSettled(Array.from({ length: 10 }, () => quick.get('lb:0')));
  assert.strictEqual(quick.stats().direct_requests - before, 10, 'all sent on the loop');
  assert.ok(stalled[0].reason instanceof redbridge.TimeoutError, String(stalled[0].reason));
  assert.deepStrictEqual(stalled.slice(1).map((r) => r.value), Array(9).fill('0'), 'retried, each got its reply');
  assert.strictEqual(quick.stats().retries, 9);
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

// ---- node-redis's other client methods (#16): monitor, the WATCH flags, socketEpoch, the
// pub/sub listener accessors, legacy(), resetIfDirty. Each next to node-redis 6.4 where
// the behaviour is observable.
const nodeRedis = require('redis');
const until = async (check, what) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), what);
};

test('monitor(): the server\'s lines, byte for byte as node-redis hands them over; reset() ends it', async (t) => {
  const { url } = sharedServer(t);
  const tag = `mon:${process.pid}:${Date.now()}`;
  const theirs = nodeRedis.createClient({ url });
  await theirs.connect();
  const c = await createClient({ url }).connect();
  const writer = await createClient({ url, database: 3 }).connect();
  const mine = [];
  const seen = [];
  assert.strictEqual(await c.monitor((line) => mine.push(line)), undefined);
  await theirs.monitor((line) => seen.push(line));
  // Quotes, backslashes, control bytes, UTF-8, binary; a script's own call ("lua"); db 3.
  await writer.set(`${tag}:"q"`, 'a b\n\r\t\x07\x08\\é');
  await writer.sendCommand(['SET', `${tag}:bin`, Buffer.from([0, 1, 127, 128, 255])]);
  await writer.eval("return redis.call('GET', KEYS[1])", { keys: [`${tag}:bin`] });
  await writer.get(`${tag}:end`);
  const ours = () => mine.filter((l) => l.includes(tag));
  const node = () => seen.filter((l) => l.includes(tag));
  await until(() => ours().length === 5 && node().length === 5, 'both monitors saw the 5 lines');
  assert.deepStrictEqual(ours(), node(), 'the same lines as node-redis');
  assert.match(ours()[0], /^\d+\.\d{6} \[3 [\d.]+:\d+\] "SET" ".*\\"q\\"" "a b\\n\\r\\t\\a\\b\\\\\\xc3\\xa9"$/);
  assert.match(ours()[3], /^\d+\.\d{6} \[3 lua\] "GET" /);
  // Unlike node-redis's monitoring client (the server refuses its commands), ours keeps working.
  assert.strictEqual(await c.get(`${tag}:"q"`), null, 'db 0 has no such key');
  await assert.rejects(theirs.get('x'), /keyspace/, 'node-redis: the monitoring connection runs no commands');
  // A second monitor() replaces the callback, on the same feed.
  const second = [];
  await c.monitor((line) => second.push(line));
  await writer.get(`${tag}:second`);
  await until(() => second.some((l) => l.includes(`${tag}:second`)), 'the new callback gets the lines');
  assert.ok(!mine.some((l) => l.includes(`${tag}:second`)), 'the old one no longer does');
  // A callback that throws: its error is the client's 'error' event; the lines go on.
  const errors = [];
  c.on('error', (e) => errors.push(e));
  await c.MONITOR((line) => {
    if (line.includes(`${tag}:throw`)) throw new Error('listener failed');
    second.push(line);
  });
  await writer.get(`${tag}:throw`);
  await writer.get(`${tag}:after`);
  await until(() => second.some((l) => l.includes(`${tag}:after`)), 'lines after the throw');
  assert.strictEqual(errors.length, 1);
  assert.strictEqual(errors[0].message, 'listener failed');
  // reset() ends it (as node-redis's RESET does); monitor() again starts a new one.
  await c.reset();
  await theirs.reset();
  const count = second.length;
  await writer.get(`${tag}:reset`);
  await new Promise((r) => setTimeout(r, 100));
  assert.strictEqual(second.length, count, 'no line after reset()');
  await assert.rejects(c.monitor('nope'), (e) => e instanceof TypeError && /monitor: callback must be a function/.test(e.message));
  await c.close();
  await assert.rejects(c.monitor(() => {}), redbridge.ConnectionError);
  await writer.close();
  await theirs.close();
});

test('monitor() with a typeMapping of SIMPLE_STRING to Buffer: the lines as Buffers, as node-redis; BLOB_STRING\'s leaves them text', async (t) => {
  const { url } = sharedServer(t);
  const tag = `monbuf:${process.pid}:${Date.now()}`;
  const SIMPLE = { [redbridge.RESP_TYPES.SIMPLE_STRING]: Buffer };
  const theirs = await nodeRedis.createClient({ url }).connect();
  const c = await createClient({ url }).connect();
  const writer = await createClient({ url }).connect();
  const [mine, seen, text] = [[], [], []];
  await c.withTypeMapping(SIMPLE).monitor((line) => mine.push(line));
  await theirs.withTypeMapping(SIMPLE).monitor((line) => seen.push(line));
  const other = await createClient({ url }).connect();
  await other.withTypeMapping({ [redbridge.RESP_TYPES.BLOB_STRING]: Buffer }).monitor((line) => text.push(line));
  await writer.sendCommand(['SET', `${tag}:bin`, Buffer.from([0, 34, 92, 255])]);
  await writer.set(`${tag}:é`, 'v');
  const ours = () => mine.filter((l) => l.includes(tag));
  const node = () => seen.filter((l) => l.includes(tag));
  await until(() => ours().length === 2 && node().length === 2 && text.filter((l) => l.includes(tag)).length === 2, 'the monitors saw both lines');
  assert.ok(ours().every(Buffer.isBuffer), 'Buffers');
  assert.deepStrictEqual(ours(), node(), 'the same bytes as node-redis');
  assert.ok(text.every((l) => typeof l === 'string'), 'BLOB_STRING does not map MONITOR lines (simple strings)');
  await Promise.all([c.close(), other.close(), writer.close(), theirs.close()]);
});

test('monitor(): a lost MONITOR connection is an \'error\' event, then monitored again', async (t) => {
  const { url } = sharedServer(t);
  const tag = `monlost:${process.pid}:${Date.now()}`;
  const c = await createClient({ url }).connect();
  const admin = await createClient({ url }).connect();
  const lines = [];
  const errors = [];
  c.on('error', (e) => errors.push(e));
  await c.monitor((line) => lines.push(line));
  const list = await admin.sendCommand(['CLIENT', 'LIST']);
  const ids = list.split('\n').filter((l) => / cmd=monitor /.test(l)).map((l) => l.match(/^id=(\d+)/)[1]);
  assert.ok(ids.length >= 1);
  for (const id of ids) await admin.sendCommand(['CLIENT', 'KILL', 'ID', id]);
  await until(() => errors.length >= 1, 'the lost connection was reported');
  assert.ok(errors[0] instanceof redbridge.ConnectionError, String(errors[0]));
  // Opened again by itself: commands run after that are seen.
  await until(() => {
    admin.get(`${tag}:probe`).catch(() => {});
    return lines.some((l) => l.includes(`${tag}:probe`));
  }, 'monitored again');
  assert.strictEqual(await c.ping(), 'PONG', 'the client was not affected');
  await c.close();
  await admin.close();
});

test('WATCH flags (isWatching, isDirtyWatch, setDirtyWatch) and socketEpoch as node-redis reports them', async (t) => {
  const { url } = sharedServer(t);
  const key = `watchflags:${process.pid}`;
  // The same steps on both clients, recording what they report.
  const admin = await createClient({ url }).connect();
  const name = `watchflags-${process.pid}`;
  const steps = async (client) => {
    const out = [client.socketEpoch];
    await client.connect();
    out.push(client.socketEpoch, client.isWatching, client.isDirtyWatch);
    await client.watch(key);
    out.push(client.isWatching, client.isDirtyWatch);
    client.setDirtyWatch('the slot moved');
    out.push(client.isWatching, client.isDirtyWatch);
    try {
      await client.multi().incr(key).exec();
      out.push('exec resolved');
    } catch (e) {
      out.push(e.constructor.name, e.message);
    }
    out.push(client.isWatching, client.isDirtyWatch, await client.get(key));
    client.setDirtyWatch('again');
    out.push(await client.multi().get(key).execAsPipeline(), client.isDirtyWatch, 'a pipeline ignores it');
    await client.unwatch();
    out.push(client.isDirtyWatch);
    await client.watch(key);
    out.push(await client.multi().incr(key).exec(), client.isWatching);
    await client.del(key);
    // Its connections killed: the client reconnects, and the epoch counts it.
    const list = await admin.sendCommand(['CLIENT', 'LIST']);
    for (const line of list.split('\n').filter((l) => l.includes(` name=${name} `))) {
      await admin.sendCommand(['CLIENT', 'KILL', 'ID', line.match(/^id=(\d+)/)[1]]);
    }
    await new Promise((r) => setTimeout(r, 200));
    out.push(await client.ping());
    out.push(client.socketEpoch);
    await client.close();
    return out;
  };
  const ours = await steps(createClient({ url, name }));
  const theirs = await steps(nodeRedis.createClient({ url, name }).on('error', () => {}));
  await admin.close();
  assert.deepStrictEqual(ours, theirs);
  assert.deepStrictEqual(ours.slice(0, 10), [0, 1, false, false, true, false, true, true, 'WatchError', 'the slot moved']);
  assert.strictEqual(ours[ours.length - 1], 2, 'one reconnect');
  // Also on an isolated client (its connection stays pinned after exec) and a reconnect of ours.
  const c = await createClient({ url }).connect();
  await c.executeIsolated(async (iso) => {
    await iso.watch(key);
    assert.strictEqual(iso.isWatching, true);
    await iso.multi().get(key).exec();
    assert.strictEqual(iso.isWatching, false);
  });
  await c.select(1);
  assert.strictEqual(c.socketEpoch, 2, 'select() reconnected the client');
  await c.close();
  assert.strictEqual(c.socketEpoch, 2, 'kept after close(), as node-redis keeps it');
});

test('getPubSubListeners / extendPubSubListeners / extendPubSubChannelListeners as node-redis\'s', async (t) => {
  const { url } = sharedServer(t);
  const ch = `plist:${process.pid}`;
  const run = async (make) => {
    const a = await make().connect();
    const b = await make().connect();
    const got = [];
    const s1 = (m) => got.push(['s1', m]);
    const s2 = (m) => got.push(['s2', m]);
    const b1 = (m) => got.push(['b1', Buffer.isBuffer(m)]);
    await a.subscribe([ch, `${ch}:2`], s1);
    await a.subscribe(ch, b1, true);
    await a.pSubscribe(`${ch}:*`, s2);
    const channels = a.getPubSubListeners('CHANNELS');
    const shape = [...channels].map(([name, l]) => [name, l.unsubscribing, l.strings.size, l.buffers.size]);
    const patterns = [...a.getPubSubListeners('PATTERNS').keys()];
    const sharded = a.getPubSubListeners('SHARDED').size;
    // Another client takes the listeners over: one subscribe for the channels new to it.
    await b.extendPubSubListeners('CHANNELS', channels);
    await b.extendPubSubChannelListeners('CHANNELS', ch, { unsubscribing: false, strings: new Set([s2]), buffers: new Set() });
    const taken = [...b.getPubSubListeners('CHANNELS')].map(([name, l]) => [name, l.strings.size, l.buffers.size]);
    await a.unsubscribe();
    await a.pUnsubscribe();
    await a.publish(ch, 'hello');
    await until(() => got.length >= 3, 'b received the message');
    await new Promise((r) => setTimeout(r, 50));
    const active = [a.isPubSubActive, b.isPubSubActive];
    await a.close();
    await b.close();
    return { shape, patterns, sharded, taken, got: got.map(String).sort(), active };
  };
  const ours = await run(() => createClient({ url }));
  const theirs = await run(() => nodeRedis.createClient({ url }));
  assert.deepStrictEqual(ours, theirs);
  assert.deepStrictEqual(ours.shape, [[ch, false, 1, 1], [`${ch}:2`, false, 1, 0]]);
  assert.deepStrictEqual(ours.got, ['b1,true', 's1,hello', 's2,hello']);
  const c = await createClient({ url }).connect();
  assert.deepStrictEqual(c.getPubSubListeners(redbridge.PUBSUB_TYPE.SHARDED), new Map());
  assert.throws(() => c.getPubSubListeners('channels'), /type must be 'CHANNELS', 'PATTERNS' or 'SHARDED'/);
  await assert.rejects(c.extendPubSubListeners('CHANNELS', {}), /listeners must be a Map/);
  await assert.rejects(c.extendPubSubChannelListeners('CHANNELS', ch, { strings: new Set([5]) }), /a listener must be a function/);
  assert.strictEqual(c.isPubSubActive, false, 'a refused extension subscribes nothing');
  await c.close();
});

test('legacy(): the v3 callback interface gives what node-redis\'s gives', async (t) => {
  const { url } = sharedServer(t);
  const k = `legacy:${process.pid}`;
  const run = async (client) => {
    const out = [];
    const errors = [];
    client.on('error', (e) => errors.push(e.constructor.name));
    const legacy = client.legacy();
    const call = (method, ...args) => new Promise((resolve) => legacy[method](...args, (err, reply) => resolve(err ? [err.constructor.name, err.message] : reply)));
    out.push(await call('set', k, 42));
    out.push(await call('get', k));
    out.push(await call('HSET', `${k}:h`, ['a', 1], ['b', 2]));
    out.push(await call('hGetAll', `${k}:h`));
    out.push(await call('rPush', `${k}:l`, [1, [2, 3]]));
    out.push(await call('lRange', `${k}:l`, 0, -1));
    out.push(await call('incr', `${k}:h`));
    out.push(await call('sendCommand', 'GET', [k]));
    out.push(await call('sendCommand', ['EXISTS', k, `${k}:none`]));
    out.push(await new Promise((resolve) => legacy.multi().set(`${k}:m`, 1).incr(`${k}:m`).sendCommand('GET', `${k}:m`).exec((err, replies) => resolve(err ? err.message : replies))));
    legacy.incr(`${k}:h`); // no callback: the failure is the client's 'error' event
    legacy.del([k, `${k}:h`, `${k}:l`, `${k}:m`]);
    await new Promise((r) => setTimeout(r, 50));
    out.push(errors);
    await new Promise((resolve) => legacy.quit(resolve));
    return out;
  };
  const ours = await run(await createClient({ url }).connect());
  const theirs = await run(await nodeRedis.createClient({ url }).connect());
  assert.deepStrictEqual(ours, theirs);
  assert.deepStrictEqual(ours.slice(0, 4), ['OK', '42', 2, { a: '1', b: '2' }]);
  assert.deepStrictEqual(ours[6][0], 'SimpleError');
  assert.deepStrictEqual(ours[ours.length - 1], ['SimpleError']);
});

test('resetIfDirty(): nothing for a clean client; otherwise a warning and reset()', async (t) => {
  const { url } = sharedServer(t);
  const c = await createClient({ url }).connect();
  const warnings = [];
  const onWarning = (w) => warnings.push(w);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  assert.strictEqual(c.resetIfDirty(), undefined);
  await c.select(0);
  assert.strictEqual(c.resetIfDirty(), undefined, 'the same database as the options');
  await c.select(2);
  await c.watch('rid:k');
  await c.subscribe('rid:ch', () => {});
  await c.monitor(() => {});
  await c.resetIfDirty();
  await until(() => warnings.length === 1, 'one warning');
  assert.strictEqual(warnings[0].name, 'RedbridgeWarning');
  assert.match(warnings[0].message, /another database selected, MONITOR on, subscriptions, a WATCH/);
  assert.deepStrictEqual([c.isWatching, c.isPubSubActive, c._monitor], [false, false, null]);
  assert.strictEqual(Number((await c.clientInfo()).db), 0, 'back in the database of the options');
  assert.strictEqual(c.resetIfDirty(), undefined, 'clean again');
  await c.close();
  // A database named by the URL is the client's own: selecting it again is no state.
  const d = await createClient({ url: `${url}/4` }).connect();
  await d.select(4);
  assert.strictEqual(d.resetIfDirty(), undefined);
  await d.close();
});

test('execAsPipeline after watch() sends its commands without MULTI/EXEC, so the WATCH still holds (as node-redis)', async (t) => {
  const { url } = sharedServer(t);
  const outcome = async (c, other, key) => {
    await c.set(key, '1');
    await c.watch(key);
    const piped = await c.multi().get(key).incr(`${key}:n`).execAsPipeline();
    await other.set(key, '2');
    // The WATCH from before the pipeline is still on: the transaction is refused.
    const exec = await c.multi().set(key, '3').exec().then(() => 'ran', (e) => e.constructor.name);
    return [piped, exec, await other.get(key)];
  };
  const ours = [await createClient({ url }).connect(), await createClient({ url }).connect()];
  const theirs = [await nodeRedis.createClient({ url }).connect(), await nodeRedis.createClient({ url }).connect()];
  const got = await outcome(...ours, 'xap:ours');
  const want = await outcome(...theirs, 'xap:theirs');
  assert.deepStrictEqual(got, want);
  assert.deepStrictEqual(got, [['1', 1], 'WatchError', '2']);
  for (const c of [...ours, ...theirs]) await c.close();
});

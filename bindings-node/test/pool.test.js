'use strict';
// node-redis's client pool (createClientPool / client.createPool) and the connection-state
// methods that reconnect with new options (auth / reAuthenticate, select, clientSetName,
// reset), on real servers.
const { test } = require('node:test');
const assert = require('node:assert');
const util = require('node:util');
const redbridge = require('..');
const { createClient, createClientPool, createCluster, defineScript, RESP_TYPES } = redbridge;
const { sharedServer, startServer, stopServer } = require('./support');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('pool: commands, scripts, multi, execute on dedicated connections, counters', async (t) => {
  const { url } = sharedServer(t);
  const pool = createClientPool(
    { url, scripts: { addBy: defineScript({ SCRIPT: "return redis.call('INCRBY', KEYS[1], ARGV[1])", NUMBER_OF_KEYS: 1, parseCommand: (p, key, by) => { p.pushKey(key); p.push(String(by)); } }) } },
    { maximum: 2, acquireTimeout: 300 },
  );
  assert.strictEqual(pool.isOpen, false);
  assert.strictEqual(await pool.connect(), pool);
  assert.strictEqual(await pool.connect(), undefined, 'connect() on an open pool does nothing');
  assert.strictEqual(await pool.set('p:k', 'v'), 'OK');
  assert.strictEqual(await pool.GET('p:k'), 'v');
  await pool.hSet('p:h', { a: '1' });
  assert.deepStrictEqual({ ...(await pool.hGetAll('p:h')) }, { a: '1' });
  assert.strictEqual(await pool.sendCommand(['ECHO', 'x']), 'x');
  assert.strictEqual(await pool.addBy('p:n', 5), 5);
  assert.deepStrictEqual(await pool.multi().incr('p:n').get('p:n').exec(), [6, '6']);
  assert.ok(Buffer.isBuffer(await pool.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }).get('p:k')));

  // execute: a synchronous fn, and an isolated client whose WATCH/MULTI is its own
  assert.strictEqual(await pool.execute(() => 42), 42);
  const doubled = await pool.execute(async (c) => {
    await c.watch('p:n');
    const n = Number(await c.get('p:n'));
    const [ok] = await c.multi().set('p:n', String(n * 2)).exec();
    return [ok, await c.addBy('p:n', 1)]; // still its own connection after exec()
  });
  assert.deepStrictEqual(doubled, ['OK', 13]);

  // two tasks hold both dedicated connections (distinct ones); a third waits, then times out
  const ids = [];
  let release;
  const gate = new Promise((r) => (release = r));
  const holders = [1, 2].map(() => pool.execute(async (c) => {
    ids.push(await c.sendCommand(['CLIENT', 'ID']));
    await gate;
  }));
  while (ids.length < 2) await sleep(10);
  assert.notStrictEqual(ids[0], ids[1]);
  assert.strictEqual(pool.clientsInUse, 2);
  assert.strictEqual(pool.totalClients, 2);
  const t0 = Date.now();
  const waiter = pool.execute(() => 'never');
  await sleep(50);
  assert.strictEqual(pool.tasksQueueLength, 1);
  assert.strictEqual(await pool.get('p:k'), 'v', 'commands on the pool do not wait for a dedicated connection');
  await assert.rejects(waiter, (e) => e instanceof redbridge.PoolTimeoutError && e.code === 'POOL_TIMEOUT');
  assert.ok(Date.now() - t0 >= 250, `waited ${Date.now() - t0} ms`);
  release();
  await Promise.all(holders);
  await sleep(20);
  assert.strictEqual(pool.clientsInUse, 0);
  assert.strictEqual(pool.idleClients, 2);

  // a task that throws gives its connection back
  await assert.rejects(pool.execute(() => { throw new Error('task failed'); }), /task failed/);
  await assert.rejects(pool.execute(async () => { throw new Error('later'); }), /later/);
  assert.strictEqual(await pool.execute((c) => c.get('p:k')), 'v');

  // close() waits for running tasks, refuses new work meanwhile, then closes
  let finished = false;
  const running = pool.execute(async (c) => {
    await sleep(150);
    await c.set('p:late', 'done');
    finished = true;
    return 'ran';
  });
  const closing = pool.close();
  assert.strictEqual(pool.isClosing, true);
  await assert.rejects(pool.execute(() => 1), redbridge.ConnectionError);
  await assert.rejects(pool.get('p:k'), redbridge.ConnectionError);
  await closing;
  assert.ok(finished);
  assert.strictEqual(await running, 'ran');
  assert.strictEqual(pool.isOpen, false);
  assert.strictEqual(pool.isClosing, false);
  await assert.rejects(pool.execute(() => 1), redbridge.ConnectionError);
  const check = await createClient({ url }).connect();
  assert.strictEqual(await check.get('p:late'), 'done');
  await check.close();
});

test('pool: client.createPool, destroy, bad input named without its value', async (t) => {
  const { url } = sharedServer(t);
  const client = createClient({ url, database: 3 });
  const pool = await client.createPool({ minimum: 1, maximum: 4, cleanupDelay: 1000 }).connect();
  await pool.set('cp:k', 'three');
  assert.strictEqual(await pool.execute((c) => c.sendCommand(['CLIENT', 'INFO'])).then((s) => /\bdb=3\b/.test(s)), true, 'the client\'s options');
  pool.destroy();
  await assert.rejects(pool.get('cp:k'), redbridge.ConnectionError);

  const named = (re) => (e) => e instanceof TypeError && re.test(e.message) && !/s3cret/.test(e.message);
  assert.throws(() => createClientPool({ url }, { maximum: 0 }), named(/options\.maximum must be a whole number/));
  assert.throws(() => createClientPool({ url }, { minimum: 3, maximum: 2 }), named(/maximum must be at least options\.minimum/));
  assert.throws(() => createClientPool({ url }, { acquireTimeout: 's3cret' }), named(/options\.acquireTimeout must be a number of milliseconds \(0 or more\), got a string/));
  assert.throws(() => createClientPool({ url }, 's3cret'), named(/createClientPool: options must be an object, got a string/));
  assert.throws(() => createClientPool(null), named(/clientOptions must be an object/));
  const p = await createClientPool({ url }, { acquireTimeout: 0 }).connect();
  await assert.rejects(p.execute('s3cret'), named(/execute: fn must be a function, got a string/));
  await p.close();
  assert.throws(() => createCluster({ rootNodes: [{ url }] }).createPool(), named(/cluster client has no pools/));
});

test('select, clientSetName and reset reconnect every connection; requests in flight are not lost', async (t) => {
  const { url } = sharedServer(t);
  const c = await createClient({ url, name: 'rb-first' }).connect();
  await c.set('sel:k', 'zero');
  assert.strictEqual(await c.select(4), undefined);
  assert.strictEqual(await c.get('sel:k'), null);
  await c.set('sel:k', 'four');
  assert.match(await c.sendCommand(['CLIENT', 'INFO']), /\bdb=4\b/);
  assert.strictEqual(await c.blPop('sel:none', 0.01), null, 'a dedicated connection uses db 4 too');
  assert.strictEqual(await c.clientSetName('rb-renamed'), 'OK');
  assert.strictEqual(await c.clientGetName(), 'rb-renamed');
  assert.strictEqual(await c.get('sel:k'), 'four', 'the name kept the database');

  // commands sent before the switch settle on the connection they were sent on
  const incrs = Array.from({ length: 200 }, () => c.incr('sel:n'));
  const switched = c.SELECT(5);
  const after = c.get('sel:k');
  assert.deepStrictEqual((await Promise.all(incrs)).at(-1), 200);
  await switched;
  assert.ok([null, 'four'].includes(await after));
  assert.strictEqual(await c.get('sel:k'), null);

  await c.reset();
  assert.strictEqual(await c.get('sel:k'), 'zero', 'the database of the options again');
  assert.strictEqual(await c.clientGetName(), 'rb-first', 'the name of the options again');

  await assert.rejects(c.select(-1), (e) => e instanceof TypeError && /^select: db must be a non-negative integer, got a number/.test(e.message));
  await assert.rejects(c.select('1'), TypeError);
  await assert.rejects(c.clientSetName(7), /clientSetName: name must be a string/);
  const twin = c.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  await twin.select(6);
  assert.strictEqual(await c.get('sel:k'), null, 'a twin switches the client it shares');
  await c.close();

  const early = createClient({ url });
  await early.select(4);
  await early.connect();
  assert.strictEqual(await early.get('sel:k'), 'four', 'select() before connect() is used by connect()');
  await early.close();
  await assert.rejects(early.select(1).then(() => early.get('x')), redbridge.ConnectionError);
});

test('auth / reAuthenticate: every connection logs in again, after reconnects too; refusals keep the old login', async (t) => {
  const s = startServer();
  t.after(() => stopServer(s));
  const admin = await createClient({ url: s.url }).connect();
  await admin.sendCommand(['ACL', 'SETUSER', 'app', 'on', '>pw-1234', '~*', '&*', '+@all']);
  const c = await createClient({ url: s.url }).connect();
  assert.strictEqual(await c.AUTH({ username: 'app', password: 'pw-1234' }), 'OK');
  assert.strictEqual(await c.sendCommand(['ACL', 'WHOAMI']), 'app');
  assert.deepStrictEqual(await c.executeIsolated((i) => i.sendCommand(['ACL', 'WHOAMI'])), 'app');
  await admin.sendCommand(['CLIENT', 'KILL', 'USER', 'app']);
  assert.strictEqual(await c.get('auth:k'), null); // safe to retry: it meets the closed connection
  assert.strictEqual(await c.aclWhoAmI(), 'app', 'the reconnect logs in with the new credentials');

  const secret = 'wrong-s3cret-pw';
  await assert.rejects(
    c.auth({ username: 'app', password: secret }),
    (e) => e instanceof redbridge.SimpleError && e.code === 'AUTHENTICATION' && !e.message.includes(secret) && !String(e.stack).includes(secret),
  );
  assert.strictEqual(await c.sendCommand(['ACL', 'WHOAMI']), 'app', 'a refusal keeps the login it had');
  await c.reset();
  assert.strictEqual(await c.sendCommand(['ACL', 'WHOAMI']), 'app', 'reset() keeps the credentials');
  assert.strictEqual(await c.reAuthenticate({ username: 'default' }), undefined);
  assert.strictEqual(await c.sendCommand(['ACL', 'WHOAMI']), 'default');
  await c.auth({ username: 'app', password: 'pw-1234' });
  assert.ok(!String(c).includes('pw-1234') && !String(c.withTypeMapping({})).includes('pw-1234'));

  await assert.rejects(c.auth('pw'), (e) => e instanceof TypeError && /^auth: options must be an object, got a string$/.test(e.message));
  await assert.rejects(c.auth({ password: 12345678 }), (e) => e instanceof TypeError && /^auth: options\.password must be a string, got a number$/.test(e.message));
  await assert.rejects(c.reAuthenticate(null), /reAuthenticate: credentials must be an object/);
  // util.inspect (console.log) shows neither the password given to auth() nor one
  // given at creation, also deep inside.
  assert.ok(!util.inspect(c, { depth: 10, showHidden: true }).includes('pw-1234'), util.inspect(c));
  const made = createClient({ url: s.url, password: 'made-with-pw-99' });
  assert.ok(!util.inspect(made, { depth: 10 }).includes('made-with-pw-99'));
  assert.ok(!util.inspect(createClientPool({ url: s.url, password: 'pool-pw-77' }), { depth: 10 }).includes('pool-pw-77'));
  await c.close();
  await admin.close();
});

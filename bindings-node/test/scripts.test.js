'use strict';
// node-redis's `scripts` / `functions` options against a real server: a script runs by
// SHA1 through the core (EVALSHA, and EVAL with the body only on NOSCRIPT, seen in INFO
// commandstats), on multi() too; functions by FCALL / FCALL_RO after FUNCTION LOAD.
const { test } = require('node:test');
const assert = require('node:assert');
const redbridge = require('..');
const { createClient, defineScript } = redbridge;
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { startServer, stopServer } = require('./support');

const HARNESS = path.join(__dirname, '..', '..', 'tests', 'harness', 'redis_server.py');

/** `calls` and `failed_calls` of one command in INFO commandstats ([0, 0] before its first). */
async function calls(c, command) {
  const info = String(await c.sendCommand(['INFO', 'commandstats']));
  const line = info.split('\r\n').find((l) => l.startsWith(`cmdstat_${command}:`));
  if (!line) return [0, 0];
  const field = (name) => Number((line.match(new RegExp(`[:,]${name}=(\\d+)`)) || [0, 0])[1]);
  return [field('calls'), field('failed_calls')];
}

const addBy = defineScript({
  SCRIPT: "return redis.call('INCRBY', KEYS[1], ARGV[1])",
  NUMBER_OF_KEYS: 1,
  parseCommand(parser, key, by) {
    parser.pushKey(key);
    parser.push(by.toString());
  },
  transformReply: (reply) => reply,
});

const getRo = defineScript({
  SCRIPT: "return redis.call('GET', KEYS[1])",
  NUMBER_OF_KEYS: 1,
  IS_READ_ONLY: true,
  parseCommand(parser, key) {
    parser.pushKey(key);
  },
});

// No NUMBER_OF_KEYS: parseCommand gives the count of keys first; a transformReply by RESP version.
const pair = defineScript({
  SCRIPT: 'return {KEYS[1], ARGV[1]}',
  parseCommand(parser, key, value) {
    parser.pushKeysLength([key]);
    parser.push(value);
    parser.preserve = 'kept';
  },
  transformReply: {
    2: (reply, preserve) => ({ key: reply[0], value: reply[1], preserve }),
    3: (reply, preserve) => ({ key: reply[0], value: reply[1], preserve }),
  },
});

// node-redis v4's shape: transformArguments gives the keys and arguments.
const legacy = defineScript({
  SCRIPT: "return redis.error_reply('MYERR no luck')",
  NUMBER_OF_KEYS: 0,
  transformArguments: () => [],
});

const LIBRARY = [
  '#!lua name=rblib',
  "redis.register_function('add', function(keys, args) return redis.call('INCRBY', keys[1], args[1]) end)",
  "redis.register_function{function_name='peek', callback=function(keys) return redis.call('GET', keys[1]) end, flags={'no-writes'}}",
].join('\n');

function client(url, extra) {
  return createClient({
    url,
    scripts: { addBy, getRo, pair, legacy },
    functions: {
      rblib: {
        add: {
          NUMBER_OF_KEYS: 1,
          parseCommand(parser, key, by) {
            parser.pushKey(key);
            parser.push(String(by));
          },
          transformReply: (reply) => Number(reply),
        },
        look: {
          NAME: 'peek', // node-redis v4's name of the function, when it differs from the key
          IS_READ_ONLY: true,
          NUMBER_OF_KEYS: 1,
          parseCommand(parser, key) {
            parser.pushKey(key);
          },
        },
      },
    },
    ...extra,
  });
}

test('defineScript: the SHA1 the server knows it by; bad definitions are TypeErrors without values', () => {
  assert.strictEqual(defineScript({ SCRIPT: 'return 1', NUMBER_OF_KEYS: 0 }).SHA1, 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db');
  assert.strictEqual(addBy.NUMBER_OF_KEYS, 1, 'the definition is kept');
  const clean = (re) => (e) => e instanceof TypeError && re.test(e.message) && !/s3cret/.test(e.message);
  assert.throws(() => defineScript({ SCRIPT: 42 }), clean(/SCRIPT must be a string or Buffer, got a number/));
  assert.throws(() => defineScript({ SCRIPT: 'x', NUMBER_OF_KEYS: 's3cret' }), clean(/NUMBER_OF_KEYS must be a non-negative integer, got a string/));
  assert.throws(() => createClient({ scripts: { s: { SCRIPT: 'x', parseCommand: 's3cret' } } }), clean(/scripts\.s\.parseCommand must be a function/));
  assert.throws(() => createClient({ functions: { lib: 's3cret' } }), clean(/functions\.lib must be an object, got a string/));
  assert.throws(() => createClient({ scripts: { connect: addBy } }), clean(/connect is a method of the client/));
});

test('scripts: the first call falls back to EVAL, the next runs by EVALSHA; errors are SimpleErrors', async (t) => {
  const info = startServer();
  t.after(() => stopServer(info));
  const c = await client(info.url).connect();
  await c.sendCommand(['SCRIPT', 'FLUSH']);
  await c.sendCommand(['CONFIG', 'RESETSTAT']);
  const before = c.stats();
  assert.strictEqual(await c.addBy('sc:n', 5), 5);
  const after = c.stats();
  assert.deepStrictEqual(await calls(c, 'evalsha'), [1, 1], 'NOSCRIPT');
  assert.deepStrictEqual(await calls(c, 'eval'), [1, 0], 'cured with the body');
  assert.strictEqual(after.requests - before.requests, 1, 'one request');
  assert.strictEqual(after.errors_response || 0, before.errors_response || 0, 'a cured NOSCRIPT is no error');
  assert.strictEqual(await c.addBy('sc:n', 2), 7);
  assert.deepStrictEqual(await calls(c, 'evalsha'), [2, 1], 'by SHA1');
  assert.deepStrictEqual(await calls(c, 'eval'), [1, 0]);

  // Read-only: EVALSHA_RO, then EVAL_RO.
  assert.strictEqual(await c.getRo('sc:n'), '7');
  assert.strictEqual(await c.getRo('sc:n'), '7');
  assert.deepStrictEqual(await calls(c, 'evalsha_ro'), [2, 1]);
  assert.deepStrictEqual(await calls(c, 'eval_ro'), [1, 0]);

  // The count of keys from parseCommand; transformReply with its preserve.
  assert.deepStrictEqual(await c.pair('k', 'v'), { key: 'k', value: 'v', preserve: 'kept' });
  // Concurrent with commands: each reply in its place.
  const [set, n, get] = await Promise.all([c.set('sc:s', 'x'), c.addBy('sc:n', 1), c.get('sc:n')]);
  assert.deepStrictEqual([set, n, get], ['OK', 8, '8']);

  // A script's error, also after the fallback and by SHA1.
  for (let i = 0; i < 2; i++) {
    await assert.rejects(c.legacy(), (e) => e instanceof redbridge.SimpleError && e instanceof redbridge.ErrorReply && e.redisCode === 'MYERR' && /no luck/.test(e.message));
  }
  await assert.rejects(c.pair(), (e) => e instanceof TypeError);
  // Buffers when the type mapping asks for them; an aborted signal rejects.
  const raw = await c.withTypeMapping({ [redbridge.RESP_TYPES.BLOB_STRING]: Buffer }).getRo('sc:n');
  assert.ok(Buffer.isBuffer(raw) && raw.toString() === '8');
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(c.withAbortSignal(ac.signal).addBy('sc:n', 1), redbridge.AbortError);
  await c.close();
  await assert.rejects(c.addBy('sc:n', 1), redbridge.ConnectionError);
});

test('scripts on multi(): the body first, then by SHA1; on a dedicated connection whole', async (t) => {
  const info = startServer();
  t.after(() => stopServer(info));
  const c = await client(info.url).connect();
  await c.sendCommand(['SCRIPT', 'FLUSH']);
  await c.sendCommand(['CONFIG', 'RESETSTAT']);
  const replies = await c.multi().addBy('sm:n', 2).get('sm:n').addBy('sm:n', 3).pair('a', 'b').exec();
  assert.deepStrictEqual(replies, [2, '2', 5, { key: 'a', value: 'b', preserve: 'kept' }]);
  assert.deepStrictEqual(await calls(c, 'eval'), [2, 0], 'each script sent whole once');
  assert.deepStrictEqual(await calls(c, 'evalsha'), [1, 0], 'then by SHA1');
  assert.deepStrictEqual(await c.multi().addBy('sm:n', 1).execAsPipeline(), [6]);
  await assert.rejects(c.multi().legacy().exec(), (e) => e instanceof redbridge.MultiErrorReply && e.replies[0] instanceof redbridge.SimpleError);
  assert.throws(() => c.multi().pair(), TypeError);
  // WATCH pins a connection: a script there is one EVAL, nothing to fall back from.
  const n = await c.executeIsolated((iso) => iso.addBy('sm:n', 1));
  assert.strictEqual(n, 7);
  await c.close();
});

test('functions: FCALL and FCALL_RO after FUNCTION LOAD, on multi() too', async (t) => {
  const info = startServer();
  t.after(() => stopServer(info));
  const c = await client(info.url).connect();
  await c.sendCommand(['FUNCTION', 'LOAD', 'REPLACE', LIBRARY]);
  await c.sendCommand(['CONFIG', 'RESETSTAT']);
  assert.strictEqual(await c.rblib.add('fn:n', 4), 4);
  assert.strictEqual(await c.rblib.look('fn:n'), '4');
  assert.deepStrictEqual(await calls(c, 'fcall'), [1, 0]);
  assert.deepStrictEqual(await calls(c, 'fcall_ro'), [1, 0]);
  assert.deepStrictEqual(await c.multi().rblib.add('fn:n', 1).rblib.look('fn:n').exec(), [5, '5']);
  // Each client made with withCommandOptions uses its own options in the namespace.
  const raw = await c.withTypeMapping({ [redbridge.RESP_TYPES.BLOB_STRING]: Buffer }).rblib.look('fn:n');
  assert.ok(Buffer.isBuffer(raw));
  assert.strictEqual(typeof (await c.rblib.look('fn:n')), 'string');
  await assert.rejects(c.rblib.add('fn:n', 'nan'), (e) => e instanceof redbridge.SimpleError);
  // A duplicate has them too.
  const d = await c.duplicate().connect();
  assert.strictEqual(await d.rblib.add('fn:n', 1), 6);
  await d.close();
  await c.close();
});

test('createCluster: a script reaches the node of its keys, falling back there once', async (t) => {
  const info = JSON.parse(execFileSync('python3', [HARNESS, 'cluster'], { encoding: 'utf8' }));
  t.after(() => info.pidfiles.forEach((p) => execFileSync('python3', [HARNESS, 'stop', p])));
  const cluster = await redbridge.createCluster({ rootNodes: [{ url: info.nodes[0] }], scripts: { addBy } }).connect();
  // Keys spread over the primaries: each node meets the script fresh, then has it.
  const keys = Array.from({ length: 12 }, (_, i) => `cs:${i}`);
  assert.deepStrictEqual(await Promise.all(keys.map((k) => cluster.addBy(k, 2))), keys.map(() => 2));
  assert.deepStrictEqual(await Promise.all(keys.map((k) => cluster.addBy(k, 3))), keys.map(() => 5));
  assert.deepStrictEqual(await cluster.multi().addBy('{cs}a', 1).addBy('{cs}b', 2).exec(), [1, 2]);
  await cluster.close();
});

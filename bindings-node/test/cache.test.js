'use strict';
// Client-side cache through the Node layer: never a stale read.
const { test } = require('node:test');
const assert = require('node:assert');
const { createClient } = require('..');
const { sharedServer } = require('./support');

test('writer/reader: versions never go down and settle within 100 ms', async (t) => {
  const { url } = sharedServer(t);
  const reader = await createClient({ url, clientSideCache: { maxEntries: 100 } }).connect();
  const writer = await createClient({ url }).connect();
  await writer.set('js:version', '0');
  let done = false;
  const reading = (async () => {
    let last = 0;
    let finished = null;
    for (;;) {
      // Cache hits resolve without I/O: let the writer's replies in between reads.
      await new Promise((r) => setImmediate(r));
      const v = Number(await reader.get('js:version'));
      assert.ok(v >= last, `version went down: ${last} -> ${v}`);
      last = v;
      if (done) {
        finished = finished || Date.now();
        if (last === 2000) return last;
        assert.ok(Date.now() - finished < 100, `last version not seen within 100 ms (at ${last})`);
      }
    }
  })();
  for (let i = 1; i <= 2000; i++) await writer.set('js:version', String(i));
  done = true;
  assert.strictEqual(await reading, 2000);
  const s = reader.clientSideCache.stats();
  assert.ok(s.hitCount > 0 && s.invalidationCount > 0, JSON.stringify(s));
  await reader.close();
  await writer.close();
});

test('read your writes, hits without writes, clear()', async (t) => {
  const { url } = sharedServer(t);
  const c = await createClient({ url, clientSideCache: {} }).connect();
  for (let i = 0; i < 2000; i++) {
    await c.set('js:ryw', String(i));
    assert.strictEqual(await c.get('js:ryw'), String(i));
    assert.strictEqual(await c.get('js:ryw'), String(i));
  }
  const before = c.clientSideCache.stats().hitCount;
  for (let i = 0; i < 50; i++) assert.strictEqual(await c.get('js:ryw'), '1999');
  assert.strictEqual(c.clientSideCache.stats().hitCount - before, 50);
  c.clientSideCache.clear();
  assert.strictEqual(c.clientSideCache.stats().size, 0);
  await assert.rejects(createClient({ url, RESP: 2, clientSideCache: {} }).connect(), /RESP3/);
  assert.throws(() => createClient({ url, clientSideCache: 5 }), TypeError);
  await c.close();
});

'use strict';
// The shared conformance vectors (tests/conformance/vectors.json): raw replies through
// sendCommand, RESP2 and RESP3, mapped the way the other bindings map them.
const { test } = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { createClient, ResponseError } = require('..');
const { sharedServer } = require('./support');

const { cases } = require(path.join(__dirname, '..', '..', 'tests', 'conformance', 'vectors.json'));
const arg = (a) => (typeof a === 'string' ? a : Buffer.from(a.hex, 'hex'));

function matches(want, got) {
  const [[form, x]] = Object.entries(want);
  switch (form) {
    case 'nil': return got === null;
    case 'int': return got === x;
    case 'bulk': return Buffer.isBuffer(got) && got.equals(Buffer.from(x));
    case 'bulk_hex': return Buffer.isBuffer(got) && got.equals(Buffer.from(x, 'hex'));
    case 'status': return got === x;
    case 'double': return got === x;
    case 'bool': return got === x;
    case 'array': return Array.isArray(got) && got.length === x.length && x.every((w, i) => matches(w, got[i]));
    case 'array_unordered':
    case 'set': return Array.isArray(got) && got.length === x.length && x.every((w) => got.some((g) => matches(w, g)));
    case 'map': {
      const entries = Object.entries(got || {});
      return entries.length === x.length && x.every(([k, v]) => entries.some(([gk, gv]) => matches(k, Buffer.from(gk)) && matches(v, gv)));
    }
    default: throw new Error(form);
  }
}

for (const RESP of [2, 3]) {
  test(`conformance vectors, RESP${RESP}`, async (t) => {
    const { url } = sharedServer(t);
    const c = await createClient({ url, RESP }).connect();
    const raw = c.withTypeMapping({ 36: Buffer });
    assert.ok(cases.length >= 30);
    for (const cs of cases) {
      for (const s of cs.setup || []) await raw.sendCommand(s.map(arg));
      let got;
      try {
        got = await raw.sendCommand(cs.command.map(arg));
      } catch (e) {
        got = e;
      }
      const want = cs.expect[`resp${RESP}`] || cs.expect;
      const ok = want.error ? got instanceof ResponseError && got.redisCode === want.error : matches(want, got);
      assert.ok(ok, `RESP${RESP} ${cs.name}: expected ${JSON.stringify(want)}, got ${got instanceof Error ? got.message : JSON.stringify(got)}`);
    }
    await c.close();
  });
}

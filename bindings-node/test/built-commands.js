'use strict';
// The command a method call builds, on redbridge (its command table, index.js's
// _commandArgs) and on node-redis (its parseCommand, then its writer, which refuses what is
// not a string or Buffer): used by test/differential.test.js and scripts/method-coverage.js.
const { BasicCommandParser } = require('@redis/client/dist/lib/client/parser');
const encodeCommand = require('@redis/client/dist/lib/RESP/encoder').default;
const NODE_REDIS = require('@redis/client/dist/lib/commands').default;

// A list of strings (Buffers as latin1), or 'throws <class>'. The same argument objects go to both.
const text = (v) => (Buffer.isBuffer(v) ? v.toString('latin1') : String(v));
function theirs(method, args) {
  try {
    const p = new BasicCommandParser();
    NODE_REDIS[method].parseCommand(p, ...args);
    encodeCommand(p.redisArgs);
    return p.redisArgs.map(text);
  } catch (e) {
    return `throws ${e.constructor.name}`;
  }
}
function ours(rb, method, args) {
  try {
    const out = rb._commandArgs(method, args);
    return out === undefined ? undefined : out.map(text);
  } catch (e) {
    return `throws ${e.constructor.name}`;
  }
}
// node-redis checks some arguments only when it sends (e.g. a missing key): any refusal
// before the server equals any other.
const same = (a, b) => (typeof a === 'string' && typeof b === 'string' ? a.startsWith('throws') && b.startsWith('throws') : JSON.stringify(a) === JSON.stringify(b));

/**
 * For every call of `steps` ([method, args, …]) to a method node-redis has and redbridge's
 * table builds: method → the calls whose commands differ (described), [] when none does.
 */
function builtDifferences(rb, steps) {
  const out = new Map();
  for (const [method, args] of steps) {
    if (!NODE_REDIS[method]) continue;
    const o = ours(rb, method, args);
    if (o === undefined) continue;
    if (!out.has(method)) out.set(method, []);
    const t = theirs(method, args);
    if (!same(o, t)) out.get(method).push(`${method}(${JSON.stringify(args)}): node-redis ${JSON.stringify(t)}, redbridge ${JSON.stringify(o)}`);
  }
  return out;
}

module.exports = { builtDifferences };

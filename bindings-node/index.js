'use strict';
// redbridge for Node.js: the node-redis surface over the Rust core.
//
// The commands are one table (COMMANDS below): each entry turns a method's arguments
// into the command's arguments and shapes the reply the way node-redis does. The client,
// MULTI/pipelines and isolated clients all read the same table. Policy (routing,
// timeouts, retries, the guard) lives in the core; this file converts and maps.

const { EventEmitter } = require('node:events');
const { inspect } = require('node:util');
const { NativeClient, NativeScript } = require('./binding.js');
const observability = require('./observability.js');

// ---- errors ---------------------------------------------------------------------------

/** Base class of every redbridge error; `code` is the core's error kind. */
class RedisError extends Error {
  constructor(message, code) {
    super(message);
    this.name = this.constructor.name;
    this.code = code;
  }
}
class ConnectionError extends RedisError {}
class TimeoutError extends RedisError {}
class PoolTimeoutError extends ConnectionError {}
class AuthenticationError extends ConnectionError {}
/**
 * The server answered with an error reply (node-redis's ErrorReply); `redisCode` is its
 * first word (WRONGTYPE…). What a command rejects with is a SimpleError, as node-redis's.
 */
class ErrorReply extends RedisError {
  constructor(message, code = 'RESPONSE', redisCode = undefined) {
    super(message, code);
    this.redisCode = redisCode;
  }
}
/** An error reply sent as a simple error (`-ERR …`): what failed commands reject with. */
class SimpleError extends ErrorReply {}
/** An error reply sent as a RESP3 blob error. */
class BlobError extends ErrorReply {}
/** redbridge's earlier name of ErrorReply, kept so `instanceof ResponseError` still holds. */
const ResponseError = ErrorReply;
/** A command's abortSignal fired before its reply arrived (the command may still have run). */
class AbortError extends RedisError {
  constructor() {
    super('The command was aborted', 'ABORTED');
  }
}
class WatchError extends RedisError {}
class GuardError extends RedisError {}
class ProtocolError extends RedisError {}
/** A MULTI/EXEC or pipeline with failed commands: `replies` holds every slot, `errorIndexes` the failed ones. */
class MultiErrorReply extends ErrorReply {
  constructor(replies, errorIndexes) {
    const first = replies[errorIndexes[0]];
    super(`${errorIndexes.length} commands failed, see .replies and .errorIndexes for more information`, 'RESPONSE', first.redisCode);
    this.replies = replies;
    this.errorIndexes = errorIndexes;
  }
}

const ERROR_CLASSES = {
  CONNECTION: ConnectionError,
  TIMEOUT: TimeoutError,
  POOL_TIMEOUT: PoolTimeoutError,
  RESPONSE: SimpleError,
  PROTOCOL: ProtocolError,
  DENIED: GuardError,
  AUTHENTICATION: AuthenticationError,
  WATCH: WatchError,
};

/** The one mapping: a native Error (code = core kind) → this package's error class. */
function toError(e) {
  if (e.code === 'INVALID_ARGUMENT') {
    const err = new TypeError(e.message);
    err.code = e.code;
    return err;
  }
  const Cls = ERROR_CLASSES[e.code] || RedisError;
  return new Cls(e.message, e.code, e.redisCode);
}

// OpenTelemetry's error.type: the name of the class a failure of each kind rejects with.
observability.setErrorClassOf((code) => (code === 'INVALID_ARGUMENT' ? 'TypeError' : (ERROR_CLASSES[code] || RedisError).name));

// ---- arguments ------------------------------------------------------------------------

function describe(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : typeof v === 'undefined' ? 'undefined' : `a ${typeof v}`;
}

/** One argument: strings and Buffers as they are, numbers as decimal text. */
function arg(v, what) {
  if (typeof v === 'string' || Buffer.isBuffer(v)) return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (v instanceof Uint8Array) return Buffer.from(v);
  throw new TypeError(`${what} must be a string, Buffer or number, got ${describe(v)}`);
}

/** A string, or a Buffer of UTF-8 text as a string: what becomes one of the core's connection options. */
function optionText(v, what) {
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) {
    const text = v.toString('utf8');
    if (Buffer.from(text, 'utf8').equals(v)) return text;
    throw new TypeError(`${what} must be UTF-8 text, got a Buffer that is not`);
  }
  throw new TypeError(`${what} must be a string, got ${describe(v)}`);
}

/** A key or a list of keys, flattened. */
function list(v, what) {
  return Array.isArray(v) ? v.map((x, i) => arg(x, `${what}[${i}]`)) : [arg(v, what)];
}

function unixSeconds(v) {
  return v instanceof Date ? Math.floor(v.getTime() / 1000) : v;
}

function unixMillis(v) {
  return v instanceof Date ? v.getTime() : v;
}

/** A time of an expiration option: EXAT/PXAT also take a Date. */
function expiryTime(type, v) {
  return String(type === 'EXAT' ? unixSeconds(v) : type === 'PXAT' ? unixMillis(v) : v);
}

/**
 * node-redis's expiration options, the first one given: { expiration: { type, value } |
 * { type: 'KEEPTTL' } | 'KEEPTTL' }, { type, value } / { type: 'PERSIST' } (GETEX), or one
 * of EX, PX, EXAT, PXAT, KEEPTTL, PERSIST. `otherwise`: what to send when none is given.
 */
function expiryArgs(o, otherwise = []) {
  if (!o) return otherwise;
  const e = o.expiration !== undefined ? o.expiration : o.type !== undefined ? o : undefined;
  if (typeof e === 'string') return [e];
  if (e && typeof e === 'object') {
    if (e.type === 'KEEPTTL' || e.type === 'PERSIST') return [e.type];
    return e.value === undefined ? [] : [arg(e.type, 'expiration.type'), expiryTime(e.type, e.value)];
  }
  for (const type of ['EX', 'PX', 'EXAT', 'PXAT']) if (o[type] !== undefined) return [type, expiryTime(type, o[type])];
  if (o.KEEPTTL) return ['KEEPTTL'];
  if (o.PERSIST) return ['PERSIST'];
  return otherwise;
}

function pairs(obj, what) {
  const out = [];
  if (obj instanceof Map) for (const [k, v] of obj) out.push(arg(k, what), arg(v, what));
  else if (Array.isArray(obj)) {
    for (const item of obj) {
      if (Array.isArray(item)) out.push(arg(item[0], what), arg(item[1], what));
      else out.push(arg(item, what));
    }
  } else if (obj && typeof obj === 'object') for (const k of Object.keys(obj)) out.push(k, arg(obj[k], what));
  else throw new TypeError(`${what} must be an object, a Map or an array of pairs, got ${describe(obj)}`);
  return out;
}

function scanArgs(cursor, o) {
  const out = [String(cursor)];
  if (o && o.MATCH !== undefined) out.push('MATCH', arg(o.MATCH, 'MATCH'));
  if (o && o.COUNT !== undefined) out.push('COUNT', String(o.COUNT));
  if (o && o.TYPE !== undefined) out.push('TYPE', arg(o.TYPE, 'TYPE'));
  return out;
}

function rangeArgs(min, max, o) {
  const out = [arg(min, 'min'), arg(max, 'max')];
  if (o && o.BY) out.push(o.BY === 'SCORE' ? 'BYSCORE' : 'BYLEX');
  if (o && o.REV) out.push('REV');
  if (o && o.LIMIT) out.push('LIMIT', String(o.LIMIT.offset), String(o.LIMIT.count));
  return out;
}

/** numkeys arguments: how many keys, then the keys. */
function numkeys(keys, what) {
  const all = list(keys, what);
  return [String(all.length), ...all];
}

/** An options object, or undefined; anything else is a TypeError naming it. */
function opts(o, what) {
  if (o !== undefined && (o === null || typeof o !== 'object')) throw new TypeError(`${what} must be an object, got ${describe(o)}`);
  return o || {};
}

/** EVAL, EVALSHA, FCALL and their _RO forms: (script | sha1 | function, { keys, arguments }). */
function evalArgs(command) {
  return (script, o) => {
    const { keys = [], arguments: rest = [] } = opts(o, 'options');
    return [command, arg(script, 'script'), ...numkeys(keys, 'options.keys'), ...list(rest, 'options.arguments')];
  };
}

/** ZUNION/ZINTER keys: a key, keys, or { key, weight } objects (then WEIGHTS). */
function weightedKeys(keys) {
  const all = Array.isArray(keys) ? keys : [keys];
  const weighted = all.length > 0 && all[0] !== null && typeof all[0] === 'object' && !Buffer.isBuffer(all[0]);
  if (!weighted) return numkeys(all, 'keys');
  const out = [String(all.length)];
  all.forEach((k, i) => out.push(arg(k && k.key, `keys[${i}].key`)));
  out.push('WEIGHTS');
  all.forEach((k, i) => out.push(arg(k.weight, `keys[${i}].weight`)));
  return out;
}

function aggregate(o) {
  const { AGGREGATE } = opts(o, 'options');
  return AGGREGATE ? ['AGGREGATE', arg(AGGREGATE, 'options.AGGREGATE')] : [];
}

/** SORT's options: BY, LIMIT, GET (one or more), DIRECTION, ALPHA. */
function sortArgs(command, key, o) {
  const { BY, LIMIT, GET, DIRECTION, ALPHA } = opts(o, 'options');
  const out = [command, arg(key, 'key')];
  if (BY !== undefined) out.push('BY', arg(BY, 'options.BY'));
  if (LIMIT) out.push('LIMIT', arg(LIMIT.offset, 'options.LIMIT.offset'), arg(LIMIT.count, 'options.LIMIT.count'));
  if (GET !== undefined) for (const g of Array.isArray(GET) ? GET : [GET]) out.push('GET', arg(g, 'options.GET'));
  if (DIRECTION) out.push(arg(DIRECTION, 'options.DIRECTION'));
  if (ALPHA) out.push('ALPHA');
  return out;
}

/** GEOSEARCH/GEORADIUS options: SORT, COUNT (a number or { value, ANY }). */
function geoOptions(o) {
  const { SORT, COUNT } = opts(o, 'options');
  const out = [];
  if (SORT) out.push(arg(SORT, 'options.SORT'));
  if (COUNT) {
    if (typeof COUNT === 'number') out.push('COUNT', String(COUNT));
    else {
      out.push('COUNT', arg(COUNT.value, 'options.COUNT.value'));
      if (COUNT.ANY) out.push('ANY');
    }
  }
  return out;
}

/** A { longitude, latitude } position. */
function lonLat(from, what) {
  if (from === null || typeof from !== 'object') throw new TypeError(`${what} must be { longitude, latitude }, got ${describe(from)}`);
  return [arg(from.longitude, `${what}.longitude`), arg(from.latitude, `${what}.latitude`)];
}

function geoSearchArgs(key, from, by, o) {
  const out = [arg(key, 'key')];
  if (typeof from === 'string' || Buffer.isBuffer(from)) out.push('FROMMEMBER', from);
  else out.push('FROMLONLAT', ...lonLat(from, 'from'));
  if (by === null || typeof by !== 'object') throw new TypeError(`by must be { radius, unit } or { width, height, unit }, got ${describe(by)}`);
  if ('radius' in by) out.push('BYRADIUS', arg(by.radius, 'by.radius'), arg(by.unit, 'by.unit'));
  else out.push('BYBOX', arg(by.width, 'by.width'), arg(by.height, 'by.height'), arg(by.unit, 'by.unit'));
  return [...out, ...geoOptions(o)];
}

function geoRadiusArgs(command, key, from, radius, unit, o) {
  return [command, arg(key, 'key'), ...lonLat(from, 'from'), arg(radius, 'radius'), arg(unit, 'unit'), ...geoOptions(o)];
}

function geoByMemberArgs(command, key, member, radius, unit, o) {
  return [command, arg(key, 'key'), arg(member, 'member'), arg(radius, 'radius'), arg(unit, 'unit'), ...geoOptions(o)];
}

function geoStore(destination, o) {
  return [o && o.STOREDIST ? 'STOREDIST' : 'STORE', arg(destination, 'destination')];
}

function replyWithArgs(replyWith) {
  if (!Array.isArray(replyWith)) throw new TypeError(`replyWith must be an array of 'WITHDIST' | 'WITHHASH' | 'WITHCOORD', got ${describe(replyWith)}`);
  return replyWith.map((w, i) => arg(w, `replyWith[${i}]`));
}

/** The XADD/XTRIM trim clause: strategy, modifier, threshold, LIMIT. */
function trimArgs(t, what) {
  const out = [arg(t.strategy, `${what}.strategy`)];
  if (t.strategyModifier) out.push(arg(t.strategyModifier, `${what}.strategyModifier`));
  out.push(arg(t.threshold, `${what}.threshold`));
  const limit = t.limit !== undefined ? t.limit : t.LIMIT;
  if (limit !== undefined) out.push('LIMIT', arg(limit, `${what}.limit`));
  return out;
}

function xAddArgs(flag) {
  return (key, id, message, o) => {
    const { TRIM } = opts(o, 'options');
    const out = ['XADD', arg(key, 'key')];
    if (flag) out.push(flag);
    if (TRIM) out.push(...trimArgs(TRIM, 'options.TRIM'));
    out.push(arg(id, 'id'), ...pairs(message, 'message'));
    return out;
  };
}

function xRangeArgs(command) {
  return (key, start, end, o) => {
    const { COUNT } = opts(o, 'options');
    const out = [command, arg(key, 'key'), arg(start, 'start'), arg(end, 'end')];
    if (COUNT !== undefined) out.push('COUNT', arg(COUNT, 'options.COUNT'));
    return out;
  };
}

/** XREAD/XREADGROUP's tail: COUNT, BLOCK, (NOACK), STREAMS keys… ids…. */
function xReadArgs(streams, o, group) {
  const { COUNT, BLOCK, NOACK } = opts(o, 'options');
  const out = [];
  if (COUNT !== undefined) out.push('COUNT', arg(COUNT, 'options.COUNT'));
  if (BLOCK !== undefined) out.push('BLOCK', arg(BLOCK, 'options.BLOCK'));
  if (group && NOACK) out.push('NOACK');
  const all = Array.isArray(streams) ? streams : [streams];
  all.forEach((s, i) => {
    if (s === null || typeof s !== 'object' || Buffer.isBuffer(s)) throw new TypeError(`streams must be { key, id } objects, got ${describe(s)} at ${i}`);
  });
  out.push('STREAMS', ...all.map((s, i) => arg(s.key, `streams[${i}].key`)), ...all.map((s, i) => arg(s.id, `streams[${i}].id`)));
  return out;
}

function xClaimArgs(key, group, consumer, minIdle, id, o) {
  const { IDLE, TIME, RETRYCOUNT, FORCE, LASTID } = opts(o, 'options');
  const out = ['XCLAIM', arg(key, 'key'), arg(group, 'group'), arg(consumer, 'consumer'), arg(minIdle, 'minIdleTime'), ...list(id, 'id')];
  if (IDLE !== undefined) out.push('IDLE', arg(IDLE, 'options.IDLE'));
  if (TIME !== undefined) out.push('TIME', arg(unixMillis(TIME), 'options.TIME'));
  if (RETRYCOUNT !== undefined) out.push('RETRYCOUNT', arg(RETRYCOUNT, 'options.RETRYCOUNT'));
  if (FORCE) out.push('FORCE');
  if (LASTID !== undefined) out.push('LASTID', arg(LASTID, 'options.LASTID'));
  return out;
}

function xAutoClaimArgs(key, group, consumer, minIdle, start, o) {
  const { COUNT } = opts(o, 'options');
  return ['XAUTOCLAIM', arg(key, 'key'), arg(group, 'group'), arg(consumer, 'consumer'), arg(minIdle, 'minIdleTime'), arg(start, 'start'), ...(COUNT ? ['COUNT', arg(COUNT, 'options.COUNT')] : [])];
}

function limitArg(o) {
  const limit = typeof o === 'number' ? o : o && o.LIMIT;
  return limit === undefined ? [] : ['LIMIT', arg(limit, 'options.LIMIT')];
}

function mPopArgs(keys, side, o) {
  const { COUNT } = opts(o, 'options');
  return [...numkeys(keys, 'keys'), arg(side, 'side'), ...(COUNT !== undefined ? ['COUNT', arg(COUNT, 'options.COUNT')] : [])];
}

/** CLIENT KILL filters: 'SKIPME' or { filter, address | localAddress | id | type | username | skipMe | maxAge }. */
function killFilter(f, what) {
  if (f === 'SKIPME') return ['SKIPME'];
  if (f === null || typeof f !== 'object') throw new TypeError(`${what} must be a filter object, got ${describe(f)}`);
  const value = { ADDR: f.address, LADDR: f.localAddress, ID: f.id, TYPE: f.type, USER: f.username, MAXAGE: f.maxAge }[f.filter];
  if (f.filter === 'SKIPME') return ['SKIPME', f.skipMe ? 'yes' : 'no'];
  return [arg(f.filter, `${what}.filter`), arg(value, `${what} value`)];
}

function slotRanges(ranges) {
  return (Array.isArray(ranges) ? ranges : [ranges]).flatMap((r, i) => [arg(r && r.start, `ranges[${i}].start`), arg(r.end, `ranges[${i}].end`)]);
}

/** BITFIELD operations: GET, SET, INCRBY, OVERFLOW. */
function bitFieldOps(ops) {
  if (!Array.isArray(ops)) throw new TypeError(`operations must be an array, got ${describe(ops)}`);
  return ops.flatMap((o, i) => {
    const at = `operations[${i}]`;
    switch (o && o.operation) {
      case 'GET':
        return ['GET', arg(o.encoding, `${at}.encoding`), arg(o.offset, `${at}.offset`)];
      case 'SET':
        return ['SET', arg(o.encoding, `${at}.encoding`), arg(o.offset, `${at}.offset`), arg(o.value, `${at}.value`)];
      case 'INCRBY':
        return ['INCRBY', arg(o.encoding, `${at}.encoding`), arg(o.offset, `${at}.offset`), arg(o.increment, `${at}.increment`)];
      case 'OVERFLOW':
        return ['OVERFLOW', arg(o.behavior, `${at}.behavior`)];
      default:
        throw new TypeError(`${at}.operation must be 'GET', 'SET', 'INCRBY' or 'OVERFLOW'`);
    }
  });
}

function zAddArgs(key, members, o, incr) {
  const out = ['ZADD', arg(key, 'key')];
  const cond = o && (o.condition || (o.NX ? 'NX' : o.XX ? 'XX' : undefined));
  if (cond) out.push(cond);
  const cmp = o && (o.comparison || (o.GT ? 'GT' : o.LT ? 'LT' : undefined));
  if (cmp) out.push(cmp);
  if (o && o.CH) out.push('CH');
  if (incr) out.push('INCR');
  for (const m of Array.isArray(members) ? members : [members]) {
    if (!m || typeof m !== 'object') throw new TypeError(`members must be { score, value } objects, got ${describe(m)}`);
    out.push(arg(m.score, 'score'), arg(m.value, 'value'));
  }
  return out;
}

// ---- reply types -----------------------------------------------------------------------
// The command methods ask the core for replies in normal form (one shape under RESP2 and
// RESP3: HGETALL a map, which arrives as an object; scores as [member, number] pairs;
// scan pages with paired items; docs/architecture.md, "Reply normal forms"), so these
// only turn that shape into node-redis's types. sendCommand() gets raw replies.

const num = (r) => (r === null ? null : Number(r));
const str = (r) => (r === null || Buffer.isBuffer(r) ? r : String(r));
const valueScore = ([value, score]) => ({ value, score });
const valueScores = (r) => r.map(valueScore);
const firstValueScore = (r) => (r.length === 0 ? null : valueScore(r[0]));
const keyElement = (r) => (r === null ? null : { key: r[0], element: r[1] });
const keyValueScore = (r) => (r === null ? null : { key: r[0], value: r[1], score: r[2] });
const asArray = (r) => (r === null ? null : Array.from(r));
// A scan page's cursor: text, or a Buffer when Buffers were asked for (as node-redis).
const cursorOf = (c) => (Buffer.isBuffer(c) ? c : String(c));
const scanReply = (field) => (r) => ({ cursor: cursorOf(r[0]), [field]: r[1] });
const fieldValuePage = (r) => ({ cursor: cursorOf(r[0]), entries: r[1].map(([field, value]) => ({ field, value })) });
const valueScorePage = (r) => ({ cursor: cursorOf(r[0]), members: valueScores(r[1]) });

// RESP2's flat [name, value, …] as an object (a RESP3 map arrives as one already).
const pairsToObject = (r) => (Array.isArray(r) ? Object.fromEntries(Array.from({ length: r.length >> 1 }, (_, i) => [String(r[2 * i]), r[2 * i + 1]])) : r);
/** The named fields of an object, in that order (absent ones undefined, as node-redis has them). */
const pick = (o, fields) => Object.fromEntries(fields.map((f) => [f, o[f]]));
const rankScore = (r) => (r === null ? null : { rank: r[0], score: Number(r[1]) });
// As node-redis 6.4: numbers under RESP3 (the server sends doubles), the server's text under RESP2.
const fieldValues = (r) => r.map(([field, value]) => ({ field, value }));
// MEMORY STATS: the ratios are doubles under RESP3 and their text under RESP2; numbers in
// both, as node-redis gives them (each db.N is a map in the core's normal form).
const memoryStats = (r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' || Buffer.isBuffer(v) ? Number(v) : v]));
// COMMAND / COMMAND INFO entries as node-redis 6.4's transformCommandReply (the core gives
// the key specifications as maps under both protocols).
const REQUEST_POLICIES = ['all_nodes', 'all_shards', 'multi_shard', 'special', 'default-keyless', 'default-keyed'];
const RESPONSE_POLICIES = ['one_succeeded', 'all_succeeded', 'agg_logical_and', 'agg_logical_or', 'agg_min', 'agg_max', 'agg_sum', 'special', 'default-keyless', 'default-keyed'];
const integer = (v) => (Number.isInteger(Number(v)) ? Number(v) : undefined);
const UNKNOWN_PART = { type: 'unknown' };
const beginSearch = (b) => {
  const spec = b && b.spec;
  if (!spec || typeof spec !== 'object') return UNKNOWN_PART;
  const type = String(b.type);
  if (type === 'index' && integer(spec.index) !== undefined) return { type, index: integer(spec.index) };
  if (type === 'keyword' && spec.keyword != null && String(spec.keyword) !== '' && integer(spec.startfrom) !== undefined) {
    return { type, keyword: String(spec.keyword), startFrom: integer(spec.startfrom) };
  }
  return UNKNOWN_PART;
};
const findKeys = (f) => {
  const spec = f && f.spec;
  if (!spec || typeof spec !== 'object') return UNKNOWN_PART;
  const type = String(f.type);
  const [a, b, c] = type === 'range' ? [spec.lastkey, spec.keystep, spec.limit] : [spec.keynumidx, spec.firstkey, spec.keystep];
  if ([a, b, c].some((x) => integer(x) === undefined)) return UNKNOWN_PART;
  if (type === 'range') return { type, lastKey: integer(a), keyStep: integer(b), limit: integer(c) };
  if (type === 'keynum') return { type, keyNumIdx: integer(a), firstKey: integer(b), keyStep: integer(c) };
  return UNKNOWN_PART;
};
const commandEntry = ([name, arity, flags, firstKeyIndex, lastKeyIndex, step, categories, tips = [], keySpecs = [], subcommands = []]) => {
  let request;
  let response;
  const otherTips = [];
  for (const tip of tips.map(String)) {
    if (tip.startsWith('request_policy:') && REQUEST_POLICIES.includes(tip.slice(15))) request = tip.slice(15);
    else if (tip.startsWith('response_policy:') && RESPONSE_POLICIES.includes(tip.slice(16))) response = tip.slice(16);
    else if (!tip.startsWith('request_policy:') && !tip.startsWith('response_policy:')) otherTips.push(tip);
  }
  return {
    name: String(name),
    arity,
    flags: new Set(flags.map(String)),
    firstKeyIndex,
    lastKeyIndex,
    step,
    categories: new Set(categories.map(String)),
    policies: { request, response },
    isKeyless: keySpecs.length === 0,
    nondeterministicOutput: otherTips.includes('nondeterministic_output'),
    tips: otherTips,
    keySpecs: keySpecs.map((k) => ({ beginSearch: beginSearch(k && k.begin_search), findKeys: findKeys(k && k.find_keys) })),
    subcommands: subcommands.map(commandEntry),
  };
};
const commandInfo = (r) => r.map((c) => (c ? commandEntry(c) : null));
const geoPositions = (r) => r.map((p) => (p === null ? null : { longitude: p[0], latitude: p[1] }));
/** GEO… WITHDIST/WITHHASH/WITHCOORD items; the server sends them in that order whatever was asked. */
const geoWith = (replyWith) => (r) =>
  r.map((item) => {
    const out = { member: item[0] };
    let i = 1;
    if (replyWith.includes('WITHDIST')) out.distance = Number(item[i++]);
    if (replyWith.includes('WITHHASH')) out.hash = item[i++];
    if (replyWith.includes('WITHCOORD')) {
      const [longitude, latitude] = item[i++];
      out.coordinates = { longitude: Number(longitude), latitude: Number(latitude) };
    }
    return out;
  });
/** A stream entry [id, [field, value, …]] as { id, message }. */
const streamEntry = (e) => (e === null ? null : { id: e[0], message: e[1] === null ? null : pairsToObject(e[1]) });
const streamEntries = (r) => (r === null ? null : r.map(streamEntry));
/** XREAD/XREADGROUP: the core's map of stream → entries as node-redis's [{ name, messages }]. */
const streamsReply = (r) => (r === null ? null : Object.entries(r).map(([name, entries]) => ({ name, messages: entries.map(streamEntry) })));
// node-redis gives the stream's name as a Buffer under RESP2 when Buffers are asked for
// (under RESP3 it is a map's key, text); the core's normal form has it as a key.
const streamsReplyOf = ({ buffers, resp }) =>
  buffers && resp === 2 ? (r) => (r === null ? null : streamsReply(r).map((s) => ({ ...s, name: Buffer.from(s.name) }))) : streamsReply;
const mPopScored = (r) => (r === null ? null : { key: r[0], members: r[1].map(([value, score]) => ({ value, score: Number(score) })) });
const CLIENT_NUMBERS = ['id', 'fd', 'age', 'idle', 'db', 'sub', 'psub', 'multi', 'qbuf', 'qbuf-free', 'argv-mem', 'obl', 'oll', 'omem', 'tot-mem'];
const CLIENT_OPTIONAL = ['laddr', 'redir', 'ssub', 'multi-mem', 'resp', 'watch', 'rbs', 'rbp'];
const camel = (k) => k.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
/** One CLIENT INFO / CLIENT LIST line (`name=value …`) as node-redis's object. */
function clientInfo(line) {
  const raw = {};
  for (const m of String(line).matchAll(/([^\s=]+)=(\S*)/g)) raw[m[1]] = m[2];
  const out = {};
  for (const k of ['id', 'addr', 'fd', 'name', 'age', 'idle', 'flags', 'db', 'sub', 'psub', 'multi', 'qbuf', 'qbuf-free', 'argv-mem', 'obl', 'oll', 'omem', 'tot-mem', 'events', 'cmd', 'user', 'lib-name', 'lib-ver']) {
    out[camel(k)] = CLIENT_NUMBERS.includes(k) ? Number(raw[k]) : raw[k];
  }
  for (const k of CLIENT_OPTIONAL) if (raw[k] !== undefined) out[camel(k)] = k === 'laddr' ? raw[k] : Number(raw[k]);
  return out;
}
const clientList = (r) => String(r).split('\n').slice(0, -1).map(clientInfo);
const ACL_LOG_FIELDS = ['count', 'reason', 'context', 'object', 'username', 'age-seconds', 'client-info', 'entry-id', 'timestamp-created', 'timestamp-last-updated'];
const aclLog = (r) => r.map((e) => ({ ...pick(pairsToObject(e), ACL_LOG_FIELDS), 'age-seconds': Number(pairsToObject(e)['age-seconds']) }));
function aclUser(r) {
  if (r === null) return null;
  const u = pairsToObject(r);
  const selectors = u.selectors && Array.from(u.selectors, (s) => pick(pairsToObject(s), ['commands', 'keys', 'channels']));
  return { flags: asArray(u.flags), passwords: asArray(u.passwords), commands: u.commands, keys: u.keys, channels: u.channels, selectors };
}
function role(r) {
  switch (String(r[0])) {
    case 'master':
      return { role: r[0], replicationOffest: r[1], replicas: r[2].map(([host, port, offset]) => ({ host, port: Number(port), replicationOffest: Number(offset) })) };
    case 'slave':
      return { role: r[0], master: { host: r[1], port: r[2] }, state: r[3], dataReceived: r[4] };
    default:
      return { role: r[0], masterNames: r[1] };
  }
}
const clusterNode = ([host, port, id]) => ({ host, port, id });
const clusterSlots = (r) => r.map(([from, to, master, ...replicas]) => ({ from, to, master: clusterNode(master), replicas: replicas.map(clusterNode) }));
/**
 * An error reply inside a reply (EVAL's `{1, redis.error_reply('x')}`) as the class a
 * failed command rejects with, as node-redis decodes it; the rest as it is.
 */
function nestedErrors(r) {
  if (r === null || typeof r !== 'object' || Buffer.isBuffer(r)) return r;
  if (r instanceof Error) return toError(r);
  if (Array.isArray(r)) {
    for (let i = 0; i < r.length; i++) if (r[i] !== null && typeof r[i] === 'object') r[i] = nestedErrors(r[i]);
  } else {
    for (const k of Object.keys(r)) if (r[k] !== null && typeof r[k] === 'object') r[k] = nestedErrors(r[k]);
  }
  return r;
}

// HELLO (README.md, "Coverage of node-redis 6.4"). Alone it changes nothing; HELLO 2 or
// HELLO 3 would switch a connection the core manages to that protocol, and AUTH / SETNAME
// log it in or name it: the core refuses those (spec/policy.toml). hello(protover) for
// the protocol the connection speaks already asks plain HELLO, whose reply is the same;
// the reply's `proto` shows whether it does (then the promise rejects with a TypeError,
// and nothing changed). A protover the server refuses (4) is sent as it is.
const HELLO_FIELDS = ['server', 'version', 'proto', 'id', 'mode', 'role', 'modules'];
function helloArgs(protover, options) {
  // As node-redis: the options count only with a protover.
  if (!protover) return ['HELLO'];
  const version = String(arg(protover, 'protover'));
  if (version !== '2' && version !== '3') {
    const out = ['HELLO', version];
    if (options && options.AUTH) out.push('AUTH', arg(options.AUTH.username, 'options.AUTH.username'), arg(options.AUTH.password, 'options.AUTH.password'));
    if (options && options.SETNAME !== undefined) out.push('SETNAME', arg(options.SETNAME, 'options.SETNAME'));
    return out;
  }
  if (options && options.AUTH) throw new TypeError('HELLO with AUTH would log one connection of the client in as another user: use auth(), which logs every connection in, or the username and password options');
  if (options && options.SETNAME !== undefined) throw new TypeError('HELLO with SETNAME would name one connection of the client: use clientSetName(), which names every connection, or the name option');
  return ['HELLO'];
}
const helloReply = (protover) => (r) => {
  // RESP2's flat array gives node-redis's seven fields, a RESP3 map all the server sends.
  const o = Array.isArray(r) ? pick(pairsToObject(r), HELLO_FIELDS) : r;
  const version = protover ? String(protover) : '';
  if ((version === '2' || version === '3') && String(o.proto) !== version) {
    throw new TypeError(`hello: HELLO ${version} would switch a connection of this client from RESP${o.proto} to RESP${version}; create a client with RESP: ${version} instead`);
  }
  return o;
};

// ---- the command table ----------------------------------------------------------------
// name: [(...methodArgs) => commandArgs, replyShape?] or
// [(...methodArgs) => commandArgs, (...methodArgs) => replyShape, 'byArgs'] or
// [(...methodArgs) => commandArgs, ({ buffers, resp }) => replyShape, 'byClient'] (the
// client's: Buffers asked for, its RESP option)

const COMMANDS = {
  // server
  ping: [(message) => (message === undefined ? ['PING'] : ['PING', arg(message, 'message')])],
  echo: [(message) => ['ECHO', arg(message, 'message')]],
  time: [() => ['TIME']],
  info: [(section) => (section === undefined ? ['INFO'] : ['INFO', arg(section, 'section')]), str],
  dbSize: [() => ['DBSIZE']],
  flushDb: [(mode) => (mode ? ['FLUSHDB', mode] : ['FLUSHDB'])],
  flushAll: [(mode) => (mode ? ['FLUSHALL', mode] : ['FLUSHALL'])],
  // strings
  get: [(key) => ['GET', arg(key, 'key')]],
  set: [
    (key, value, o) => {
      const out = ['SET', arg(key, 'key'), arg(value, 'value'), ...expiryArgs(o)];
      // condition: NX, XX, or a compare-and-set word (IFEQ…) with its matchValue
      if (o && o.condition) {
        out.push(arg(o.condition, 'options.condition'));
        if (o.matchValue !== undefined) out.push(arg(o.matchValue, 'options.matchValue'));
      } else if (o && o.NX) out.push('NX');
      else if (o && o.XX) out.push('XX');
      if (o && o.GET) out.push('GET');
      return out;
    },
  ],
  mGet: [(keys) => ['MGET', ...list(keys, 'keys')]],
  mSet: [(toSet) => ['MSET', ...pairs(toSet, 'toSet')]],
  mSetNX: [(toSet) => ['MSETNX', ...pairs(toSet, 'toSet')]],
  setNX: [(key, value) => ['SETNX', arg(key, 'key'), arg(value, 'value')]],
  setEx: [(key, seconds, value) => ['SETEX', arg(key, 'key'), arg(seconds, 'seconds'), arg(value, 'value')]],
  pSetEx: [(key, ms, value) => ['PSETEX', arg(key, 'key'), arg(ms, 'milliseconds'), arg(value, 'value')]],
  getSet: [(key, value) => ['GETSET', arg(key, 'key'), arg(value, 'value')]],
  getDel: [(key) => ['GETDEL', arg(key, 'key')]],
  getEx: [(key, o) => ['GETEX', arg(key, 'key'), ...expiryArgs(o, ['PERSIST'])]],
  incr: [(key) => ['INCR', arg(key, 'key')]],
  incrBy: [(key, n) => ['INCRBY', arg(key, 'key'), arg(n, 'increment')]],
  incrByFloat: [(key, n) => ['INCRBYFLOAT', arg(key, 'key'), arg(n, 'increment')], str],
  decr: [(key) => ['DECR', arg(key, 'key')]],
  decrBy: [(key, n) => ['DECRBY', arg(key, 'key'), arg(n, 'decrement')]],
  append: [(key, value) => ['APPEND', arg(key, 'key'), arg(value, 'value')]],
  strLen: [(key) => ['STRLEN', arg(key, 'key')]],
  getRange: [(key, start, end) => ['GETRANGE', arg(key, 'key'), arg(start, 'start'), arg(end, 'end')]],
  setRange: [(key, offset, value) => ['SETRANGE', arg(key, 'key'), arg(offset, 'offset'), arg(value, 'value')]],
  // keys
  del: [(keys) => ['DEL', ...list(keys, 'keys')]],
  unlink: [(keys) => ['UNLINK', ...list(keys, 'keys')]],
  exists: [(keys) => ['EXISTS', ...list(keys, 'keys')]],
  expire: [(key, seconds, mode) => ['EXPIRE', arg(key, 'key'), arg(seconds, 'seconds'), ...(mode ? [mode] : [])]],
  pExpire: [(key, ms, mode) => ['PEXPIRE', arg(key, 'key'), arg(ms, 'milliseconds'), ...(mode ? [mode] : [])]],
  expireAt: [(key, ts, mode) => ['EXPIREAT', arg(key, 'key'), arg(unixSeconds(ts), 'timestamp'), ...(mode ? [mode] : [])]],
  pExpireAt: [(key, ts, mode) => ['PEXPIREAT', arg(key, 'key'), arg(unixMillis(ts), 'timestamp'), ...(mode ? [mode] : [])]],
  ttl: [(key) => ['TTL', arg(key, 'key')]],
  pTTL: [(key) => ['PTTL', arg(key, 'key')]],
  persist: [(key) => ['PERSIST', arg(key, 'key')]],
  type: [(key) => ['TYPE', arg(key, 'key')]],
  rename: [(key, newKey) => ['RENAME', arg(key, 'key'), arg(newKey, 'newKey')]],
  renameNX: [(key, newKey) => ['RENAMENX', arg(key, 'key'), arg(newKey, 'newKey')]],
  keys: [(pattern) => ['KEYS', arg(pattern, 'pattern')]],
  randomKey: [() => ['RANDOMKEY']],
  scan: [(cursor, o) => ['SCAN', ...scanArgs(cursor, o)], scanReply('keys')],
  // hashes
  hSet: [
    (key, fieldOrObject, value) =>
      value === undefined
        ? ['HSET', arg(key, 'key'), ...pairs(fieldOrObject, 'value')]
        : ['HSET', arg(key, 'key'), arg(fieldOrObject, 'field'), arg(value, 'value')],
  ],
  hSetNX: [(key, field, value) => ['HSETNX', arg(key, 'key'), arg(field, 'field'), arg(value, 'value')]],
  hGet: [(key, field) => ['HGET', arg(key, 'key'), arg(field, 'field')]],
  hmGet: [(key, fields) => ['HMGET', arg(key, 'key'), ...list(fields, 'fields')]],
  hGetAll: [(key) => ['HGETALL', arg(key, 'key')]],
  hDel: [(key, fields) => ['HDEL', arg(key, 'key'), ...list(fields, 'fields')]],
  hExists: [(key, field) => ['HEXISTS', arg(key, 'key'), arg(field, 'field')]],
  hIncrBy: [(key, field, n) => ['HINCRBY', arg(key, 'key'), arg(field, 'field'), arg(n, 'increment')]],
  hIncrByFloat: [(key, field, n) => ['HINCRBYFLOAT', arg(key, 'key'), arg(field, 'field'), arg(n, 'increment')], str],
  hLen: [(key) => ['HLEN', arg(key, 'key')]],
  hKeys: [(key) => ['HKEYS', arg(key, 'key')]],
  hVals: [(key) => ['HVALS', arg(key, 'key')]],
  hStrLen: [(key, field) => ['HSTRLEN', arg(key, 'key'), arg(field, 'field')]],
  hScan: [(key, cursor, o) => ['HSCAN', arg(key, 'key'), ...scanArgs(cursor, o)], fieldValuePage],
  // lists
  lPush: [(key, elements) => ['LPUSH', arg(key, 'key'), ...list(elements, 'elements')]],
  rPush: [(key, elements) => ['RPUSH', arg(key, 'key'), ...list(elements, 'elements')]],
  lPushX: [(key, elements) => ['LPUSHX', arg(key, 'key'), ...list(elements, 'elements')]],
  rPushX: [(key, elements) => ['RPUSHX', arg(key, 'key'), ...list(elements, 'elements')]],
  lPop: [(key) => ['LPOP', arg(key, 'key')]],
  rPop: [(key) => ['RPOP', arg(key, 'key')]],
  lPopCount: [(key, count) => ['LPOP', arg(key, 'key'), arg(count, 'count')]],
  rPopCount: [(key, count) => ['RPOP', arg(key, 'key'), arg(count, 'count')]],
  lRange: [(key, start, stop) => ['LRANGE', arg(key, 'key'), arg(start, 'start'), arg(stop, 'stop')]],
  lLen: [(key) => ['LLEN', arg(key, 'key')]],
  lIndex: [(key, index) => ['LINDEX', arg(key, 'key'), arg(index, 'index')]],
  lSet: [(key, index, element) => ['LSET', arg(key, 'key'), arg(index, 'index'), arg(element, 'element')]],
  lRem: [(key, count, element) => ['LREM', arg(key, 'key'), arg(count, 'count'), arg(element, 'element')]],
  lTrim: [(key, start, stop) => ['LTRIM', arg(key, 'key'), arg(start, 'start'), arg(stop, 'stop')]],
  lInsert: [(key, position, pivot, element) => ['LINSERT', arg(key, 'key'), position, arg(pivot, 'pivot'), arg(element, 'element')]],
  lPos: [
    (key, element, o) => {
      const out = ['LPOS', arg(key, 'key'), arg(element, 'element')];
      if (o && o.RANK !== undefined) out.push('RANK', String(o.RANK));
      if (o && o.MAXLEN !== undefined) out.push('MAXLEN', String(o.MAXLEN));
      return out;
    },
  ],
  lPosCount: [
    (key, element, count, o) => {
      const out = ['LPOS', arg(key, 'key'), arg(element, 'element')];
      if (o && o.RANK !== undefined) out.push('RANK', String(o.RANK));
      out.push('COUNT', String(count));
      if (o && o.MAXLEN !== undefined) out.push('MAXLEN', String(o.MAXLEN));
      return out;
    },
  ],
  lMove: [(src, dst, from, to) => ['LMOVE', arg(src, 'source'), arg(dst, 'destination'), from, to]],
  blMove: [(src, dst, from, to, timeout) => ['BLMOVE', arg(src, 'source'), arg(dst, 'destination'), from, to, arg(timeout, 'timeout')]],
  blPop: [(keys, timeout) => ['BLPOP', ...list(keys, 'keys'), arg(timeout, 'timeout')], keyElement],
  brPop: [(keys, timeout) => ['BRPOP', ...list(keys, 'keys'), arg(timeout, 'timeout')], keyElement],
  brPopLPush: [(src, dst, timeout) => ['BRPOPLPUSH', arg(src, 'source'), arg(dst, 'destination'), arg(timeout, 'timeout')]],
  // sets
  sAdd: [(key, members) => ['SADD', arg(key, 'key'), ...list(members, 'members')]],
  sRem: [(key, members) => ['SREM', arg(key, 'key'), ...list(members, 'members')]],
  sMembers: [(key) => ['SMEMBERS', arg(key, 'key')], asArray],
  sIsMember: [(key, member) => ['SISMEMBER', arg(key, 'key'), arg(member, 'member')]],
  smIsMember: [(key, members) => ['SMISMEMBER', arg(key, 'key'), ...list(members, 'members')]],
  sCard: [(key) => ['SCARD', arg(key, 'key')]],
  sPop: [(key) => ['SPOP', arg(key, 'key')]],
  sPopCount: [(key, count) => ['SPOP', arg(key, 'key'), arg(count, 'count')], asArray],
  sRandMember: [(key) => ['SRANDMEMBER', arg(key, 'key')]],
  sRandMemberCount: [(key, count) => ['SRANDMEMBER', arg(key, 'key'), arg(count, 'count')], asArray],
  sUnion: [(keys) => ['SUNION', ...list(keys, 'keys')], asArray],
  sInter: [(keys) => ['SINTER', ...list(keys, 'keys')], asArray],
  sDiff: [(keys) => ['SDIFF', ...list(keys, 'keys')], asArray],
  sUnionStore: [(dest, keys) => ['SUNIONSTORE', arg(dest, 'destination'), ...list(keys, 'keys')]],
  sInterStore: [(dest, keys) => ['SINTERSTORE', arg(dest, 'destination'), ...list(keys, 'keys')]],
  sDiffStore: [(dest, keys) => ['SDIFFSTORE', arg(dest, 'destination'), ...list(keys, 'keys')]],
  sMove: [(src, dst, member) => ['SMOVE', arg(src, 'source'), arg(dst, 'destination'), arg(member, 'member')]],
  sScan: [(key, cursor, o) => ['SSCAN', arg(key, 'key'), ...scanArgs(cursor, o)], (r) => ({ cursor: cursorOf(r[0]), members: r[1] })],
  // sorted sets
  zAdd: [(key, members, o) => zAddArgs(key, members, o, false)],
  zRem: [(key, members) => ['ZREM', arg(key, 'key'), ...list(members, 'members')]],
  zScore: [(key, member) => ['ZSCORE', arg(key, 'key'), arg(member, 'member')], num],
  zmScore: [(key, members) => ['ZMSCORE', arg(key, 'key'), ...list(members, 'members')], (r) => r.map(num)],
  zIncrBy: [(key, inc, member) => ['ZINCRBY', arg(key, 'key'), arg(inc, 'increment'), arg(member, 'member')], num],
  zCard: [(key) => ['ZCARD', arg(key, 'key')]],
  zCount: [(key, min, max) => ['ZCOUNT', arg(key, 'key'), arg(min, 'min'), arg(max, 'max')]],
  zRank: [(key, member) => ['ZRANK', arg(key, 'key'), arg(member, 'member')]],
  zRevRank: [(key, member) => ['ZREVRANK', arg(key, 'key'), arg(member, 'member')]],
  zRange: [(key, min, max, o) => ['ZRANGE', arg(key, 'key'), ...rangeArgs(min, max, o)]],
  zRangeWithScores: [(key, min, max, o) => ['ZRANGE', arg(key, 'key'), ...rangeArgs(min, max, o), 'WITHSCORES'], valueScores],
  zRangeByScore: [(key, min, max, o) => ['ZRANGEBYSCORE', arg(key, 'key'), ...rangeArgs(min, max, o && o.LIMIT ? { LIMIT: o.LIMIT } : undefined)]],
  zRangeByScoreWithScores: [
    (key, min, max, o) => ['ZRANGEBYSCORE', arg(key, 'key'), ...rangeArgs(min, max, o && o.LIMIT ? { LIMIT: o.LIMIT } : undefined), 'WITHSCORES'],
    valueScores,
  ],
  zRemRangeByRank: [(key, start, stop) => ['ZREMRANGEBYRANK', arg(key, 'key'), arg(start, 'start'), arg(stop, 'stop')]],
  zRemRangeByScore: [(key, min, max) => ['ZREMRANGEBYSCORE', arg(key, 'key'), arg(min, 'min'), arg(max, 'max')]],
  zPopMin: [(key) => ['ZPOPMIN', arg(key, 'key')], firstValueScore],
  zPopMax: [(key) => ['ZPOPMAX', arg(key, 'key')], firstValueScore],
  zPopMinCount: [(key, count) => ['ZPOPMIN', arg(key, 'key'), arg(count, 'count')], valueScores],
  zPopMaxCount: [(key, count) => ['ZPOPMAX', arg(key, 'key'), arg(count, 'count')], valueScores],
  bzPopMin: [(keys, timeout) => ['BZPOPMIN', ...list(keys, 'keys'), arg(timeout, 'timeout')], keyValueScore],
  bzPopMax: [(keys, timeout) => ['BZPOPMAX', ...list(keys, 'keys'), arg(timeout, 'timeout')], keyValueScore],
  zScan: [(key, cursor, o) => ['ZSCAN', arg(key, 'key'), ...scanArgs(cursor, o)], valueScorePage],
  zAddIncr: [(key, members, o) => zAddArgs(key, members, o, true), num],
  zUnion: [(keys, o) => ['ZUNION', ...weightedKeys(keys), ...aggregate(o)]],
  zUnionWithScores: [(keys, o) => ['ZUNION', ...weightedKeys(keys), ...aggregate(o), 'WITHSCORES'], valueScores],
  zUnionStore: [(dest, keys, o) => ['ZUNIONSTORE', arg(dest, 'destination'), ...weightedKeys(keys), ...aggregate(o)]],
  zInter: [(keys, o) => ['ZINTER', ...weightedKeys(keys), ...aggregate(o)]],
  zInterWithScores: [(keys, o) => ['ZINTER', ...weightedKeys(keys), ...aggregate(o), 'WITHSCORES'], valueScores],
  zInterStore: [(dest, keys, o) => ['ZINTERSTORE', arg(dest, 'destination'), ...weightedKeys(keys), ...aggregate(o)]],
  zRangeStore: [(dest, src, min, max, o) => ['ZRANGESTORE', arg(dest, 'destination'), arg(src, 'source'), ...rangeArgs(min, max, o)]],
  zmPop: [(keys, side, o) => ['ZMPOP', ...mPopArgs(keys, side, o)], mPopScored],
  bzmPop: [(timeout, keys, side, o) => ['BZMPOP', arg(timeout, 'timeout'), ...mPopArgs(keys, side, o)], mPopScored],
  lmPop: [(keys, side, o) => ['LMPOP', ...mPopArgs(keys, side, o)]],
  blmPop: [(timeout, keys, side, o) => ['BLMPOP', arg(timeout, 'timeout'), ...mPopArgs(keys, side, o)]],
  sInterCard: [(keys, o) => ['SINTERCARD', ...numkeys(keys, 'keys'), ...limitArg(o)]],
  zInterCard: [(keys, o) => ['ZINTERCARD', ...numkeys(keys, 'keys'), ...limitArg(o)]],
  hScanNoValues: [(key, cursor, o) => ['HSCAN', arg(key, 'key'), ...scanArgs(cursor, o), 'NOVALUES'], scanReply('fields')],
  // scripts and functions
  eval: [evalArgs('EVAL'), nestedErrors],
  evalRo: [evalArgs('EVAL_RO'), nestedErrors],
  evalSha: [evalArgs('EVALSHA'), nestedErrors],
  evalShaRo: [evalArgs('EVALSHA_RO'), nestedErrors],
  fCall: [evalArgs('FCALL'), nestedErrors],
  fCallRo: [evalArgs('FCALL_RO'), nestedErrors],
  // sort, bitfield
  sort: [(key, o) => sortArgs('SORT', key, o)],
  sortRo: [(key, o) => sortArgs('SORT_RO', key, o)],
  sortStore: [(src, dest, o) => [...sortArgs('SORT', src, o), 'STORE', arg(dest, 'destination')]],
  bitField: [(key, ops) => ['BITFIELD', arg(key, 'key'), ...bitFieldOps(ops)]],
  bitFieldRo: [(key, ops) => ['BITFIELD_RO', arg(key, 'key'), ...bitFieldOps((Array.isArray(ops) ? ops : []).map((o) => ({ ...o, operation: 'GET' })))]],
  // geo
  geoAdd: [
    (key, toAdd, o) => {
      const out = ['GEOADD', arg(key, 'key')];
      const cond = o && (o.condition || (o.NX ? 'NX' : o.XX ? 'XX' : undefined));
      if (cond) out.push(cond);
      if (o && o.CH) out.push('CH');
      (Array.isArray(toAdd) ? toAdd : [toAdd]).forEach((m, i) => out.push(...lonLat(m, `toAdd[${i}]`), arg(m.member, `toAdd[${i}].member`)));
      return out;
    },
  ],
  geoSearch: [(key, from, by, o) => ['GEOSEARCH', ...geoSearchArgs(key, from, by, o)]],
  geoSearchWith: [(key, from, by, replyWith, o) => ['GEOSEARCH', ...geoSearchArgs(key, from, by, o), ...replyWithArgs(replyWith)], (key, from, by, replyWith) => geoWith(replyWith), 'byArgs'],
  geoSearchStore: [(dest, src, from, by, o) => ['GEOSEARCHSTORE', arg(dest, 'destination'), ...geoSearchArgs(src, from, by, o), ...(o && o.STOREDIST ? ['STOREDIST'] : [])]],
  geoRadius: [(key, from, radius, unit, o) => geoRadiusArgs('GEORADIUS', key, from, radius, unit, o)],
  geoRadiusRo: [(key, from, radius, unit, o) => geoRadiusArgs('GEORADIUS_RO', key, from, radius, unit, o)],
  geoRadiusWith: [(key, from, radius, unit, replyWith, o) => [...geoRadiusArgs('GEORADIUS', key, from, radius, unit, o), ...replyWithArgs(replyWith)], (key, from, radius, unit, replyWith) => geoWith(replyWith), 'byArgs'],
  geoRadiusRoWith: [(key, from, radius, unit, replyWith, o) => [...geoRadiusArgs('GEORADIUS_RO', key, from, radius, unit, o), ...replyWithArgs(replyWith)], (key, from, radius, unit, replyWith) => geoWith(replyWith), 'byArgs'],
  geoRadiusStore: [(key, from, radius, unit, dest, o) => [...geoRadiusArgs('GEORADIUS', key, from, radius, unit, o), ...geoStore(dest, o)]],
  geoRadiusByMember: [(key, member, radius, unit, o) => geoByMemberArgs('GEORADIUSBYMEMBER', key, member, radius, unit, o)],
  geoRadiusByMemberRo: [(key, member, radius, unit, o) => geoByMemberArgs('GEORADIUSBYMEMBER_RO', key, member, radius, unit, o)],
  geoRadiusByMemberWith: [(key, member, radius, unit, replyWith, o) => [...geoByMemberArgs('GEORADIUSBYMEMBER', key, member, radius, unit, o), ...replyWithArgs(replyWith)], (key, member, radius, unit, replyWith) => geoWith(replyWith), 'byArgs'],
  geoRadiusByMemberRoWith: [(key, member, radius, unit, replyWith, o) => [...geoByMemberArgs('GEORADIUSBYMEMBER_RO', key, member, radius, unit, o), ...replyWithArgs(replyWith)], (key, member, radius, unit, replyWith) => geoWith(replyWith), 'byArgs'],
  geoRadiusByMemberStore: [(key, member, radius, unit, dest, o) => [...geoByMemberArgs('GEORADIUSBYMEMBER', key, member, radius, unit, o), ...geoStore(dest, o)]],
  // streams
  xAdd: [xAddArgs(undefined)],
  xAddNoMkStream: [xAddArgs('NOMKSTREAM')],
  xTrim: [
    (key, strategy, threshold, o) => {
      const { strategyModifier, LIMIT } = opts(o, 'options');
      return ['XTRIM', arg(key, 'key'), ...trimArgs({ strategy, strategyModifier, threshold, LIMIT: strategyModifier === '~' ? LIMIT : undefined }, 'options')];
    },
  ],
  xRange: [xRangeArgs('XRANGE'), streamEntries],
  xRevRange: [xRangeArgs('XREVRANGE'), streamEntries],
  xRead: [(streams, o) => ['XREAD', ...xReadArgs(streams, o, false)], streamsReplyOf, 'byClient'],
  xReadGroup: [(group, consumer, streams, o) => ['XREADGROUP', 'GROUP', arg(group, 'group'), arg(consumer, 'consumer'), ...xReadArgs(streams, o, true)], streamsReplyOf, 'byClient'],
  xClaim: [xClaimArgs, streamEntries],
  xClaimJustId: [(...a) => [...xClaimArgs(...a), 'JUSTID']],
  xAutoClaim: [xAutoClaimArgs, (r) => ({ nextId: r[0], messages: r[1].map(streamEntry), deletedMessages: r[2] })],
  xAutoClaimJustId: [(...a) => [...xAutoClaimArgs(...a), 'JUSTID'], (r) => ({ nextId: r[0], messages: r[1], deletedMessages: r[2] })],
  xPending: [
    (key, group) => ['XPENDING', arg(key, 'key'), arg(group, 'group')],
    (r) => ({ pending: r[0], firstId: r[1], lastId: r[2], consumers: r[3] === null ? null : r[3].map(([name, n]) => ({ name, deliveriesCounter: Number(n) })) }),
  ],
  xPendingRange: [
    (key, group, start, end, count, o) => {
      const { IDLE, consumer } = opts(o, 'options');
      const out = ['XPENDING', arg(key, 'key'), arg(group, 'group')];
      if (IDLE !== undefined) out.push('IDLE', arg(IDLE, 'options.IDLE'));
      out.push(arg(start, 'start'), arg(end, 'end'), arg(count, 'count'));
      if (consumer !== undefined) out.push(arg(consumer, 'options.consumer'));
      return out;
    },
    (r) => r.map(([id, consumer, ms, n]) => ({ id, consumer, millisecondsSinceLastDelivery: ms, deliveriesCounter: n })),
  ],
  xInfoStream: [
    (key) => ['XINFO', 'STREAM', arg(key, 'key')],
    (r) => {
      const o = { ...pairsToObject(r) };
      for (const k of ['first-entry', 'last-entry']) if (k in o) o[k] = streamEntry(o[k]);
      return o;
    },
  ],
  xInfoGroups: [(key) => ['XINFO', 'GROUPS', arg(key, 'key')], (r) => r.map((g) => pick(pairsToObject(g), ['name', 'consumers', 'pending', 'last-delivered-id', 'entries-read', 'lag']))],
  xInfoConsumers: [(key, group) => ['XINFO', 'CONSUMERS', arg(key, 'key'), arg(group, 'group')], (r) => r.map((c) => pick(pairsToObject(c), ['name', 'pending', 'idle', 'inactive']))],
  // server
  configSet: [
    (parameterOrConfig, value) =>
      typeof parameterOrConfig === 'string' || Buffer.isBuffer(parameterOrConfig)
        ? ['CONFIG', 'SET', parameterOrConfig, arg(value, 'value')]
        : ['CONFIG', 'SET', ...pairs(parameterOrConfig, 'parameterOrConfig')],
  ],
  clientInfo: [() => ['CLIENT', 'INFO'], clientInfo],
  clientList: [
    (filter) => {
      const out = ['CLIENT', 'LIST'];
      if (filter && filter.TYPE !== undefined) out.push('TYPE', arg(filter.TYPE, 'filter.TYPE'));
      else if (filter && filter.ID !== undefined) out.push('ID', ...list(filter.ID, 'filter.ID'));
      return out;
    },
    clientList,
  ],
  clientKill: [(filters) => ['CLIENT', 'KILL', ...(Array.isArray(filters) ? filters : [filters]).flatMap((f, i) => killFilter(f, `filters[${i}]`))]],
  latencyReset: [(...events) => ['LATENCY', 'RESET', ...events.map((e, i) => arg(e, `events[${i}]`))]],
  clientCaching: [(value) => ['CLIENT', 'CACHING', value ? 'YES' : 'NO']],
  clientNoEvict: [(value) => ['CLIENT', 'NO-EVICT', value ? 'ON' : 'OFF']],
  latencyHistogram: [(...commands) => ['LATENCY', 'HISTOGRAM', ...commands.map((c, i) => arg(c, `commands[${i}]`))]],
  aclLog: [(count) => (count === undefined ? ['ACL', 'LOG'] : ['ACL', 'LOG', arg(count, 'count')]), aclLog],
  aclGetUser: [(username) => ['ACL', 'GETUSER', arg(username, 'username')], aclUser],
  role: [() => ['ROLE'], role],
  hello: [helloArgs, helloReply, 'byArgs'],
  clusterSlots: [() => ['CLUSTER', 'SLOTS'], clusterSlots],
  clusterAddSlotsRange: [(ranges) => ['CLUSTER', 'ADDSLOTSRANGE', ...slotRanges(ranges)]],
  clusterDelSlotsRange: [(ranges) => ['CLUSTER', 'DELSLOTSRANGE', ...slotRanges(ranges)]],
  commandGetKeysAndFlags: [(args) => ['COMMAND', 'GETKEYSANDFLAGS', ...list(args, 'args')], (r) => r.map(([key, flags]) => ({ key, flags: asArray(flags) }))],
  migrate: [
    (host, port, key, db, timeout, o) => {
      const { COPY, REPLACE, AUTH } = opts(o, 'options');
      const many = Array.isArray(key);
      const out = ['MIGRATE', arg(host, 'host'), arg(port, 'port'), many ? '' : arg(key, 'key'), arg(db, 'destinationDb'), arg(timeout, 'timeout')];
      if (COPY) out.push('COPY');
      if (REPLACE) out.push('REPLACE');
      if (AUTH && AUTH.username !== undefined) out.push('AUTH2', arg(AUTH.username, 'options.AUTH.username'), arg(AUTH.password, 'options.AUTH.password'));
      else if (AUTH) out.push('AUTH', arg(AUTH.password, 'options.AUTH.password'));
      if (many) out.push('KEYS', ...list(key, 'key'));
      return out;
    },
  ],
};

// The methods generated from the command spec (spec/node.toml): added to the table.
const GENERATED = require('./commands.generated.js')({
  arg,
  list,
  numkeys,
  shapes: {
    num, str, bool: (r) => r === 1 || r === true, asArray, valueScores, firstValueScore, keyValueScore, fieldValuePage, valueScorePage,
    pairsToObject, rankScore, geoPositions, fieldValues, memoryStats, commandInfo,
  },
});
for (const name of Object.keys(GENERATED)) {
  if (Object.prototype.hasOwnProperty.call(COMMANDS, name)) throw new Error(`${name} is both hand-written and generated: remove one (spec/node.toml)`);
  COMMANDS[name] = GENERATED[name];
}

// Both casings, as node-redis offers (client.hGetAll and client.HGETALL).
const UPPER = {};
for (const name of Object.keys(COMMANDS)) UPPER[name.toUpperCase()] = COMMANDS[name];

/** `reply`, or an AbortError once `signal` fires first (the command's own outcome is then dropped). */
function abortable(reply, signal) {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new AbortError());
    signal.addEventListener('abort', onAbort, { once: true });
    reply.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function settle(reply, shape) {
  if (reply instanceof Error) throw toError(reply);
  return shape ? shape(reply) : reply;
}

/** A promise of `reply` (answered at submit: a cache hit, or an Error), shaped. */
function settleNow(reply, shape) {
  try {
    return Promise.resolve(settle(reply, shape));
  } catch (e) {
    return Promise.reject(e);
  }
}

// How `_submit` hands a request of each kind to the native client (no closure per call).
const SUBMIT = (native, tag, args) => native.fast(args, tag);
const SUBMIT_SCRIPT = (native, tag, script, keys, rest) => native.submitScript(script, keys, rest, tag);
const SUBMIT_SCAN = (native, tag, scan) => native.submitScan(scan, tag);
const SUBMIT_PIPELINE = (native, tag, cmds, transaction, normal) => native.submitPipeline(cmds, transaction, tag, normal);
const SUBMIT_PACKED = (native, tag, packed, transaction) => native.submitPipelinePacked(packed, transaction, tag);

// The batched crossing (docs/architecture.md, "Engines"): commands go to the core with `submit(args, tag)`, and
// the core hands back every reply that is ready in one `settleBatch([tag, reply, …])` call
// on the JS thread. A tag is a request's sequence number times 4; bit 0 asks for Buffers,
// bit 1 for the reply in normal form.
//
// The requests waiting for a reply sit in a ring indexed by sequence number: replies
// mostly come back in submission order, so settling one is an array read, with no Map
// entry or object per request. A request left behind by more than RING_MAX newer ones (a
// long BLPOP) moves to `stragglers`, so it does not make the ring grow without bound.
const RING_MAX = 1 << 16;
let ringMask = 1023;
let ringResolve = new Array(ringMask + 1).fill(undefined);
let ringReject = new Array(ringMask + 1).fill(undefined);
let ringShape = new Array(ringMask + 1).fill(undefined);
/** The oldest sequence number that may still wait in the ring (== nextSeq when none does). */
let ringHead = 1;
/** The sequence number the next request gets. */
let nextSeq = 1;
/** seq -> [resolve, reject, shape] of requests moved out of the ring. */
const stragglers = new Map();

function ringGrow() {
  const cap = (ringMask + 1) * 2;
  const res = new Array(cap).fill(undefined);
  const rej = new Array(cap).fill(undefined);
  const shp = new Array(cap).fill(undefined);
  for (let seq = ringHead; seq < nextSeq; seq++) {
    res[seq & (cap - 1)] = ringResolve[seq & ringMask];
    rej[seq & (cap - 1)] = ringReject[seq & ringMask];
    shp[seq & (cap - 1)] = ringShape[seq & ringMask];
  }
  ringResolve = res;
  ringReject = rej;
  ringShape = shp;
  ringMask = cap - 1;
}

/** Moves past the slots already settled (or never used: a request answered at once). */
function ringAdvance() {
  while (ringHead < nextSeq && ringResolve[ringHead & ringMask] === undefined) ringHead++;
}

/** The next sequence number, with room for it in the ring. */
function ringReserve() {
  if (nextSeq - ringHead > ringMask) {
    if (ringMask + 1 < RING_MAX) ringGrow();
    else {
      // Full at its bound: the oldest waiting request moves out of the ring.
      const i = ringHead & ringMask;
      stragglers.set(ringHead, [ringResolve[i], ringReject[i], ringShape[i]]);
      ringResolve[i] = ringReject[i] = ringShape[i] = undefined;
      ringHead++;
      ringAdvance();
    }
  }
  return nextSeq++;
}

function ringWait(seq, resolve, reject, shape) {
  const i = seq & ringMask;
  ringResolve[i] = resolve;
  ringReject[i] = reject;
  ringShape[i] = shape;
}

function settleBatch(flat) {
  for (let i = 0; i < flat.length; i += 2) {
    const seq = Math.floor(flat[i] / 4);
    let resolve, reject, shape;
    if (seq >= ringHead && seq < nextSeq) {
      const j = seq & ringMask;
      resolve = ringResolve[j];
      if (resolve === undefined) continue;
      reject = ringReject[j];
      shape = ringShape[j];
      ringResolve[j] = ringReject[j] = ringShape[j] = undefined;
      if (seq === ringHead) ringAdvance();
    } else {
      const w = stragglers.get(seq);
      if (w === undefined) continue;
      stragglers.delete(seq);
      [resolve, reject, shape] = w;
    }
    const reply = flat[i + 1];
    if (reply instanceof Error) reject(toError(reply));
    else if (!shape) resolve(reply);
    else {
      try {
        resolve(shape(reply));
      } catch (e) {
        reject(e);
      }
    }
  }
  if (retiring.length) sweepRetiring();
}

/** `settleBatch` for replies read on the JS thread's own connection: `tag, reply, …` as arguments. */
function settleArgs(...flat) {
  settleBatch(flat);
}

/** True when a request with sequence number `seq` or older still waits. */
function waitingUpTo(seq) {
  if (ringHead <= seq && ringHead < nextSeq) return true;
  for (const s of stragglers.keys()) if (s <= seq) return true;
  return false;
}

// Native clients replaced by auth() / select() / clientSetName() / reset(): each closes
// once the requests that were waiting when it was replaced have settled, so none of them
// fails because of the swap. `owner` is the client that replaced it (its close() closes
// them at once).
const retiring = [];

function retire(native, owner) {
  const upTo = nextSeq - 1;
  if (!waitingUpTo(upTo)) native.close();
  else retiring.push({ native, owner, upTo });
}

function sweepRetiring() {
  for (let i = retiring.length - 1; i >= 0; i--) {
    const r = retiring[i];
    if (!waitingUpTo(r.upTo)) {
      retiring.splice(i, 1);
      r.native.close();
    }
  }
}

/** The database a client's options name (`database`, or the URL's path or `db` query), before any select(). */
function baseDb(client) {
  const given = client._options.filter(([k]) => k === 'db').pop();
  if (given) return Number(given[1]);
  try {
    const url = new URL(client._url);
    const query = url.searchParams.get('db') ?? url.searchParams.get('database');
    if (query !== null) return Number(query);
    const path = url.pathname.replace(/^\/+|\/+$/g, '');
    if (url.protocol !== 'unix:' && path !== '') return Number(path);
  } catch {
    // no URL, or one the core would refuse: the default database
  }
  return 0;
}

/** How often the core replaced `native`'s command connection (0 once it is closed). */
function reconnects(native) {
  try {
    return native.stats().reconnects || 0;
  } catch {
    return 0;
  }
}

function closeRetired(owner) {
  for (let i = retiring.length - 1; i >= 0; i--) {
    if (retiring[i].owner !== owner) continue;
    retiring[i].native.close();
    retiring.splice(i, 1);
  }
}

/** Adds every command of the table to `proto`, as `run(commandArgs, shape)`. */
function installCommands(proto) {
  for (const [name, spec] of Object.entries({ ...COMMANDS, ...UPPER })) {
    if (Object.prototype.hasOwnProperty.call(proto, name)) continue;
    const byArgs = spec[2] === 'byArgs';
    const byClient = spec[2] === 'byClient';
    Object.defineProperty(proto, name, {
      value: function (...args) {
        let cmd, shape;
        try {
          cmd = spec[0](...args);
          // A 'byArgs' entry's second element makes the reply conversion from the
          // arguments, a 'byClient' one from the client's reply options.
          shape = byArgs ? spec[1](...args) : byClient ? spec[1](this._replyOptions()) : spec[1];
        } catch (e) {
          if (e instanceof TypeError) e.message = `${name}: ${e.message}`;
          return this._fail(e);
        }
        return this._run(cmd, shape, true);
      },
      writable: true,
      configurable: true,
    });
  }
}


// ---- scripts and functions (node-redis's `scripts` / `functions` options) ---------------

/**
 * What a script's or function's `parseCommand(parser, ...args)` fills, with node-redis's
 * CommandParser methods: the arguments in order, the keys among them noted.
 */
class CommandParser {
  constructor() {
    this._args = [];
    this._keys = [];
    /** A value the definition keeps for its transformReply (node-redis's `preserve`). */
    this.preserve = undefined;
  }

  get redisArgs() {
    return this._args;
  }

  get keys() {
    return this._keys;
  }

  get firstKey() {
    return this._keys[0];
  }

  push(...args) {
    for (const a of args) this._args.push(arg(a, 'argument'));
  }

  pushVariadic(vals) {
    this._args.push(...list(vals, 'argument'));
  }

  pushVariadicWithLength(vals) {
    this._args.push(...numkeys(vals, 'argument'));
  }

  pushVariadicNumber(vals) {
    this.pushVariadic(vals);
  }

  pushKey(key) {
    const k = arg(key, 'key');
    this._args.push(k);
    this._keys.push(k);
  }

  pushKeys(keys) {
    for (const k of list(keys, 'key')) this.pushKey(k);
  }

  pushKeysLength(keys) {
    const all = list(keys, 'key');
    this._args.push(String(all.length));
    this.pushKeys(all);
  }

  pushPrefixedVariadicWithLength(vals) {
    this.pushVariadicWithLength(vals);
  }
}

function keyCount(n, what) {
  if (n !== undefined && !(Number.isInteger(n) && n >= 0)) throw new TypeError(`${what} must be a non-negative integer, got ${describe(n)}`);
}

/** A definition's common fields: IS_READ_ONLY, parseCommand / transformArguments, transformReply. */
function checkProgram(def, what) {
  if (def === null || typeof def !== 'object') throw new TypeError(`${what} must be an object, got ${describe(def)}`);
  keyCount(def.NUMBER_OF_KEYS, `${what}.NUMBER_OF_KEYS`);
  for (const f of ['parseCommand', 'transformArguments']) {
    if (def[f] !== undefined && typeof def[f] !== 'function') throw new TypeError(`${what}.${f} must be a function, got ${describe(def[f])}`);
  }
  const t = def.transformReply;
  if (t !== undefined && typeof t !== 'function' && (t === null || typeof t !== 'object')) {
    throw new TypeError(`${what}.transformReply must be a function or { 2, 3 } of functions, got ${describe(t)}`);
  }
}

/**
 * node-redis's defineScript: the definition with its `SHA1` (computed by the core, as
 * the server computes it). `{ SCRIPT, NUMBER_OF_KEYS?, IS_READ_ONLY?, parseCommand(parser,
 * ...args) (or v4's transformArguments(...args)), transformReply? }`.
 */
function defineScript(script) {
  checkProgram(script, 'defineScript: script');
  if (typeof script.SCRIPT !== 'string' && !Buffer.isBuffer(script.SCRIPT)) throw new TypeError(`defineScript: SCRIPT must be a string or Buffer, got ${describe(script.SCRIPT)}`);
  return { ...script, SHA1: new NativeScript(script.SCRIPT, false).sha1 };
}

/** A call's arguments as its definition makes them, and the definition's `preserve`. */
function programArgs(def, args) {
  if (typeof def.parseCommand === 'function') {
    const parser = new CommandParser();
    def.parseCommand(parser, ...args);
    return [parser.redisArgs, parser.preserve];
  }
  if (typeof def.transformArguments === 'function') {
    const out = def.transformArguments(...args);
    return [list(out, 'transformArguments()'), out && out.preserve];
  }
  return [list(args, 'argument'), undefined];
}

/** The definition's transformReply for this RESP version, applied as node-redis applies it. */
function programShape(def, resp, preserve) {
  const t = typeof def.transformReply === 'function' ? def.transformReply : def.transformReply && def.transformReply[resp];
  return typeof t === 'function' ? (reply) => t(nestedErrors(reply), preserve) : nestedErrors;
}

/** A script call: its keys, its other arguments, and the shape of its reply. */
function scriptCall(entry, args, resp) {
  const [argv, preserve] = programArgs(entry.def, args);
  // Without NUMBER_OF_KEYS, parseCommand pushes the count of keys first (as node-redis).
  let n = entry.def.NUMBER_OF_KEYS;
  let at = 0;
  if (n === undefined) {
    n = argv.length ? Number(String(argv[0])) : NaN;
    at = 1;
  }
  if (!Number.isInteger(n) || n < 0 || at + n > argv.length) {
    throw new TypeError(`script ${entry.name}: without NUMBER_OF_KEYS its first argument must be the count of keys that follow`);
  }
  return { keys: argv.slice(at, at + n), rest: argv.slice(at + n), shape: programShape(entry.def, resp, preserve) };
}

/** The command a script runs as when it is sent whole (EVAL / EVAL_RO with the body). */
function evalBody(entry, call) {
  return [entry.def.IS_READ_ONLY ? 'EVAL_RO' : 'EVAL', entry.def.SCRIPT, String(call.keys.length), ...call.keys, ...call.rest];
}

/** FCALL / FCALL_RO of a function of the `functions` option: the command and the shape of its reply. */
function functionCall(entry, args, resp) {
  const [argv, preserve] = programArgs(entry.def, args);
  const head = [entry.def.IS_READ_ONLY ? 'FCALL_RO' : 'FCALL', entry.name];
  if (entry.def.NUMBER_OF_KEYS !== undefined) head.push(String(entry.def.NUMBER_OF_KEYS));
  return [[...head, ...argv], programShape(entry.def, resp, preserve)];
}

/**
 * The `scripts` and `functions` options checked once per client: scripts with the
 * core's script object each, functions by library (the name a function is called by is
 * its key, or v4's NAME).
 */
function programsOf(options) {
  const scripts = [];
  const libraries = [];
  if (options.scripts !== undefined) {
    if (options.scripts === null || typeof options.scripts !== 'object') throw new TypeError(`scripts must be an object, got ${describe(options.scripts)}`);
    for (const [name, def] of Object.entries(options.scripts)) {
      checkProgram(def, `scripts.${name}`);
      if (typeof def.SCRIPT !== 'string' && !Buffer.isBuffer(def.SCRIPT)) throw new TypeError(`scripts.${name}.SCRIPT must be a string or Buffer, got ${describe(def.SCRIPT)}`);
      scripts.push({ name, def, native: new NativeScript(def.SCRIPT, Boolean(def.IS_READ_ONLY)) });
    }
  }
  if (options.functions !== undefined) {
    if (options.functions === null || typeof options.functions !== 'object') throw new TypeError(`functions must be an object, got ${describe(options.functions)}`);
    for (const [library, fns] of Object.entries(options.functions)) {
      if (fns === null || typeof fns !== 'object') throw new TypeError(`functions.${library} must be an object, got ${describe(fns)}`);
      const entries = Object.entries(fns).map(([key, def]) => {
        checkProgram(def, `functions.${library}.${key}`);
        if (def.NAME !== undefined && typeof def.NAME !== 'string') throw new TypeError(`functions.${library}.${key}.NAME must be a string, got ${describe(def.NAME)}`);
        return { key, name: def.NAME === undefined ? key : def.NAME, def };
      });
      libraries.push({ library, entries });
    }
  }
  return { scripts, libraries, resp: options.RESP === 2 ? 2 : 3 };
}

/**
 * Adds the programs to `target` (a client or a Multi): `target.name(...)` per script and
 * `target.library.fn(...)` per function, each calling the receiver's `_script` /
 * `_function` (so clients made with withCommandOptions use their own options).
 */
// node-redis's client methods that no other method calls: a program may take one of their
// names and shadows it on its client, as a script does in node-redis (a script named
// `legacy` was valid before legacy() was added).
const YIELDING = new Set(['legacy', 'monitor', 'MONITOR', 'resetIfDirty', 'setDirtyWatch', 'getPubSubListeners', 'extendPubSubListeners', 'extendPubSubChannelListeners']);

function attachPrograms(target, programs) {
  const taken = (name) => {
    if (name in target && !YIELDING.has(name) && !Object.prototype.hasOwnProperty.call(COMMANDS, name) && !Object.prototype.hasOwnProperty.call(UPPER, name)) {
      throw new TypeError(`scripts/functions: ${name} is a method of the client; give it another name`);
    }
  };
  for (const entry of programs.scripts) {
    taken(entry.name);
    Object.defineProperty(target, entry.name, {
      value: function (...args) {
        return this._script(entry, args, programs.resp);
      },
      writable: true,
      configurable: true,
    });
  }
  for (const { library, entries } of programs.libraries) {
    taken(library);
    const namespaces = new WeakMap();
    Object.defineProperty(target, library, {
      get() {
        let ns = namespaces.get(this);
        if (ns === undefined) {
          const self = this;
          ns = {};
          for (const entry of entries) ns[entry.key] = (...args) => self._function(entry, args, programs.resp);
          namespaces.set(this, ns);
        }
        return ns;
      },
      configurable: true,
    });
  }
}

// ---- options --------------------------------------------------------------------------

const OWN = {
  mode: 'mode',
  maxConnections: 'max_connections',
  responseTimeout: 'response_timeout',
  poolTimeout: 'pool_timeout',
  idleTimeout: 'idle_timeout',
  retries: 'retries',
  retryOnTimeout: 'retry_on_timeout',
  retryUnsafe: 'retry_unsafe',
  guard: 'guard',
  guardThreshold: 'guard_threshold',
};

function ms(v, what) {
  if (typeof v !== 'number' || !(v > 0)) throw new TypeError(`${what} must be a positive number of milliseconds, got ${describe(v)}`);
  return `${v}ms`;
}

/** createClient options → [url, [[coreOption, value]...]] (conversion only; defaults live in core). */
function nativeOptions(options) {
  if (options === null || typeof options !== 'object') throw new TypeError(`createClient options must be an object, got ${describe(options)}`);
  const out = [];
  const socket = options.socket || {};
  if (options.url !== undefined && typeof options.url !== 'string') throw new TypeError(`url must be a string, got ${describe(options.url)}`);
  if (socket.path !== undefined) out.push(['unix_socket_path', String(socket.path)]);
  if (socket.host !== undefined) out.push(['host', String(socket.host)]);
  if (socket.port !== undefined) out.push(['port', String(socket.port)]);
  if (socket.connectTimeout !== undefined) out.push(['connect_timeout', ms(socket.connectTimeout, 'socket.connectTimeout')]);
  if (socket.tls !== undefined && typeof socket.tls !== 'boolean') throw new TypeError(`socket.tls must be a boolean, got ${describe(socket.tls)}`);
  if (socket.tls) out.push(['tls', 'true']);
  // node's tls.connect options, as node-redis passes them: PEM strings or Buffers.
  for (const [key, core] of [['ca', 'tls_ca'], ['cert', 'tls_cert'], ['key', 'tls_key']]) {
    if (socket[key] === undefined) continue;
    const parts = Array.isArray(socket[key]) ? socket[key] : [socket[key]];
    for (const part of parts) {
      if (typeof part !== 'string' && !Buffer.isBuffer(part)) throw new TypeError(`socket.${key} must be a PEM string or Buffer (or an array of them), got ${describe(part)}`);
    }
    out.push([core, parts.map(String).join('\n')]);
  }
  if (socket.rejectUnauthorized === false) out.push(['tls_verify', 'none']);
  if (options.username !== undefined) out.push(['username', String(options.username)]);
  if (options.password !== undefined) out.push(['password', String(options.password)]);
  if (options.database !== undefined) out.push(['db', String(options.database)]);
  if (options.RESP !== undefined) out.push(['protocol', String(options.RESP)]);
  if (options.name !== undefined) out.push(['client_name', String(options.name)]);
  const csc = options.clientSideCache;
  if (csc !== undefined) {
    if (csc === null || typeof csc !== 'object') throw new TypeError(`clientSideCache must be an object, got ${describe(csc)}`);
    out.push(['cache', 'true']);
    if (csc.maxEntries !== undefined) out.push(['cache_max_entries', String(csc.maxEntries)]);
    if (csc.maxBytes !== undefined) out.push(['cache_max_bytes', String(csc.maxBytes)]);
    if (csc.ttl !== undefined && csc.ttl !== 0) out.push(['cache_ttl', ms(csc.ttl, 'clientSideCache.ttl')]);
    if (csc.prefixes !== undefined) out.push(['cache_prefixes', csc.prefixes.join(',')]);
    if (csc.mode !== undefined) out.push(['cache_mode', String(csc.mode)]);
    if (csc.commands !== undefined) out.push(['cache_commands', csc.commands.join(',')]);
  }
  const queue = options.pubSubQueue;
  if (queue !== undefined) {
    // Read by the subscriber (PubSub._open); checked here so createClient names a mistake.
    if (queue === null || typeof queue !== 'object') throw new TypeError(`pubSubQueue must be an object, got ${describe(queue)}`);
    if (queue.maxMessages !== undefined) count(queue.maxMessages, 'pubSubQueue.maxMessages', 1);
    if (queue.maxBytes !== undefined) count(queue.maxBytes, 'pubSubQueue.maxBytes', 1);
  }
  for (const [key, core] of Object.entries(OWN)) {
    if (options[key] === undefined) continue;
    const v = options[key];
    out.push([core, key.endsWith('Timeout') ? ms(v, key) : String(v)]);
  }
  if (options.spinWait !== undefined) {
    const v = options.spinWait;
    if (typeof v !== 'number' || !(v >= 0)) throw new TypeError(`spinWait must be a number of microseconds (0 turns the spin off), got ${describe(v)}`);
    out.push(['spin_wait', `${v}us`]);
  }
  return [options.url, out];
}

// ---- client ---------------------------------------------------------------------------

/** node-redis's RESP_TYPES; `withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer })` gives Buffers. */
const RESP_TYPES = Object.freeze({
  NULL: 95, BOOLEAN: 35, NUMBER: 58, BIG_NUMBER: 40, DOUBLE: 44, SIMPLE_STRING: 43,
  BLOB_STRING: 36, VERBATIM_STRING: 61, SIMPLE_ERROR: 45, BLOB_ERROR: 33, ARRAY: 42, SET: 126, MAP: 37, PUSH: 62,
});

function emitGuardWarning(message) {
  process.emitWarning(message, { type: 'RedbridgeWarning', code: 'REDBRIDGE_GUARD' });
}

class RedisClient extends EventEmitter {
  constructor(options = {}) {
    super();
    /** The options given to createClient. */
    this.options = options;
    [this._url, this._options] = nativeOptions(options);
    // The client itself, also as seen from its twins (withCommandOptions) and isolated
    // clients, which are made with Object.create and share its connection.
    this._self = this;
    // Core options changed after createClient (auth, select, clientSetName): pairs set
    // after `_options`, so they win; reset() keeps only the credentials.
    this._overrides = [];
    this._reopening = Promise.resolve();
    this._native = null;
    this._buffers = false;
    // The typeMapping of withCommandOptions (monitor() reads SIMPLE_STRING's).
    this._typeMapping = undefined;
    this._pinned = null;
    // WATCH state as node-redis reports it (isWatching, isDirtyWatch): kept on the object
    // that holds the pinned connection.
    this._watching = false;
    this._dirtyWatch = undefined;
    // node-redis's socketEpoch: connections the commands have used, before this one.
    this._epochs = 0;
    this._monitor = null;
    this._open = false;
    this._abortSignal = undefined;
    this._keepAlive = null;
    this._pubsub = null;
    this._programs = programsOf(options);
    attachPrograms(this, this._programs);
  }

  /**
   * What util.inspect / console.log show: the class and whether it is open, never the
   * options (they may hold a password, also one given to auth()).
   */
  [inspect.custom]() {
    return `${this.constructor.name} { isOpen: ${Boolean(this._self._open)} }`;
  }

  /** Connects (resolves with the client; rejects with ConnectionError / AuthenticationError). */
  async connect() {
    const self = this._self;
    if (self._open) throw new RedisError('Socket already opened', 'CONNECTION');
    self._native = await self._connected(self._overrides);
    self._epochs += 1;
    self._open = true;
    self.emit('connect');
    self.emit('ready');
    return this;
  }

  /** A new native client with this client's options and `overrides`, connected (or the connect error thrown). */
  async _connected(overrides) {
    let native;
    try {
      native = new NativeClient(this._url, this._options.concat(overrides), emitGuardWarning, settleBatch, settleArgs);
      // `submit` for commands without a class method's per-call checks (lib.rs fastSubmit).
      native.fast = native.fastSubmit();
    } catch (e) {
      throw new TypeError(e.message);
    }
    const failure = await native.connect();
    if (failure instanceof Error) {
      native.close();
      throw toError(failure);
    }
    return native;
  }

  /**
   * Applies `change(overrides)` to the options every connection is opened with: a new
   * native client is connected with them and takes over; the old one closes once the
   * requests already sent on it have settled. If the new one cannot connect, the client
   * keeps its connections and options and the error is thrown. One change at a time, in
   * call order. Before connect(), the change is only remembered.
   */
  _reopen(change) {
    const self = this._self;
    const run = async () => {
      const overrides = change(self._overrides);
      if (!self._native) {
        self._overrides = overrides;
        return;
      }
      const next = await self._connected(overrides);
      if (!self._native) {
        next.close();
        throw new ConnectionError('The client was closed while it reconnected', 'CONNECTION');
      }
      const old = self._native;
      self._native = next;
      self._overrides = overrides;
      self._epochs += reconnects(old) + 1;
      retire(old, self);
    };
    const turn = self._reopening.then(run, run);
    self._reopening = turn.catch(() => {});
    return turn;
  }

  get isOpen() {
    return this._open;
  }

  get isReady() {
    return this._open;
  }

  /**
   * node-redis's socketEpoch: 0 before connect(), then 1, and one more each time the
   * command connection is replaced (the core reconnected it, or auth / select /
   * clientSetName / reset reconnected the client).
   */
  get socketEpoch() {
    const self = this._self;
    return self._epochs + (self._native ? reconnects(self._native) : 0);
  }

  _fail(e) {
    return Promise.reject(e);
  }

  /** What a 'byClient' reply conversion reads: Buffers asked for (typeMapping), the RESP option. */
  _replyOptions() {
    return { buffers: this._buffers, resp: this._programs.resp };
  }

  _client() {
    if (!this._native) throw new ConnectionError('The client is closed', 'CONNECTION');
    return this._native;
  }

  // Not async: a cache hit (answered by the core at submit) or a submitted command costs
  // no extra promise tick. `normal`: the reply in the core's normal form (command methods;
  // not sendCommand).
  _run(args, shape, normal = false) {
    // node-redis's `node-redis:command` tracing channel, only while someone subscribes.
    if (observability.commandChannel.hasSubscribers) return observability.traceCommand(this, args, () => this._runUntraced(args, shape, normal));
    return this._runUntraced(args, shape, normal);
  }

  _runUntraced(args, shape, normal) {
    let target;
    try {
      target = this._pinned || this._client();
    } catch (e) {
      return Promise.reject(e);
    }
    if (this._abortSignal && this._abortSignal.aborted) return Promise.reject(new AbortError());
    const reply = this._pinned
      ? target.execute(args, this._buffers, normal).then((r) => settle(r, shape))
      : this._submit(shape, normal, SUBMIT, target, args);
    return this._abortSignal ? abortable(reply, this._abortSignal) : reply;
  }

  /** Hands one request to the batched crossing; resolves with its (shaped) reply. */
  // `send(native, tag, a, b, c)` is one of the SUBMIT functions above.
  _submit(shape, normal, send, native, a, b, c) {
    const seq = ringReserve();
    const tag = seq * 4 + (this._buffers ? 1 : 0) + (normal ? 2 : 0);
    let now;
    try {
      // undefined: queued; else answered at once (a cache hit, or an Error).
      now = send(native, tag, a, b, c);
    } catch (e) {
      return Promise.reject(e);
    }
    if (now !== undefined) return settleNow(now, shape);
    return new Promise((resolve, reject) => ringWait(seq, resolve, reject, shape));
  }

  /**
   * A script of the `scripts` option: the core runs it by SHA1 (EVALSHA, and EVAL with
   * the body only on NOSCRIPT). On a dedicated connection (after watch(), in
   * executeIsolated) it is sent whole (EVAL), one command with nothing to fall back from.
   */
  _script(entry, args, resp) {
    let call;
    try {
      call = scriptCall(entry, args, resp);
    } catch (e) {
      return this._fail(e);
    }
    if (this._pinned) return this._run(evalBody(entry, call), call.shape);
    let target;
    try {
      target = this._client();
    } catch (e) {
      return Promise.reject(e);
    }
    if (this._abortSignal && this._abortSignal.aborted) return Promise.reject(new AbortError());
    const reply = this._submit(call.shape, false, SUBMIT_SCRIPT, target, entry.native, call.keys, call.rest);
    return this._abortSignal ? abortable(reply, this._abortSignal) : reply;
  }

  /** A function of the `functions` option: FCALL (FCALL_RO when IS_READ_ONLY). */
  _function(entry, args, resp) {
    let call;
    try {
      call = functionCall(entry, args, resp);
    } catch (e) {
      return this._fail(e);
    }
    return this._run(call[0], call[1]);
  }

  /** Any command as an array of strings/Buffers; the raw reply. */
  sendCommand(args) {
    if (!Array.isArray(args) || args.length === 0) return this._fail(new TypeError(`sendCommand: args must be a non-empty array, got ${describe(args)}`));
    let argv;
    try {
      argv = args.map((a, i) => arg(a, `args[${i}]`));
    } catch (e) {
      return this._fail(e);
    }
    return this._run(argv, nestedErrors);
  }

  /** MULTI/EXEC: chain commands, then `exec()` (or `execAsPipeline()` for a plain pipeline). */
  multi() {
    return new Multi(this);
  }

  /** WATCH keys on a dedicated connection that the next `multi().exec()` uses. */
  async watch(keys) {
    if (!this._pinned) {
      const lease = await this._client().lease();
      if (lease instanceof Error) throw toError(lease);
      this._pinned = lease;
    }
    const reply = await this._run(['WATCH', ...list(keys, 'keys')]);
    this._watching = true;
    return reply;
  }

  async unwatch() {
    if (!this._pinned) {
      this._endWatch();
      return 'OK';
    }
    const reply = await this._run(['UNWATCH']);
    this._endWatch();
    return reply;
  }

  /** Whether a WATCH is on, until the next exec(), unwatch() or reset() (node-redis's isWatching). */
  get isWatching() {
    return this._watching;
  }

  /** Whether setDirtyWatch() marked the WATCH: the next exec() then rejects with WatchError without sending. */
  get isDirtyWatch() {
    return this._dirtyWatch !== undefined;
  }

  /** node-redis's setDirtyWatch(msg): the next exec() rejects with WatchError(msg), unsent. */
  setDirtyWatch(msg) {
    this._dirtyWatch = msg;
  }

  /** Ends the WATCH state: the flags, and the pinned connection (kept by an isolated client). */
  _endWatch() {
    this._watching = false;
    this._dirtyWatch = undefined;
    this._releasePin();
  }

  _releasePin() {
    if (this._pinned) this._pinned.release();
    this._pinned = null;
  }

  /** Runs `fn(isolatedClient)` on a dedicated connection (node-redis v4's executeIsolated). */
  async executeIsolated(fn) {
    const lease = await this._client().lease();
    if (lease instanceof Error) throw toError(lease);
    const isolated = Object.create(this);
    isolated._pinned = lease;
    // Its connection stays its own until fn ends, after an exec() too.
    isolated._releasePin = () => {};
    try {
      return await fn(isolated);
    } finally {
      lease.release();
    }
  }

  /** A client sharing this one's connection, with reply types mapped (Buffers for strings). */
  withTypeMapping(mapping) {
    return this.withCommandOptions({ typeMapping: mapping });
  }

  /**
   * A client sharing this one's connection whose commands take these options, as
   * node-redis's: `typeMapping` (Buffers for strings), `abortSignal` (the promise rejects
   * with AbortError when it fires first; the command may still run on the server) and
   * `asap` (accepted; the core sends every command as soon as it is submitted).
   */
  withCommandOptions(options) {
    if (options === null || typeof options !== 'object') throw new TypeError(`withCommandOptions: options must be an object, got ${describe(options)}`);
    const twin = Object.create(this);
    if ('typeMapping' in options) {
      twin._typeMapping = options.typeMapping;
      twin._buffers = Boolean(options.typeMapping && options.typeMapping[RESP_TYPES.BLOB_STRING] === Buffer);
    }
    if ('abortSignal' in options) {
      const signal = options.abortSignal;
      if (signal !== undefined && !(signal && typeof signal.addEventListener === 'function' && 'aborted' in signal)) {
        throw new TypeError(`withCommandOptions: abortSignal must be an AbortSignal, got ${describe(signal)}`);
      }
      twin._abortSignal = signal;
    }
    return twin;
  }

  /** A client sharing this one's connection whose commands reject with AbortError once `signal` fires. */
  withAbortSignal(signal) {
    return this.withCommandOptions({ abortSignal: signal });
  }

  /** node-redis's "send before queued commands": every command is sent at once already. */
  asap() {
    return this.withCommandOptions({ asap: true });
  }

  /** A new, unconnected client with this one's options and `overrides` (node-redis's duplicate). */
  duplicate(overrides) {
    if (overrides !== undefined && (overrides === null || typeof overrides !== 'object')) throw new TypeError(`duplicate: overrides must be an object, got ${describe(overrides)}`);
    return new this.constructor({ ...this.options, ...overrides });
  }

  /**
   * A pool over this client's options (node-redis's createPool): see createClientPool.
   * @param {object} [options] node-redis's pool options (minimum, maximum, acquireTimeout, cleanupDelay, clientSideCache).
   */
  createPool(options) {
    return new RedisClientPool(this.options, options);
  }

  /**
   * node-redis's AUTH ({ username, password }): every connection of this client logs in
   * with these credentials from now on, after reconnects too (it reconnects with them).
   * Resolves with 'OK'; a refusal rejects with SimpleError (as the server's error reply
   * does in node-redis) and the client keeps the credentials it had.
   */
  async auth(options) {
    await this._login(options, 'auth: options');
    return 'OK';
  }

  /** node-redis's reAuthenticate({ username, password }): the same as auth(), resolving with nothing. */
  async reAuthenticate(credentials) {
    await this._login(credentials, 'reAuthenticate: credentials');
  }

  async _login(given, what) {
    if (given === null || typeof given !== 'object') throw new TypeError(`${what} must be an object, got ${describe(given)}`);
    const username = given.username === undefined ? undefined : optionText(given.username, `${what}.username`);
    const password = given.password === undefined ? undefined : optionText(given.password, `${what}.password`);
    // AUTH without a username logs in as the default user, whatever the options named.
    const login = [['username', username === undefined ? 'default' : username], ['password', password === undefined ? '' : password]];
    try {
      await this._reopen((now) => [...now.filter(([k]) => k !== 'username' && k !== 'password'), ...login]);
    } catch (e) {
      if (e instanceof AuthenticationError) throw new SimpleError(e.message, e.code);
      throw e;
    }
  }

  /**
   * node-redis's SELECT: every connection of this client uses database `db` from now on
   * (it reconnects with the new database; reset() goes back to the one of the options).
   */
  async select(db) {
    if (!Number.isInteger(db) || db < 0) throw new TypeError(`select: db must be a non-negative integer, got ${describe(db)}`);
    await this._reopen((now) => [...now.filter(([k]) => k !== 'db'), ['db', String(db)]]);
  }

  /** node-redis's CLIENT SETNAME: every connection of this client is named `name` (it reconnects with the name). */
  async clientSetName(name) {
    const text = optionText(name, 'clientSetName: name');
    await this._reopen((now) => [...now.filter(([k]) => k !== 'client_name'), ['client_name', text]]);
    return 'OK';
  }

  /**
   * node-redis's reset(): the database and name of the options again, no WATCH, fresh
   * connections (it reconnects); credentials given to auth() are kept.
   */
  async reset() {
    const self = this._self;
    self._endWatch();
    self._stopMonitor();
    if (self._pubsub) self._pubsub.close();
    await this._reopen((now) => now.filter(([k]) => k === 'username' || k === 'password'));
  }

  /**
   * node-redis's resetIfDirty(): reset() when the client has state a borrower should not
   * inherit (another database than the options', MONITOR, subscriptions, a WATCH), with
   * a warning naming it; nothing (undefined) otherwise.
   */
  resetIfDirty() {
    const self = this._self;
    const dirty = [];
    const db = self._overrides.filter(([k]) => k === 'db').pop();
    if (db && Number(db[1]) !== baseDb(self)) dirty.push('another database selected');
    if (self._monitor) dirty.push('MONITOR on');
    if (self.isPubSubActive) dirty.push('subscriptions');
    if (self._watching || self._dirtyWatch !== undefined) dirty.push('a WATCH');
    if (dirty.length === 0) return undefined;
    process.emitWarning(`resetIfDirty: the client had state (${dirty.join(', ')}); it is reset`, 'RedbridgeWarning');
    return self.reset();
  }

  /**
   * node-redis's MONITOR: `callback(line)` for every command the server runs from now
   * on, each as the server's line (`1700000000.123456 [0 127.0.0.1:51234] "SET" "k" "v"`).
   * Resolves once the server acknowledged. The feed has a connection of its own (the
   * core's, with the client's options), so the client keeps running commands; a lost
   * connection is reported as an 'error' event and monitored again, as node-redis does
   * after it reconnects (what ran meanwhile is not seen). reset() and close() end it;
   * a second monitor() replaces the callback.
   */
  async monitor(callback) {
    if (typeof callback !== 'function') throw new TypeError(`monitor: callback must be a function, got ${describe(callback)}`);
    const self = this._self;
    // The lines are simple strings: Buffers with a typeMapping of SIMPLE_STRING to Buffer, as node-redis.
    const buffers = Boolean(this._typeMapping && this._typeMapping[RESP_TYPES.SIMPLE_STRING] === Buffer);
    if (self._monitor) {
      Object.assign(self._monitor, { callback, buffers });
      return;
    }
    const feed = await self._openMonitor();
    if (self._monitor) {
      // Another monitor() opened one meanwhile: one feed, the latest callback.
      feed.close();
      Object.assign(self._monitor, { callback, buffers });
      return;
    }
    const state = { feed, callback, buffers };
    self._monitor = state;
    self._pumpMonitor(state);
  }

  async _openMonitor() {
    const feed = await this._client().monitor();
    if (feed instanceof Error) throw toError(feed);
    if (!this._native) {
      feed.close();
      throw new ConnectionError('The client is closed', 'CONNECTION');
    }
    return feed;
  }

  /** Hands the lines of `state.feed` to its callback until the monitor is stopped; opens a new feed when one is lost. */
  async _pumpMonitor(state) {
    for (let tries = 0; ; ) {
      const lines = await state.feed.next(1024);
      if (this._monitor !== state) return;
      if (!(lines instanceof Error)) {
        tries = 0;
        for (const line of lines) {
          try {
            // The server escapes an argument's other bytes (\xHH): the line's bytes as they came.
            state.callback(state.buffers ? Buffer.from(line) : line);
          } catch (e) {
            process.nextTick(() => this.emit('error', e));
          }
        }
        continue;
      }
      this.emit('error', toError(lines));
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(50 * ++tries, 500)));
        if (this._monitor !== state) return;
        try {
          const feed = await this._openMonitor();
          if (this._monitor !== state) {
            feed.close();
            return;
          }
          state.feed = feed;
          break;
        } catch (e) {
          if (this._monitor !== state) return;
          this.emit('error', e);
        }
      }
    }
  }

  _stopMonitor() {
    const state = this._monitor;
    this._monitor = null;
    if (state) state.feed.close();
  }

  /**
   * node-redis's legacy(): the v3 callback interface over this client. Each command
   * method takes its arguments (arrays flattened, numbers and Dates as text) and an
   * optional last `callback(err, reply)`, and sends its own name as the command, as
   * node-redis's does; the reply is the server's, as sendCommand gives it (hGetAll: an
   * object). Without a callback, a failure is the client's 'error' event.
   */
  legacy() {
    return new RedisLegacyClient(this);
  }

  /**
   * node-redis's getPubSubListeners(type): a Map of each channel (pattern, shard
   * channel) subscribed to → { unsubscribing, strings, buffers }, the listener sets
   * themselves; the Map is a new one at each call.
   */
  getPubSubListeners(type) {
    const kind = pubSubKind(type, 'getPubSubListeners');
    const pubsub = this._self._pubsub;
    return pubsub ? pubsub.listeners(kind) : new Map();
  }

  /** node-redis's extendPubSubChannelListeners: `channel` gets these listeners too (subscribed when new). */
  async extendPubSubChannelListeners(type, channel, listeners) {
    await this._extendPubSub(type, 'extendPubSubChannelListeners', [[channel, listeners]]);
  }

  /** node-redis's extendPubSubListeners: each channel of the Map gets its listeners too (one subscribe for the new ones). */
  async extendPubSubListeners(type, listeners) {
    if (!(listeners instanceof Map)) throw new TypeError(`extendPubSubListeners: listeners must be a Map (as getPubSubListeners gives), got ${describe(listeners)}`);
    await this._extendPubSub(type, 'extendPubSubListeners', listeners);
  }

  async _extendPubSub(type, what, channels) {
    const kind = pubSubKind(type, what);
    const self = this._self;
    self._client();
    if (!self._pubsub) self._pubsub = new PubSub(self);
    await self._pubsub.extend(kind, what, channels);
  }

  /** Keeps the process alive while the client is open (until unref() or close()), as a node-redis client does. */
  ref() {
    if (!this._keepAlive) this._keepAlive = setInterval(() => {}, 1 << 30);
  }

  /** Lets the process exit while the client is idle (the default here: nothing holds the loop between requests). */
  unref() {
    if (this._keepAlive) clearInterval(this._keepAlive);
    this._keepAlive = null;
  }

  async *_scan(kind, key, o) {
    const scan = this._client().scan(kind, key === undefined ? null : key, o && o.MATCH !== undefined ? o.MATCH : null, o && o.COUNT !== undefined ? o.COUNT : null, o && o.TYPE !== undefined ? o.TYPE : null);
    const native = this._client();
    for (;;) {
      // Pages take the batched crossing like commands (settled with the other replies).
      const page = await this._submit(undefined, false, SUBMIT_SCAN, native, scan);
      if (page === null) return;
      yield page;
    }
  }

  /** `for await (const keys of client.scanIterator({ MATCH, COUNT, TYPE }))`: one batch per page. */
  scanIterator(o) {
    return this._scan('keys', undefined, o);
  }

  sScanIterator(key, o) {
    return this._scan('set', arg(key, 'key'), o);
  }

  async *hScanIterator(key, o) {
    for await (const page of this._scan('hash', arg(key, 'key'), o)) yield page.map(([field, value]) => ({ field, value }));
  }

  /** The values of a hash, one batch per page. */
  async *hScanValuesIterator(key, o) {
    for await (const page of this._scan('hash', arg(key, 'key'), o)) yield page.map(([, value]) => value);
  }

  /** The fields of a hash, one batch per page. */
  async *hScanNoValuesIterator(key, o) {
    for await (const page of this._scan('hash', arg(key, 'key'), o)) yield page.map(([field]) => field);
  }

  async *zScanIterator(key, o) {
    for await (const page of this._scan('zset', arg(key, 'key'), o)) yield page.map(([value, score]) => ({ value, score: Number(score) }));
  }

  /** The core's counters: requests, errors_<kind>, retries, reconnects, pool_*, cache_*. */
  stats() {
    return this._client().stats();
  }

  /**
   * On a cluster, each node's counters by `host:port`: `primary` (1 while it serves
   * slots), `requests` and `errors` (counted on the node of a command's first key), and
   * its part of the client-side cache (`cache_*`) when the cache is on. `{}` standalone.
   */
  nodeStats() {
    return this._client().nodeStats();
  }

  /** node-redis's handle on the client-side cache: `clear()` and `stats()`. */
  get clientSideCache() {
    const client = this;
    return {
      clear: () => client._client().cacheClear(),
      stats: () => {
        const s = client._client().stats();
        return {
          hitCount: s.cache_hits || 0,
          missCount: s.cache_misses || 0,
          invalidationCount: s.cache_invalidations || 0,
          evictionCount: s.cache_evictions || 0,
          size: s.cache_entries || 0,
          bytes: s.cache_bytes || 0,
        };
      },
    };
  }

  /** Closes every connection. */
  async close() {
    const self = this._self;
    self.unref();
    self._endWatch();
    self._stopMonitor();
    if (self._pubsub) self._pubsub.close();
    if (self._native) {
      self._epochs += reconnects(self._native);
      self._native.close();
    }
    self._native = null;
    closeRetired(self);
    if (self._open) {
      self._open = false;
      self.emit('end');
    }
  }

  quit() {
    return this.close().then(() => 'OK');
  }

  disconnect() {
    return this.close();
  }

  destroy() {
    this.close();
  }
}
// ---- pub/sub ----------------------------------------------------------------------------
// node-redis's subscribe / pSubscribe / sSubscribe with listeners per channel. The core
// holds the subscriptions on a connection of their own (so the client runs commands
// under RESP2 too), resubscribes after every reconnect and bounds the queue; here the
// listeners are kept and events are pumped one batch per crossing. A gap (messages may
// be missing: a reconnect, or an overflowing queue) is emitted as 'pubsub-gap'.

const NON_ASCII = /[^\x00-\x7f]/;

/** How listeners are keyed: a name's bytes as Latin-1, as the addon hands names over. */
function pubSubKey(name) {
  if (typeof name !== 'string') return name.toString('latin1');
  return NON_ASCII.test(name) ? Buffer.from(name, 'utf8').toString('latin1') : name;
}

/** A channel or pattern the addon gave as Latin-1, as listeners receive it. */
function fromLatin1(s, buffer) {
  if (buffer) return Buffer.from(s, 'latin1');
  return NON_ASCII.test(s) ? Buffer.from(s, 'latin1').toString('utf8') : s;
}

/** The un… form of a subscription kind. */
const UNSUBSCRIBE = { subscribe: 'unsubscribe', psubscribe: 'punsubscribe', ssubscribe: 'sunsubscribe' };

/** The listeners and the native subscriber of one client (made on first subscribe). */
class PubSub {
  constructor(client) {
    this.client = client;
    this.native = null;
    this.maps = { subscribe: new Map(), psubscribe: new Map(), ssubscribe: new Map() };
    this.bufferListeners = 0;
  }

  get active() {
    return this.maps.subscribe.size + this.maps.psubscribe.size + this.maps.ssubscribe.size > 0;
  }

  _open() {
    if (this.native) return this.native;
    const queue = this.client.options.pubSubQueue || {};
    const native = this.client._client().subscriber(queue.maxMessages, queue.maxBytes);
    if (native instanceof Error) throw toError(native);
    this.native = native;
    this._pump(native);
    return native;
  }

  async add(kind, what, names, listener, bufferMode) {
    if (typeof listener !== 'function') throw new TypeError(`${what}: listener must be a function, got ${describe(listener)}`);
    const given = list(names, `${what}: channels`);
    if (given.length === 0) throw new TypeError(`${what}: give at least one channel`);
    const map = this.maps[kind];
    await this._subscribe(kind, given.filter((name) => this._attach(map, name, [listener], bufferMode)));
  }

  /**
   * node-redis's extendPubSubListeners: `channels` ([name, { strings, buffers }] pairs)
   * get these listeners too; the names not subscribed yet are subscribed.
   */
  async extend(kind, what, channels) {
    const given = [];
    for (const [name, listeners] of channels) {
      if (listeners === null || typeof listeners !== 'object') throw new TypeError(`${what}: listeners must be { strings, buffers } sets, got ${describe(listeners)}`);
      const strings = [...(listeners.strings || [])];
      const buffers = [...(listeners.buffers || [])];
      for (const l of [...strings, ...buffers]) {
        if (typeof l !== 'function') throw new TypeError(`${what}: a listener must be a function, got ${describe(l)}`);
      }
      given.push([arg(name, `${what}: channel`), strings, buffers]);
    }
    const map = this.maps[kind];
    const fresh = [];
    for (const [name, strings, buffers] of given) {
      if (this._attach(map, name, strings, false)) fresh.push(name);
      this._attach(map, name, buffers, true);
    }
    await this._subscribe(kind, fresh);
  }

  /** Adds `listeners` to the entry of `name` (made when missing); true when it was missing. */
  _attach(map, name, listeners, bufferMode) {
    const key = pubSubKey(name);
    let entry = map.get(key);
    const fresh = !entry;
    if (fresh) {
      entry = { name: typeof name === 'string' ? name : name.toString(), buf: Buffer.from(name), strings: new Set(), buffers: new Set() };
      map.set(key, entry);
    }
    const set = bufferMode ? entry.buffers : entry.strings;
    for (const listener of listeners) {
      if (set.has(listener)) continue;
      set.add(listener);
      if (bufferMode) this.bufferListeners++;
    }
    return fresh;
  }

  /** node-redis's getPubSubListeners: channel → { unsubscribing, strings, buffers } (the live sets, in a new Map). */
  listeners(kind) {
    const out = new Map();
    for (const entry of this.maps[kind].values()) out.set(entry.name, { unsubscribing: false, strings: entry.strings, buffers: entry.buffers });
    return out;
  }

  /** Subscribes to `fresh` (names just attached); when that fails they are forgotten and the error thrown. */
  async _subscribe(kind, fresh) {
    if (fresh.length === 0) return;
    const map = this.maps[kind];
    let failure;
    try {
      const reply = await this._open().change(kind, fresh);
      if (reply !== null) failure = toError(reply);
    } catch (e) {
      failure = e;
    }
    if (failure !== undefined) {
      for (const name of fresh) this._forget(map, pubSubKey(name));
      this._closeIfIdle();
      throw failure;
    }
  }

  async remove(kind, what, names, listener, bufferMode) {
    if (listener !== undefined && typeof listener !== 'function') throw new TypeError(`${what}: listener must be a function, got ${describe(listener)}`);
    const map = this.maps[kind];
    const keys = names === undefined ? [...map.keys()] : list(names, `${what}: channels`).map(pubSubKey);
    const gone = [];
    for (const key of keys) {
      const entry = map.get(key);
      if (!entry) continue;
      if (listener === undefined) {
        this.bufferListeners -= entry.buffers.size;
        entry.strings.clear();
        entry.buffers.clear();
      } else if (bufferMode ? entry.buffers.delete(listener) : entry.strings.delete(listener)) {
        if (bufferMode) this.bufferListeners--;
      }
      if (entry.strings.size + entry.buffers.size === 0) {
        map.delete(key);
        gone.push(entry.buf);
      }
    }
    if (gone.length === 0 || !this.native) return;
    const native = this.native;
    if (!this.active) {
      // Nothing left: the connection goes (its pending read ends, so an idle process can exit).
      this.close();
      return;
    }
    const failure = await native.change(UNSUBSCRIBE[kind], gone);
    if (failure !== null) throw toError(failure);
  }

  _forget(map, key) {
    const entry = map.get(key);
    if (!entry) return;
    this.bufferListeners -= entry.buffers.size;
    map.delete(key);
  }

  _closeIfIdle() {
    if (!this.active && this.native) this.close();
  }

  /** Reads events until the native subscriber is closed, handing each to its listeners. */
  async _pump(native) {
    for (;;) {
      const buffers = this.bufferListeners > 0;
      const batch = await native.next(1024, buffers);
      if (this.native !== native) return;
      if (batch instanceof Error) {
        this.client.emit('error', toError(batch));
        return;
      }
      // [kinds, …fields]: a letter per event, its fields in order (see the addon's Events).
      const kinds = batch[0];
      let j = 1;
      for (let k = 0; k < kinds.length; k++) {
        const kind = kinds.charCodeAt(k);
        if (kind === 109 /* m */ || kind === 115 /* s */) {
          const entry = (kind === 109 ? this.maps.subscribe : this.maps.ssubscribe).get(batch[j]);
          if (entry) this._deliver(entry, batch[j + 1], buffers, entry.name, entry.buf);
          j += 2;
        } else if (kind === 112 /* p */) {
          const entry = this.maps.psubscribe.get(batch[j + 2]);
          if (entry) {
            const channel = batch[j];
            this._deliver(entry, batch[j + 1], buffers, entry.strings.size ? fromLatin1(channel, false) : null, entry.buffers.size ? fromLatin1(channel, true) : null);
          }
          j += 3;
        } else {
          this.client.emit('pubsub-gap', { cause: batch[j], dropped: batch[j + 1] });
          j += 2;
        }
      }
    }
  }

  _deliver(entry, payload, buffers, channel, channelBuffer) {
    if (entry.strings.size) {
      const message = buffers ? payload.toString() : payload;
      for (const listener of entry.strings) this._call(listener, message, channel);
    }
    if (entry.buffers.size) {
      // A buffer listener added while a batch of strings was read gets that batch re-encoded.
      const message = buffers ? payload : Buffer.from(payload);
      for (const listener of entry.buffers) this._call(listener, message, channelBuffer);
    }
  }

  /** A listener that throws does not stop delivery; its error goes to the client's 'error' event. */
  _call(listener, message, channel) {
    try {
      listener(message, channel);
    } catch (e) {
      process.nextTick(() => this.client.emit('error', e));
    }
  }

  close() {
    const native = this.native;
    this.native = null;
    for (const map of Object.values(this.maps)) map.clear();
    this.bufferListeners = 0;
    if (native) native.close();
  }
}

/** node-redis's PUBSUB_TYPE: the kinds of subscription its listener accessors take. */
const PUBSUB_TYPE = Object.freeze({ CHANNELS: 'CHANNELS', PATTERNS: 'PATTERNS', SHARDED: 'SHARDED' });
const PUBSUB_KIND = { CHANNELS: 'subscribe', PATTERNS: 'psubscribe', SHARDED: 'ssubscribe' };

function pubSubKind(type, what) {
  if (!Object.prototype.hasOwnProperty.call(PUBSUB_KIND, type)) throw new TypeError(`${what}: type must be 'CHANNELS', 'PATTERNS' or 'SHARDED' (PUBSUB_TYPE), got ${describe(type)}`);
  return PUBSUB_KIND[type];
}

const PUBSUB_METHODS = {
  /** node-redis's SUBSCRIBE: `listener(message, channel)` for each message on these channels. */
  subscribe: ['subscribe', true],
  unsubscribe: ['subscribe', false],
  /** PSUBSCRIBE: `listener(message, channel)` for each message on a channel matching these patterns. */
  pSubscribe: ['psubscribe', true],
  pUnsubscribe: ['psubscribe', false],
  /** SSUBSCRIBE: shard channels (SPUBLISH). */
  sSubscribe: ['ssubscribe', true],
  sUnsubscribe: ['ssubscribe', false],
};
for (const [name, [kind, on]] of Object.entries(PUBSUB_METHODS)) {
  const method = {
    [name](channels, listener, bufferMode = false) {
      const self = this._self;
      try {
        self._client();
      } catch (e) {
        return Promise.reject(e);
      }
      if (!self._pubsub) self._pubsub = new PubSub(self);
      return on
        ? self._pubsub.add(kind, name, channels, listener, Boolean(bufferMode))
        : self._pubsub.remove(kind, name, channels, listener, Boolean(bufferMode));
    },
  }[name];
  for (const n of [name, name.toUpperCase()]) {
    Object.defineProperty(RedisClient.prototype, n, { value: method, writable: true, configurable: true });
  }
}

Object.defineProperty(RedisClient.prototype, 'isPubSubActive', {
  get() {
    return Boolean(this._self._pubsub && this._self._pubsub.active);
  },
  configurable: true,
});

// The methods above that node-redis also offers in capitals.
for (const name of ['auth', 'select', 'clientSetName', 'monitor']) {
  Object.defineProperty(RedisClient.prototype, name.toUpperCase(), { value: RedisClient.prototype[name], writable: true, configurable: true });
}
installCommands(RedisClient.prototype);

/**
 * A pipeline whose arguments are all strings as one string (per command `argc*`, or
 * `argc#` for a reply in normal form; per argument `length:` then the argument), so it
 * crosses into the addon in one call instead of one per argument; null when an argument
 * is a Buffer.
 */
function pack(cmds, normal) {
  let s = '';
  for (let i = 0; i < cmds.length; i++) {
    const args = cmds[i];
    s += args.length + (normal[i] ? '#' : '*');
    for (const a of args) {
      if (typeof a !== 'string') return null;
      s += a.length + ':' + a;
    }
  }
  return s;
}

/** A queue of commands for `exec()` (MULTI/EXEC) or `execAsPipeline()`. */
class Multi {
  constructor(client) {
    this._client = client;
    this._queue = [];
    // The scripts queued here so far, by SHA1.
    this._scripts = new Set();
    if (client._programs.scripts.length || client._programs.libraries.length) attachPrograms(this, client._programs);
  }

  /**
   * A script queued as node-redis queues it: its first use in this queue sends the body
   * (EVAL), later ones EVALSHA (the server has it by then). A pipeline cannot resend one
   * of its commands, so the core's EVALSHA-then-EVAL is for single calls.
   */
  _script(entry, args, resp) {
    const call = scriptCall(entry, args, resp);
    const sha = entry.native.sha1;
    if (!this._scripts.has(sha)) {
      this._scripts.add(sha);
      return this._run(evalBody(entry, call), call.shape);
    }
    const head = [entry.def.IS_READ_ONLY ? 'EVALSHA_RO' : 'EVALSHA', sha, String(call.keys.length)];
    return this._run([...head, ...call.keys, ...call.rest], call.shape);
  }

  _function(entry, args, resp) {
    const [argv, shape] = functionCall(entry, args, resp);
    return this._run(argv, shape);
  }

  _run(args, shape, normal = false) {
    this._queue.push([args, shape, normal]);
    return this;
  }

  _fail(e) {
    throw e;
  }

  _replyOptions() {
    return this._client._replyOptions();
  }

  addCommand(args) {
    this._queue.push([args.map((a, i) => arg(a, `args[${i}]`)), nestedErrors, false]);
    return this;
  }

  _send(transaction) {
    // node-redis's tracing channels, only while someone subscribes: `node-redis:batch`
    // for the whole, and for a pipeline `node-redis:command` for each of its commands.
    const each = !transaction && observability.commandChannel.hasSubscribers;
    const run = () => this._sendUntraced(transaction, each ? observability.traceEach(this._client, this._queue.map(([a]) => a)) : undefined);
    if (observability.batchChannel.hasSubscribers) return observability.traceBatch(this._client, transaction, this._queue.length, run);
    return run();
  }

  /** `each`: per-command traces to settle with the slots (see observability.traceEach). */
  async _sendUntraced(transaction, each) {
    const queue = this._queue;
    this._queue = [];
    const client = this._client;
    let reply;
    try {
      const target = client._pinned || client._client();
      const cmds = queue.map(([a]) => a);
      const normal = queue.map(([, , n]) => n);
      if (client._pinned) {
        try {
          reply = await target.pipeline(cmds, transaction, client._buffers, normal);
        } finally {
          if (transaction) client._endWatch();
        }
      } else {
        const packed = pack(cmds, normal);
        reply = await (packed === null
          ? client._submit(undefined, false, SUBMIT_PIPELINE, target, cmds, transaction, normal)
          : client._submit(undefined, false, SUBMIT_PACKED, target, packed, transaction));
      }
      if (reply instanceof Error) throw toError(reply);
    } catch (e) {
      if (each) each.fail(e);
      throw e;
    }
    const errorIndexes = [];
    const out = reply.map((slot, i) => {
      if (slot instanceof Error) {
        errorIndexes.push(i);
        return toError(slot);
      }
      return queue[i][1] ? queue[i][1](slot) : slot;
    });
    if (each) each.settle(out);
    // As node-redis: exec() rejects with every slot attached, execAsPipeline() with the first error.
    if (errorIndexes.length) throw transaction ? new MultiErrorReply(out, errorIndexes) : out[errorIndexes[0]];
    return out;
  }

  /** MULTI … EXEC: all or nothing; rejects with WatchError when a watched key changed. */
  exec() {
    const client = this._client;
    if (client._dirtyWatch !== undefined) {
      const why = client._dirtyWatch;
      this._queue = [];
      client._endWatch();
      return Promise.reject(new WatchError(why, 'WATCH'));
    }
    return this._send(true);
  }

  /** The queued commands as one pipeline (no MULTI). */
  execAsPipeline() {
    return this._send(false);
  }
}
installCommands(Multi.prototype);

// ---- legacy (node-redis's legacy(): the v3 callback interface) --------------------------

/** v3 arguments: arrays flattened, numbers and Dates as their text. */
function legacyArgs(out, args) {
  for (const a of args) {
    if (Array.isArray(a)) legacyArgs(out, a);
    else out.push(typeof a === 'number' || a instanceof Date ? a.toString() : a);
  }
  return out;
}

/** `args` and the callback that may end them. */
function legacySplit(args) {
  return typeof args[args.length - 1] === 'function' ? [args.slice(0, -1), args[args.length - 1]] : [args, undefined];
}

/** Settles `callback(err, reply)` from `promise`; without a callback a failure is `client`'s 'error' event. */
function legacyDone(client, promise, callback) {
  if (callback === undefined) promise.catch((e) => client.emit('error', e));
  else promise.then((reply) => callback(null, reply), (e) => callback(e));
}

/** The reply conversions node-redis's legacy interface keeps (HGETALL's object). */
const LEGACY_SHAPES = { HGETALL: pairsToObject };

class RedisLegacyClient {
  constructor(client) {
    Object.defineProperty(this, '_client', { value: client });
  }

  /** Any command: its words and arguments (arrays flattened), then an optional callback. */
  sendCommand(...args) {
    const [rest, callback] = legacySplit(args);
    legacyDone(this._client, this._client.sendCommand(legacyArgs([], rest)), callback);
  }

  quit(callback) {
    legacyDone(this._client, this._client.quit(), callback);
  }

  multi() {
    return new RedisLegacyMulti(this._client);
  }
}

class RedisLegacyMulti {
  constructor(client) {
    Object.defineProperty(this, '_client', { value: client });
    Object.defineProperty(this, '_multi', { value: client.multi() });
  }

  _add(args, shape) {
    this._multi._run(args.map((a, i) => arg(a, `args[${i}]`)), shape);
    return this;
  }

  sendCommand(...args) {
    return this._add(legacyArgs([], args));
  }

  /** MULTI … EXEC; `callback(err, replies)`. */
  exec(callback) {
    legacyDone(this._client, this._multi.exec(), callback);
  }
}

for (const name of Object.keys({ ...COMMANDS, ...UPPER })) {
  const shape = LEGACY_SHAPES[name.toUpperCase()];
  Object.defineProperty(RedisLegacyClient.prototype, name, {
    value: function (...args) {
      const [rest, callback] = legacySplit(args);
      const reply = this._client.sendCommand(legacyArgs([name], rest));
      legacyDone(this._client, shape ? reply.then(shape) : reply, callback);
    },
    writable: true,
    configurable: true,
  });
  Object.defineProperty(RedisLegacyMulti.prototype, name, {
    value: function (...args) {
      return this._add(legacyArgs([name], args), shape);
    },
    writable: true,
    configurable: true,
  });
}

// ---- pool (node-redis's createClientPool) ---------------------------------------------

/** A whole number of at least `least`, or a TypeError naming `what`. */
function count(v, what, least) {
  if (!Number.isInteger(v) || v < least) throw new TypeError(`${what} must be a whole number of at least ${least}, got ${describe(v)}`);
  return v;
}

/** A number of milliseconds, 0 or more, or a TypeError naming `what`. */
function millis(v, what) {
  if (typeof v !== 'number' || !(v >= 0) || v === Infinity) throw new TypeError(`${what} must be a number of milliseconds (0 or more), got ${describe(v)}`);
  return v;
}

/**
 * node-redis's pool options → the client options they stand for (conversion only; the
 * pool itself is the core's): `maximum` bounds the dedicated connections
 * (maxConnections), `acquireTimeout` is how long execute() waits for one (poolTimeout;
 * 0, node-redis's "no limit", leaves the core's bound), `cleanupDelay` is how long one may
 * stay idle (idleTimeout). `minimum` is checked only: the core opens connections on demand.
 */
function poolClientOptions(clientOptions, options) {
  if (clientOptions === null || typeof clientOptions !== 'object') throw new TypeError(`createClientPool: clientOptions must be an object, got ${describe(clientOptions)}`);
  if (options === null || typeof options !== 'object') throw new TypeError(`createClientPool: options must be an object, got ${describe(options)}`);
  const out = { ...clientOptions };
  const min = options.minimum === undefined ? 1 : count(options.minimum, 'createClientPool: options.minimum', 1);
  if (options.maximum !== undefined) {
    out.maxConnections = count(options.maximum, 'createClientPool: options.maximum', 1);
    if (out.maxConnections < min) throw new TypeError('createClientPool: options.maximum must be at least options.minimum');
  }
  if (options.acquireTimeout !== undefined && millis(options.acquireTimeout, 'createClientPool: options.acquireTimeout') > 0) out.poolTimeout = options.acquireTimeout;
  if (options.cleanupDelay !== undefined && millis(options.cleanupDelay, 'createClientPool: options.cleanupDelay') > 0) out.idleTimeout = options.cleanupDelay;
  if (options.clientSideCache !== undefined) out.clientSideCache = options.clientSideCache;
  return out;
}

function poolClosed() {
  return new ConnectionError('The pool is closed', 'CONNECTION');
}

/**
 * node-redis's RedisClientPool over the core's connections: commands called on the pool
 * share one auto-pipelined connection (blocking commands and WATCH take a dedicated one,
 * as on a client), and `execute(fn)` hands `fn` an isolated client on a dedicated
 * connection of the core's bounded pool for as long as `fn` runs.
 */
class RedisClientPool extends EventEmitter {
  constructor(clientOptions = {}, options = {}) {
    super();
    this._inner = new RedisClient(poolClientOptions(clientOptions, options));
    this._self = this;
    this._programs = this._inner._programs;
    this._tasks = new Set();
    this._closing = null;
    attachPrograms(this, this._programs);
  }

  /** What util.inspect shows: never the client options (see RedisClient's). */
  [inspect.custom]() {
    return `RedisClientPool { isOpen: ${Boolean(this._inner._self._open)} }`;
  }

  /** Connects (resolves with the pool; nothing when it is open already). */
  async connect() {
    if (this._inner.isOpen) return undefined;
    await this._inner.connect();
    return this;
  }

  /** Open: connected and not closed (closing included, as node-redis's). */
  get isOpen() {
    return this._inner.isOpen;
  }

  /** close() was called and the tasks it waits for are still running. */
  get isClosing() {
    return this._self._closing !== null;
  }

  _pool(counter) {
    const native = this._inner._self._native;
    return native ? native.stats()[counter] || 0 : 0;
  }

  /** Dedicated connections open and idle. */
  get idleClients() {
    return this._pool('pool_idle');
  }

  /** Dedicated connections in use (execute() tasks, blocking commands, WATCH). */
  get clientsInUse() {
    return this._pool('pool_in_use');
  }

  /** Dedicated connections open. */
  get totalClients() {
    return this._pool('pool_size');
  }

  /** Tasks waiting for a dedicated connection. */
  get tasksQueueLength() {
    return this._pool('pool_waiting');
  }

  /** The client-side cache (`clientSideCache` in the options): `clear()` and `stats()`. */
  get clientSideCache() {
    return this._inner.clientSideCache;
  }

  /** The core's counters, as a client's stats(). */
  stats() {
    return this._inner.stats();
  }

  _run(args, shape, normal = false) {
    return this._self._closing ? Promise.reject(poolClosed()) : this._inner._run(args, shape, normal);
  }

  _fail(e) {
    return Promise.reject(e);
  }

  _replyOptions() {
    return this._inner._replyOptions();
  }

  _script(entry, args, resp) {
    return this._self._closing ? Promise.reject(poolClosed()) : this._inner._script(entry, args, resp);
  }

  _function(entry, args, resp) {
    return this._self._closing ? Promise.reject(poolClosed()) : this._inner._function(entry, args, resp);
  }

  /** Any command as an array of strings/Buffers; the raw reply. */
  sendCommand(args) {
    return this._self._closing ? Promise.reject(poolClosed()) : this._inner.sendCommand(args);
  }

  /** MULTI/EXEC or a pipeline of queued commands, as a client's multi(). */
  multi() {
    return this._inner.multi();
  }

  MULTI() {
    return this.multi();
  }

  /**
   * Runs `fn(client)` with an isolated client on a dedicated connection, returned to the
   * pool when `fn` (or the promise it returns) ends; resolves with what `fn` gives.
   * Waiting for a connection longer than acquireTimeout rejects with PoolTimeoutError.
   */
  execute(fn) {
    if (typeof fn !== 'function') return Promise.reject(new TypeError(`execute: fn must be a function, got ${describe(fn)}`));
    const self = this._self;
    if (self._closing || !this.isOpen) return Promise.reject(poolClosed());
    const task = this._inner.executeIsolated(fn);
    self._tasks.add(task);
    const done = () => self._tasks.delete(task);
    task.then(done, done);
    return task;
  }

  /** A pool sharing this one's connections whose commands take these options (see RedisClient.withCommandOptions). */
  withCommandOptions(options) {
    const twin = Object.create(this);
    twin._inner = this._inner.withCommandOptions(options);
    return twin;
  }

  /** A pool sharing this one's connections, with reply types mapped (Buffers for strings). */
  withTypeMapping(mapping) {
    return this.withCommandOptions({ typeMapping: mapping });
  }

  /** A pool sharing this one's connections whose commands reject with AbortError once `signal` fires. */
  withAbortSignal(signal) {
    return this.withCommandOptions({ abortSignal: signal });
  }

  /** Accepted for node-redis compatibility: every command is sent as soon as it is submitted. */
  asap() {
    return this.withCommandOptions({ asap: true });
  }

  /** Waits for the running execute() tasks (new ones and commands are refused meanwhile), then closes every connection. */
  close() {
    const self = this._self;
    if (!self._closing) {
      self._closing = Promise.allSettled([...self._tasks])
        .then(() => self._inner.close())
        .finally(() => {
          self._closing = null;
        });
    }
    return self._closing;
  }

  /** Closes every connection at once; running tasks' commands fail. */
  destroy() {
    this._self._inner.destroy();
  }
}
installCommands(RedisClientPool.prototype);

/**
 * node-redis's createClientPool(clientOptions, poolOptions): a RedisClientPool, not yet
 * connected.
 */
function createClientPool(clientOptions, options) {
  return new RedisClientPool(clientOptions, options);
}

/** node-redis's createClient. */
function createClient(options) {
  return new RedisClient(options);
}

/**
 * A Redis Cluster client: node-redis's createCluster. The same commands as a client; the
 * core routes each to the node serving its slot (MOVED/ASK followed, topology refreshed),
 * splits multi-key commands across slots, runs pipelines across nodes with replies in
 * order, and walks every primary in scanIterator.
 */
class RedisCluster extends RedisClient {
  constructor(options = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError(`createCluster options must be an object, got ${describe(options)}`);
    const roots = options.rootNodes;
    if (!Array.isArray(roots) || roots.length === 0) throw new TypeError('createCluster: rootNodes must be a non-empty array of { url } (or { socket: { host, port } })');
    const seeds = roots.map((n, i) => {
      if (n === null || typeof n !== 'object') throw new TypeError(`rootNodes[${i}] must be an object, got ${describe(n)}`);
      if (n.url !== undefined) {
        if (typeof n.url !== 'string') throw new TypeError(`rootNodes[${i}].url must be a string, got ${describe(n.url)}`);
        return n.url;
      }
      if (n.socket && n.socket.host !== undefined) return `redis://${n.socket.host}:${n.socket.port || 6379}`;
      throw new TypeError(`rootNodes[${i}] needs a url or socket.host`);
    });
    const defaults = options.defaults || {};
    const csc = options.clientSideCache === undefined ? {} : { clientSideCache: options.clientSideCache };
    const programs = { scripts: options.scripts, functions: options.functions };
    super({ ...defaults, ...csc, ...programs, url: seeds[0], socket: { ...(defaults.socket || {}), ...(roots[0].socket || {}) } });
    this.options = options;
    const more = seeds.slice(1).map((u) => {
      const { hostname, port } = new URL(u);
      return `${hostname}:${port || 6379}`;
    });
    this._options.push(['cluster', 'true']);
    if (more.length) this._options.push(['cluster_nodes', more.join(',')]);
    if (options.useReplicas) this._options.push(['read_from_replicas', 'true']);
  }

  /** Not on a cluster (node-redis's cluster has no pools either): the cluster client routes to every node itself. */
  createPool() {
    throw new TypeError('createPool: a cluster client has no pools; use the cluster client itself');
  }
}

/**
 * A client of the primary (or, with `role: 'replica'`, a replica) of a Redis Sentinel
 * deployment: node-redis's createSentinel. The core finds the node, checks its role and
 * follows failovers as the sentinels announce them (docs/architecture.md, "Sentinel");
 * the commands are a client's.
 */
class RedisSentinel extends RedisClient {
  constructor(options = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError(`createSentinel options must be an object, got ${describe(options)}`);
    if (typeof options.name !== 'string' || options.name === '') throw new TypeError('createSentinel: name must be the service name the sentinels monitor (a non-empty string)');
    const roots = options.sentinelRootNodes;
    if (!Array.isArray(roots) || roots.length === 0) throw new TypeError('createSentinel: sentinelRootNodes must be a non-empty array of { host, port }');
    const sentinels = roots.map((n, i) => {
      if (n === null || typeof n !== 'object' || typeof n.host !== 'string') throw new TypeError(`sentinelRootNodes[${i}] must be { host, port }, got ${describe(n)}`);
      return `${n.host}:${count(n.port === undefined ? 26379 : n.port, `sentinelRootNodes[${i}].port`, 1)}`;
    });
    const role = options.role === undefined ? 'master' : options.role;
    if (role !== 'master' && role !== 'replica') throw new TypeError(`createSentinel: role must be 'master' or 'replica', got ${describe(role)}`);
    const node = options.nodeClientOptions || {};
    const own = options.sentinelClientOptions || {};
    super({ ...node });
    this.options = options;
    this._options.push(['sentinels', sentinels.join(',')], ['sentinel_service', options.name], ['sentinel_role', role]);
    if (own.username !== undefined) this._options.push(['sentinel_username', String(own.username)]);
    if (own.password !== undefined) this._options.push(['sentinel_password', String(own.password)]);
    // The sentinels' TLS (socket.tls, ca, cert, key, rejectUnauthorized), read as a
    // client's socket options are and named as the sentinels' own.
    if (own.socket !== undefined) {
      for (const [name, value] of nativeOptions({ socket: own.socket })[1]) {
        if (name.startsWith('tls')) this._options.push([`sentinel_${name}`, value]);
      }
    }
  }
}

/** node-redis's createSentinel({ name, sentinelRootNodes, nodeClientOptions, sentinelClientOptions }). */
function createSentinel(options) {
  return new RedisSentinel(options);
}

/** node-redis's createCluster({ rootNodes: [{ url }], defaults: {...}, useReplicas }). */
function createCluster(options) {
  return new RedisCluster(options);
}

module.exports = {
  createClient,
  createClientPool,
  RedisClientPool,
  defineScript,
  createCluster,
  RedisCluster,
  createSentinel,
  RedisSentinel,
  RedisClient,
  Multi,
  RESP_TYPES,
  PUBSUB_TYPE,
  RedisError,
  ConnectionError,
  TimeoutError,
  PoolTimeoutError,
  AuthenticationError,
  ResponseError,
  ErrorReply,
  SimpleError,
  BlobError,
  MultiErrorReply,
  WatchError,
  GuardError,
  ProtocolError,
  AbortError,
  OpenTelemetry: observability.OpenTelemetry,
  METRIC_GROUP: observability.METRIC_GROUP,
};
// For scripts/method-coverage.js: the command a table-built method sends for `args`
// (undefined for a method outside the table). Not part of the API.
Object.defineProperty(module.exports, '_commandArgs', {
  value: (method, args) => (Object.prototype.hasOwnProperty.call(COMMANDS, method) ? COMMANDS[method][0](...args) : undefined),
});

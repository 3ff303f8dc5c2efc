'use strict';
// Differential test: the same calls against node-redis (the `redis` package) and
// redbridge — every result and error class compared — under RESP2 and RESP3, each
// redbridge protocol against node-redis speaking the same one (node-redis 6.4's default
// is RESP3; under RESP2 some of its reply types differ, e.g. geoPos gives the server's text).
const { test } = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const nodeRedis = require('redis');
const redbridge = require('..');
const { sharedServer } = require('./support');

const FAR = Math.floor(Date.now() / 1000) + 10_000_000;
const sorted = (v) => (Array.isArray(v) ? [...v].sort() : v);
const positive = (v) => [typeof v, v > 0];
const page = (v) => [typeof v.cursor, Object.keys(v).sort(), JSON.stringify(Object.values(v)[1].map((x) => JSON.stringify(x)).sort())];

const keysOf = (v) => Object.keys(v).sort();
const COMPARE = { type: (v) => typeof v, sorted, length: (v) => [typeof v, v && v.length], keys: (v) => v && typeof v === 'object' ? keysOf(v) : v };
// Every spec/node.toml method's `examples` (spec/generate.py writes them), in spec order.
const SPEC = require('./spec-cases.generated.js').map(([method, args, compare]) => [method, args(), compare && COMPARE[compare]]);
const SCRIPT = 'return {KEYS[1], ARGV[1], 3}';
const SCRIPT_SHA = crypto.createHash('sha1').update(SCRIPT).digest('hex');
const LIB = "#!lua name=rbhand\nredis.register_function('rbh', function(keys, args) return {keys[1], args[1]} end)\n" +
  "redis.register_function{function_name='rbhro', callback=function() return 7 end, flags={'no-writes'}}";

// The hand-written methods of #16 (irregular arguments or replies), with the state they need.
const HAND = [
  // sorted sets
  ['zAdd', ['zu1', [{ score: 1, value: 'a' }, { score: 2, value: 'b' }]]],
  ['zAdd', ['zu2', [{ score: 10, value: 'b' }, { score: 20, value: 'c' }]]],
  ['zAddIncr', ['zu1', { score: 1.5, value: 'a' }]],
  ['zAddIncr', ['zu1', { score: 1, value: 'new' }, { condition: 'XX' }]],
  ['zAddIncr', ['zu1', { score: 2, value: 'b' }, { comparison: 'GT', CH: true }]],
  ['zUnion', [['zu1', 'zu2']]],
  ['zUnion', ['zu1', { AGGREGATE: 'MAX' }]],
  ['zUnionWithScores', [[{ key: 'zu1', weight: 2 }, { key: 'zu2', weight: 0.5 }]]],
  ['zUnionStore', ['zu3', ['zu1', 'zu2'], { AGGREGATE: 'SUM' }]],
  ['zInter', [['zu1', 'zu2']]],
  ['zInterWithScores', [['zu1', 'zu2'], { AGGREGATE: 'MIN' }]],
  ['zInterStore', ['zu4', [{ key: 'zu1', weight: 3 }, { key: 'zu2', weight: 1 }]]],
  ['zInterCard', [['zu1', 'zu2']]],
  ['zInterCard', [['zu1', 'zu3'], { LIMIT: 1 }]],
  ['zRangeStore', ['zu5', 'zu3', 0, -1]],
  ['zRangeStore', ['zu5', 'zu3', 0, 100, { BY: 'SCORE', REV: false, LIMIT: { offset: 0, count: 1 } }]],
  ['zmPop', ['zu3', 'MIN']],
  ['zmPop', [['nope', 'zu3'], 'MAX', { COUNT: 5 }]],
  ['zmPop', ['nope', 'MIN']],
  ['bzmPop', [1, 'zu4', 'MAX']],
  ['bzmPop', [0.1, ['nope'], 'MIN', { COUNT: 2 }]],
  ['zAdd', ['zu1', { score: 1, value: 'x' }]],
  ['zPopMax', ['zu1']],
  ['zPopMinCount', ['zu2', 5]],
  ['zPopMax', ['nope']],
  ['zUnion', ['k']],
  // strings and keys
  ['pSetEx', ['pse', 100000, 'v']],
  ['pTTL', ['pse'], positive],
  ['pExpireAt', ['pse', FAR * 1000]],
  ['pExpireAt', ['pse', new Date(FAR * 1000), 'XX']],
  ['pExpireAt', ['nope', FAR * 1000]],
  ['ttl', ['pse'], positive],
  // lists and sets
  ['rPush', ['ml', ['a', 'b', 'c']]],
  ['lmPop', [['nope', 'ml'], 'LEFT']],
  ['lmPop', ['ml', 'RIGHT', { COUNT: 5 }]],
  ['lmPop', ['nope', 'RIGHT']],
  ['rPush', ['ml', ['d', 'e']]],
  ['blmPop', [1, 'ml', 'LEFT', { COUNT: 1 }]],
  ['blmPop', [0.1, ['nope'], 'RIGHT']],
  ['sAdd', ['si1', ['a', 'b', 'c']]],
  ['sAdd', ['si2', ['b', 'c']]],
  ['sInterCard', [['si1', 'si2']]],
  ['sInterCard', [['si1', 'si2'], 1]],
  ['sInterCard', [['si1', 'si2'], { LIMIT: 1 }]],
  ['hSet', ['hnv', { a: '1' }]],
  ['hScanNoValues', ['hnv', '0']],
  // sort
  ['rPush', ['sl', ['3', '1', '2']]],
  ['sort', ['sl']],
  ['sort', ['sl', { DIRECTION: 'DESC', LIMIT: { offset: 0, count: 2 } }]],
  ['sort', ['sl', { BY: 'nosort', GET: ['#', 'w_*'], ALPHA: true }]],
  ['sortRo', ['sl', { ALPHA: true }]],
  ['sortStore', ['sl', 'sld', { DIRECTION: 'DESC' }]],
  ['sort', ['k']],
  // bitfield
  ['bitField', ['bf', [{ operation: 'SET', encoding: 'u8', offset: 0, value: 200 }, { operation: 'OVERFLOW', behavior: 'SAT' }, { operation: 'INCRBY', encoding: 'u8', offset: 0, increment: 100 }, { operation: 'GET', encoding: 'u8', offset: 0 }]]],
  ['bitFieldRo', ['bf', [{ encoding: 'u8', offset: 0 }, { encoding: 'i4', offset: 4 }]]],
  ['bitField', ['k', [{ operation: 'GET', encoding: 'x9', offset: 0 }]]],
  // scripts and functions
  ['eval', [SCRIPT, { keys: ['ek'], arguments: ['a'] }]],
  ['eval', ['return 1']],
  ['eval', ['return redis.call("INCR", KEYS[1])', { keys: ['k'] }]],
  ['evalRo', ['return redis.call("GET", KEYS[1])', { keys: ['k'] }]],
  ['evalRo', ['return redis.call("SET", KEYS[1], "x")', { keys: ['k'] }]],
  ['evalSha', [SCRIPT_SHA, { keys: ['ek'], arguments: ['b'] }]],
  ['evalShaRo', [SCRIPT_SHA, { keys: ['ek'], arguments: ['c'] }]],
  ['evalSha', ['ffffffffffffffffffffffffffffffffffffffff']],
  ['functionLoad', [LIB, { REPLACE: true }]],
  ['fCall', ['rbh', { keys: ['fk'], arguments: ['fa'] }]],
  ['fCallRo', ['rbhro']],
  ['fCallRo', ['rbh', { keys: ['fk'], arguments: ['fa'] }]],
  ['fCall', ['nosuchfunction']],
  ['functionDelete', ['rbhand']],
  // geo
  ['geoAdd', ['g2', [{ longitude: 13.361389, latitude: 38.115556, member: 'Palermo' }, { longitude: 15.087269, latitude: 37.502669, member: 'Catania' }]]],
  ['geoAdd', ['g2', { longitude: 2.349014, latitude: 48.864716, member: 'Paris' }, { NX: true, CH: true }]],
  ['geoAdd', ['g2', { longitude: 2.35, latitude: 48.86, member: 'Paris' }, { XX: true, CH: true }]],
  ['geoSearch', ['g2', 'Palermo', { radius: 200, unit: 'km' }]],
  ['geoSearch', ['g2', { longitude: 15, latitude: 37 }, { width: 400, height: 400, unit: 'km' }, { SORT: 'ASC', COUNT: 1 }]],
  ['geoSearch', ['g2', 'Palermo', { radius: 5000, unit: 'km' }, { SORT: 'DESC', COUNT: { value: 2, ANY: true } }], sorted],
  ['geoSearchWith', ['g2', 'Palermo', { radius: 200, unit: 'km' }, ['WITHDIST', 'WITHCOORD', 'WITHHASH'], { SORT: 'ASC' }]],
  ['geoSearchWith', ['g2', 'Catania', { radius: 200, unit: 'km' }, ['WITHCOORD'], { SORT: 'ASC' }]],
  ['geoSearchStore', ['g3', 'g2', 'Palermo', { radius: 200, unit: 'km' }]],
  ['geoSearchStore', ['g4', 'g2', 'Palermo', { radius: 200, unit: 'km' }, { STOREDIST: true }]],
  ['geoRadius', ['g2', { longitude: 15, latitude: 37 }, 200, 'km', { SORT: 'ASC' }]],
  ['geoRadiusRo', ['g2', { longitude: 15, latitude: 37 }, 200, 'km']],
  ['geoRadiusWith', ['g2', { longitude: 15, latitude: 37 }, 200, 'km', ['WITHDIST'], { SORT: 'ASC' }]],
  ['geoRadiusRoWith', ['g2', { longitude: 15, latitude: 37 }, 200, 'km', ['WITHHASH', 'WITHCOORD'], { SORT: 'ASC', COUNT: 1 }]],
  ['geoRadiusStore', ['g2', { longitude: 15, latitude: 37 }, 200, 'km', 'g5']],
  ['geoRadiusByMember', ['g2', 'Palermo', 200, 'km', { SORT: 'ASC' }]],
  ['geoRadiusByMemberRo', ['g2', 'Palermo', 200, 'km']],
  ['geoRadiusByMemberWith', ['g2', 'Palermo', 200, 'km', ['WITHDIST', 'WITHCOORD'], { SORT: 'ASC' }]],
  ['geoRadiusByMemberRoWith', ['g2', 'Catania', 200, 'km', ['WITHDIST'], { SORT: 'DESC' }]],
  ['geoRadiusByMemberStore', ['g2', 'Palermo', 200, 'km', 'g6', { STOREDIST: true }]],
  ['geoRadiusByMember', ['g2', 'nope', 200, 'km']],
  // streams
  ['xAdd', ['xs', '1-1', { f: 'v', g: 'w' }]],
  ['xAdd', ['xs', '2-1', { f: 'v2' }, { TRIM: { strategy: 'MAXLEN', threshold: 100 } }]],
  ['xAdd', ['xs', '3-1', { f: 'v3' }, { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: 1000, limit: 10 } }]],
  ['xAdd', ['xs', '1-0', { f: 'old' }]],
  ['xAddNoMkStream', ['nostream', '*', { f: 'v' }]],
  ['xAddNoMkStream', ['xs', '4-1', { f: 'v4' }]],
  ['xRange', ['xs', '-', '+']],
  ['xRange', ['xs', '2', '+', { COUNT: 1 }]],
  ['xRevRange', ['xs', '+', '-', { COUNT: 2 }]],
  ['xRange', ['nope', '-', '+']],
  ['xRead', [{ key: 'xs', id: '0' }]],
  ['xRead', [[{ key: 'xs', id: '2-1' }, { key: 'nope', id: '0' }], { COUNT: 1 }]],
  ['xRead', [{ key: 'xs', id: '$' }, { BLOCK: 10 }]],
  ['xGroupCreate', ['xs', 'xg', '0']],
  ['xReadGroup', ['xg', 'c1', { key: 'xs', id: '>' }, { COUNT: 2 }]],
  ['xReadGroup', ['xg', 'c2', [{ key: 'xs', id: '>' }], { NOACK: false }]],
  ['xReadGroup', ['xg', 'c1', { key: 'xs', id: '0' }]],
  ['xReadGroup', ['nogroup', 'c1', { key: 'xs', id: '>' }]],
  ['xPending', ['xs', 'xg']],
  ['xPending', ['xs', 'nogroup']],
  ['xPendingRange', ['xs', 'xg', '-', '+', 10], (v) => v.map((p) => [p.id, p.consumer, typeof p.millisecondsSinceLastDelivery, p.deliveriesCounter])],
  ['xPendingRange', ['xs', 'xg', '-', '+', 10, { consumer: 'c2', IDLE: 0 }], (v) => v.map((p) => [p.id, p.consumer, typeof p.millisecondsSinceLastDelivery, p.deliveriesCounter])],
  ['xClaim', ['xs', 'xg', 'c3', 0, ['1-1', '2-1']]],
  ['xClaim', ['xs', 'xg', 'c3', 0, '3-1', { RETRYCOUNT: 5, FORCE: true }]],
  ['xClaimJustId', ['xs', 'xg', 'c1', 0, ['1-1', '9-9']]],
  ['xAutoClaim', ['xs', 'xg', 'c4', 0, '0-0', { COUNT: 2 }]],
  ['xAutoClaimJustId', ['xs', 'xg', 'c4', 0, '0-0']],
  ['xInfoStream', ['xs']],
  ['xInfoStream', ['nope']],
  ['xInfoGroups', ['xs'], (v) => v.map((g) => ({ ...g, lag: typeof g.lag }))],
  ['xInfoConsumers', ['xs', 'xg'], (v) => v.map((c) => ({ ...c, idle: typeof c.idle, inactive: typeof c.inactive }))],
  ['xTrim', ['xs', 'MAXLEN', 3]],
  ['xTrim', ['xs', 'MINID', 3, { strategyModifier: '~', LIMIT: 10 }]],
  ['xTrim', ['xs', 'NOSUCHSTRATEGY', 3]],
  // server
  ['configSet', ['hz', '10']],
  ['configSet', [{ hz: '10', 'maxmemory-samples': '5' }]],
  ['configSet', ['nosuchparameter', '1']],
  ['clientInfo', [], keysOf],
  ['clientList', [], (v) => [Array.isArray(v), keysOf(v[0])]],
  ['clientList', [{ TYPE: 'normal' }], (v) => [Array.isArray(v), keysOf(v[0])]],
  ['clientList', [{ ID: ['987654321'] }]],
  ['clientKill', [{ filter: 'ID', id: 987654321 }]],
  ['clientKill', [[{ filter: 'ADDR', address: '127.0.0.1:1' }, { filter: 'SKIPME', skipMe: true }]]],
  ['clientKill', [{ filter: 'MAXAGE', maxAge: 100000 }]],
  ['clientCaching', [true]],
  ['clientNoEvict', [false]],
  ['aclLog', []],
  ['aclLog', [1]],
  ['aclGetUser', ['default']],
  ['aclGetUser', ['nouser']],
  // connection state: redbridge reconnects with the new credentials, database or name
  ['sendCommand', [['ACL', 'SETUSER', 'rb-auth', 'on', '>pw', '~*', '&*', '+@all']]],
  ['auth', [{ username: 'rb-auth', password: 'pw' }]],
  ['sendCommand', [['ACL', 'WHOAMI']]],
  ['auth', [{ username: 'rb-auth', password: 'wrong' }]],
  ['sendCommand', [['ACL', 'WHOAMI']]],
  ['auth', [{ username: 'default', password: '' }]],
  ['select', [2]],
  ['dbSize', []],
  ['select', [0]],
  ['clientSetName', ['rb-diff']],
  ['clientGetName', []],
  ['role', [], (v) => [v.role, typeof v.replicationOffest, v.replicas]],
  ['clusterSlots', []],
  ['clusterAddSlotsRange', [{ start: 1, end: 2 }]],
  ['clusterDelSlotsRange', [[{ start: 1, end: 2 }, { start: 5, end: 6 }]]],
  ['commandGetKeysAndFlags', [['SET', 'a', 'b']]],
  ['commandGetKeysAndFlags', [['LMOVE', 'a', 'b', 'LEFT', 'RIGHT']]],
  ['latencyHistogram', ['set'], keysOf],
  ['latencyHistogram', ['get', 'nosuchcommand'], keysOf],
  ['latencyReset', []],
  ['latencyReset', ['command', 'fork']],
  ['migrate', ['127.0.0.1', 1, 'k', 0, 100]],
  ['migrate', ['127.0.0.1', 1, ['nope1', 'nope2'], 0, 100, { COPY: true, REPLACE: true }]],
];

// [method, args, normalise?]
const STEPS = [
  ['ping', []],
  ['echo', ['hi']],
  ['time', [], (v) => [Array.isArray(v), v.length, typeof v[0]]],
  ['info', [], (v) => [typeof v, v.includes('redis_version')]],
  ['info', ['server'], (v) => [typeof v, v.includes('redis_version')]],
  ['dbSize', []],
  ['set', ['k', 'v']],
  ['set', ['k', 'v2', { NX: true }]],
  ['set', ['k', 'v3', { XX: true, GET: true }]],
  ['set', ['ex', '1', { EX: 100 }]],
  ['ttl', ['ex']],
  ['set', ['px', '1', { PX: 100000 }]],
  ['pTTL', ['px'], positive],
  ['set', ['at', '1', { EXAT: FAR }]],
  ['set', ['pat', '1', { PXAT: FAR * 1000 }]],
  ['set', ['ex', '2', { KEEPTTL: true }]],
  ['set', ['cond', '1', { expiration: { type: 'EX', value: 50 }, condition: 'NX' }]],
  ['ttl', ['cond']],
  ['get', ['k']],
  ['get', ['missing']],
  ['mGet', [['k', 'missing']]],
  ['mSet', [{ a: '1', b: '2' }]],
  ['mSet', [[['c', '3'], ['d', '4']]]],
  ['mSetNX', [{ a: '1', e: '3' }]],
  ['setNX', ['a', '5']],
  ['setNX', ['f', '5']],
  ['setEx', ['se', 100, 'v']],
  ['getSet', ['a', 'new']],
  ['getDel', ['b']],
  ['getDel', ['b']],
  ['getEx', ['a', { EX: 50 }]],
  ['ttl', ['a']],
  ['getEx', ['a', { PERSIST: true }]],
  ['ttl', ['a']],
  ['incr', ['n']],
  ['incrBy', ['n', 5]],
  ['incrByFloat', ['fl', 1.5]],
  ['decr', ['n']],
  ['decrBy', ['n', 2]],
  ['append', ['s', 'abc']],
  ['strLen', ['s']],
  ['getRange', ['s', 1, 2]],
  ['setRange', ['s', 1, 'ZZ']],
  ['get', ['s']],
  ['incr', ['s']],
  ['set', ['num', 5]],
  ['get', ['num']],
  ['del', [['a', 'nope']]],
  ['del', ['c']],
  ['unlink', ['d']],
  ['exists', [['k', 'k', 'nope']]],
  ['exists', ['k']],
  ['expire', ['k', 100]],
  ['expire', ['k', 100, 'NX']],
  ['pExpire', ['k', 50000]],
  ['expireAt', ['k', FAR]],
  ['persist', ['k']],
  ['ttl', ['k']],
  ['type', ['k']],
  ['type', ['nope']],
  ['rename', ['k', 'k2']],
  ['renameNX', ['k2', 's']],
  ['renameNX', ['k2', 'k3']],
  ['rename', ['nope', 'x']],
  ['keys', ['k*'], sorted],
  ['scan', ['0', { MATCH: 'k*', COUNT: 1000 }], page],
  ['hSet', ['h', 'f', 'v']],
  ['hSet', ['h', { a: 1, b: '2' }]],
  ['hSet', ['h', new Map([['c', '3']])]],
  ['hSetNX', ['h', 'a', '9']],
  ['hSetNX', ['h', 'z', '9']],
  ['hGet', ['h', 'a']],
  ['hGet', ['h', 'nope']],
  ['hmGet', ['h', ['a', 'b', 'nope']]],
  ['hGetAll', ['h']],
  ['hGetAll', ['nope']],
  ['hDel', ['h', ['a', 'nope']]],
  ['hExists', ['h', 'b']],
  ['hIncrBy', ['h', 'n', 5]],
  ['hIncrByFloat', ['h', 'fl', 2.5]],
  ['hLen', ['h']],
  ['hKeys', ['h'], sorted],
  ['hVals', ['h'], sorted],
  ['hStrLen', ['h', 'b']],
  ['hScan', ['h', '0', { COUNT: 1000 }], page],
  ['lPush', ['l', ['a', 'b']]],
  ['rPush', ['l', 'c']],
  ['lPushX', ['nope', 'x']],
  ['rPushX', ['l', 'e']],
  ['lRange', ['l', 0, -1]],
  ['lLen', ['l']],
  ['lIndex', ['l', 1]],
  ['lIndex', ['l', 99]],
  ['lSet', ['l', 0, 'z']],
  ['lSet', ['l', 99, 'z']],
  ['lRem', ['l', 0, 'c']],
  ['lTrim', ['l', 0, 2]],
  ['lInsert', ['l', 'BEFORE', 'z', 'y']],
  ['lPos', ['l', 'a']],
  ['rPush', ['m', ['a', 'b', 'a']]],
  ['lPos', ['m', 'a', { RANK: 2 }]],
  ['lPosCount', ['m', 'a', 2]],
  ['lPos', ['m', 'zz']],
  ['lMove', ['l', 'l2', 'LEFT', 'RIGHT']],
  ['lPop', ['l']],
  ['lPopCount', ['m', 2]],
  ['rPop', ['l2']],
  ['rPopCount', ['m', 5]],
  ['rPop', ['nope']],
  ['rPush', ['q', ['1', '2', '3']]],
  ['blPop', [['nope', 'q'], 1]],
  ['brPop', ['q', 1]],
  ['blPop', ['empty', 0.1]],
  ['brPopLPush', ['q', 'q2', 1]],
  ['blMove', ['q2', 'q3', 'LEFT', 'RIGHT', 1]],
  ['lRange', ['q3', 0, -1]],
  ['sAdd', ['s1', ['a', 'b', 'c']]],
  ['sAdd', ['s2', ['b', 'c', 'd']]],
  ['sRem', ['s1', ['a', 'x']]],
  ['sMembers', ['s1'], sorted],
  ['sMembers', ['nope']],
  ['sIsMember', ['s1', 'b']],
  ['sIsMember', ['s1', 'z']],
  ['smIsMember', ['s1', ['b', 'z']]],
  ['sCard', ['s1']],
  ['sUnion', [['s1', 's2']], sorted],
  ['sInter', [['s1', 's2']], sorted],
  ['sDiff', [['s2', 's1']], sorted],
  ['sUnionStore', ['u', ['s1', 's2']]],
  ['sInterStore', ['i', ['s1', 's2']]],
  ['sDiffStore', ['d', ['s2', 's1']]],
  ['sMove', ['s1', 's3', 'b']],
  ['sMove', ['s1', 's3', 'zz']],
  ['sAdd', ['one', 'x']],
  ['sPop', ['one']],
  ['sPop', ['nope']],
  ['sAdd', ['one2', 'y']],
  ['sRandMember', ['one2']],
  ['sRandMemberCount', ['one2', 2]],
  ['sPopCount', ['one2', 1]],
  ['sScan', ['s2', '0', { COUNT: 100 }], page],
  ['zAdd', ['z', [{ score: 1, value: 'a' }, { score: 2, value: 'b' }, { score: 3, value: 'c' }]]],
  ['zAdd', ['z', { score: 5, value: 'a' }, { NX: true }]],
  ['zAdd', ['z', { score: 5, value: 'a' }, { XX: true, CH: true }]],
  ['zAdd', ['z', { score: 4, value: 'd' }, { GT: true }]],
  ['zRem', ['z', ['d', 'nope']]],
  ['zScore', ['z', 'a']],
  ['zScore', ['z', 'nope']],
  ['zmScore', ['z', ['a', 'nope']]],
  ['zIncrBy', ['z', 2.5, 'c']],
  ['zCard', ['z']],
  ['zCount', ['z', 0, 3]],
  ['zCount', ['z', '-inf', '+inf']],
  ['zRank', ['z', 'a']],
  ['zRank', ['z', 'nope']],
  ['zRevRank', ['z', 'a']],
  ['zRange', ['z', 0, -1]],
  ['zRange', ['z', 0, -1, { REV: true }]],
  ['zRange', ['z', 1, 5, { BY: 'SCORE' }]],
  ['zRange', ['z', '[a', '[z', { BY: 'LEX' }]],
  ['zRange', ['z', 0, 10, { BY: 'SCORE', LIMIT: { offset: 0, count: 2 } }]],
  ['zRangeWithScores', ['z', 0, -1]],
  ['zRangeByScore', ['z', 0, 10]],
  ['zRangeByScoreWithScores', ['z', '-inf', '+inf']],
  ['zScan', ['z', '0', { COUNT: 100 }], page],
  ['zRemRangeByRank', ['z', 0, 0]],
  ['zRemRangeByScore', ['z', 100, 200]],
  ['zAdd', ['z2', [{ score: 1, value: 'p' }, { score: 2, value: 'q' }, { score: 3, value: 'r' }]]],
  ['zPopMin', ['z2']],
  ['zPopMaxCount', ['z2', 1]],
  ['zPopMin', ['nope']],
  ['zAdd', ['bz', [{ score: 1, value: 'x' }, { score: 2, value: 'y' }]]],
  ['bzPopMin', ['bz', 1]],
  ['bzPopMax', [['nope', 'bz'], 1]],
  ['bzPopMax', [['nope', 'nope2'], 0.1]],
  ['zScore', ['h', 'x']],
  ['set', ['dk', '5']],
  ['expireAt', ['dk', FAR]],
  ['set', ['mv', '1']],
  ['get', ['mv']],
  ['del', ['mv']],
  ['get', ['dk']],
  // state the spec's examples (spec/node.toml) use
  ['set', ['b1', 'foo']],
  ['set', ['b2', 'bar']],
  ['get', ['bdest']],
  ['set', ['l1', 'ohmytext']],
  ['set', ['l2', 'mynewtext']],
  ['hSet', ['hr', 'only', 'v']],
  ['rPush', ['rpl', ['a', 'b']]],
  ['lRange', ['rpl2', 0, -1]],
  ['zAdd', ['zl', ['a', 'b', 'c', 'd'].map((value) => ({ score: 0, value }))]],
  ['zRange', ['zl', 0, -1]],
  ['zAdd', ['zr', { score: 1.5, value: 'only' }]],
  ['sendCommand', [['GEOADD', 'geo', '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania']]],
  ...['1-1', '2-1', '3-1'].map((id) => ['sendCommand', [['XADD', 'st', id, 'f', 'v']]]),
  ['sendCommand', [['XGROUP', 'CREATE', 'st', 'fg', '0']]],
  ['sendCommand', [['XREADGROUP', 'GROUP', 'fg', 'c1', 'STREAMS', 'st', '>']], (v) => typeof v],
  ['zAdd', ['zd1', [{ score: 1, value: 'a' }, { score: 2, value: 'b' }, { score: 3, value: 'c' }]]],
  ['zAdd', ['zd2', { score: 1, value: 'a' }]],
  // the new hand-written methods (#16), then every spec/node.toml method's examples
  ...HAND,
  ...SPEC,
  ['sendCommand', [['SET', 'x', 'y']]],
  ['sendCommand', [['GET', 'x']]],
  // The raw reply, in each protocol's own shape.
  ['sendCommand', [['HGETALL', 'h']]],
  ['sendCommand', [['NOSUCHCOMMAND']]],
  ['get', [undefined]],
  ['set', ['x', { a: 1 }]],
  ['set', ['x', null]],
  ['flushDb', []],
  ['flushAll', ['ASYNC']],
  ['set', ['only', '1']],
  ['randomKey', []],
];

// Error classes compare by name: a server error is a SimpleError (an ErrorReply) on both.

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

// Command methods compared with node-redis in another file, where they need more than a call and a reply.
const COMPARED_ELSEWHERE = {
  'pubsub.test.js (listener calls, RESP2 and RESP3)': ['subscribe', 'unsubscribe', 'pSubscribe', 'pUnsubscribe', 'sSubscribe', 'sUnsubscribe'],
};

test('every command method is compared', () => {
  const proto = redbridge.RedisClient.prototype;
  const methods = Object.getOwnPropertyNames(proto).filter((n) => /^[a-z]/.test(n) && Object.prototype.hasOwnProperty.call(proto, n.toUpperCase()));
  const elsewhere = new Set(Object.values(COMPARED_ELSEWHERE).flat());
  const compared = new Set(STEPS.map(([m]) => m).filter((m) => m !== 'sendCommand'));
  for (const m of elsewhere) compared.add(m);
  const fromSpec = new Set(SPEC.map(([m]) => m));
  const missing = methods.filter((m) => !compared.has(m));
  console.log(`differential: ${compared.size} of ${methods.length} command methods × 2 protocols = ${compared.size * 2} ` +
    `compared with node-redis (${fromSpec.size} from spec/node.toml, ${compared.size - fromSpec.size - elsewhere.size} hand-written, ${elsewhere.size} in pubsub.test.js), ` +
    `${STEPS.length} calls each: redbridge RESP2 vs node-redis RESP2, redbridge RESP3 vs node-redis RESP3`);
  assert.deepStrictEqual(missing, [], `command methods with no differential case: ${missing.join(', ')}`);
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

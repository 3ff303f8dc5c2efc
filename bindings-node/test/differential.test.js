'use strict';
// Differential test: the same calls against node-redis (the `redis` package) and
// redbridge — every result and error class compared — under RESP2 and RESP3.
const { test } = require('node:test');
const assert = require('node:assert');
const nodeRedis = require('redis');
const redbridge = require('..');
const { sharedServer } = require('./support');

const FAR = Math.floor(Date.now() / 1000) + 10_000_000;
const sorted = (v) => (Array.isArray(v) ? [...v].sort() : v);
const positive = (v) => [typeof v, v > 0];
const page = (v) => [typeof v.cursor, Object.keys(v).sort(), JSON.stringify(Object.values(v)[1].map((x) => JSON.stringify(x)).sort())];

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
  // generated from the command spec (spec/node.toml)
  ['setBit', ['bits', 7, 1]],
  ['setBit', ['bits', 7, 1]],
  ['getBit', ['bits', 7]],
  ['bitCount', ['bits']],
  ['bitCount', ['bits', { start: 0, end: 0 }]],
  ['bitCount', ['bits', { start: 0, end: 7, mode: 'BIT' }]],
  ['copy', ['k', 'kcopy']],
  ['copy', ['k', 'kcopy']],
  ['copy', ['k', 'kcopy', { REPLACE: true }]],
  ['pfAdd', ['hll', ['a', 'b']]],
  ['pfAdd', ['hll', 'c']],
  ['pfAdd', ['hll2']],
  // keys
  ['set', ['dk', '5']],
  ['dump', ['dk']],
  ['dump', ['nope']],
  ['restore', ['rk', 0, 'garbage']],
  ['restore', ['rk', 0, 'garbage', { REPLACE: true, ABSTTL: true }]],
  ['restore', ['dk', 0, 'garbage', { REPLACE: true, ABSTTL: true, IDLETIME: 1, FREQ: 1 }]],
  ['expireAt', ['dk', FAR]],
  ['expireTime', ['dk']],
  ['pExpireTime', ['dk']],
  ['expireTime', ['nope']],
  ['pExpireTime', ['nope']],
  ['touch', [['dk', 'nope']]],
  ['touch', ['dk']],
  ['set', ['mv', '1']],
  ['move', ['mv', 9]],
  ['move', ['nope', 9]],
  ['move', ['dk', 99]],
  // SWAPDB there and back: what MOVE put in db 9 is deleted, so a second run starts alike.
  ['swapDb', [0, 9]],
  ['get', ['mv']],
  ['del', ['mv']],
  ['swapDb', [0, 9]],
  ['get', ['dk']],
  ['swapDb', [0, 99]],
  ['objectEncoding', ['dk']],
  ['objectEncoding', ['nope']],
  ['objectFreq', ['dk']],
  ['objectIdleTime', ['dk'], (v) => typeof v],
  ['objectIdleTime', ['nope']],
  ['objectRefCount', ['dk']],
  ['memoryUsage', ['dk']],
  ['memoryUsage', ['dk', { SAMPLES: 0 }]],
  ['memoryUsage', ['nope']],
  // strings and bits
  ['set', ['b1', 'foo']],
  ['set', ['b2', 'bar']],
  ['bitOp', ['AND', 'bdest', ['b1', 'b2']]],
  ['bitOp', ['NOT', 'bdest2', 'b1']],
  ['get', ['bdest']],
  ['bitOp', ['NOT', 'bdest2', ['b1', 'b2']]],
  ['bitPos', ['b1', 1]],
  ['bitPos', ['b1', 0, 1]],
  ['bitPos', ['b1', 1, 0, 10, 'BIT']],
  ['bitPos', ['nope', 0]],
  ['set', ['l1', 'ohmytext']],
  ['set', ['l2', 'mynewtext']],
  ['lcs', ['l1', 'l2']],
  ['lcsLen', ['l1', 'l2']],
  ['lcsIdx', ['l1', 'l2']],
  ['lcsIdx', ['l1', 'l2', { MINMATCHLEN: 4 }]],
  ['lcsIdxWithMatchLen', ['l1', 'l2']],
  ['lcs', ['l1', 'h']],
  // HyperLogLog
  ['pfCount', ['hll']],
  ['pfCount', [['hll', 'hll2', 'nope']]],
  ['pfMerge', ['hllm', ['hll', 'hll2']]],
  ['pfMerge', ['hllm2']],
  ['pfCount', ['hllm']],
  ['pfCount', ['dk']],
  // hashes, lists, sorted sets, geo
  ['hSet', ['hr', 'only', 'v']],
  ['hRandField', ['hr']],
  ['hRandField', ['nope']],
  ['hRandFieldCount', ['hr', 5]],
  ['hRandFieldCount', ['hr', -2]],
  ['rPush', ['rpl', ['a', 'b']]],
  ['rPopLPush', ['rpl', 'rpl2']],
  ['rPopLPush', ['nope', 'rpl2']],
  ['lRange', ['rpl2', 0, -1]],
  ['zAdd', ['zl', ['a', 'b', 'c', 'd'].map((value) => ({ score: 0, value }))]],
  ['zLexCount', ['zl', '[b', '+']],
  ['zLexCount', ['zl', '-', '+']],
  ['zRangeByLex', ['zl', '-', '+']],
  ['zRangeByLex', ['zl', '[b', '+', { LIMIT: { offset: 1, count: 1 } }]],
  ['zRangeByLex', ['zl', 'bad', '+']],
  ['zRemRangeByLex', ['zl', '[c', '+']],
  ['zRange', ['zl', 0, -1]],
  ['zAdd', ['zr', { score: 1.5, value: 'only' }]],
  ['zRandMember', ['zr']],
  ['zRandMember', ['nope']],
  ['zRandMemberCount', ['zr', 3]],
  ['zRandMemberCountWithScores', ['zr', -2]],
  ['zRandMemberCountWithScores', ['nope', 2]],
  ['sendCommand', [['GEOADD', 'geo', '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania']]],
  ['geoDist', ['geo', 'Palermo', 'Catania']],
  ['geoDist', ['geo', 'Palermo', 'Catania', 'km']],
  ['geoDist', ['geo', 'Palermo', 'nope']],
  ['geoHash', ['geo', ['Palermo', 'nope']]],
  ['geoHash', ['geo', 'Catania']],
  // streams (entries added with sendCommand)
  ...['1-1', '2-1', '3-1'].map((id) => ['sendCommand', [['XADD', 'st', id, 'f', 'v']]]),
  ['xLen', ['st']],
  ['xLen', ['nope']],
  ['xLen', ['dk']],
  ['xGroupCreate', ['st', 'g', '0']],
  ['xGroupCreate', ['st', 'g', '0']],
  ['xGroupCreate', ['st2', 'g', '$', { MKSTREAM: true, ENTRIESREAD: 0 }]],
  ['xGroupCreate', ['nope', 'g', '$']],
  ['xGroupCreateConsumer', ['st', 'g', 'c1']],
  ['xGroupCreateConsumer', ['st', 'g', 'c1']],
  ['sendCommand', [['XREADGROUP', 'GROUP', 'g', 'c1', 'STREAMS', 'st', '>']], (v) => typeof v],
  ['xAck', ['st', 'g', ['1-1', '9-9']]],
  ['xAck', ['st', 'g', '2-1']],
  ['xAck', ['st', 'nogroup', '3-1']],
  ['xGroupDelConsumer', ['st', 'g', 'c1']],
  ['xGroupDelConsumer', ['st', 'g', 'c1']],
  ['xGroupSetId', ['st', 'g', '0', { ENTRIESREAD: 0 }]],
  ['xGroupSetId', ['st', 'g', '$']],
  ['xGroupSetId', ['st', 'nogroup', '$']],
  ['xGroupDestroy', ['st', 'g']],
  ['xGroupDestroy', ['st', 'g']],
  ['xDel', ['st', ['1-1', '9-9']]],
  ['xDel', ['st', '2-1']],
  ['xSetId', ['st', '5-0']],
  ['xSetId', ['st', '1-0']],
  ['xSetId', ['st', '6-0', { ENTRIESADDED: 3, MAXDELETEDID: '2-1' }]],
  ...['7-1', '8-1', '9-1'].map((id) => ['sendCommand', [['XADD', 'st', id, 'f', 'v']]]),
  ['xLen', ['st']],
  // ACL (a user made and deleted, so a second run starts alike)
  ['aclCat', [], sorted],
  ['aclCat', ['geo'], sorted],
  ['aclCat', ['nosuchcategory']],
  ['aclSetUser', ['rb-user', ['on', '>pw', '~k*', '+get']]],
  ['aclSetUser', ['rb-user', 'nosuchrule']],
  ['aclUsers', []],
  ['aclList', []],
  ['aclDryRun', ['rb-user', ['GET', 'k1']]],
  ['aclDryRun', ['rb-user', ['SET', 'k1', 'v']]],
  ['aclDryRun', ['nouser', ['GET', 'k1']]],
  ['aclDelUser', ['rb-user']],
  ['aclDelUser', [['rb-user', 'nouser']]],
  ['aclWhoAmI', []],
  ['aclGenPass', [], (v) => [typeof v, v.length]],
  ['aclGenPass', [32], (v) => [typeof v, v.length]],
  ['aclLoad', []],
  ['aclSave', []],
  ['aclLogReset', []],
  // COMMAND, CONFIG
  ['commandCount', []],
  ['commandGetKeys', [['SET', 'a', 'b']]],
  ['commandGetKeys', [['MSET', 'a', '1', 'b', '2']]],
  ['commandGetKeys', [['PING']]],
  ['commandList', [], (v) => [Array.isArray(v), v.length]],
  ['commandList', [{ FILTERBY: { type: 'PATTERN', value: 'xgroup*' } }], sorted],
  ['commandList', [{ FILTERBY: { type: 'ACLCAT', value: 'hyperloglog' } }], sorted],
  ['configGet', ['maxmemory']],
  ['configGet', [['maxmemory', 'hz']]],
  ['configGet', ['nosuchparameter*']],
  ['configResetStat', []],
  ['configRewrite', []],
  // functions and scripts
  ['functionLoad', ["#!lua name=rblib\nredis.register_function('rbf', function() return 1 end)", { REPLACE: true }]],
  ['functionLoad', ["#!lua name=rblib\nredis.register_function('rbf', function() return 1 end)"]],
  ['functionLoad', ['not lua']],
  ['functionDump', []],
  ['functionRestore', ['garbage']],
  ['functionRestore', ['garbage', { mode: 'REPLACE' }]],
  ['functionKill', []],
  ['functionDelete', ['rblib']],
  ['functionDelete', ['rblib']],
  ['functionFlush', ['SYNC']],
  ['functionFlush', []],
  ['scriptLoad', ['return 1']],
  ['scriptExists', ['e0e1f9fabfc9d4800c877a703b823ac0578ff8db']],
  ['scriptExists', [['e0e1f9fabfc9d4800c877a703b823ac0578ff8db', 'ffffffffffffffffffffffffffffffffffffffff']]],
  ['scriptLoad', ['not lua']],
  ['scriptDebug', ['NO']],
  ['scriptDebug', ['MAYBE']],
  ['scriptKill', []],
  ['scriptFlush', ['SYNC']],
  ['scriptFlush', []],
  ['scriptExists', ['e0e1f9fabfc9d4800c877a703b823ac0578ff8db']],
  // pub/sub (no subscribers)
  ['publish', ['rb-ch', 'hi']],
  ['sPublish', ['rb-ch', 'hi']],
  ['pubSubChannels', []],
  ['pubSubChannels', ['rb-*']],
  ['pubSubNumPat', []],
  ['pubSubNumSub', []],
  ['pubSubNumSub', [['rb-ch', 'rb-other']]],
  ['pubSubShardChannels', []],
  ['pubSubShardChannels', ['rb-*']],
  ['pubSubShardNumSub', ['rb-ch']],
  // CLIENT (this connection's own state; pauses of 1 ms)
  ['bgSave', [{ SCHEDULE: true }], (v) => typeof v],
  ['clientId', [], (v) => typeof v],
  ['clientGetName', []],
  ['clientGetRedir', []],
  ['clientTrackingInfo', []],
  ['clientPause', [1]],
  ['clientPause', [1, 'WRITE']],
  ['clientPause', [-1]],
  ['clientUnpause', []],
  ['clientUnblock', [987654321]],
  ['clientUnblock', [987654321, 'ERROR']],
  ['clientUnblock', ['x']],
  // CLUSTER (a standalone server refuses each)
  ['clusterAddSlots', [[1, 2]]],
  ['clusterBumpEpoch', []],
  ['clusterCountFailureReports', ['0000000000000000000000000000000000000000']],
  ['clusterCountKeysInSlot', [1]],
  ['clusterDelSlots', [1]],
  ['clusterFailover', [{ mode: 'FORCE' }]],
  ['clusterFlushSlots', []],
  ['clusterForget', ['0000000000000000000000000000000000000000']],
  ['clusterGetKeysInSlot', [1, 10]],
  ['clusterInfo', []],
  ['clusterKeySlot', ['k']],
  ['clusterMeet', ['127.0.0.1', 1]],
  ['clusterMyId', []],
  ['clusterMyShardId', []],
  ['clusterNodes', []],
  ['clusterReplicas', ['0000000000000000000000000000000000000000']],
  ['clusterReplicate', ['0000000000000000000000000000000000000000']],
  ['clusterReset', [{ mode: 'SOFT' }]],
  ['clusterSaveConfig', []],
  ['clusterSetConfigEpoch', [1]],
  ['clusterSetSlot', [1, 'NODE', '0000000000000000000000000000000000000000']],
  ['clusterSetSlot', [1, 'STABLE']],
  // LATENCY, MEMORY, MODULE
  ['latencyDoctor', [], (v) => typeof v],
  ['latencyGraph', ['command']],
  ['latencyHistory', ['command']],
  ['latencyLatest', []],
  ['memoryDoctor', [], (v) => typeof v],
  ['memoryMallocStats', [], (v) => typeof v],
  ['memoryPurge', []],
  ['moduleLoad', ['/nonexistent/module.so']],
  ['moduleLoad', ['/nonexistent/module.so', ['a', 'b']]],
  ['moduleUnload', ['nosuchmodule']],
  // persistence, replication, redirections
  ['lastSave', [], (v) => typeof v],
  ['replicaOf', ['NO', 'ONE']],
  ['wait', [0, 100]],
  ['asking', []],
  ['restoreAsking', []],
  ['sendCommand', [['SET', 'x', 'y']]],
  ['sendCommand', [['GET', 'x']]],
  // Raw RESP3 reply shape: compared only when redbridge also speaks RESP3.
  ['sendCommand', [['HGETALL', 'h']], null, 3],
  ['sendCommand', [['NOSUCHCOMMAND']]],
  ['get', [undefined]],
  ['set', ['x', { a: 1 }]],
  ['set', ['x', null]],
  ['flushDb', []],
  ['set', ['only', '1']],
  ['randomKey', []],
  // Far from bgSave above: the RDB child has ended by now, so this starts or is scheduled.
  ['bgRewriteAof', [], (v) => typeof v],
];

// Error classes compare by name: a server error is a SimpleError (an ErrorReply) on both.

async function run(client) {
  await client.flushDb();
  const out = [];
  for (const [method, args, normalise, onlyResp] of STEPS) {
    if (onlyResp && client.options && client.options.RESP && client.options.RESP !== onlyResp) {
      out.push('skipped');
      continue;
    }
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
    if (ours[i] === 'skipped') return;
    try {
      assert.deepStrictEqual(ours[i], want);
    } catch {
      diffs.push(`${STEPS[i][0]}(${JSON.stringify(STEPS[i][1])}): node-redis ${JSON.stringify(want)} != redbridge ${JSON.stringify(ours[i])}`);
    }
  });
  assert.deepStrictEqual(diffs, [], `${label}: ${diffs.length} differences\n${diffs.join('\n')}`);
}

for (const RESP of [2, 3]) {
  test(`every method matches node-redis (redbridge RESP${RESP})`, async (t) => {
    const { url } = sharedServer(t);
    const reference = await nodeRedis.createClient({ url }).connect();
    const ours = await redbridge.createClient({ url, RESP }).connect();
    process.removeAllListeners('warning');
    process.on('warning', () => {});
    const want = await run(reference);
    const got = await run(ours);
    compare(want, got, `RESP${RESP}`);
    await reference.close();
    await ours.close();
  });
}

test('MULTI/EXEC and pipelines match node-redis', async (t) => {
  const { url } = sharedServer(t);
  const reference = await nodeRedis.createClient({ url }).connect();
  const ours = await redbridge.createClient({ url }).connect();
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

test('scan iterators yield what node-redis yields', async (t) => {
  const { url } = sharedServer(t);
  const reference = await nodeRedis.createClient({ url }).connect();
  const ours = await redbridge.createClient({ url }).connect();
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
      await flat(c.zScanIterator('it-z', { COUNT: 100 })),
    ];
  };
  const got = await collect(ours);
  assert.strictEqual(got[0].length, 500);
  assert.deepStrictEqual(got, await collect(reference));
  await reference.close();
  await ours.close();
});

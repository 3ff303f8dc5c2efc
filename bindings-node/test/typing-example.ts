// Typed use of the package: `tsc --noEmit --strict` must pass on this file (npm run typecheck).
import { createClient, createClientPool, createCluster, PoolTimeoutError, type RedisClientPool, defineScript, RESP_TYPES, ResponseError, WatchError, type CommandParser, type RedisClient, type RedisCluster, type PubSubGap, PUBSUB_TYPE, type PubSubTypeListeners, type ChannelListeners, createSentinel, SimpleError } from '..';

export async function example(url: string): Promise<void> {
  const client: RedisClient = await createClient({ url, responseTimeout: 2000, RESP: 3 }).connect();
  const set: string | null = await client.set('k', 'v', { EX: 10, NX: true });
  const value: string | null = await client.get('k');
  const n: number = await client.incr('n');
  const user: Record<string, string> = await client.hGetAll('user:1');
  const top: Array<{ value: string; score: number }> = await client.zRangeWithScores('z', 0, -1);
  const popped = await client.blPop(['q'], 1);
  if (popped) console.log(popped.key, popped.element);
  const results: unknown[] = await client.multi().set('a', '1').incr('a').get('a').exec();
  for await (const keys of client.scanIterator({ MATCH: 'k*', COUNT: 100 })) console.log(keys.length);
  const raw = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  await raw.get(Buffer.from('k'));
  try {
    await client.lPush('k', 'x');
  } catch (e) {
    if (e instanceof ResponseError) console.log(e.redisCode);
    if (e instanceof WatchError) console.log('retry');
  }
  console.log(set, value, n, user, top, results, client.stats().requests);
  await client.close();
}

export async function poolExample(url: string): Promise<number> {
  const pool = createClientPool(
    { url, scripts: { addBy: defineScript({ SCRIPT: "return redis.call('INCRBY', KEYS[1], ARGV[1])", NUMBER_OF_KEYS: 1, parseCommand(p: CommandParser, key: string, by: number) { p.pushKey(key); p.push(String(by)); }, transformReply: (r: unknown) => r as number }) } },
    { maximum: 4, acquireTimeout: 1000 },
  );
  await pool.connect();
  const v: string | null = await pool.get('k');
  const added: number = await pool.addBy('n', 2);
  const sync: number = await pool.execute(() => 7);
  const fromTask: string | null = await pool.execute(async (c) => {
    await c.watch('k');
    await c.multi().set('k', 'v').exec();
    return c.get('k');
  });
  const plain: RedisClientPool = createClient({ url }).createPool({ cleanupDelay: 5000 });
  const counts: number = pool.idleClients + pool.clientsInUse + pool.totalClients + pool.tasksQueueLength + plain.totalClients;
  const client = await createClient({ url }).connect();
  const ok: string = await client.auth({ username: 'app', password: 'pw' });
  await client.reAuthenticate({ password: 'pw' });
  await client.select(2);
  const named: string = await client.clientSetName('worker');
  await client.reset();
  try {
    await pool.execute((c) => c.blPop('q', 0));
  } catch (e) {
    if (e instanceof PoolTimeoutError) console.log(e.code);
  }
  console.log(v, sync, fromTask, ok, named, pool.isClosing);
  await pool.close();
  pool.destroy();
  await client.close();
  return added + counts;
}

export async function clusterExample(): Promise<void> {
  const cluster: RedisCluster = await createCluster({
    rootNodes: [{ url: 'redis://10.0.0.1:7000' }, { socket: { host: '10.0.0.2', port: 7000 } }],
    defaults: { password: 'secret', socket: { tls: true } },
    useReplicas: true,
  }).connect();
  const v: string | null = await cluster.get('{user1}:name');
  const both: unknown[] = await cluster.multi().set('{user1}:a', '1').incr('{user1}:b').exec();
  console.log(v, both.length);
  await cluster.close();
}

// The methods added for issue #16: tsc --strict checks their arguments and reply types.
export async function commandsExample(client: RedisClient): Promise<number> {
  let used = 0;
  const use = (..._values: unknown[]): void => {
    used += _values.length;
  };
  // sorted sets
  const incr: number | null = await client.zAddIncr('z', { score: 1, value: 'a' }, { condition: 'XX' });
  const union: string[] = await client.zUnion(['z1', 'z2'], { AGGREGATE: 'MAX' });
  const unionScores: Array<{ value: string; score: number }> = await client.zUnionWithScores([{ key: 'z1', weight: 2 }, { key: 'z2', weight: 1 }]);
  const unionStored: number = await client.zUnionStore('dst', 'z1');
  const inter: string[] = await client.zInter(['z1', 'z2']);
  const interScores = await client.zInterWithScores(['z1', 'z2'], { AGGREGATE: 'SUM' });
  const interStored: number = await client.zInterStore('dst', ['z1', 'z2']);
  const interCard: number = await client.zInterCard(['z1', 'z2'], { LIMIT: 10 });
  const diff: string[] = await client.zDiff(['z1', 'z2']);
  const diffScores: Array<{ value: string; score: number }> = await client.zDiffWithScores(['z1', 'z2']);
  const diffStored: number = await client.zDiffStore('dst', ['z1', 'z2']);
  const rangeStored: number = await client.zRangeStore('dst', 'z', 0, 10, { BY: 'SCORE', LIMIT: { offset: 0, count: 5 } });
  const zPopped = await client.zmPop(['z1', 'z2'], 'MIN', { COUNT: 2 });
  if (zPopped) use(zPopped.key, zPopped.members[0]?.score);
  const bzPopped = await client.bzmPop(1, 'z', 'MAX');
  const rank = await client.zRankWithScore('z', 'a');
  if (rank) use(rank.rank + rank.score);
  const revRank = await client.zRevRankWithScore('z', 'a');
  use(incr, union, unionScores, unionStored, inter, interScores, interStored, interCard, diff, diffScores, diffStored, rangeStored, bzPopped, revRank);
  // lists, sets, hashes
  const lPopped = await client.lmPop('l', 'LEFT', { COUNT: 2 });
  if (lPopped) use(lPopped[0], lPopped[1].length);
  const blPopped = await client.blmPop(1, ['l1', 'l2'], 'RIGHT');
  const interCount: number = await client.sInterCard(['s1', 's2'], 5);
  const fields: { cursor: string; fields: string[] } = await client.hScanNoValues('h', 0, { COUNT: 100 });
  use(blPopped, interCount, fields);
  // scripts and functions
  const evaluated = await client.eval('return ARGV[1]', { keys: ['k'], arguments: ['v'] });
  const evaluatedRo = await client.evalRo('return 1');
  const bySha = await client.evalSha('e0e1f9fabfc9d4800c877a703b823ac0578ff8db', { keys: [] });
  const byShaRo = await client.evalShaRo('e0e1f9fabfc9d4800c877a703b823ac0578ff8db');
  const called = await client.fCall('myfunc', { keys: ['k'], arguments: ['1'] });
  const calledRo = await client.fCallRo('myfunc');
  use(evaluated, evaluatedRo, bySha, byShaRo, called, calledRo);
  // sort, bitfield
  const sorted: Array<string | null> = await client.sort('l', { BY: 'w_*', GET: ['#', 'o_*'], DIRECTION: 'DESC', ALPHA: true });
  const sortedRo = await client.sortRo('l', { LIMIT: { offset: 0, count: 10 } });
  const sortStored: number = await client.sortStore('l', 'dst');
  const bits: Array<number | null> = await client.bitField('bf', [
    { operation: 'SET', encoding: 'u8', offset: 0, value: 1 },
    { operation: 'OVERFLOW', behavior: 'SAT' },
    { operation: 'INCRBY', encoding: 'u8', offset: 0, increment: 1 },
  ]);
  const bitsRo: number[] = await client.bitFieldRo('bf', [{ encoding: 'u8', offset: 0 }]);
  use(sorted, sortedRo, sortStored, bits, bitsRo);
  // geo
  const added: number = await client.geoAdd('geo', [{ longitude: 13.36, latitude: 38.11, member: 'Palermo' }], { CH: true });
  const positions = await client.geoPos('geo', ['Palermo', 'nope']);
  use(positions[0]?.longitude);
  const near: string[] = await client.geoSearch('geo', 'Palermo', { radius: 200, unit: 'km' }, { SORT: 'ASC', COUNT: 5 });
  const nearWith = await client.geoSearchWith('geo', { longitude: 15, latitude: 37 }, { width: 400, height: 400, unit: 'km' }, ['WITHDIST', 'WITHCOORD']);
  for (const item of nearWith) use(item.member, item.distance, item.coordinates?.latitude);
  const stored: number = await client.geoSearchStore('dst', 'geo', 'Palermo', { radius: 200, unit: 'km' }, { STOREDIST: true });
  const radius: string[] = await client.geoRadius('geo', { longitude: 15, latitude: 37 }, 200, 'km');
  const radiusRo: string[] = await client.geoRadiusRo('geo', { longitude: 15, latitude: 37 }, 200, 'km', { COUNT: { value: 1, ANY: true } });
  const radiusWith = await client.geoRadiusWith('geo', { longitude: 15, latitude: 37 }, 200, 'km', ['WITHHASH']);
  const radiusStored: number = await client.geoRadiusStore('geo', { longitude: 15, latitude: 37 }, 200, 'km', 'dst');
  const byMember: string[] = await client.geoRadiusByMember('geo', 'Palermo', 200, 'km');
  const byMemberWith: Array<{ member: string; distance?: number }> = await client.geoRadiusByMemberRoWith('geo', 'Palermo', 200, 'km', ['WITHDIST']);
  const byMemberStored: number = await client.geoRadiusByMemberStore('geo', 'Palermo', 200, 'km', 'dst');
  use(added, near, stored, radius, radiusRo, radiusWith, radiusStored, byMember, byMemberWith, byMemberStored);
  // streams
  const id: string = await client.xAdd('st', '*', { field: 'value', n: 1 }, { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: 1000 } });
  const maybeId: string | null = await client.xAddNoMkStream('st', '*', { field: 'value' });
  const entries = await client.xRange('st', '-', '+', { COUNT: 10 });
  for (const entry of entries) use(entry.id, entry.message.field);
  const latest = await client.xRevRange('st', '+', '-');
  const read = await client.xRead([{ key: 'st', id: '0' }], { COUNT: 10, BLOCK: 100 });
  if (read) for (const stream of read) use(stream.name, stream.messages.length);
  const grouped = await client.xReadGroup('g', 'c', { key: 'st', id: '>' }, { NOACK: true });
  const pending = await client.xPending('st', 'g');
  use(pending.pending, pending.consumers?.[0]?.deliveriesCounter);
  const pendingRange = await client.xPendingRange('st', 'g', '-', '+', 10, { consumer: 'c' });
  const claimed = await client.xClaim('st', 'g', 'c', 1000, [id], { IDLE: 0, FORCE: true });
  const claimedIds: string[] = await client.xClaimJustId('st', 'g', 'c', 1000, id);
  const auto = await client.xAutoClaim('st', 'g', 'c', 1000, '0-0', { COUNT: 10 });
  const autoIds = await client.xAutoClaimJustId('st', 'g', 'c', 1000, '0-0');
  const info = await client.xInfoStream('st');
  const groups = await client.xInfoGroups('st');
  const consumers = await client.xInfoConsumers('st', 'g');
  const trimmed: number = await client.xTrim('st', 'MAXLEN', 100, { strategyModifier: '~' });
  use(maybeId, latest, grouped, pendingRange, claimed, claimedIds, auto.nextId, autoIds.messages, info.length, groups[0]?.lag, consumers[0]?.idle, trimmed);
  use(info['last-generated-id'], info['first-entry']?.message, consumers[0]?.inactive);
  // server
  const configured: string = await client.configSet({ hz: '10' });
  const me = await client.clientInfo();
  const all = await client.clientList({ TYPE: 'normal' });
  const killed: number = await client.clientKill([{ filter: 'ID', id: me.id }, { filter: 'SKIPME', skipMe: true }]);
  const log = await client.aclLog(10);
  const user = await client.aclGetUser('default');
  if (user) use(user.flags, user.selectors);
  const role = await client.role();
  if (role.role === 'master') use(role.replicationOffest, role.replicas[0]?.port);
  else if (role.role === 'slave') use(role.master.host, role.state, role.dataReceived);
  else use(role.masterNames);
  const memory = await client.memoryStats();
  use(memory['peak.allocated'], memory['dataset.percentage'], memory['db.0']?.['overhead.hashtable.main']);
  const nested = await client.eval("return {1, redis.error_reply('ERR x')}");
  if (Array.isArray(nested)) for (const item of nested) if (item instanceof SimpleError) use(item.message);
  const keysAndFlags = await client.commandGetKeysAndFlags(['SET', 'a', 'b']);
  const reset: number = await client.latencyReset('command');
  const migrated: string = await client.migrate('127.0.0.1', 6380, ['a', 'b'], 0, 1000, { COPY: true });
  const upper: Array<string | null> = await client.SORT('l');
  const queued: unknown[] = await client.multi().xAdd('st', '*', { f: 'v' }).zUnion(['z1']).EVAL('return 1').exec();
  use(configured, all[0]?.addr, killed, log[0]?.reason, role.role, keysAndFlags[0]?.flags, reset, migrated, upper, queued);
  return used;
}

// Client methods of node-redis 6.4 (issue #16).
export async function clientMethodsExample(client: RedisClient): Promise<void> {
  const controller = new AbortController();
  const aborting = client.withAbortSignal(controller.signal);
  const v: string | null = await aborting.get('k');
  const options = client.withCommandOptions({ typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer }, asap: true });
  await options.asap().get('k');
  const twin: RedisClient = client.duplicate({ name: 'worker' });
  await twin.connect();
  twin.ref();
  twin.unref();
  for await (const values of client.hScanValuesIterator('h', { COUNT: 100 })) console.log(values.length);
  for await (const fields of client.hScanNoValuesIterator('h')) console.log(fields.length);
  console.log(v);
  await twin.close();
}

// node-redis's `scripts` / `functions` options: typed methods from the definitions.
export async function programsExample(url: string): Promise<number> {
  const client = await createClient({
    url,
    scripts: {
      addBy: defineScript({
        SCRIPT: "return redis.call('INCRBY', KEYS[1], ARGV[1])",
        NUMBER_OF_KEYS: 1,
        parseCommand(parser: CommandParser, key: string, by: number) {
          parser.pushKey(key);
          parser.push(by.toString());
        },
        transformReply: (reply: unknown) => Number(reply),
      }),
    },
    functions: {
      lib: {
        peek: {
          IS_READ_ONLY: true,
          NUMBER_OF_KEYS: 1,
          parseCommand(parser: CommandParser, key: string) {
            parser.pushKey(key);
          },
          transformReply: (reply: unknown) => (reply === null ? null : String(reply)),
        },
      },
    },
  }).connect();
  const n: number = await client.addBy('n', 2);
  const seen: string | null = await client.lib.peek('n');
  const queued: unknown[] = await client.multi().get('n').addBy('n', 1).lib.peek('n').exec();
  const plain: RedisClient = client;
  console.log(seen, queued.length, await plain.get('n'));
  await client.close();
  return n;
}

/** Pub/Sub as node-redis users write it: a subscriber from duplicate(), listeners typed by mode. */
export async function pubsub(client: RedisClient): Promise<void> {
  const subscriber = client.duplicate();
  await subscriber.connect();
  await subscriber.subscribe('news', (message: string, channel: string) => console.log(channel, message.length));
  await subscriber.pSubscribe(['n*', Buffer.from('m*')], (message: Buffer, channel: Buffer) => console.log(channel.length, message.length), true);
  await subscriber.sSubscribe('shard', (message) => message.toUpperCase());
  subscriber.on('pubsub-gap', (gap: PubSubGap) => console.log(gap.cause, gap.dropped));
  const active: boolean = subscriber.isPubSubActive;
  await client.publish('news', 'hello');
  await subscriber.unsubscribe('news');
  await subscriber.PUNSUBSCRIBE();
  await subscriber.sUnsubscribe();
  console.log(active);
  await subscriber.close();
}

/** The spec-generated methods and node-redis's wider argument shapes, typed as node-redis types them. */
export async function surface(client: RedisClient): Promise<number> {
  const cas: string | null = await client.set('k', 'v2', { condition: 'IFEQ', matchValue: 'v1', expiration: { type: 'KEEPTTL' } });
  const ex: string | null = await client.getEx('k', { type: 'PXAT', value: new Date() });
  const persisted: string | null = await client.getEx('k', { type: 'PERSIST' });
  const bits: number = await client.bitCount('b', { start: 0, end: 7, mode: 'BIT' });
  const bit: 0 | 1 = await client.setBit('b', 7, 1);
  const at: number = await client.bitPos('b', 1, 0, -1, 'BYTE');
  const copied: number = await client.copy('k', 'k2', { REPLACE: true, DB: 1 });
  const added: number = await client.pfAdd('hll', ['a', 'b']);
  const card: number = await client.pfCount(['hll']);
  const when: number = await client.expireTime('k');
  const touched: number = await client.touch(['k', 'k2']);
  const encoding: string | null = await client.objectEncoding('k');
  const bytes: number | null = await client.memoryUsage('k', { SAMPLES: 0 });
  const lcs: { matches: Array<[[number, number], [number, number]]>; len: number } = await client.lcsIdx('a', 'b', { MINMATCHLEN: 2 });
  const lcsLen: number = await client.lcsLen('a', 'b');
  const dist: number | null = await client.geoDist('g', 'a', 'b', 'km');
  await client.geoAdd('g', { longitude: Buffer.from('13.36'), latitude: '38.11', member: 'Palermo' });
  const fields: Array<{ field: string; value: string }> = await client.hRandFieldCountWithValues('h', 2);
  const scored: Array<{ value: string; score: number }> = await client.zRandMemberCountWithScores('z', 2);
  const counted: string[] = await client.zUnion(['z1', 'z2'], { AGGREGATE: 'COUNT' });
  const libs = await client.functionList({ LIBRARYNAME: 'lib' });
  const sha: string = await client.scriptLoad('return 1');
  const known: number[] = await client.scriptExists([sha]);
  const created: 'OK' = await client.xGroupCreate('s', 'g', '$', { MKSTREAM: true });
  const length: number = await client.xLen('s');
  const id: number = await client.clientId();
  const me: string = await client.aclWhoAmI();
  const trimmed: 'OK' = await client.lTrim('l', 0, 9);
  const hasField: 0 | 1 = await client.hExists('h', 'f');
  const [seconds, micros]: [`${number}`, `${number}`] = await client.time();
  const named: 'OK' = await client.clientSetName(Buffer.from('worker'));
  const page = await client.scan('0', { TYPE: Buffer.from('string'), COUNT: 10 });
  const info: string = await client.info(Buffer.from('server'));
  // @ts-expect-error LTRIM's reply is 'OK', not a number (the types are not any)
  const wrong: number = await client.lTrim('l', 0, 9);
  // @ts-expect-error SET's condition is a word node-redis knows
  await client.set('k', 'v', { condition: 'IF' });
  const hello = await client.hello(3);
  const proto: 2 | 3 = hello.proto;
  console.log(hello.server, hello.version, hello.id, hello.modules.length, proto);
  try {
    await client.hello(3, { SETNAME: 'other' });
  } catch (e) {
    if (e instanceof TypeError) console.log(e.message);
  }
  console.log(wrong, cas, ex, persisted, at, encoding, bytes, lcs.len, dist, fields, scored, counted, libs.length, known, created, me, trimmed, hasField, micros, named, page.keys, info.length);
  return bits + bit + copied + added + card + when + touched + lcsLen + length + id + Number(seconds);
}

// node-redis's other client methods (#16): MONITOR, the WATCH flags, the pub/sub
// listener accessors, the legacy callback interface, resetIfDirty.
export async function otherClientMethods(client: RedisClient, other: RedisClient): Promise<number> {
  const lines: string[] = [];
  await client.monitor((line: string) => lines.push(line));
  await client.MONITOR((line) => console.log(line.length));
  const epoch: number = client.socketEpoch;
  await client.watch('k');
  const watching: boolean = client.isWatching;
  client.setDirtyWatch('the key moved');
  const dirty: boolean = client.isDirtyWatch;
  await client.subscribe('ch', (message: string, channel: string) => console.log(message, channel));
  const listeners: PubSubTypeListeners = client.getPubSubListeners(PUBSUB_TYPE.CHANNELS);
  const one: ChannelListeners | undefined = listeners.get('ch');
  if (one) await other.extendPubSubChannelListeners('CHANNELS', 'ch', one);
  await other.extendPubSubListeners(PUBSUB_TYPE.PATTERNS, client.getPubSubListeners('PATTERNS'));
  // @ts-expect-error the types are node-redis's PUBSUB_TYPE
  client.getPubSubListeners('channels');
  const legacy = client.legacy();
  legacy.set('k', 1, (err: Error | null, reply?: unknown) => console.log(err, reply));
  legacy.hGetAll('h', (err, reply) => console.log(err, reply));
  legacy.sendCommand(['GET', 'k'], (err, reply) => console.log(err, reply));
  legacy.incr('n');
  legacy.multi().set('a', ['1']).get('a').exec((err, replies) => console.log(err, replies?.length));
  const reset: Promise<void> | undefined = client.resetIfDirty();
  if (reset) await reset;
  return epoch + Number(watching) + Number(dirty) + lines.length;
}

/** createSentinel with the sentinels' TLS apart from the data nodes' (issue #18). */
export async function sentinelOverTls(ca: Buffer, cert: Buffer, key: Buffer, nodeCa: Buffer): Promise<string | null> {
  const c = await createSentinel({
    name: 'mymaster',
    sentinelRootNodes: [{ host: '127.0.0.1', port: 26379 }],
    sentinelClientOptions: { password: 'p', socket: { tls: true, ca, cert, key, rejectUnauthorized: true } },
    nodeClientOptions: { socket: { tls: true, ca: nodeCa } },
  }).connect();
  // @ts-expect-error the sentinels' socket takes TLS options only (their addresses are sentinelRootNodes)
  createSentinel({ name: 'm', sentinelRootNodes: [], sentinelClientOptions: { socket: { port: 1 } } });
  return c.get('k');
}

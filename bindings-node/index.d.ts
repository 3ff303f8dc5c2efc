/// <reference types="node" />
// Type declarations of the `redbridge` npm package: node-redis's surface over the Rust core.

/** A command argument: strings and Buffers as they are, numbers as decimal text. */
export type RedisArgument = string | Buffer;
type Arg = RedisArgument | number;
type Keys = Arg | Arg[];

export interface RedisClientOptions {
  /** redis://[user:password@]host:port/db?option=value, or unix:///path */
  url?: string;
  socket?: {
    host?: string;
    port?: number;
    path?: string;
    connectTimeout?: number;
    /** Encrypt with TLS (a rediss:// URL does too). */
    tls?: boolean;
    /** PEM of the CA(s) the server's certificate must be signed by (default: the system's). */
    ca?: string | Buffer | Array<string | Buffer>;
    /** PEM client certificate and key, for servers that require one (mutual TLS). */
    cert?: string | Buffer;
    key?: string | Buffer;
    /** false accepts any server certificate: for tests only. */
    rejectUnauthorized?: boolean;
  };
  username?: string;
  password?: string;
  database?: number;
  /** RESP version; replies are shaped the same either way (default 3). */
  RESP?: 2 | 3;
  /** CLIENT SETNAME on every connection. */
  name?: string;
  /** "multiplexed" (default: one shared auto-pipelined connection) or "pooled". */
  mode?: 'multiplexed' | 'pooled';
  /** Bound of the pool of dedicated connections (blocking commands, WATCH). */
  maxConnections?: number;
  /** Per-command response timeout in ms (default 5000). */
  responseTimeout?: number;
  /** Wait for a pooled connection, in ms (default: responseTimeout). */
  poolTimeout?: number;
  /** Idle dedicated connections older than this (ms) are closed (default 300000). */
  idleTimeout?: number;
  /**
   * Microseconds the event loop keeps polling for a reply, instead of sleeping, after the
   * last write or read while requests are in flight on its own connection (default 100;
   * 0: never). Saves the wake-up per reply (tens of µs on virtual machines) for up to
   * this much CPU; the core stops spinning for a while when replies keep coming later.
   */
  spinWait?: number;
  /** Retries of commands that are safe to repeat (default 3). */
  retries?: number;
  retryOnTimeout?: boolean;
  retryUnsafe?: boolean;
  /** "warn" (default), "deny" or "off": KEYS, FLUSHALL without ASYNC, huge collection replies. */
  guard?: 'warn' | 'deny' | 'off';
  guardThreshold?: number;
  /** Server-assisted client-side caching (RESP3): hot reads answered locally, invalidated by the server. */
  clientSideCache?: {
    /** Most entries (LRU beyond), default 10000. */
    maxEntries?: number;
    /** Most bytes of keys and replies, default 64 MiB. */
    maxBytes?: number;
    /** Milliseconds an entry may be served (0/undefined: until invalidated). */
    ttl?: number;
    /** "default" (tracks what this client read) or "broadcast" (every key with one of `prefixes`). */
    mode?: 'default' | 'broadcast';
    prefixes?: string[];
    /** Read commands to cache (default: GET, HGET, HGETALL, SMEMBERS, ZRANGE… single-key reads). */
    commands?: string[];
  };
  /**
   * Bounds of the subscriber's queue (messages received, not yet given to listeners):
   * what overflows while the event loop is busy is dropped, counted in stats and
   * reported by a 'pubsub-gap' event with cause "overflow". Defaults 100000 / 8 MiB.
   */
  pubSubQueue?: {
    maxMessages?: number;
    maxBytes?: number;
  };
}

export interface ExpirationOptions {
  EX?: number;
  PX?: number;
  EXAT?: number | Date;
  PXAT?: number | Date;
  KEEPTTL?: boolean;
  expiration?: { type: 'EX' | 'PX' | 'EXAT' | 'PXAT'; value: number | Date } | { type: 'KEEPTTL' } | 'KEEPTTL';
}
export interface SetOptions extends ExpirationOptions {
  NX?: boolean;
  XX?: boolean;
  GET?: boolean;
  /** NX, XX, or a compare-and-set condition of newer servers, sent with `matchValue`. */
  condition?: 'NX' | 'XX' | 'IFEQ' | 'IFNE' | 'IFDEQ' | 'IFDNE';
  matchValue?: RedisArgument;
}
export type GetExOptions =
  | (ExpirationOptions & { PERSIST?: boolean })
  | { type: 'EX' | 'PX'; value: number }
  | { type: 'EXAT' | 'PXAT'; value: number | Date }
  | { type: 'PERSIST' };
export interface ScanOptions {
  MATCH?: RedisArgument;
  COUNT?: number;
  TYPE?: RedisArgument;
}
export interface ZRangeOptions {
  BY?: 'SCORE' | 'LEX';
  REV?: boolean;
  LIMIT?: { offset: number; count: number };
}
export interface ZMember {
  value: RedisArgument;
  score: number;
}
export interface ZAddOptions {
  NX?: boolean;
  XX?: boolean;
  GT?: boolean;
  LT?: boolean;
  CH?: boolean;
  condition?: 'NX' | 'XX';
  comparison?: 'GT' | 'LT';
}
type Side = 'LEFT' | 'RIGHT';
type Fields = Record<string, Arg> | Map<Arg, Arg> | Array<[Arg, Arg]> | Arg[];

/** ZUNION/ZINTER keys: a key, keys, or keys with weights. */
type ZKeys = Arg | Arg[] | { key: RedisArgument; weight: number } | Array<{ key: RedisArgument; weight: number }>;
export interface ZAggregateOptions {
  AGGREGATE?: 'SUM' | 'MIN' | 'MAX' | 'COUNT';
}
/** EVAL/EVALSHA/FCALL: the keys (numkeys is counted) and the other arguments. */
export interface EvalOptions {
  keys?: Arg[];
  arguments?: Arg[];
}
export interface SortOptions {
  BY?: RedisArgument;
  LIMIT?: { offset: number; count: number };
  GET?: RedisArgument | RedisArgument[];
  DIRECTION?: 'ASC' | 'DESC';
  ALPHA?: boolean;
}
export type BitFieldOperation =
  | { operation: 'GET'; encoding: string; offset: number | string }
  | { operation: 'SET'; encoding: string; offset: number | string; value: number }
  | { operation: 'INCRBY'; encoding: string; offset: number | string; increment: number }
  | { operation: 'OVERFLOW'; behavior: 'WRAP' | 'SAT' | 'FAIL' | (string & {}) };
export interface GeoCoordinates {
  longitude: number | RedisArgument;
  latitude: number | RedisArgument;
}
export interface GeoMember extends GeoCoordinates {
  member: RedisArgument;
}
type GeoUnit = 'm' | 'km' | 'mi' | 'ft';
export type GeoBy = { radius: number; unit: GeoUnit } | { width: number; height: number; unit: GeoUnit };
export interface GeoSearchOptions {
  SORT?: 'ASC' | 'DESC';
  COUNT?: number | { value: number; ANY?: boolean };
}
type GeoReplyWith = 'WITHDIST' | 'WITHHASH' | 'WITHCOORD';
/** A GEO… WITH… item: only the fields asked for are present. */
export interface GeoReplyItem {
  member: string;
  distance?: number;
  hash?: number;
  coordinates?: { longitude: number; latitude: number };
}
export interface XAddOptions {
  TRIM?: { strategy: 'MAXLEN' | 'MINID'; strategyModifier?: '=' | '~'; threshold: number | string; limit?: number };
}
export interface StreamMessage {
  id: string;
  message: Record<string, string>;
}
export interface StreamOffset {
  key: RedisArgument;
  id: RedisArgument;
}
export interface XClaimOptions {
  IDLE?: number;
  TIME?: number | Date;
  RETRYCOUNT?: number;
  FORCE?: boolean;
  LASTID?: RedisArgument;
}
/** One client of CLIENT INFO / CLIENT LIST (fields the server does not send are absent or undefined). */
export interface ClientInfo {
  id: number; addr: string; laddr?: string; fd: number; name: string; age: number; idle: number; flags: string;
  db: number; sub: number; psub: number; ssub?: number; multi: number; qbuf: number; qbufFree: number;
  argvMem: number; multiMem?: number; obl: number; oll: number; omem: number; totMem: number; events: string;
  cmd: string; user: string; redir?: number; resp?: number; libName?: string; libVer?: string;
}
export type ClientKillFilter =
  | 'SKIPME'
  | { filter: 'ADDR'; address: string }
  | { filter: 'LADDR'; localAddress: string }
  | { filter: 'ID'; id: number | string }
  | { filter: 'TYPE'; type: 'NORMAL' | 'MASTER' | 'REPLICA' | 'PUBSUB' | 'normal' | 'master' | 'replica' | 'pubsub' }
  | { filter: 'USER'; username: string }
  | { filter: 'SKIPME'; skipMe: boolean }
  | { filter: 'MAXAGE'; maxAge: number };
export interface SlotRange {
  start: number;
  end: number;
}

/** Every command: its arguments and what its promise resolves with. */
/** A library of FUNCTION LIST. */
export interface FunctionListItem {
  library_name: string;
  engine: string;
  functions: Array<{ name: string; description: string | null; flags: string[] }>;
}
/** A key specification of COMMAND / COMMAND INFO, as node-redis 6.4's KeySpec (`unknown` where the server's is not understood). */
export interface KeySpec {
  beginSearch: { type: 'index'; index: number } | { type: 'keyword'; keyword: string; startFrom: number } | { type: 'unknown' };
  findKeys: { type: 'range'; lastKey: number; keyStep: number; limit: number } | { type: 'keynum'; keyNumIdx: number; firstKey: number; keyStep: number } | { type: 'unknown' };
}
/** A key specification's part. */
export type KeySpecPart = KeySpec['beginSearch'] | KeySpec['findKeys'];
/** A command's request_policy tip (or the default node-redis gives it). */
export type RequestPolicy = 'all_nodes' | 'all_shards' | 'multi_shard' | 'special' | 'default-keyless' | 'default-keyed';
/** A command's response_policy tip (or the default node-redis gives it). */
export type ResponsePolicy = 'one_succeeded' | 'all_succeeded' | 'agg_logical_and' | 'agg_logical_or' | 'agg_min' | 'agg_max' | 'agg_sum' | 'special' | 'default-keyless' | 'default-keyed';
/**
 * A COMMAND / COMMAND INFO entry, as node-redis 6.4 gives it. `flags` and `categories`
 * hold the server's words ('write', '@string'…), which node-redis types with enums of its
 * own (CommandFlags, CommandCategories) that no other package's type can stand for.
 */
export interface CommandReply {
  name: string;
  arity: number;
  flags: Set<string>;
  firstKeyIndex: number;
  lastKeyIndex: number;
  step: number;
  categories: Set<string>;
  policies: { request: RequestPolicy | undefined; response: ResponsePolicy | undefined };
  isKeyless: boolean;
  nondeterministicOutput: boolean;
  tips: string[];
  keySpecs: KeySpec[];
  subcommands: CommandReply[];
}
/**
 * A reply as the server sends it (EVAL, FCALL and their forms): text, numbers, null,
 * arrays, maps as objects, booleans (RESP3), and an error reply inside an array as a
 * SimpleError, as node-redis 6.4's ReplyUnion. With `withTypeMapping` for Buffers, text
 * is a Buffer.
 */
export type RedisReply = string | number | boolean | null | SimpleError | RedisReply[] | { [field: string]: RedisReply };
/**
 * ROLE, as node-redis 6.4 gives it (its `replicationOffest` spelling included): by the
 * server's role.
 */
export type RoleReply =
  | { role: 'master'; replicationOffest: number; replicas: Array<{ host: string; port: number; replicationOffest: number }> }
  | { role: 'slave'; master: { host: string; port: number }; state: 'connect' | 'connecting' | 'sync' | 'connected' | 'handshake' | 'none'; dataReceived: number }
  | { role: 'sentinel'; masterNames: string[] };
/** HELLO's fields, as node-redis 6.4 gives them; `modules` as the server sends them (below). */
interface HelloFields {
  server: string;
  version: string;
  proto: 2 | 3;
  id: number;
  mode: string;
  role: string;
}
/**
 * HELLO's reply: under RESP3 each module a `{ name, ver, path, args }` object, under
 * RESP2 the server's flat [name, value, …] array (as node-redis 6.4 leaves it).
 */
export type HelloReply = (HelloFields & { modules: Array<{ name: string; ver: number; [field: string]: unknown }> }) | (HelloFields & { modules: Array<Array<string | number>> });
/** HELLO's options, as node-redis's; a client declines AUTH and SETNAME (see hello). */
export interface HelloOptions {
  protover?: 2 | 3;
  AUTH?: { username: RedisArgument; password: RedisArgument };
  SETNAME?: string;
}
/**
 * MEMORY STATS, with node-redis 6.4's fields (a server sends those it knows: the
 * `overhead.db.hashtable.*`, `db.dict.rehashing.count` and `allocator.muzzy` fields are
 * newer than Redis 7.0), and each `db.N` as an object.
 */
export interface MemoryStatsReply {
  'peak.allocated': number;
  'total.allocated': number;
  'startup.allocated': number;
  'replication.backlog': number;
  'clients.slaves': number;
  'clients.normal': number;
  'cluster.links': number;
  'aof.buffer': number;
  'lua.caches': number;
  'functions.caches': number;
  'overhead.db.hashtable.lut': number;
  'overhead.db.hashtable.rehashing': number;
  'overhead.total': number;
  'db.dict.rehashing.count': number;
  'keys.count': number;
  'keys.bytes-per-key': number;
  'dataset.bytes': number;
  'dataset.percentage': number;
  'peak.percentage': number;
  'allocator.allocated': number;
  'allocator.active': number;
  'allocator.resident': number;
  'allocator.muzzy': number;
  'allocator-fragmentation.ratio': number;
  'allocator-fragmentation.bytes': number;
  'allocator-rss.ratio': number;
  'allocator-rss.bytes': number;
  'rss-overhead.ratio': number;
  'rss-overhead.bytes': number;
  fragmentation: number;
  'fragmentation.bytes': number;
  [field: `db.${number}`]: Record<string, number>;
}
/**
 * XINFO STREAM, with node-redis 6.4's fields (a server sends those it knows: the `idmp-*`,
 * `pids-tracked` and `iids-*` fields are Redis 8's).
 */
export interface XInfoStreamReply {
  length: number;
  'radix-tree-keys': number;
  'radix-tree-nodes': number;
  'last-generated-id': string;
  'max-deleted-entry-id': string;
  'entries-added': number;
  'recorded-first-entry-id': string;
  'idmp-duration': number;
  'idmp-maxsize': number;
  'pids-tracked': number;
  'iids-tracked': number;
  'iids-added': number;
  'iids-duplicates': number;
  groups: number;
  'first-entry': StreamMessage | null;
  'last-entry': StreamMessage | null;
}

export interface CommandSignatures {
  ping(message?: RedisArgument): string;
  echo(message: RedisArgument): string;
  time(): [`${number}`, `${number}`];
  info(section?: RedisArgument): string;
  dbSize(): number;
  flushDb(mode?: 'ASYNC' | 'SYNC'): string;
  flushAll(mode?: 'ASYNC' | 'SYNC'): string;
  get(key: RedisArgument): string | null;
  set(key: RedisArgument, value: Arg, options?: SetOptions): string | null;
  mGet(keys: Arg[]): Array<string | null>;
  mSet(toSet: Fields): 'OK';
  mSetNX(toSet: Fields): number;
  setNX(key: RedisArgument, value: Arg): number;
  setEx(key: RedisArgument, seconds: number, value: Arg): 'OK';
  pSetEx(key: RedisArgument, milliseconds: number, value: Arg): 'OK';
  getSet(key: RedisArgument, value: Arg): string | null;
  getDel(key: RedisArgument): string | null;
  getEx(key: RedisArgument, options: GetExOptions): string | null;
  incr(key: RedisArgument): number;
  incrBy(key: RedisArgument, increment: number): number;
  incrByFloat(key: RedisArgument, increment: number): string;
  decr(key: RedisArgument): number;
  decrBy(key: RedisArgument, decrement: number): number;
  append(key: RedisArgument, value: Arg): number;
  strLen(key: RedisArgument): number;
  getRange(key: RedisArgument, start: number, end: number): string;
  setRange(key: RedisArgument, offset: number, value: Arg): number;
  del(keys: Keys): number;
  unlink(keys: Keys): number;
  exists(keys: Keys): number;
  expire(key: RedisArgument, seconds: number, mode?: 'NX' | 'XX' | 'GT' | 'LT'): number;
  pExpire(key: RedisArgument, milliseconds: number, mode?: 'NX' | 'XX' | 'GT' | 'LT'): number;
  expireAt(key: RedisArgument, timestamp: number | Date, mode?: 'NX' | 'XX' | 'GT' | 'LT'): number;
  pExpireAt(key: RedisArgument, timestamp: number | Date, mode?: 'NX' | 'XX' | 'GT' | 'LT'): number;
  ttl(key: RedisArgument): number;
  pTTL(key: RedisArgument): number;
  persist(key: RedisArgument): number;
  type(key: RedisArgument): string;
  rename(key: RedisArgument, newKey: RedisArgument): string;
  renameNX(key: RedisArgument, newKey: RedisArgument): number;
  /** Walks the whole keyspace: the guard warns (or refuses); prefer scanIterator. */
  keys(pattern: RedisArgument): string[];
  randomKey(): string | null;
  scan(cursor: RedisArgument | number, options?: ScanOptions): { cursor: string; keys: string[] };
  hSet(key: RedisArgument, fieldOrFields: Arg | Fields, value?: Arg): number;
  hSetNX(key: RedisArgument, field: Arg, value: Arg): 0 | 1;
  hGet(key: RedisArgument, field: Arg): string | null;
  hmGet(key: RedisArgument, fields: Keys): Array<string | null>;
  hGetAll(key: RedisArgument): Record<string, string>;
  hDel(key: RedisArgument, fields: Keys): number;
  hExists(key: RedisArgument, field: Arg): 0 | 1;
  hIncrBy(key: RedisArgument, field: Arg, increment: number): number;
  hIncrByFloat(key: RedisArgument, field: Arg, increment: number): string;
  hLen(key: RedisArgument): number;
  hKeys(key: RedisArgument): string[];
  hVals(key: RedisArgument): string[];
  hStrLen(key: RedisArgument, field: Arg): number;
  hScan(key: RedisArgument, cursor: RedisArgument | number, options?: ScanOptions): { cursor: string; entries: Array<{ field: string; value: string }> };
  lPush(key: RedisArgument, elements: Keys): number;
  rPush(key: RedisArgument, elements: Keys): number;
  lPushX(key: RedisArgument, elements: Keys): number;
  rPushX(key: RedisArgument, elements: Keys): number;
  lPop(key: RedisArgument): string | null;
  rPop(key: RedisArgument): string | null;
  lPopCount(key: RedisArgument, count: number): string[] | null;
  rPopCount(key: RedisArgument, count: number): string[] | null;
  lRange(key: RedisArgument, start: number, stop: number): string[];
  lLen(key: RedisArgument): number;
  lIndex(key: RedisArgument, index: number): string | null;
  lSet(key: RedisArgument, index: number, element: Arg): 'OK';
  lRem(key: RedisArgument, count: number, element: Arg): number;
  lTrim(key: RedisArgument, start: number, stop: number): 'OK';
  lInsert(key: RedisArgument, position: 'BEFORE' | 'AFTER', pivot: Arg, element: Arg): number;
  lPos(key: RedisArgument, element: Arg, options?: { RANK?: number; MAXLEN?: number }): number | null;
  lPosCount(key: RedisArgument, element: Arg, count: number, options?: { RANK?: number; MAXLEN?: number }): number[];
  lMove(source: RedisArgument, destination: RedisArgument, from: Side, to: Side): string | null;
  /** Blocking: runs on a dedicated pooled connection; other calls are not held up. */
  blMove(source: RedisArgument, destination: RedisArgument, from: Side, to: Side, timeout: number): string | null;
  blPop(keys: Keys, timeout: number): { key: string; element: string } | null;
  brPop(keys: Keys, timeout: number): { key: string; element: string } | null;
  brPopLPush(source: RedisArgument, destination: RedisArgument, timeout: number): string | null;
  sAdd(key: RedisArgument, members: Keys): number;
  sRem(key: RedisArgument, members: Keys): number;
  sMembers(key: RedisArgument): string[];
  sIsMember(key: RedisArgument, member: Arg): number;
  smIsMember(key: RedisArgument, members: Arg[]): number[];
  sCard(key: RedisArgument): number;
  sPop(key: RedisArgument): string | null;
  sPopCount(key: RedisArgument, count: number): string[];
  sRandMember(key: RedisArgument): string | null;
  sRandMemberCount(key: RedisArgument, count: number): string[];
  sUnion(keys: Keys): string[];
  sInter(keys: Keys): string[];
  sDiff(keys: Keys): string[];
  sUnionStore(destination: RedisArgument, keys: Keys): number;
  sInterStore(destination: RedisArgument, keys: Keys): number;
  sDiffStore(destination: RedisArgument, keys: Keys): number;
  sMove(source: RedisArgument, destination: RedisArgument, member: Arg): number;
  sScan(key: RedisArgument, cursor: RedisArgument | number, options?: ScanOptions): { cursor: string; members: string[] };
  zAdd(key: RedisArgument, members: ZMember | ZMember[], options?: ZAddOptions): number;
  zRem(key: RedisArgument, members: Keys): number;
  zScore(key: RedisArgument, member: Arg): number | null;
  zmScore(key: RedisArgument, members: Keys): Array<number | null>;
  zIncrBy(key: RedisArgument, increment: number, member: Arg): number;
  zCard(key: RedisArgument): number;
  zCount(key: RedisArgument, min: Arg, max: Arg): number;
  zRank(key: RedisArgument, member: Arg): number | null;
  zRevRank(key: RedisArgument, member: Arg): number | null;
  zRange(key: RedisArgument, min: Arg, max: Arg, options?: ZRangeOptions): string[];
  zRangeWithScores(key: RedisArgument, min: Arg, max: Arg, options?: ZRangeOptions): Array<{ value: string; score: number }>;
  zRangeByScore(key: RedisArgument, min: Arg, max: Arg, options?: { LIMIT?: { offset: number; count: number } }): string[];
  zRangeByScoreWithScores(key: RedisArgument, min: Arg, max: Arg, options?: { LIMIT?: { offset: number; count: number } }): Array<{ value: string; score: number }>;
  zRemRangeByRank(key: RedisArgument, start: number, stop: number): number;
  zRemRangeByScore(key: RedisArgument, min: Arg, max: Arg): number;
  zPopMin(key: RedisArgument): { value: string; score: number } | null;
  zPopMax(key: RedisArgument): { value: string; score: number } | null;
  zPopMinCount(key: RedisArgument, count: number): Array<{ value: string; score: number }>;
  zPopMaxCount(key: RedisArgument, count: number): Array<{ value: string; score: number }>;
  bzPopMin(keys: Keys, timeout: number): { key: string; value: string; score: number } | null;
  bzPopMax(keys: Keys, timeout: number): { key: string; value: string; score: number } | null;
  zScan(key: RedisArgument, cursor: RedisArgument | number, options?: ScanOptions): { cursor: string; members: Array<{ value: string; score: number }> };
  // Hand-written in index.js (irregular arguments or replies), issue #16.
  zAddIncr(key: RedisArgument, members: ZMember | ZMember[], options?: ZAddOptions): number | null;
  /** ZUNION: keys, or { key, weight } objects (then WEIGHTS). */
  zUnion(keys: ZKeys, options?: ZAggregateOptions): string[];
  zUnionWithScores(keys: ZKeys, options?: ZAggregateOptions): Array<{ value: string; score: number }>;
  zUnionStore(destination: RedisArgument, keys: ZKeys, options?: ZAggregateOptions): number;
  zInter(keys: ZKeys, options?: ZAggregateOptions): string[];
  zInterWithScores(keys: ZKeys, options?: ZAggregateOptions): Array<{ value: string; score: number }>;
  zInterStore(destination: RedisArgument, keys: ZKeys, options?: ZAggregateOptions): number;
  zInterCard(keys: Keys, options?: number | { LIMIT?: number }): number;
  zRangeStore(destination: RedisArgument, source: RedisArgument, min: Arg, max: Arg, options?: ZRangeOptions): number;
  zmPop(keys: Keys, side: 'MIN' | 'MAX', options?: { COUNT?: number }): { key: string; members: Array<{ value: string; score: number }> } | null;
  /** Blocking: runs on a dedicated pooled connection. */
  bzmPop(timeout: number, keys: Keys, side: 'MIN' | 'MAX', options?: { COUNT?: number }): { key: string; members: Array<{ value: string; score: number }> } | null;
  lmPop(keys: Keys, side: Side, options?: { COUNT?: number }): [key: string, elements: string[]] | null;
  /** Blocking: runs on a dedicated pooled connection. */
  blmPop(timeout: number, keys: Keys, side: Side, options?: { COUNT?: number }): [key: string, elements: string[]] | null;
  sInterCard(keys: Keys, options?: number | { LIMIT?: number }): number;
  /** HSCAN … NOVALUES (Redis 7.4+). */
  hScanNoValues(key: RedisArgument, cursor: RedisArgument | number, options?: ScanOptions): { cursor: string; fields: string[] };
  /** EVAL: the script's reply as the server sends it. */
  eval(script: RedisArgument, options?: EvalOptions): RedisReply;
  evalRo(script: RedisArgument, options?: EvalOptions): RedisReply;
  evalSha(sha1: RedisArgument, options?: EvalOptions): RedisReply;
  evalShaRo(sha1: RedisArgument, options?: EvalOptions): RedisReply;
  fCall(functionName: RedisArgument, options?: EvalOptions): RedisReply;
  fCallRo(functionName: RedisArgument, options?: EvalOptions): RedisReply;
  sort(key: RedisArgument, options?: SortOptions): Array<string | null>;
  sortRo(key: RedisArgument, options?: SortOptions): Array<string | null>;
  sortStore(source: RedisArgument, destination: RedisArgument, options?: SortOptions): number;
  bitField(key: RedisArgument, operations: BitFieldOperation[]): Array<number | null>;
  bitFieldRo(key: RedisArgument, operations: Array<{ encoding: string; offset: number | string }>): number[];
  geoAdd(key: RedisArgument, toAdd: GeoMember | GeoMember[], options?: { NX?: boolean; XX?: boolean; condition?: 'NX' | 'XX'; CH?: boolean }): number;
  geoSearch(key: RedisArgument, from: RedisArgument | GeoCoordinates, by: GeoBy, options?: GeoSearchOptions): string[];
  geoSearchWith(key: RedisArgument, from: RedisArgument | GeoCoordinates, by: GeoBy, replyWith: GeoReplyWith[], options?: GeoSearchOptions): GeoReplyItem[];
  geoSearchStore(destination: RedisArgument, source: RedisArgument, from: RedisArgument | GeoCoordinates, by: GeoBy, options?: GeoSearchOptions & { STOREDIST?: boolean }): number;
  geoRadius(key: RedisArgument, from: GeoCoordinates, radius: number, unit: GeoUnit, options?: GeoSearchOptions): string[];
  geoRadiusRo(key: RedisArgument, from: GeoCoordinates, radius: number, unit: GeoUnit, options?: GeoSearchOptions): string[];
  geoRadiusWith(key: RedisArgument, from: GeoCoordinates, radius: number, unit: GeoUnit, replyWith: GeoReplyWith[], options?: GeoSearchOptions): GeoReplyItem[];
  geoRadiusRoWith(key: RedisArgument, from: GeoCoordinates, radius: number, unit: GeoUnit, replyWith: GeoReplyWith[], options?: GeoSearchOptions): GeoReplyItem[];
  geoRadiusStore(key: RedisArgument, from: GeoCoordinates, radius: number, unit: GeoUnit, destination: RedisArgument, options?: GeoSearchOptions & { STOREDIST?: boolean }): number;
  geoRadiusByMember(key: RedisArgument, member: RedisArgument, radius: number, unit: GeoUnit, options?: GeoSearchOptions): string[];
  geoRadiusByMemberRo(key: RedisArgument, member: RedisArgument, radius: number, unit: GeoUnit, options?: GeoSearchOptions): string[];
  geoRadiusByMemberWith(key: RedisArgument, member: RedisArgument, radius: number, unit: GeoUnit, replyWith: GeoReplyWith[], options?: GeoSearchOptions): GeoReplyItem[];
  geoRadiusByMemberRoWith(key: RedisArgument, member: RedisArgument, radius: number, unit: GeoUnit, replyWith: GeoReplyWith[], options?: GeoSearchOptions): GeoReplyItem[];
  geoRadiusByMemberStore(key: RedisArgument, member: RedisArgument, radius: number, unit: GeoUnit, destination: RedisArgument, options?: GeoSearchOptions & { STOREDIST?: boolean }): number;
  xAdd(key: RedisArgument, id: RedisArgument, message: Record<string, Arg>, options?: XAddOptions): string;
  xAddNoMkStream(key: RedisArgument, id: RedisArgument, message: Record<string, Arg>, options?: XAddOptions): string | null;
  xTrim(key: RedisArgument, strategy: 'MAXLEN' | 'MINID', threshold: number | string, options?: { strategyModifier?: '=' | '~'; LIMIT?: number }): number;
  xRange(key: RedisArgument, start: RedisArgument, end: RedisArgument, options?: { COUNT?: number }): StreamMessage[];
  xRevRange(key: RedisArgument, start: RedisArgument, end: RedisArgument, options?: { COUNT?: number }): StreamMessage[];
  /** Blocking when BLOCK is given: then on a dedicated pooled connection. */
  xRead(streams: StreamOffset | StreamOffset[], options?: { COUNT?: number; BLOCK?: number }): Array<{ name: string; messages: StreamMessage[] }> | null;
  xReadGroup(group: RedisArgument, consumer: RedisArgument, streams: StreamOffset | StreamOffset[], options?: { COUNT?: number; BLOCK?: number; NOACK?: boolean }): Array<{ name: string; messages: StreamMessage[] }> | null;
  xClaim(key: RedisArgument, group: RedisArgument, consumer: RedisArgument, minIdleTime: number, id: Keys, options?: XClaimOptions): Array<StreamMessage | null>;
  xClaimJustId(key: RedisArgument, group: RedisArgument, consumer: RedisArgument, minIdleTime: number, id: Keys, options?: XClaimOptions): string[];
  xAutoClaim(key: RedisArgument, group: RedisArgument, consumer: RedisArgument, minIdleTime: number, start: RedisArgument, options?: { COUNT?: number }): { nextId: string; messages: Array<StreamMessage | null>; deletedMessages: string[] };
  xAutoClaimJustId(key: RedisArgument, group: RedisArgument, consumer: RedisArgument, minIdleTime: number, start: RedisArgument, options?: { COUNT?: number }): { nextId: string; messages: string[]; deletedMessages: string[] };
  xPending(key: RedisArgument, group: RedisArgument): { pending: number; firstId: string | null; lastId: string | null; consumers: Array<{ name: string; deliveriesCounter: number }> | null };
  xPendingRange(key: RedisArgument, group: RedisArgument, start: RedisArgument, end: RedisArgument, count: number, options?: { IDLE?: number; consumer?: RedisArgument }): Array<{ id: string; consumer: string; millisecondsSinceLastDelivery: number; deliveriesCounter: number }>;
  xInfoStream(key: RedisArgument): XInfoStreamReply;
  xInfoGroups(key: RedisArgument): Array<{ name: string; consumers: number; pending: number; 'last-delivered-id': string; 'entries-read': number | null; lag: number | null }>;
  /** XINFO CONSUMERS; `inactive` is Redis 7.2's (undefined before, in node-redis too). */
  xInfoConsumers(key: RedisArgument, group: RedisArgument): Array<{ name: string; pending: number; idle: number; inactive: number }>;
  /** CONFIG SET one parameter (and its value), or several as an object. */
  configSet(parameterOrConfig: RedisArgument | Record<string, Arg>, value?: Arg): string;
  clientInfo(): ClientInfo;
  clientList(filter?: { TYPE: 'NORMAL' | 'MASTER' | 'REPLICA' | 'PUBSUB' | 'normal' | 'master' | 'replica' | 'pubsub' } | { ID: Keys }): ClientInfo[];
  clientKill(filters: ClientKillFilter | ClientKillFilter[]): number;
  clientCaching(value: boolean): 'OK';
  clientNoEvict(value: boolean): 'OK';
  /** LATENCY HISTOGRAM: per command, its call count and latency buckets (µs → calls). */
  latencyHistogram(...commands: RedisArgument[]): Record<string, { calls: number; histogram_usec: Record<string, number> }>;
  /** ACL LOG; `entry-id` and the `timestamp-*` fields are Redis 7.2's (undefined before, in node-redis too). */
  aclLog(count?: number): Array<{ count: number; reason: string; context: string; object: string; username: string; 'age-seconds': number; 'client-info': string; 'entry-id': number; 'timestamp-created': number; 'timestamp-last-updated': number }>;
  aclGetUser(username: RedisArgument): { flags: string[]; passwords: string[]; commands: string; keys: string; channels: string; selectors: Array<{ commands: string; keys: string; channels: string }> } | null;
  role(): RoleReply;
  /**
   * HELLO without changing the connection: the server's and the connection's details.
   * `protover` must be the client's own protocol (the RESP option), else a TypeError (it
   * would switch one of the client's connections to another protocol); AUTH and SETNAME
   * are TypeErrors too (use auth() and clientSetName(), which change every connection).
   */
  hello(protover?: 2 | 3, options?: HelloOptions): HelloReply;
  clusterSlots(): Array<{ from: number; to: number; master: { host: string; port: number; id: string }; replicas: Array<{ host: string; port: number; id: string }> }>;
  clusterAddSlotsRange(ranges: SlotRange | SlotRange[]): 'OK';
  clusterDelSlotsRange(ranges: SlotRange | SlotRange[]): 'OK';
  commandGetKeysAndFlags(args: Arg[]): Array<{ key: string; flags: string[] }>;
  latencyReset(...events: string[]): number;
  migrate(host: RedisArgument, port: number, key: RedisArgument | RedisArgument[], destinationDb: number, timeout: number, options?: { COPY?: boolean; REPLACE?: boolean; AUTH?: { username?: RedisArgument; password: RedisArgument } }): 'OK' | 'NOKEY';
  // @generated-begin by spec/generate.py from spec/node.toml
  /** ACL CAT: List the ACL categories or the commands inside a category. */
  aclCat(categoryName?: RedisArgument): string[];
  /** ACL DELUSER: Remove the specified ACL users and the associated rules. */
  aclDelUser(username: Keys): number;
  /** ACL DRYRUN: Returns whether the user can execute the given command without executing the command. */
  aclDryRun(username: RedisArgument, command: Arg[]): string;
  /** ACL GENPASS: Generate a pseudorandom secure password to use for ACL users. */
  aclGenPass(bits?: number): string;
  /** ACL LIST: List the current ACL rules in ACL config file format. */
  aclList(): string[];
  /** ACL LOAD: Reload the ACLs from the configured ACL file. */
  aclLoad(): 'OK';
  /** ACL LOG: List latest events denied because of ACLs in place. */
  aclLogReset(): 'OK';
  /** ACL SAVE: Save the current ACL rules in the configured ACL file. */
  aclSave(): 'OK';
  /** ACL SETUSER: Modify or create the rules for a specific ACL user. */
  aclSetUser(username: RedisArgument, rule: Keys): 'OK';
  /** ACL USERS: List the username of all the configured ACL rules. */
  aclUsers(): string[];
  /** ACL WHOAMI: Return the name of the user associated to the current connection. */
  aclWhoAmI(): string;
  /** ASKING: Sent by cluster clients after an -ASK redirect. */
  asking(): 'OK';
  /** BGREWRITEAOF: Asynchronously rewrite the append-only file. */
  bgRewriteAof(): string;
  /** BGSAVE: Asynchronously save the dataset to disk. */
  bgSave(options?: { SCHEDULE?: boolean }): string;
  /** BITCOUNT: Count set bits in a string. */
  bitCount(key: RedisArgument, range?: { start: number; end: number; mode?: 'BYTE' | 'BIT' }): number;
  /** BITOP: Perform bitwise operations between strings. */
  bitOp(operation: 'AND' | 'OR' | 'XOR' | 'NOT' | 'DIFF' | 'DIFF1' | 'ANDOR' | 'ONE', destKey: RedisArgument, key: Keys): number;
  /** BITPOS: Find first bit set or clear in a string. */
  bitPos(key: RedisArgument, bit: 0 | 1, start?: number, end?: number, mode?: 'BYTE' | 'BIT'): number;
  /** CLIENT GETNAME: Get the current connection name. */
  clientGetName(): string | null;
  /** CLIENT GETREDIR: Get tracking notifications redirection client ID if any. */
  clientGetRedir(): number;
  /** CLIENT ID: Returns the client ID for the current connection. */
  clientId(): number;
  /** CLIENT PAUSE: Stop processing commands from clients for some time. */
  clientPause(timeout: number, mode?: 'WRITE' | 'ALL'): 'OK';
  /** CLIENT TRACKING: not supported (use the clientSideCache option, which tracks keys on the connection the cache reads); rejects with a TypeError. */
  clientTracking(mode: boolean, options?: { REDIRECT?: number; NOLOOP?: boolean; BCAST?: boolean; PREFIX?: Keys; OPTIN?: boolean; OPTOUT?: boolean }): never;
  /** CLIENT TRACKINGINFO: Return information about server assisted client side caching for the current connection. */
  clientTrackingInfo(): { flags: string[]; redirect: number; prefixes: string[] };
  /** CLIENT UNBLOCK: Unblock a client blocked in a blocking command from a different connection. */
  clientUnblock(clientId: number | string, mode?: 'TIMEOUT' | 'ERROR'): number;
  /** CLIENT UNPAUSE: Resume processing of clients that were paused. */
  clientUnpause(): 'OK';
  /** CLUSTER ADDSLOTS: Assign new hash slots to receiving node. */
  clusterAddSlots(slots: number | number[]): 'OK';
  /** CLUSTER BUMPEPOCH: Advance the cluster config epoch. */
  clusterBumpEpoch(): string;
  /** CLUSTER COUNT-FAILURE-REPORTS: Return the number of failure reports active for a given node. */
  clusterCountFailureReports(nodeId: RedisArgument): number;
  /** CLUSTER COUNTKEYSINSLOT: Return the number of local keys in the specified hash slot. */
  clusterCountKeysInSlot(slot: number): number;
  /** CLUSTER DELSLOTS: Set hash slots as unbound in receiving node. */
  clusterDelSlots(slots: number | number[]): 'OK';
  /** CLUSTER FAILOVER: Forces a replica to perform a manual failover of its master. */
  clusterFailover(options?: { mode?: 'FORCE' | 'TAKEOVER' }): 'OK';
  /** CLUSTER FLUSHSLOTS: Delete a node's own slots information. */
  clusterFlushSlots(): 'OK';
  /** CLUSTER FORGET: Remove a node from the nodes table. */
  clusterForget(nodeId: RedisArgument): 'OK';
  /** CLUSTER GETKEYSINSLOT: Return local key names in the specified hash slot. */
  clusterGetKeysInSlot(slot: number, count: number): string[];
  /** CLUSTER INFO: Provides info about Redis Cluster node state. */
  clusterInfo(): string;
  /** CLUSTER KEYSLOT: Returns the hash slot of the specified key. */
  clusterKeySlot(key: RedisArgument): number;
  /** CLUSTER LINKS: Returns a list of all TCP links to and from peer nodes in cluster. */
  clusterLinks(): Array<{ direction: string; node: string; 'create-time': number; events: string; 'send-buffer-allocated': number; 'send-buffer-used': number }>;
  /** CLUSTER MEET: Force a node cluster to handshake with another node. */
  clusterMeet(host: string, port: number): 'OK';
  /** CLUSTER MYID: Return the node id. */
  clusterMyId(): string;
  /** CLUSTER MYSHARDID: Returns the shard ID of a node. */
  clusterMyShardId(): string;
  /** CLUSTER NODES: Get Cluster config for the node. */
  clusterNodes(): string;
  /** CLUSTER REPLICAS: List replica nodes of the specified master node. */
  clusterReplicas(nodeId: RedisArgument): string[];
  /** CLUSTER REPLICATE: Reconfigure a node as a replica of the specified master node. */
  clusterReplicate(nodeId: RedisArgument): string;
  /** CLUSTER RESET: Reset a Redis Cluster node. */
  clusterReset(options?: { mode?: 'HARD' | 'SOFT' }): 'OK';
  /** CLUSTER SAVECONFIG: Forces the node to save cluster state on disk. */
  clusterSaveConfig(): 'OK';
  /** CLUSTER SET-CONFIG-EPOCH: Set the configuration epoch in a new node. */
  clusterSetConfigEpoch(configEpoch: number): 'OK';
  /** CLUSTER SETSLOT: Bind a hash slot to a specific node. */
  clusterSetSlot(slot: number, state: 'IMPORTING' | 'MIGRATING' | 'STABLE' | 'NODE', nodeId?: RedisArgument): 'OK';
  /** COMMAND: Get array of Redis command details. */
  command(): Array<CommandReply>;
  /** COMMAND COUNT: Get total number of Redis commands. */
  commandCount(): number;
  /** COMMAND DOCS: Get array of specific Redis command documentation. */
  commandDocs(commands?: Keys): Record<string, Record<string, unknown>>;
  /** COMMAND GETKEYS: Extract keys given a full Redis command. */
  commandGetKeys(args: Arg[]): string[];
  /** COMMAND INFO: Get array of specific Redis command details, or all when no argument is given. */
  commandInfo(commands: Arg[]): Array<CommandReply | null>;
  /** COMMAND LIST: Get an array of Redis command names. */
  commandList(options?: { FILTERBY?: { type: 'MODULE' | 'ACLCAT' | 'PATTERN'; value: RedisArgument } }): string[];
  /** CONFIG GET: Get the values of configuration parameters. */
  configGet(parameters: Keys): Record<string, string>;
  /** CONFIG RESETSTAT: Reset the stats returned by INFO. */
  configResetStat(): string;
  /** CONFIG REWRITE: Rewrite the configuration file with the in memory configuration. */
  configRewrite(): string;
  /** COPY: Copy a key. */
  copy(source: RedisArgument, destination: RedisArgument, options?: { DB?: number; REPLACE?: boolean }): number;
  /** DUMP: Return a serialized version of the value stored at the specified key. */
  dump(key: RedisArgument): string | null;
  /** EXPIRETIME: Get the expiration Unix timestamp for a key. */
  expireTime(key: RedisArgument): number;
  /** FUNCTION DELETE: Delete a function by name. */
  functionDelete(library: RedisArgument): string;
  /** FUNCTION DUMP: Dump all functions into a serialized binary payload. */
  functionDump(): string;
  /** FUNCTION FLUSH: Deleting all functions. */
  functionFlush(mode?: 'ASYNC' | 'SYNC'): 'OK';
  /** FUNCTION KILL: Kill the function currently in execution. */
  functionKill(): string;
  /** FUNCTION LIST: List information about all the functions. */
  functionList(options?: { LIBRARYNAME?: RedisArgument }): Array<FunctionListItem>;
  /** FUNCTION LIST: List information about all the functions. */
  functionListWithCode(options?: { LIBRARYNAME?: RedisArgument }): Array<FunctionListItem & { library_code: string }>;
  /** FUNCTION LOAD: Create a function with the given arguments (name, code, description). */
  functionLoad(code: RedisArgument, options?: { REPLACE?: boolean }): string;
  /** FUNCTION RESTORE: Restore all the functions on the given payload. */
  functionRestore(dump: RedisArgument, options?: { mode?: 'FLUSH' | 'APPEND' | 'REPLACE' }): 'OK';
  /** FUNCTION STATS: Return information about the function currently running (name, description, duration). */
  functionStats(): { running_script: { name: string; command: string[]; duration_ms: number } | null; engines: Record<string, { libraries_count: number; functions_count: number }> };
  /** GEODIST: Returns the distance between two members of a geospatial index. */
  geoDist(key: RedisArgument, member1: RedisArgument, member2: RedisArgument, unit?: 'm' | 'km' | 'mi' | 'ft'): number | null;
  /** GEOHASH: Returns members of a geospatial index as standard geohash strings. */
  geoHash(key: RedisArgument, member: Keys): Array<string | null>;
  /** GEOPOS: Returns longitude and latitude of members of a geospatial index. */
  geoPos(key: RedisArgument, member: Keys): Array<{ longitude: number | string; latitude: number | string } | null>;
  /** GETBIT: Returns the bit value at offset in the string value stored at key. */
  getBit(key: RedisArgument, offset: number): 0 | 1;
  /** HRANDFIELD: Get one or multiple random fields from a hash. */
  hRandField(key: RedisArgument): string | null;
  /** HRANDFIELD: Get one or multiple random fields from a hash. */
  hRandFieldCount(key: RedisArgument, count: number): string[];
  /** HRANDFIELD: Get one or multiple random fields from a hash. */
  hRandFieldCountWithValues(key: RedisArgument, count: number): Array<{ field: string; value: string }>;
  /** LASTSAVE: Get the UNIX time stamp of the last successful save to disk. */
  lastSave(): number;
  /** LATENCY DOCTOR: Return a human readable latency analysis report. */
  latencyDoctor(): string;
  /** LATENCY GRAPH: Return a latency graph for the event. */
  latencyGraph(event: string): string;
  /** LATENCY HISTORY: Return timestamp-latency samples for the event. */
  latencyHistory(event: string): Array<[number, number]>;
  /** LATENCY LATEST: Return the latest latency samples for all events. */
  latencyLatest(): Array<[string, number, number, number]>;
  /** LCS: Find longest common substring. */
  lcs(key1: RedisArgument, key2: RedisArgument): string;
  /** LCS: Find longest common substring. */
  lcsIdx(key1: RedisArgument, key2: RedisArgument, options?: { MINMATCHLEN?: number }): { matches: Array<[[number, number], [number, number]]>; len: number };
  /** LCS: Find longest common substring. */
  lcsIdxWithMatchLen(key1: RedisArgument, key2: RedisArgument, options?: { MINMATCHLEN?: number }): { matches: Array<[[number, number], [number, number], number]>; len: number };
  /** LCS: Find longest common substring. */
  lcsLen(key1: RedisArgument, key2: RedisArgument): number;
  /** MEMORY DOCTOR: Outputs memory problems report. */
  memoryDoctor(): string;
  /** MEMORY MALLOC-STATS: Show allocator internal stats. */
  memoryMallocStats(): string;
  /** MEMORY PURGE: Ask the allocator to release memory. */
  memoryPurge(): 'OK';
  /** MEMORY STATS: Show memory usage details. */
  memoryStats(): MemoryStatsReply;
  /** MEMORY USAGE: Estimate the memory usage of a key. */
  memoryUsage(key: RedisArgument, options?: { SAMPLES?: number }): number | null;
  /** MODULE LIST: List all modules loaded by the server. */
  moduleList(): Array<{ name: string; ver: number; [field: string]: unknown }>;
  /** MODULE LOAD: Load a module. */
  moduleLoad(path: RedisArgument, moduleArguments?: Arg[]): 'OK';
  /** MODULE UNLOAD: Unload a module. */
  moduleUnload(name: RedisArgument): 'OK';
  /** MOVE: Move a key to another database. */
  move(key: RedisArgument, db: number): number;
  /** OBJECT ENCODING: Inspect the internal encoding of a Redis object. */
  objectEncoding(key: RedisArgument): string | null;
  /** OBJECT FREQ: Get the logarithmic access frequency counter of a Redis object. */
  objectFreq(key: RedisArgument): number | null;
  /** OBJECT IDLETIME: Get the time since a Redis object was last accessed. */
  objectIdleTime(key: RedisArgument): number | null;
  /** OBJECT REFCOUNT: Get the number of references to the value of the key. */
  objectRefCount(key: RedisArgument): number | null;
  /** PEXPIRETIME: Get the expiration Unix timestamp for a key in milliseconds. */
  pExpireTime(key: RedisArgument): number;
  /** PFADD: Adds the specified elements to the specified HyperLogLog. */
  pfAdd(key: RedisArgument, element?: Keys): number;
  /** PFCOUNT: Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s). */
  pfCount(keys: Keys): number;
  /** PFMERGE: Merge N different HyperLogLogs into a single one. */
  pfMerge(destination: RedisArgument, sources?: Keys): string;
  /** PUBSUB CHANNELS: List active channels. */
  pubSubChannels(pattern?: RedisArgument): string[];
  /** PUBSUB NUMPAT: Get the count of unique patterns pattern subscriptions. */
  pubSubNumPat(): number;
  /** PUBSUB NUMSUB: Get the count of subscribers for channels. */
  pubSubNumSub(channels?: Keys): Record<string, number>;
  /** PUBSUB SHARDCHANNELS: List active shard channels. */
  pubSubShardChannels(pattern?: RedisArgument): string[];
  /** PUBSUB SHARDNUMSUB: Get the count of subscribers for shard channels. */
  pubSubShardNumSub(channels?: Keys): Record<string, number>;
  /** PUBLISH: Post a message to a channel. */
  publish(channel: RedisArgument, message: RedisArgument): number;
  /** RPOPLPUSH: Remove the last element in a list, prepend it to another list and return it. */
  rPopLPush(source: RedisArgument, destination: RedisArgument): string | null;
  /** READONLY: not supported (a cluster client reads from replicas through its cluster options); rejects with a TypeError. */
  readonly(): never;
  /** REPLICAOF: Make the server a replica of another instance, or promote it as master. */
  replicaOf(host: string, port: number): string;
  /** RESTORE: Create a key using the provided serialized value, previously obtained using DUMP. */
  restore(key: RedisArgument, ttl: number, serializedValue: RedisArgument, options?: { REPLACE?: boolean; ABSTTL?: boolean; IDLETIME?: number; FREQ?: number }): 'OK';
  /** RESTORE-ASKING: An internal command for migrating keys in a cluster. */
  restoreAsking(): string;
  /** SPUBLISH: Post a message to a shard channel. */
  sPublish(channel: RedisArgument, message: RedisArgument): number;
  /** SCRIPT DEBUG: Set the debug mode for executed scripts. */
  scriptDebug(mode: 'YES' | 'SYNC' | 'NO'): 'OK';
  /** SCRIPT EXISTS: Check existence of scripts in the script cache. */
  scriptExists(sha1: Keys): number[];
  /** SCRIPT FLUSH: Remove all the scripts from the script cache. */
  scriptFlush(mode?: 'ASYNC' | 'SYNC'): 'OK';
  /** SCRIPT KILL: Kill the script currently in execution. */
  scriptKill(): 'OK';
  /** SCRIPT LOAD: Load the specified Lua script into the script cache. */
  scriptLoad(script: RedisArgument): string;
  /** SETBIT: Sets or clears the bit at offset in the string value stored at key. */
  setBit(key: RedisArgument, offset: number, value: 0 | 1): 0 | 1;
  /** SWAPDB: Swaps two Redis databases. */
  swapDb(index1: number, index2: number): 'OK';
  /** TOUCH: Alters the last access time of a key(s). Returns the number of existing keys specified. */
  touch(key: Keys): number;
  /** WAIT: Wait for the synchronous replication of all the write commands sent in the context of the current connection. */
  wait(numberOfReplicas: number, timeout: number): number;
  /** XACK: Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL. */
  xAck(key: RedisArgument, group: RedisArgument, id: Keys): number;
  /** XDEL: Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist. */
  xDel(key: RedisArgument, id: Keys): number;
  /** XGROUP CREATE: Create a consumer group. */
  xGroupCreate(key: RedisArgument, group: RedisArgument, id: RedisArgument, options?: { MKSTREAM?: boolean; ENTRIESREAD?: number }): 'OK';
  /** XGROUP CREATECONSUMER: Create a consumer in a consumer group. */
  xGroupCreateConsumer(key: RedisArgument, group: RedisArgument, consumer: RedisArgument): number;
  /** XGROUP DELCONSUMER: Delete a consumer from a consumer group. */
  xGroupDelConsumer(key: RedisArgument, group: RedisArgument, consumer: RedisArgument): number;
  /** XGROUP DESTROY: Destroy a consumer group. */
  xGroupDestroy(key: RedisArgument, group: RedisArgument): number;
  /** XGROUP SETID: Set a consumer group to an arbitrary last delivered ID value. */
  xGroupSetId(key: RedisArgument, group: RedisArgument, id: RedisArgument, options?: { ENTRIESREAD?: number }): 'OK';
  /** XLEN: Return the number of entries in a stream. */
  xLen(key: RedisArgument): number;
  /** XSETID: An internal command for replicating stream values. */
  xSetId(key: RedisArgument, lastId: RedisArgument, options?: { ENTRIESADDED?: number; MAXDELETEDID?: RedisArgument }): 'OK';
  /** ZDIFF: Subtract multiple sorted sets. */
  zDiff(keys: Keys): string[];
  /** ZDIFFSTORE: Subtract multiple sorted sets and store the resulting sorted set in a new key. */
  zDiffStore(destination: RedisArgument, inputKeys: Keys): number;
  /** ZDIFF: Subtract multiple sorted sets. */
  zDiffWithScores(keys: Keys): Array<{ value: string; score: number }>;
  /** ZLEXCOUNT: Count the number of members in a sorted set between a given lexicographical range. */
  zLexCount(key: RedisArgument, min: RedisArgument, max: RedisArgument): number;
  /** ZRANDMEMBER: Get one or multiple random elements from a sorted set. */
  zRandMember(key: RedisArgument): string | null;
  /** ZRANDMEMBER: Get one or multiple random elements from a sorted set. */
  zRandMemberCount(key: RedisArgument, count: number): string[];
  /** ZRANDMEMBER: Get one or multiple random elements from a sorted set. */
  zRandMemberCountWithScores(key: RedisArgument, count: number): Array<{ value: string; score: number }>;
  /** ZRANGEBYLEX: Return a range of members in a sorted set, by lexicographical range. */
  zRangeByLex(key: RedisArgument, min: RedisArgument, max: RedisArgument, options?: { LIMIT?: { offset: number; count: number } }): string[];
  /** ZRANK: Determine the index of a member in a sorted set. */
  zRankWithScore(key: RedisArgument, member: RedisArgument): { rank: number; score: number } | null;
  /** ZREMRANGEBYLEX: Remove all members in a sorted set between the given lexicographical range. */
  zRemRangeByLex(key: RedisArgument, min: RedisArgument | number, max: RedisArgument | number): number;
  /** ZREVRANK: Determine the index of a member in a sorted set, with scores ordered from high to low. */
  zRevRankWithScore(key: RedisArgument, member: RedisArgument): { rank: number; score: number } | null;
  // @generated-end
}

// Both casings, as node-redis offers them (client.hGetAll and client.HGETALL).
type Methods = { [K in keyof CommandSignatures as K | Uppercase<K>]: CommandSignatures[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<R> : never };
type Queued = { [K in keyof CommandSignatures as K | Uppercase<K>]: CommandSignatures[K] extends (...args: infer A) => unknown ? (...args: A) => RedisMulti : never };

/** node-redis's RESP type numbers; `withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer })` gives Buffers. */
export declare const RESP_TYPES: {
  readonly NULL: 95; readonly BOOLEAN: 35; readonly NUMBER: 58; readonly BIG_NUMBER: 40; readonly DOUBLE: 44;
  readonly SIMPLE_STRING: 43; readonly BLOB_STRING: 36; readonly VERBATIM_STRING: 61; readonly SIMPLE_ERROR: 45;
  readonly BLOB_ERROR: 33; readonly ARRAY: 42; readonly SET: 126; readonly MAP: 37; readonly PUSH: 62;
};

export interface RedisMulti extends Queued {
  /** Queues any command. */
  addCommand(args: Arg[]): RedisMulti;
  /** MULTI … EXEC: rejects with WatchError when a watched key changed, MultiErrorReply when a command failed. */
  exec(): Promise<unknown[]>;
  /** The queued commands as one pipeline (no MULTI); rejects with the first error. */
  execAsPipeline(): Promise<unknown[]>;
}

/** A pub/sub listener: the message and its channel, strings (Buffers in buffer mode). */
export type PubSubListener<B extends boolean = false> = (message: B extends true ? Buffer : string, channel: B extends true ? Buffer : string) => unknown;
/** Channels (or patterns) to subscribe to: one or many, strings or Buffers. */
export type PubSubChannels = RedisArgument | RedisArgument[];
/**
 * The 'pubsub-gap' event: messages may be missing at this point — `reconnected` (the
 * subscriber connection was lost and every subscription has been made again; what was
 * published meanwhile is lost) or `overflow` (`dropped` messages did not fit the queue).
 */
export interface PubSubGap {
  cause: 'reconnected' | 'overflow';
  dropped: number;
}

/** node-redis's PUBSUB_TYPE: the kinds of subscription the listener accessors take. */
export declare const PUBSUB_TYPE: { readonly CHANNELS: 'CHANNELS'; readonly PATTERNS: 'PATTERNS'; readonly SHARDED: 'SHARDED' };
export type PubSubType = (typeof PUBSUB_TYPE)[keyof typeof PUBSUB_TYPE];
/** The listeners of one channel (pattern, shard channel), as node-redis's ChannelListeners. */
export interface ChannelListeners {
  unsubscribing: boolean;
  buffers: Set<PubSubListener<true>>;
  strings: Set<PubSubListener<false>>;
}
/** Channel → its listeners (getPubSubListeners, extendPubSubListeners). */
export type PubSubTypeListeners = Map<string, ChannelListeners>;
/** A MONITOR callback: one line per command the server runs, as the server sends it. */
export type MonitorCallback = (line: string) => unknown;

/** An argument of the legacy (v3) interface: arrays are flattened, numbers and Dates sent as text. */
export type LegacyArgument = string | Buffer | number | Date;
export type LegacyArguments = Array<LegacyArgument | LegacyArguments>;
export type LegacyCallback<T = unknown> = (err: Error | null, reply?: T) => unknown;
export type LegacyCommandArguments = LegacyArguments | [...args: LegacyArguments, callback: LegacyCallback];
/** node-redis's legacy() client: every command method takes v3 arguments and an optional last callback. */
export type RedisLegacyClient = { [K in keyof Methods]: (...args: LegacyCommandArguments) => void } & {
  /** Any command: its words and arguments, then an optional callback with the server's reply. */
  sendCommand(...args: LegacyCommandArguments): void;
  quit(callback?: LegacyCallback<string>): void;
  multi(): RedisLegacyMulti;
};
/** legacy().multi(): commands chained, then exec(callback). */
export type RedisLegacyMulti = { [K in keyof Methods]: (...args: LegacyArguments) => RedisLegacyMulti } & {
  sendCommand(...args: LegacyArguments): RedisLegacyMulti;
  exec(callback?: LegacyCallback<unknown[]>): void;
};

export interface RedisClient extends Methods, NodeJS.EventEmitter {}
export declare class RedisClient {
  constructor(options?: RedisClientOptions);
  readonly options: RedisClientOptions;
  /** Connects; rejects with ConnectionError / AuthenticationError / TypeError (bad options). */
  connect(): Promise<RedisClient>;
  readonly isOpen: boolean;
  readonly isReady: boolean;
  /** Any command; the raw reply. */
  sendCommand(args: Arg[]): Promise<unknown>;
  multi(): RedisMulti;
  /** WATCH on a dedicated connection that the next multi().exec() uses. */
  watch(keys: Keys): Promise<string>;
  unwatch(): Promise<string>;
  executeIsolated<T>(fn: (isolated: RedisClient) => Promise<T>): Promise<T>;
  /**
   * A client sharing this one's connection whose commands take these options:
   * `typeMapping` (Buffers for strings), `abortSignal` (reject with AbortError when it
   * fires first; the command may still run), `asap` (accepted; commands are sent at once).
   */
  withCommandOptions(options: { typeMapping?: Partial<Record<number, unknown>>; abortSignal?: AbortSignal; asap?: boolean }): this;
  /** A client sharing this one's connection whose commands reject with AbortError once `signal` fires. */
  withAbortSignal(signal: AbortSignal): this;
  /** Accepted for node-redis compatibility: every command is sent as soon as it is submitted. */
  asap(): this;
  /** A new, unconnected client with this one's options and `overrides`. */
  duplicate(overrides?: Partial<RedisClientOptions>): RedisClient;
  /** A pool over this client's options (node-redis's createPool); see createClientPool. */
  createPool(options?: Partial<RedisPoolOptions>): RedisClientPoolType;
  /**
   * AUTH: every connection logs in with these credentials from now on, reconnects
   * included (it reconnects with them); no username means the default user. A refusal
   * rejects with SimpleError and keeps the login the client had.
   */
  auth(options: RedisCredentials): Promise<'OK'>;
  AUTH(options: RedisCredentials): Promise<'OK'>;
  /** The same as auth(), resolving with nothing (node-redis's reAuthenticate). */
  reAuthenticate(credentials: RedisCredentials): Promise<void>;
  /** SELECT: every connection uses database `db` from now on (it reconnects). */
  select(db: number): Promise<void>;
  SELECT(db: number): Promise<void>;
  /** CLIENT SETNAME: every connection is named `name` from now on (it reconnects). */
  clientSetName(name: RedisArgument): Promise<'OK'>;
  CLIENTSETNAME(name: RedisArgument): Promise<'OK'>;
  /**
   * The database and name of the options again, no WATCH, no MONITOR, no subscriptions,
   * fresh connections; credentials from auth() are kept.
   */
  reset(): Promise<void>;
  /** reset() when the client has state (another database, MONITOR, subscriptions, a WATCH), with a warning; else undefined. */
  resetIfDirty(): Promise<void> | undefined;
  /**
   * MONITOR: `callback(line)` for every command the server runs from now on, each as the
   * server's line. Resolves once the server acknowledged. On a connection of its own:
   * the client keeps running commands. reset() and close() end it.
   */
  monitor(callback: MonitorCallback): Promise<void>;
  MONITOR(callback: MonitorCallback): Promise<void>;
  /** 0 before connect(), then one more each time the command connection is replaced. */
  readonly socketEpoch: number;
  /** Whether a WATCH is on (until the next exec(), unwatch() or reset()). */
  readonly isWatching: boolean;
  /** Whether setDirtyWatch() marked the WATCH. */
  readonly isDirtyWatch: boolean;
  /** The next exec() rejects with WatchError(msg) without sending. */
  setDirtyWatch(msg: string): void;
  /** The v3 callback interface over this client (node-redis's legacy()). */
  legacy(): RedisLegacyClient;
  /** Each channel (pattern, shard channel) subscribed to → its listener sets (a new Map; the sets are live). */
  getPubSubListeners(type: PubSubType): PubSubTypeListeners;
  /** `channel` gets these listeners too; subscribed when new. */
  extendPubSubChannelListeners(type: PubSubType, channel: string, listeners: ChannelListeners): Promise<void>;
  /** Each channel of `listeners` gets its listeners too; the new ones are subscribed. */
  extendPubSubListeners(type: PubSubType, listeners: PubSubTypeListeners): Promise<void>;
  /** Keeps the process alive while the client is open, until unref() or close(). */
  ref(): void;
  /** Lets the process exit while the client is idle (the default). */
  unref(): void;
  /** The values of a hash, one batch per page. */
  hScanValuesIterator(key: RedisArgument, options?: ScanOptions): AsyncIterableIterator<string[]>;
  /** The fields of a hash, one batch per page. */
  hScanNoValuesIterator(key: RedisArgument, options?: ScanOptions): AsyncIterableIterator<string[]>;
  /** A client sharing this one's connection whose string replies are Buffers. */
  withTypeMapping(mapping: Partial<Record<number, unknown>>): RedisClient;
  scanIterator(options?: ScanOptions): AsyncIterableIterator<string[]>;
  sScanIterator(key: RedisArgument, options?: ScanOptions): AsyncIterableIterator<string[]>;
  hScanIterator(key: RedisArgument, options?: ScanOptions): AsyncIterableIterator<Array<{ field: string; value: string }>>;
  zScanIterator(key: RedisArgument, options?: ScanOptions): AsyncIterableIterator<Array<{ value: string; score: number }>>;
  /**
   * SUBSCRIBE: `listener(message, channel)` for every message published to these
   * channels (Buffers when `bufferMode`). Resolves once the server confirmed. The
   * subscriptions live on a connection of their own, made again after every reconnect
   * (a 'pubsub-gap' event tells); the client keeps running commands, under RESP2 too.
   */
  subscribe<B extends boolean = false>(channels: PubSubChannels, listener: PubSubListener<B>, bufferMode?: B): Promise<void>;
  SUBSCRIBE<B extends boolean = false>(channels: PubSubChannels, listener: PubSubListener<B>, bufferMode?: B): Promise<void>;
  /** UNSUBSCRIBE: removes `listener` (or every listener) of these channels (or of all); a channel left without listeners is unsubscribed. */
  unsubscribe<B extends boolean = false>(channels?: PubSubChannels, listener?: PubSubListener<B>, bufferMode?: B): Promise<void>;
  UNSUBSCRIBE<B extends boolean = false>(channels?: PubSubChannels, listener?: PubSubListener<B>, bufferMode?: B): Promise<void>;
  /** PSUBSCRIBE: `listener(message, channel)` for messages on channels matching these glob patterns. */
  pSubscribe<B extends boolean = false>(patterns: PubSubChannels, listener: PubSubListener<B>, bufferMode?: B): Promise<void>;
  PSUBSCRIBE<B extends boolean = false>(patterns: PubSubChannels, listener: PubSubListener<B>, bufferMode?: B): Promise<void>;
  pUnsubscribe<B extends boolean = false>(patterns?: PubSubChannels, listener?: PubSubListener<B>, bufferMode?: B): Promise<void>;
  PUNSUBSCRIBE<B extends boolean = false>(patterns?: PubSubChannels, listener?: PubSubListener<B>, bufferMode?: B): Promise<void>;
  /** SSUBSCRIBE: shard channels (SPUBLISH). */
  sSubscribe<B extends boolean = false>(channels: PubSubChannels, listener: PubSubListener<B>, bufferMode?: B): Promise<void>;
  SSUBSCRIBE<B extends boolean = false>(channels: PubSubChannels, listener: PubSubListener<B>, bufferMode?: B): Promise<void>;
  sUnsubscribe<B extends boolean = false>(channels?: PubSubChannels, listener?: PubSubListener<B>, bufferMode?: B): Promise<void>;
  SUNSUBSCRIBE<B extends boolean = false>(channels?: PubSubChannels, listener?: PubSubListener<B>, bufferMode?: B): Promise<void>;
  /** Whether any channel, pattern or shard channel has a listener. */
  readonly isPubSubActive: boolean;
  /** Messages may be missing here (see PubSubGap). */
  on(event: 'pubsub-gap', listener: (gap: PubSubGap) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  /** The core's counters: requests, errors_<kind>, retries, reconnects, pool_*, cache_*, pubsub_messages, pubsub_dropped, pubsub_resubscribes. */
  stats(): Record<string, number>;
  /**
   * On a cluster, each node's counters by `host:port`: `primary` (1 while it serves
   * slots), `requests`, `errors`, and its part of the client-side cache (`cache_*`).
   * `{}` for a standalone server.
   */
  nodeStats(): Record<string, Record<string, number>>;
  readonly clientSideCache: {
    clear(): void;
    stats(): { hitCount: number; missCount: number; invalidationCount: number; evictionCount: number; size: number; bytes: number };
  };
  close(): Promise<void>;
  quit(): Promise<string>;
  disconnect(): Promise<void>;
  destroy(): void;
}

/**
 * What a script's or function's `parseCommand(parser, ...args)` fills (node-redis's
 * CommandParser): arguments in order, keys among them noted.
 */
export interface CommandParser {
  readonly redisArgs: ReadonlyArray<RedisArgument>;
  readonly keys: ReadonlyArray<RedisArgument>;
  readonly firstKey: RedisArgument | undefined;
  /** Kept for the definition's transformReply (its second argument). */
  preserve: unknown;
  push(...args: Arg[]): void;
  pushVariadic(values: Keys): void;
  pushVariadicWithLength(values: Keys): void;
  pushVariadicNumber(values: number | number[]): void;
  pushKey(key: Arg): void;
  pushKeys(keys: Keys): void;
  pushKeysLength(keys: Keys): void;
  pushPrefixedVariadicWithLength(values: Keys): void;
}

/** A definition's reply conversion: `(reply, preserve)`; one per RESP version, or one for both. */
export type TransformReply = (this: void, reply: any, preserve?: any) => unknown;

/** What scripts and functions share: how a call's arguments become the command's, and its reply's shape. */
export interface RedisProgram {
  /** Keys the call gives first; without it, parseCommand gives the count of keys first. */
  NUMBER_OF_KEYS?: number;
  /** EVALSHA_RO / EVAL_RO for a script, FCALL_RO for a function. */
  IS_READ_ONLY?: boolean;
  parseCommand?(this: void, parser: CommandParser, ...args: any[]): void;
  /** node-redis v4's form of parseCommand: the keys and arguments as an array. */
  transformArguments?(this: void, ...args: any[]): Arg[];
  transformReply?: TransformReply | { 2?: TransformReply; 3?: TransformReply };
}

/** A Lua script for the `scripts` option (node-redis's RedisScriptConfig). */
export interface RedisScriptConfig extends RedisProgram {
  SCRIPT: string | Buffer;
}
/** A script with its SHA1: what defineScript gives. */
export type RedisScript = RedisScriptConfig & { SHA1: string };
export type RedisScripts = Record<string, RedisScriptConfig>;
/** A function of a loaded library for the `functions` option; it is called by its key (or v4's NAME). */
export interface RedisFunction extends RedisProgram {
  NAME?: string;
}
export type RedisFunctions = Record<string, Record<string, RedisFunction>>;

/** node-redis's defineScript: the definition with the SHA1 the server knows it by. */
export declare function defineScript<S extends RedisScriptConfig>(script: S): S & { SHA1: string };

type ProgramArgs<C> = C extends { parseCommand(parser: CommandParser, ...args: infer A): void }
  ? A
  : C extends { transformArguments(...args: infer A): unknown }
    ? A
    : Arg[];
type ProgramReply<C> = C extends { transformReply: (...args: never[]) => infer R }
  ? R
  : C extends { transformReply: { 3: (...args: never[]) => infer R } }
    ? R
    : unknown;
type ProgramMethods<S, F> = {
  [K in keyof S]: (...args: ProgramArgs<S[K]>) => Promise<ProgramReply<S[K]>>;
} & {
  [L in keyof F]: { [N in keyof F[L]]: (...args: ProgramArgs<F[L][N]>) => Promise<ProgramReply<F[L][N]>> };
};

/** multi() of a client with `scripts` / `functions`: those queue too, and every method chains. */
export type RedisMultiType<S, F> = {
  [K in keyof S]: (...args: ProgramArgs<S[K]>) => RedisMultiType<S, F>;
} & {
  [L in keyof F]: { [N in keyof F[L]]: (...args: ProgramArgs<F[L][N]>) => RedisMultiType<S, F> };
} & {
  [K in keyof CommandSignatures as K | Uppercase<K>]: CommandSignatures[K] extends (...args: infer A) => unknown ? (...args: A) => RedisMultiType<S, F> : never;
} & RedisMulti;

/**
 * A client with node-redis's `scripts` option (`client.name(...)`: the core runs it by
 * SHA1, EVAL with the body only on NOSCRIPT) and `functions` option
 * (`client.library.fn(...)`: FCALL, or FCALL_RO when IS_READ_ONLY).
 */
export type RedisClientType<S = {}, F = {}> = ProgramMethods<S, F> & {
  connect(): Promise<RedisClientType<S, F>>;
  multi(): RedisMultiType<S, F>;
  duplicate(overrides?: Partial<RedisClientOptions>): RedisClientType<S, F>;
  createPool(options?: Partial<RedisPoolOptions>): RedisClientPoolType<S, F>;
} & RedisClient;

/** What auth() and reAuthenticate() take. */
export interface RedisCredentials {
  /** The ACL user; none: the default user. */
  username?: RedisArgument;
  password?: RedisArgument;
}

/** node-redis's pool options, as the core's connection options. */
export interface RedisPoolOptions {
  /** Checked (at least 1, at most maximum) and otherwise unused: the core opens dedicated connections on demand. */
  minimum: number;
  /** The most dedicated connections (maxConnections): execute() tasks, blocking commands, WATCH. */
  maximum: number;
  /** How long execute() waits for a dedicated connection, in ms (poolTimeout), then PoolTimeoutError; 0: the core's bound (responseTimeout). */
  acquireTimeout: number;
  /** How long a dedicated connection may stay idle, in ms (idleTimeout); 0: the core's default. */
  cleanupDelay: number;
  /** The client-side cache (RESP3), shared by the whole pool. */
  clientSideCache: RedisClientOptions['clientSideCache'];
}

export interface RedisClientPool extends Methods, NodeJS.EventEmitter {}
/**
 * node-redis's RedisClientPool: commands called on the pool share one auto-pipelined
 * connection (blocking commands and WATCH take a dedicated one); execute(fn) hands fn an
 * isolated client on a dedicated connection until fn ends.
 */
export declare class RedisClientPool {
  constructor(clientOptions?: RedisClientOptions, options?: Partial<RedisPoolOptions>);
  /** Connects; resolves with the pool, or with nothing when it is open already. */
  connect(): Promise<RedisClientPool | undefined>;
  readonly isOpen: boolean;
  /** close() is waiting for running tasks. */
  readonly isClosing: boolean;
  /** Dedicated connections open and idle. */
  readonly idleClients: number;
  /** Dedicated connections in use. */
  readonly clientsInUse: number;
  /** Dedicated connections open. */
  readonly totalClients: number;
  /** Tasks waiting for a dedicated connection. */
  readonly tasksQueueLength: number;
  readonly clientSideCache: RedisClient['clientSideCache'];
  /** Runs fn with an isolated client on a dedicated connection; resolves with what fn gives. */
  execute<T>(fn: (client: RedisClient) => T): Promise<Awaited<T>>;
  /** Any command; the raw reply. */
  sendCommand(args: Arg[]): Promise<unknown>;
  multi(): RedisMulti;
  MULTI(): RedisMulti;
  withCommandOptions(options: { typeMapping?: Partial<Record<number, unknown>>; abortSignal?: AbortSignal; asap?: boolean }): this;
  withTypeMapping(mapping: Partial<Record<number, unknown>>): this;
  withAbortSignal(signal: AbortSignal): this;
  asap(): this;
  /** The core's counters, as a client's stats(). */
  stats(): Record<string, number>;
  /** Waits for running execute() tasks (refusing new work), then closes every connection. */
  close(): Promise<void>;
  /** Closes every connection at once. */
  destroy(): void;
}

/** A pool with the `scripts` / `functions` options' methods (see RedisClientType). */
export type RedisClientPoolType<S = {}, F = {}> = ProgramMethods<S, F> & {
  connect(): Promise<RedisClientPoolType<S, F> | undefined>;
  multi(): RedisMultiType<S, F>;
  execute<T>(fn: (client: RedisClientType<S, F>) => T): Promise<Awaited<T>>;
} & RedisClientPool;

/** node-redis's createClientPool(clientOptions, poolOptions): a pool, not yet connected. */
export declare function createClientPool<S extends RedisScripts = {}, F extends RedisFunctions = {}>(
  clientOptions?: RedisClientOptions & { scripts?: S; functions?: F },
  options?: Partial<RedisPoolOptions>,
): RedisClientPoolType<S, F>;

export declare function createClient<S extends RedisScripts = {}, F extends RedisFunctions = {}>(
  options?: RedisClientOptions & { scripts?: S; functions?: F },
): RedisClientType<S, F>;

export interface RedisClusterOptions {
  /** Seed nodes: any that answers will do; the rest of the cluster is discovered. */
  rootNodes: Array<{ url?: string; socket?: { host?: string; port?: number } }>;
  /** Options every node connection uses (credentials, TLS, timeouts…). */
  defaults?: Omit<RedisClientOptions, 'url' | 'database' | 'clientSideCache'>;
  /** Send read-only commands to replicas too. */
  useReplicas?: boolean;
  /**
   * The client-side cache (RESP3), as node-redis's cluster option: each primary's
   * invalidations reach its own part of the cache; a node's part is emptied when its
   * connection drops or its slots move away.
   */
  clientSideCache?: RedisClientOptions['clientSideCache'];
  /** node-redis's `scripts` option: each call goes to the node of its keys (see createClient). */
  scripts?: RedisScripts;
  /** node-redis's `functions` option (see createClient). */
  functions?: RedisFunctions;
}

/**
 * A Redis Cluster client with the client's commands: each goes to the node that serves
 * its slot; multi-key commands and pipelines may span slots (replies in order);
 * `multi().exec()` must keep its keys in one slot (a hash tag: `{user1}:a`).
 */
export declare class RedisCluster extends RedisClient {
  constructor(options: RedisClusterOptions);
  connect(): Promise<RedisCluster>;
}

/** A cluster client with the `scripts` / `functions` options' methods (see RedisClientType). */
export type RedisClusterType<S = {}, F = {}> = ProgramMethods<S, F> & {
  connect(): Promise<RedisClusterType<S, F>>;
  multi(): RedisMultiType<S, F>;
} & RedisCluster;

export declare function createCluster<S extends RedisScripts = {}, F extends RedisFunctions = {}>(
  options: RedisClusterOptions & { scripts?: S; functions?: F },
): RedisClusterType<S, F>;

/** The TLS part of a client's socket options, for the sentinels or the data nodes of createSentinel. */
export type SentinelTlsOptions = Pick<NonNullable<RedisClientOptions['socket']>, 'tls' | 'ca' | 'cert' | 'key' | 'rejectUnauthorized'>;

export interface RedisSentinelOptions {
  /** The service name the sentinels monitor (`sentinel monitor <name> …`). */
  name: string;
  /** Sentinels to ask (the others are learned from them); port 26379 when left out. */
  sentinelRootNodes: Array<{ host: string; port?: number }>;
  /** Options of the data-node connections (credentials, timeouts, RESP…, and TLS). */
  nodeClientOptions?: Omit<RedisClientOptions, 'url' | 'socket'> & { socket?: SentinelTlsOptions };
  /** The sentinels' own credentials and TLS (apart from the data nodes'). */
  sentinelClientOptions?: { username?: string; password?: string; socket?: SentinelTlsOptions };
  /** 'master' (default), or 'replica' for a client of a healthy replica (redbridge's). */
  role?: 'master' | 'replica';
}

/**
 * A client of a Sentinel-watched primary (or replica): the core finds the node, checks
 * its role and moves the client when the sentinels fail over. The client's commands.
 */
export declare class RedisSentinel extends RedisClient {
  constructor(options: RedisSentinelOptions);
  connect(): Promise<RedisSentinel>;
}

export declare function createSentinel(options: RedisSentinelOptions): RedisSentinel;

/** Base class of every redbridge error; `code` is the core's error kind. */
export declare class RedisError extends Error {
  code: string;
}
export declare class ConnectionError extends RedisError {}
export declare class TimeoutError extends RedisError {}
export declare class PoolTimeoutError extends ConnectionError {}
export declare class AuthenticationError extends ConnectionError {}
/** The server answered with an error reply (node-redis's ErrorReply). */
export declare class ErrorReply extends RedisError {
  /** The server's error code: WRONGTYPE, ERR, NOPERM… */
  redisCode?: string;
}
/** An error reply sent as a simple error: what a failed command rejects with. */
export declare class SimpleError extends ErrorReply {}
/** An error reply sent as a RESP3 blob error. */
export declare class BlobError extends ErrorReply {}
/** redbridge's earlier name of ErrorReply. */
export { ErrorReply as ResponseError };
export declare class MultiErrorReply extends ErrorReply {
  replies: unknown[];
  errorIndexes: number[];
}
export declare class WatchError extends RedisError {}
/** A command's abortSignal fired before its reply arrived (the command may still have run). */
export declare class AbortError extends RedisError {}
export declare class GuardError extends RedisError {}
export declare class ProtocolError extends RedisError {}
export declare class Multi {}

/** Groups of OpenTelemetry metrics, with node-redis's names. */
export declare const METRIC_GROUP: {
  readonly COMMAND: 'command';
  readonly CONNECTION_BASIC: 'connection-basic';
  readonly CONNECTION_ADVANCED: 'connection-advanced';
  readonly RESILIENCY: 'resiliency';
  readonly PUBSUB: 'pubsub';
  readonly STREAMING: 'streaming';
  readonly CLIENT_SIDE_CACHING: 'client-side-caching';
};
export type MetricGroup = (typeof METRIC_GROUP)[keyof typeof METRIC_GROUP];
export type MetricAttributes = Record<string, string | number | boolean>;
/** The part of `@opentelemetry/api`'s MeterProvider redbridge uses. */
export interface OTelMeterProvider {
  getMeter(name: string, version?: string, options?: unknown): unknown;
}
/** node-redis's MetricConfig (stream and pub/sub name options do not apply: names are never recorded). */
export interface MetricConfig {
  enabled?: boolean;
  /** Default: the global MeterProvider of `@opentelemetry/api`. */
  meterProvider?: OTelMeterProvider;
  /** Default: connection-basic and resiliency. */
  enabledMetricGroups?: MetricGroup[];
  /** Commands whose `db.client.operation.duration` is recorded (default: all). */
  includeCommands?: string[];
  excludeCommands?: string[];
  bucketsOperationDuration?: number[];
  bucketsConnectionCreateTime?: number[];
  bucketsConnectionWaitTime?: number[];
  /** Added to every data point. */
  customAttributes?: MetricAttributes;
}
/**
 * Spans (a redbridge addition; node-redis 6.4 publishes its tracing channels only): one
 * CLIENT span per command or MULTI/pipeline, named by the command, made from the
 * `node-redis:command` / `node-redis:batch` diagnostics channels. Off by default.
 */
export interface TracingConfig {
  enabled?: boolean;
  /** Default: the global TracerProvider of `@opentelemetry/api`. */
  tracerProvider?: { getTracer(name: string, version?: string): unknown };
}
export interface ObservabilityConfig {
  metrics?: MetricConfig;
  tracing?: TracingConfig;
}
/**
 * OpenTelemetry metrics of every client (node-redis's API and metric names), recorded
 * through `@opentelemetry/api` (an optional peer dependency).
 */
export declare class OpenTelemetry {
  private constructor();
  /** Starts recording; throws when already initialized. */
  static init(config: ObservabilityConfig): void;
  /** Records what is queued, stops listening and allows a new `init` (a redbridge addition). */
  static shutdown(): void;
  /** Records every queued event now (a reader's collection does this itself); how many. */
  static drain(): number;
  /** Events dropped because the queue was full. */
  static dropped(): number;
}

/* One C client (libredbridge or hiredis) through the workloads W1-W7 of docs/architecture.md, "Bench workloads"; prints
 * one JSON line. Run by bench/run.py: `clients_c <redbridge|hiredis>`, with REDIS_URL
 * (redis://host:port/0; db 1 holds the 100k keys W4 scans) and QUICK=1 for a tiny run.
 * W3 is 8 threads: sharing one client for redbridge (it is thread-safe), one context per
 * thread for hiredis (a hiredis context must not be shared).
 * BENCH_WORKLOADS: "W1-W6" (the default), "W7", or both. W7 (pub/sub) needs run.py's
 * publisher, asked for with `W7 PUB ...` / `W7 FLOOD ...` lines on stdout. */
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "redbridge.h"

#define THREADS 8
static int N1 = 20000, BATCHES = 200, N3 = 40000, N5 = 50000, N6 = 2000;
/* W4: the median of W4_PASSES passes (one pass of ~50 ms was at the mercy of the moment). */
#define W4_MAX_PASSES 5
static int W4_PASSES = W4_MAX_PASSES;
static char host[256];
static int port;
static const char *url;
static int use_hiredis;

/* CPU seconds (user + system) of the whole process so far. */
static double cpu_secs(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(const char *what) {
    fprintf(stderr, "clients_c: %s failed\n", what);
    exit(1);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* --- the two clients behind one shape --------------------------------------------- */

typedef struct {
    redbridge_client *rb;
    redisContext *hi;
} conn;

static conn open_conn(const char *u, int db) {
    conn c = {0};
    if (use_hiredis) {
        c.hi = redisConnect(host, port);
        if (!c.hi || c.hi->err) die("redisConnect");
        if (db) freeReplyObject(redisCommand(c.hi, "SELECT %d", db));
    } else if (redbridge_client_open(u, &c.rb) != REDBRIDGE_OK) {
        die("redbridge_client_open");
    }
    return c;
}

static void close_conn(conn c) {
    if (c.hi) redisFree(c.hi);
    if (c.rb) redbridge_client_free(c.rb);
}

/* GET key; returns the value's length. */
static size_t get(conn *c, const char *key) {
    size_t n;
    if (c->hi) {
        const char *argv[] = {"GET", key};
        redisReply *r = redisCommandArgv(c->hi, 2, argv, NULL);
        if (!r) die("GET");
        n = r->len;
        freeReplyObject(r);
    } else {
        const char *argv[] = {"GET", key};
        redbridge_reply *r = NULL;
        if (redbridge_command_strv(c->rb, 2, argv, &r) != REDBRIDGE_OK) die("GET");
        n = r->len;
        redbridge_reply_free(r);
    }
    return n;
}

static void batch(conn *c, redbridge_pipeline *p, int n) {
    if (c->hi) {
        for (int i = 0; i < n; i++) redisAppendCommand(c->hi, "GET bench:key");
        for (int i = 0; i < n; i++) {
            void *r = NULL;
            if (redisGetReply(c->hi, &r) != REDIS_OK) die("pipelined GET");
            freeReplyObject(r);
        }
    } else {
        redbridge_reply *r = NULL;
        if (redbridge_pipeline_execute(c->rb, p, &r) != REDBRIDGE_OK || r->elements != (size_t)n) die("pipeline");
        redbridge_reply_free(r);
    }
}

static long scan_all(conn *c) {
    long n = 0;
    if (c->hi) {
        char cursor[32] = "0";
        do {
            redisReply *r = redisCommand(c->hi, "SCAN %s COUNT 1000", cursor);
            if (!r || r->type != REDIS_REPLY_ARRAY) die("SCAN");
            snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
            n += r->element[1]->elements;
            freeReplyObject(r);
        } while (strcmp(cursor, "0") != 0);
    } else {
        redbridge_scan *s = NULL;
        redbridge_reply *page = NULL;
        if (redbridge_scan_new(c->rb, REDBRIDGE_SCAN_KEYS, NULL, 0, NULL, 1000, NULL, &s) != REDBRIDGE_OK) die("scan_new");
        while (redbridge_scan_next(s, &page) == REDBRIDGE_OK && page) {
            n += page->elements;
            redbridge_reply_free(page);
        }
        redbridge_scan_free(s);
    }
    return n;
}

/* --- W7: pub/sub --------------------------------------------------------------------- */
/* W7a/W7b: subscribers counting messages, each round asked of run.py's publisher. hiredis
 * reads with a blocking redisGetReply loop (a read timeout of IDLE ends a short round);
 * redbridge with redbridge_pubsub_run and a callback. W7b: a thread per subscriber. */

#define W7_SUBS 10
#define IDLE 5.0
static int W7A_ROUNDS = 4, W7A_N = 50000, W7B_ROUNDS = 6, W7B_N = 20000;
/* W7c: a flood of W7C_RATE messages/s for W7C_FLOOD seconds, GETs measured for W7C_WINDOW
 * of them; the flood is over when no message came for W7C_QUIET. */
static double W7C_FLOOD = 2.0, W7C_WINDOW = 1.0, W7C_RATE = 50000, W7C_QUIET = 0.3;

typedef struct {
    redisContext *hi;
    redbridge_pubsub *ps;
    long n, target, gaps;
    double first, last;
    int failed;
} sub_t;

static int on_message(void *userdata, const redbridge_message *m) {
    sub_t *s = userdata;
    if (m->kind == REDBRIDGE_PUBSUB_MESSAGE) {
        double t = now();
        if (++s->n == 1) s->first = t;
        s->last = t;
        return s->n >= s->target;
    }
    if (m->kind == REDBRIDGE_PUBSUB_GAP) s->gaps++;
    return 0;
}

static void *consume(void *p) {
    sub_t *s = p;
    double since = now();
    s->n = 0, s->first = s->last = 0;
    while (s->n < s->target) {
        if (s->hi) {
            void *r = NULL;
            if (redisGetReply(s->hi, &r) != REDIS_OK) {  /* IDLE passed, or the connection broke */
                s->failed = 1;
                break;
            }
            redisReply *rr = r;
            if (rr->type == REDIS_REPLY_ARRAY && rr->elements == 3 && strcmp(rr->element[0]->str, "message") == 0) {
                double t = now();
                if (++s->n == 1) s->first = t;
                s->last = t;
            }
            freeReplyObject(r);
        } else {
            if (redbridge_pubsub_run(s->ps, on_message, s, 500) != REDBRIDGE_OK) {
                s->failed = 1;
                break;
            }
            if (s->n < s->target && now() - (s->last > since ? s->last : since) > IDLE) break;
        }
    }
    return NULL;
}

static void open_sub(conn *c, sub_t *s, const char *channel) {
    memset(s, 0, sizeof *s);
    if (use_hiredis) {
        s->hi = redisConnect(host, port);
        if (!s->hi || s->hi->err) die("redisConnect (subscriber)");
        redisReply *r = redisCommand(s->hi, "SUBSCRIBE %s", channel);
        if (!r) die("SUBSCRIBE");
        freeReplyObject(r);
        struct timeval idle = {(long)IDLE, 0};
        redisSetTimeout(s->hi, idle);
    } else {
        const char *argv[] = {channel};
        if (redbridge_pubsub_new(c->rb, &s->ps) != REDBRIDGE_OK || redbridge_pubsub_subscribe(s->ps, 1, argv, NULL) != REDBRIDGE_OK)
            die("redbridge_pubsub_subscribe");
    }
}

static void close_sub(sub_t *s) {
    if (s->hi) redisFree(s->hi);
    if (s->ps) redbridge_pubsub_free(s->ps);
}

static uint64_t dropped(conn *c) {
    redbridge_stats st;
    memset(&st, 0, sizeof st);
    if (c->rb && redbridge_client_stats(c->rb, &st) == REDBRIDGE_OK) return st.pubsub_dropped;
    return 0;
}

/* One W7 workload (a or b): its JSON object appended to out. */
static void w7_run(conn *c, const char *tag, const char *channel, int nsubs, int rounds, int n, char *out, size_t cap) {
    sub_t subs[W7_SUBS];
    pthread_t th[W7_SUBS];
    uint64_t drop0 = dropped(c);
    for (int i = 0; i < nsubs; i++) open_sub(c, &subs[i], channel);
    long got = 0, gaps = 0;
    double secs = 0, cpu0 = cpu_secs();
    int done = 0;
    for (; done < rounds; done++) {
        for (int i = 0; i < nsubs; i++) subs[i].target = n;
        printf("W7 PUB %s %s %d %d\n", tag, channel, nsubs, n);
        fflush(stdout);
        if (nsubs == 1) consume(&subs[0]);
        else {
            for (int i = 0; i < nsubs; i++) pthread_create(&th[i], NULL, consume, &subs[i]);
            for (int i = 0; i < nsubs; i++) pthread_join(th[i], NULL);
        }
        long round = 0;
        double first = subs[0].first, last = subs[0].last;
        for (int i = 0; i < nsubs; i++) {
            round += subs[i].n;
            if (subs[i].first < first) first = subs[i].first;
            if (subs[i].last > last) last = subs[i].last;
        }
        got += round;
        secs += last - first;
        if (round < (long)n * nsubs) {
            done++;
            break;
        }
    }
    double cpu = cpu_secs() - cpu0; /* before the subscribers close: their rounds only */
    for (int i = 0; i < nsubs; i++) gaps += subs[i].gaps, close_sub(&subs[i]);
    uint64_t drops = dropped(c) - drop0;
    long want = (long)done * n * nsubs;
    size_t len = strlen(out);
    if (got < want)
        snprintf(out + len, cap - len, ",\"%s\":{\"error\":\"invalid: received %ld of %ld messages in round %d (dropped %llu, gaps %ld)\"}", tag, got,
                 want, done, (unsigned long long)drops, gaps);
    else if (drops || gaps)
        snprintf(out + len, cap - len, ",\"%s\":{\"error\":\"invalid: %llu dropped by the bounded queue (pubsub_dropped), %ld gap(s)\"}", tag,
                 (unsigned long long)drops, gaps);
    else
        snprintf(out + len, cap - len, ",\"%s\":{\"msgs\":%.1f,\"messages\":%ld,\"rounds\":%d,\"subscribers\":%d,\"cpu_ms_per_100k\":%.1f}",
                 tag, (got - (nsubs == 1 ? done : 0)) / secs, got, done, nsubs, cpu * 1e3 * 1e5 / (double)got);
}

/* --- W7c: GETs while the same client takes a flood ------------------------------------ */
/* Sequential GETs for W7C_WINDOW seconds while run.py floods a channel the client is
 * subscribed to: redbridge with its subscriber (a connection of its own, as the core
 * does it), and a raw socket both ways — a second connection for the subscriber, or one
 * RESP3 connection carrying both (hiredis 0.14 has no RESP3, and a RESP2 subscriber
 * connection refuses GET; the raw reader here is the least a client could do). */

static long flood_count;
static int flood_stop;

typedef struct {
    int fd;
    char *buf;
    size_t cap, start, end;
} raw_t;

static void raw_open(raw_t *r) {
    struct addrinfo hints = {0}, *ai = NULL;
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, p, &hints, &ai) != 0) die("getaddrinfo");
    r->fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (r->fd < 0 || connect(r->fd, ai->ai_addr, ai->ai_addrlen) != 0) die("raw connect");
    freeaddrinfo(ai);
    int one = 1;
    setsockopt(r->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    r->cap = 1 << 20, r->start = r->end = 0;
    r->buf = malloc(r->cap);
}

static void raw_close(raw_t *r) {
    close(r->fd);
    free(r->buf);
}

static void raw_send(raw_t *r, const char *s) {
    size_t n = strlen(s), off = 0;
    while (off < n) {
        ssize_t w = write(r->fd, s + off, n - off);
        if (w <= 0) die("raw write");
        off += w;
    }
}

static int raw_fill(raw_t *r) {
    if (r->start == r->end) r->start = r->end = 0;
    if (r->end == r->cap) {
        if (r->start == 0) return -1;
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start, r->start = 0;
    }
    ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
    if (n <= 0) return -1;
    r->end += n;
    return 0;
}

/* One frame, skipped; its type byte ('>' a push), or 0 when the connection ended. */
static int raw_frame(raw_t *r) {
    char *nl;
    while (!(nl = memchr(r->buf + r->start, '\n', r->end - r->start)))
        if (raw_fill(r) < 0) return 0;
    char type = r->buf[r->start];
    long n = strtol(r->buf + r->start + 1, NULL, 10);
    r->start = nl + 1 - r->buf;
    switch (type) {
    case '$':
    case '=':
    case '!':
        if (n < 0) return type;
        while (r->end - r->start < (size_t)n + 2)
            if (raw_fill(r) < 0) return 0;
        r->start += n + 2;
        return type;
    case '%':
    case '|':
        n *= 2; /* a map is n pairs */
        /* fall through */
    case '*':
    case '>':
    case '~':
        for (long i = 0; i < n; i++)
            if (!raw_frame(r)) return 0;
        return type;
    default:
        return type;
    }
}

static void raw_get(raw_t *r, int shared) {
    raw_send(r, "*2\r\n$3\r\nGET\r\n$13\r\nbench:w7c:key\r\n");
    int t;
    while ((t = raw_frame(r)) == '>') __atomic_add_fetch(&flood_count, 1, __ATOMIC_RELAXED);
    if (!t || (!shared && t == '>')) die("raw GET");
}

static void *raw_reader(void *p) {
    raw_t *r = p;
    while (raw_frame(r)) __atomic_add_fetch(&flood_count, 1, __ATOMIC_RELAXED);
    return NULL;
}

static int on_flood(void *userdata, const redbridge_message *m) {
    (void)userdata;
    if (m->kind == REDBRIDGE_PUBSUB_MESSAGE) __atomic_add_fetch(&flood_count, 1, __ATOMIC_RELAXED);
    return __atomic_load_n(&flood_stop, __ATOMIC_RELAXED);
}

static void *rb_reader(void *p) {
    while (!__atomic_load_n(&flood_stop, __ATOMIC_RELAXED)) redbridge_pubsub_run(p, on_flood, NULL, 100);
    return NULL;
}

/* GETs for W7C_WINDOW seconds (raw r, or redbridge c); their rate and latency appended to
 * out as "tag", with the flood's messages/s counted meanwhile. */
static void w7c_measure(const char *tag, conn *c, raw_t *r, int shared, char *out, size_t cap) {
    size_t n = 0, room = 1 << 16;
    double *lat = malloc(sizeof(double) * room);
    long c0 = __atomic_load_n(&flood_count, __ATOMIC_RELAXED);
    double t = now(), end = t + W7C_WINDOW, a;
    while ((a = now()) < end) {
        if (r) raw_get(r, shared);
        else get(c, "bench:w7c:key");
        if (n == room) lat = realloc(lat, sizeof(double) * (room *= 2));
        lat[n++] = (now() - a) * 1e6;
    }
    double secs = now() - t;
    long flood = __atomic_load_n(&flood_count, __ATOMIC_RELAXED) - c0;
    qsort(lat, n, sizeof(double), cmp_double);
    size_t len = strlen(out);
    snprintf(out + len, cap - len, ",\"%s\":{\"ops\":%.1f,\"p50_us\":%.2f,\"p99_us\":%.2f,\"flood_msgs\":%.1f,\"gets\":%zu}", tag, n / secs,
             lat[n / 2], lat[n * 99 / 100], flood / secs, n);
    free(lat);
}

/* Asks for a flood, waits for its first message (GETs on a shared connection read it),
 * measures, then waits for the flood to end (no message for W7C_QUIET) so that every
 * message published reached the subscriber. */
static void w7c_flooded(const char *tag, conn *c, raw_t *r, int shared, char *out, size_t cap) {
    printf("W7 FLOOD %s bench:w7c 1 %.2f %.0f\n", tag, W7C_FLOOD, W7C_RATE);
    fflush(stdout);
    double deadline = now() + 20;
    while (__atomic_load_n(&flood_count, __ATOMIC_RELAXED) == 0) {
        if (now() > deadline) {
            size_t len = strlen(out);
            snprintf(out + len, cap - len, ",\"%s\":{\"error\":\"no flood came\"}", tag);
            return;
        }
        if (shared) raw_get(r, 1);
        else usleep(500);
    }
    w7c_measure(tag, c, r, shared, out, cap);
    long seen = -1, now_seen;
    while ((now_seen = __atomic_load_n(&flood_count, __ATOMIC_RELAXED)) != seen) {
        seen = now_seen;
        if (shared) {
            double until = now() + W7C_QUIET;
            while (now() < until) raw_get(r, 1);
        } else {
            usleep((useconds_t)(W7C_QUIET * 1e6));
        }
    }
}

static void w7c(conn *c, char *out, size_t cap) {
    if (!use_hiredis) {
        const char *set[] = {"SET", "bench:w7c:key", "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"};
        redbridge_reply *r = NULL;
        if (redbridge_command_strv(c->rb, 3, set, &r) != REDBRIDGE_OK) die("SET bench:w7c:key");
        redbridge_reply_free(r);
        w7c_measure("W7c-idle", c, NULL, 0, out, cap);
        redbridge_pubsub *ps = NULL;
        const char *ch[] = {"bench:w7c"};
        if (redbridge_pubsub_new(c->rb, &ps) != REDBRIDGE_OK || redbridge_pubsub_subscribe(ps, 1, ch, NULL) != REDBRIDGE_OK) die("W7c subscribe");
        pthread_t th;
        flood_count = 0, flood_stop = 0;
        pthread_create(&th, NULL, rb_reader, ps);
        w7c_flooded("W7c-own", c, NULL, 0, out, cap);
        __atomic_store_n(&flood_stop, 1, __ATOMIC_RELAXED);
        redbridge_pubsub_stop(ps);
        pthread_join(th, NULL);
        redbridge_pubsub_free(ps);
        return;
    }
    raw_t cmd, sub;
    raw_open(&cmd);
    raw_send(&cmd, "*3\r\n$3\r\nSET\r\n$13\r\nbench:w7c:key\r\n$100\r\n"
                   "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\r\n");
    if (!raw_frame(&cmd)) die("raw SET");
    w7c_measure("W7c-raw-idle", NULL, &cmd, 0, out, cap);
    /* own: the subscriber on a second connection, read by a thread */
    raw_open(&sub);
    raw_send(&sub, "*2\r\n$9\r\nSUBSCRIBE\r\n$9\r\nbench:w7c\r\n");
    if (!raw_frame(&sub)) die("raw SUBSCRIBE");
    pthread_t th;
    flood_count = 0;
    pthread_create(&th, NULL, raw_reader, &sub);
    w7c_flooded("W7c-raw-own", NULL, &cmd, 0, out, cap);
    shutdown(sub.fd, SHUT_RDWR);
    pthread_join(th, NULL);
    raw_close(&sub);
    /* shared: the command connection itself subscribed, under RESP3 */
    raw_send(&cmd, "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n");
    if (!raw_frame(&cmd)) die("raw HELLO 3");
    raw_send(&cmd, "*2\r\n$9\r\nSUBSCRIBE\r\n$9\r\nbench:w7c\r\n");
    if (raw_frame(&cmd) != '>') die("raw SUBSCRIBE (RESP3)");
    flood_count = 0;
    w7c_flooded("W7c-raw-shared", NULL, &cmd, 1, out, cap);
    raw_close(&cmd);
}

/* --- W3: 8 threads ------------------------------------------------------------------ */

typedef struct {
    conn *shared;
    pthread_barrier_t *start;
} w3_arg;

static void *w3_thread(void *p) {
    w3_arg *a = p;
    conn own = {0}, *c = a->shared;
    if (!c) {
        own = open_conn(url, 0);
        c = &own;
    }
    pthread_barrier_wait(a->start);
    for (int i = 0; i < N3 / THREADS; i++) get(c, "bench:key");
    if (!a->shared) close_conn(own);
    return NULL;
}

/* W1-W6 on c, appended to out as ,"W1":{...},... */
static void w1_w6(conn *cp, char *out, size_t cap) {
    conn c = *cp;
    char scan_url[300];
    snprintf(scan_url, sizeof scan_url, "redis://%s:%d/1", host, port);

    /* W1 */
    double *lat = malloc(sizeof(double) * N1), t = now();
    for (int i = 0; i < N1; i++) {
        double a = now();
        get(&c, "bench:key");
        lat[i] = (now() - a) * 1e6;
    }
    double w1 = N1 / (now() - t);
    qsort(lat, N1, sizeof(double), cmp_double);
    double p50 = lat[N1 / 2], p99 = lat[N1 * 99 / 100];
    free(lat);

    /* W2 */
    redbridge_pipeline *p = redbridge_pipeline_new(false);
    for (int i = 0; i < 100; i++) {
        const char *a[] = {"GET", "bench:key"};
        size_t l[] = {3, 9};
        redbridge_pipeline_append_argv(p, 2, a, l);
    }
    t = now();
    for (int i = 0; i < BATCHES; i++) batch(&c, p, 100);
    double w2 = BATCHES * 100 / (now() - t);
    redbridge_pipeline_free(p);

    /* W3 */
    pthread_t th[THREADS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, THREADS + 1);
    w3_arg arg = {use_hiredis ? NULL : &c, &start};
    for (int i = 0; i < THREADS; i++) pthread_create(&th[i], NULL, w3_thread, &arg);
    pthread_barrier_wait(&start);
    t = now();
    for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    double w3 = (N3 / THREADS) * THREADS / (now() - t);
    pthread_barrier_destroy(&start);

    /* W4 */
    conn s = open_conn(scan_url, 1);
    double passes[W4_MAX_PASSES];
    long keys = 0;
    for (int i = 0; i < W4_PASSES; i++) {
        t = now();
        keys = scan_all(&s);
        passes[i] = now() - t;
    }
    qsort(passes, W4_PASSES, sizeof(double), cmp_double);
    double w4 = passes[W4_PASSES / 2];
    close_conn(s);

    /* W5: libredbridge's cache; hiredis has none. */
    char w5[128] = "{\"error\":\"no client-side cache in this client\"}";
    if (!use_hiredis) {
        redbridge_config *cfg = NULL;
        conn cc = {0};
        if (redbridge_config_from_url(url, &cfg) != REDBRIDGE_OK || redbridge_config_set_cache(cfg, 0, 0, 0) != REDBRIDGE_OK
            || redbridge_client_open_config(cfg, &cc.rb) != REDBRIDGE_OK)
            die("cached client");
        char key[32];
        for (int i = 0; i < 100; i++) snprintf(key, sizeof key, "w5:%d", i), get(&cc, key);
        t = now();
        for (int i = 0; i < N5; i++) snprintf(key, sizeof key, "w5:%d", i % 100), get(&cc, key);
        snprintf(w5, sizeof w5, "{\"ops\":%.1f}", N5 / (now() - t));
        close_conn(cc);
        redbridge_config_free(cfg);
    }

    /* W6 */
    t = now();
    double bytes = 0;
    for (int i = 0; i < N6; i++) bytes += get(&c, "bench:big");
    double w6 = bytes / 1e6 / (now() - t);
    snprintf(out + strlen(out), cap - strlen(out), ",\"W1\":{\"ops\":%.1f,\"p50_us\":%.2f,\"p99_us\":%.2f},"
           "\"W2\":{\"ops\":%.1f},\"W3\":{\"ops\":%.1f,\"in_flight\":\"%d threads\"},\"W4\":{\"secs\":%.4f,\"keys\":%ld,\"passes\":%d},"
           "\"W5\":%s,\"W6\":{\"mb_s\":%.1f}",
           w1, p50, p99, w2, w3, THREADS, w4, keys, W4_PASSES, w5, w6);
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    use_hiredis = strcmp(argv[1], "hiredis") == 0;
    url = getenv("REDIS_URL");
    if (!url || sscanf(url, "redis://%255[^:]:%d", host, &port) != 2) die("parsing REDIS_URL");
    if (getenv("QUICK") && strcmp(getenv("QUICK"), "1") == 0) {
        N1 = 1000, BATCHES = 10, N3 = 2000, N5 = 2000, N6 = 100, W4_PASSES = 1;
        W7A_ROUNDS = 1, W7A_N = 2000, W7B_ROUNDS = 1, W7B_N = 300;
        W7C_FLOOD = 0.2, W7C_WINDOW = 0.08, W7C_RATE = 10000, W7C_QUIET = 0.1;
    }
    const char *want = getenv("BENCH_WORKLOADS") ? getenv("BENCH_WORKLOADS") : "W1-W6";

    double t0 = now();
    conn c = open_conn(url, 0);
    get(&c, "bench:key");
    double startup_ms = (now() - t0) * 1000;

    static char res[16384] = "";
    if (strstr(want, "W1-W6")) w1_w6(&c, res, sizeof res);
    if (strstr(want, "W7")) {
        w7_run(&c, "W7a", "bench:w7a", 1, W7A_ROUNDS, W7A_N, res, sizeof res);
        w7_run(&c, "W7b", "bench:w7b", W7_SUBS, W7B_ROUNDS, W7B_N, res, sizeof res);
        w7c(&c, res, sizeof res);
    }
    close_conn(c);
    char version[64];
    if (use_hiredis) snprintf(version, sizeof version, "hiredis %d.%d.%d", HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH);
    else snprintf(version, sizeof version, "libredbridge %s", redbridge_version());
    printf("{\"startup_ms\":%.3f,\"version\":\"%s\",\"results\":{%s}}\n", startup_ms, version, res[0] ? res + 1 : "");
    return 0;
}

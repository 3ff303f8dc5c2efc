/* One C client (libredbridge or hiredis) through the workloads W1-W6 of docs/architecture.md, "Bench workloads"; prints
 * one JSON line. Run by bench/run.py: `clients_c <redbridge|hiredis>`, with REDIS_URL
 * (redis://host:port/0; db 1 holds the 100k keys W4 scans) and QUICK=1 for a tiny run.
 * W3 is 8 threads: sharing one client for redbridge (it is thread-safe), one context per
 * thread for hiredis (a hiredis context must not be shared). */
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redbridge.h"

#define THREADS 8
static int N1 = 20000, BATCHES = 200, N3 = 40000, N5 = 50000, N6 = 2000;
static char host[256];
static int port;
static const char *url;
static int use_hiredis;

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

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    use_hiredis = strcmp(argv[1], "hiredis") == 0;
    url = getenv("REDIS_URL");
    if (!url || sscanf(url, "redis://%255[^:]:%d", host, &port) != 2) die("parsing REDIS_URL");
    if (getenv("QUICK") && strcmp(getenv("QUICK"), "1") == 0) N1 = 1000, BATCHES = 10, N3 = 2000, N5 = 2000, N6 = 100;
    char scan_url[300];
    snprintf(scan_url, sizeof scan_url, "redis://%s:%d/1", host, port);

    double t0 = now();
    conn c = open_conn(url, 0);
    get(&c, "bench:key");
    double startup_ms = (now() - t0) * 1000;

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
    t = now();
    long keys = scan_all(&s);
    double w4 = now() - t;
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
    close_conn(c);

    printf("{\"startup_ms\":%.3f,\"results\":{\"W1\":{\"ops\":%.1f,\"p50_us\":%.2f,\"p99_us\":%.2f},"
           "\"W2\":{\"ops\":%.1f},\"W3\":{\"ops\":%.1f,\"in_flight\":\"%d threads\"},\"W4\":{\"secs\":%.4f,\"keys\":%ld},"
           "\"W5\":%s,\"W6\":{\"mb_s\":%.1f}}}\n",
           startup_ms, w1, p50, p99, w2, w3, THREADS, w4, keys, w5, w6);
    return 0;
}

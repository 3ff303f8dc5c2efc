/*
 * C tests of libredbridge against a real redis-server (REDIS_URL), run under valgrind
 * by `make test`. Usage: test_redbridge [vectors.lines]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redbridge.h"

static int passed, failed;
static const char *url;

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        if (cond) {                                                         \
            passed++;                                                       \
        } else {                                                            \
            failed++;                                                       \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                   \
            fprintf(stderr, " (last error: %s)\n", redbridge_last_error()); \
        }                                                                   \
    } while (0)

static redbridge_client *open_client(void) {
    redbridge_client *c = NULL;
    redbridge_status s = redbridge_client_open(url, &c);
    if (s != REDBRIDGE_OK) {
        fprintf(stderr, "cannot open %s: %s\n", url, redbridge_last_error());
        exit(2);
    }
    return c;
}

/* Runs a command given as NUL-terminated strings; returns the reply (or NULL). */
static redbridge_reply *run(redbridge_client *c, redbridge_status want, int argc, const char **argv) {
    redbridge_reply *r = NULL;
    redbridge_status s = redbridge_command_strv(c, argc, argv, &r);
    CHECK(s == want, "%s: got %s, want %s", argv[0], redbridge_status_name(s), redbridge_status_name(want));
    return r;
}
#define RUN(c, want, ...) run((c), (want), (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)), (const char *[]){__VA_ARGS__})

static void test_bad_input(void) {
    redbridge_client *c = NULL;
    CHECK(redbridge_client_open("ftp://nowhere", &c) == REDBRIDGE_ERR_INVALID_ARGUMENT, "bad scheme");
    CHECK(strstr(redbridge_last_error(), "scheme") != NULL, "message names the scheme: %s", redbridge_last_error());
    CHECK(c == NULL, "out untouched on failure");
    CHECK(redbridge_client_open(NULL, &c) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL url");
    CHECK(strstr(redbridge_last_error(), "url") != NULL, "names the argument");
    CHECK(redbridge_client_open(url, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL out");
    CHECK(redbridge_client_open("redis://127.0.0.1:1", &c) == REDBRIDGE_ERR_CONNECTION, "nobody listens on port 1");
    CHECK(strstr(redbridge_last_error(), "127.0.0.1:1") != NULL, "names the address: %s", redbridge_last_error());

    redbridge_client *ok = open_client();
    redbridge_reply *r = NULL;
    const char *argv[] = {"GET", NULL};
    CHECK(redbridge_command_strv(NULL, 1, argv, &r) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL client");
    CHECK(redbridge_command_strv(ok, 2, argv, &r) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL argv element");
    CHECK(strstr(redbridge_last_error(), "argv[1]") != NULL, "names argv[1]");
    CHECK(redbridge_command_strv(ok, 0, argv, &r) == REDBRIDGE_ERR_INVALID_ARGUMENT, "argc 0");
    CHECK(redbridge_command_strv(ok, 1, NULL, &r) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL argv");
    CHECK(redbridge_command_strv(ok, 1, argv, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL reply");
    CHECK(r == NULL, "reply untouched");
    const char *sel[] = {"SELECT", "1"};
    CHECK(redbridge_command_strv(ok, 2, sel, &r) == REDBRIDGE_ERR_INVALID_ARGUMENT, "SELECT refused");
    CHECK(strstr(redbridge_last_error(), "db option") != NULL, "%s", redbridge_last_error());
    redbridge_stats st;
    CHECK(redbridge_client_stats(ok, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL stats");
    CHECK(redbridge_client_stats(NULL, &st) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL client stats");
    CHECK(redbridge_pipeline_len(NULL) == 0, "len of NULL");
    CHECK(redbridge_pipeline_execute(ok, NULL, &r) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL pipeline");
    redbridge_scan *sc = NULL;
    CHECK(redbridge_scan_new(ok, 42, NULL, 0, NULL, 0, NULL, &sc) == REDBRIDGE_ERR_INVALID_ARGUMENT, "bad scan kind");
    CHECK(redbridge_scan_new(ok, REDBRIDGE_SCAN_SET, NULL, 0, NULL, 0, NULL, &sc) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL key");
    CHECK(redbridge_scan_next(NULL, &r) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL scan");
    CHECK(redbridge_config_set(NULL, "db", "1") == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL config");
    redbridge_config *cfg = redbridge_config_new();
    CHECK(redbridge_config_set(cfg, "colour", "red") == REDBRIDGE_ERR_INVALID_ARGUMENT, "unknown option");
    CHECK(strstr(redbridge_last_error(), "colour") != NULL, "names the option");
    CHECK(redbridge_config_set(cfg, "response_timeout", "soon") == REDBRIDGE_ERR_INVALID_ARGUMENT, "bad duration");
    CHECK(redbridge_config_set_max_connections(cfg, 0) == REDBRIDGE_OK, "set is lazy");
    CHECK(redbridge_client_open_config(cfg, &c) == REDBRIDGE_ERR_INVALID_ARGUMENT, "checked at open");
    CHECK(strstr(redbridge_last_error(), "max_connections") != NULL, "%s", redbridge_last_error());
    redbridge_config_free(cfg);
    /* Freeing NULL is a no-op, for every handle. */
    redbridge_client_free(NULL);
    redbridge_config_free(NULL);
    redbridge_pipeline_free(NULL);
    redbridge_scan_free(NULL);
    redbridge_reply_free(NULL);
    redbridge_client_free(ok);
}

static void test_replies(void) {
    redbridge_client *c = open_client();
    redbridge_reply *r = RUN(c, REDBRIDGE_OK, "SET", "c:s", "hello");
    CHECK(r && r->type == REDBRIDGE_REPLY_STATUS && strcmp(r->str, "OK") == 0 && r->len == 2, "SET -> OK");
    redbridge_reply_free(r);
    r = RUN(c, REDBRIDGE_OK, "GET", "c:s");
    CHECK(r && r->type == REDBRIDGE_REPLY_STRING && r->len == 5 && strcmp(r->str, "hello") == 0, "GET");
    redbridge_reply_free(r);
    r = RUN(c, REDBRIDGE_OK, "GET", "c:missing");
    CHECK(r && r->type == REDBRIDGE_REPLY_NIL, "nil");
    redbridge_reply_free(r);
    r = RUN(c, REDBRIDGE_OK, "INCRBY", "c:n", "41");
    redbridge_reply_free(r);
    r = RUN(c, REDBRIDGE_OK, "INCR", "c:n");
    CHECK(r && r->type == REDBRIDGE_REPLY_INTEGER && r->integer == 42, "INCR");
    redbridge_reply_free(r);
    r = RUN(c, REDBRIDGE_OK, "MGET", "c:s", "c:missing");
    CHECK(r && r->type == REDBRIDGE_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDBRIDGE_REPLY_STRING &&
              r->element[1]->type == REDBRIDGE_REPLY_NIL, "MGET");
    redbridge_reply_free(r);
    /* A server error: status RESPONSE and an ERROR reply, hiredis style. */
    r = RUN(c, REDBRIDGE_ERR_RESPONSE, "LPUSH", "c:s", "x");
    CHECK(r && r->type == REDBRIDGE_REPLY_ERROR && strncmp(r->str, "WRONGTYPE", 9) == 0, "error reply");
    CHECK(strncmp(redbridge_last_error(), "WRONGTYPE", 9) == 0, "last error");
    redbridge_reply_free(r);
    /* RESP3 types. */
    redbridge_reply_free(RUN(c, REDBRIDGE_OK, "DEL", "c:h", "c:z", "c:set"));
    redbridge_reply_free(RUN(c, REDBRIDGE_OK, "HSET", "c:h", "a", "1", "b", "2"));
    r = RUN(c, REDBRIDGE_OK, "HGETALL", "c:h");
    CHECK(r && r->type == REDBRIDGE_REPLY_MAP && r->elements == 4, "HGETALL is a map of 2 pairs");
    redbridge_reply_free(r);
    redbridge_reply_free(RUN(c, REDBRIDGE_OK, "ZADD", "c:z", "1.5", "m"));
    r = RUN(c, REDBRIDGE_OK, "ZSCORE", "c:z", "m");
    CHECK(r && r->type == REDBRIDGE_REPLY_DOUBLE && r->dval == 1.5 && strcmp(r->str, "1.5") == 0, "double");
    redbridge_reply_free(r);
    redbridge_reply_free(RUN(c, REDBRIDGE_OK, "SADD", "c:set", "x"));
    r = RUN(c, REDBRIDGE_OK, "SMEMBERS", "c:set");
    CHECK(r && r->type == REDBRIDGE_REPLY_SET && r->elements == 1, "set");
    redbridge_reply_free(r);
    /* The convenience macro. */
    r = NULL;
    CHECK(REDBRIDGE_COMMAND(c, &r, "ECHO", "macro") == REDBRIDGE_OK, "macro");
    CHECK(r && strcmp(r->str, "macro") == 0, "macro reply");
    redbridge_reply_free(r);
    redbridge_client_free(c);
}

static void test_binary(void) {
    redbridge_client *c = open_client();
    const char value[] = {'a', 0, 'b', 0, '\r', '\n', (char)0xff};
    const char *argv[] = {"SET", "c:bin\0key", value};
    size_t lens[] = {3, 9, sizeof value};
    redbridge_reply *r = NULL;
    CHECK(redbridge_command_argv(c, 3, argv, lens, &r) == REDBRIDGE_OK, "binary SET");
    redbridge_reply_free(r);
    const char *get[] = {"GET", "c:bin\0key"};
    size_t glens[] = {3, 9};
    r = NULL;
    CHECK(redbridge_command_argv(c, 2, get, glens, &r) == REDBRIDGE_OK, "binary GET");
    CHECK(r && r->len == sizeof value && memcmp(r->str, value, sizeof value) == 0 && r->str[r->len] == 0,
          "bytes with NUL come back intact and NUL-terminated");
    redbridge_reply_free(r);
    redbridge_client_free(c);
}

static void test_pipeline(void) {
    redbridge_client *c = open_client();
    redbridge_pipeline *p = redbridge_pipeline_new(false);
    const char *a1[] = {"SET", "c:p", "text"};
    const char *a2[] = {"INCR", "c:p"};
    const char *a3[] = {"GET", "c:p"};
    CHECK(redbridge_pipeline_append_argv(p, 3, a1, NULL) == REDBRIDGE_OK, "append");
    redbridge_pipeline_append_argv(p, 2, a2, NULL);
    redbridge_pipeline_append_argv(p, 2, a3, NULL);
    CHECK(redbridge_pipeline_len(p) == 3, "len");
    redbridge_reply *r = NULL;
    CHECK(redbridge_pipeline_execute(c, p, &r) == REDBRIDGE_OK, "execute");
    CHECK(r && r->type == REDBRIDGE_REPLY_ARRAY && r->elements == 3, "3 slots");
    if (r && r->elements == 3) {
        CHECK(r->element[0]->type == REDBRIDGE_REPLY_STATUS, "slot 0 OK");
        CHECK(r->element[1]->type == REDBRIDGE_REPLY_ERROR && strstr(r->element[1]->str, "ERR") != NULL,
              "slot 1 is an ERROR element, not a failed call");
        CHECK(r->element[2]->type == REDBRIDGE_REPLY_STRING && strcmp(r->element[2]->str, "text") == 0, "slot 2");
    }
    redbridge_reply_free(r);
    redbridge_pipeline_free(p);

    redbridge_pipeline *tx = redbridge_pipeline_new(true);
    const char *t1[] = {"SET", "c:tx", "1"};
    const char *t2[] = {"INCR", "c:tx"};
    redbridge_pipeline_append_argv(tx, 3, t1, NULL);
    redbridge_pipeline_append_argv(tx, 2, t2, NULL);
    r = NULL;
    CHECK(redbridge_pipeline_execute(c, tx, &r) == REDBRIDGE_OK, "MULTI/EXEC");
    CHECK(r && r->elements == 2 && r->element[1]->integer == 2, "transaction results");
    redbridge_reply_free(r);
    redbridge_pipeline_free(tx);
    const char *bad[] = {"MULTI"};
    redbridge_pipeline *p2 = redbridge_pipeline_new(false);
    redbridge_pipeline_append_argv(p2, 1, bad, NULL);
    r = NULL;
    CHECK(redbridge_pipeline_execute(c, p2, &r) == REDBRIDGE_ERR_INVALID_ARGUMENT, "MULTI inside a pipeline");
    redbridge_pipeline_free(p2);
    redbridge_client_free(c);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void test_scan(void) {
    redbridge_client *c = open_client();
    redbridge_pipeline *p = redbridge_pipeline_new(false);
    char key[32], field[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "c:scan:%d", i);
        const char *argv[] = {"SET", key, "v"};
        redbridge_pipeline_append_argv(p, 3, argv, NULL);
        snprintf(field, sizeof field, "f%d", i);
        const char *h[] = {"HSET", "c:scanhash", field, "v"};
        redbridge_pipeline_append_argv(p, 4, h, NULL);
    }
    redbridge_reply *r = NULL;
    CHECK(redbridge_pipeline_execute(c, p, &r) == REDBRIDGE_OK, "fill");
    redbridge_reply_free(r);
    redbridge_pipeline_free(p);

    redbridge_scan *sc = NULL;
    CHECK(redbridge_scan_new(c, REDBRIDGE_SCAN_KEYS, NULL, 0, "c:scan:*", 100, "string", &sc) == REDBRIDGE_OK, "scan");
    char **seen = calloc(2000, sizeof *seen);
    size_t n = 0;
    for (int guard = 0; guard < 10000; guard++) {
        redbridge_reply *batch = NULL;
        if (redbridge_scan_next(sc, &batch) != REDBRIDGE_OK || batch == NULL) break;
        for (size_t i = 0; i < batch->elements && n < 2000; i++) seen[n++] = strdup(batch->element[i]->str);
        redbridge_reply_free(batch);
    }
    qsort(seen, n, sizeof *seen, cmp_str);
    size_t unique = n ? 1 : 0;
    for (size_t i = 1; i < n; i++) unique += strcmp(seen[i], seen[i - 1]) != 0;
    CHECK(unique == 1000, "every key once: %zu unique of %zu", unique, n);
    for (size_t i = 0; i < n; i++) free(seen[i]);
    free(seen);
    redbridge_scan_free(sc);

    CHECK(redbridge_scan_new(c, REDBRIDGE_SCAN_HASH, "c:scanhash", 10, NULL, 0, NULL, &sc) == REDBRIDGE_OK, "hscan");
    size_t pairs = 0;
    int shaped = 1;
    for (int guard = 0; guard < 10000; guard++) {
        redbridge_reply *batch = NULL;
        if (redbridge_scan_next(sc, &batch) != REDBRIDGE_OK || batch == NULL) break;
        for (size_t i = 0; i < batch->elements; i++) shaped &= batch->element[i]->elements == 2;
        pairs += batch->elements;
        redbridge_reply_free(batch);
    }
    CHECK(pairs >= 1000 && shaped, "HSCAN pairs: %zu", pairs);
    redbridge_scan_free(sc);
    redbridge_client_free(c);
}

static int warnings;
static void on_log(void *userdata, int level, const char *message) {
    (void)userdata;
    if (level == REDBRIDGE_LOG_WARN && strstr(message, "SCAN")) warnings++;
}

static void test_config_guard_timeout_stats(void) {
    redbridge_config *cfg = NULL;
    CHECK(redbridge_config_from_url(url, &cfg) == REDBRIDGE_OK, "config from url");
    CHECK(redbridge_config_set_response_timeout_ms(cfg, 100) == REDBRIDGE_OK, "timeout");
    CHECK(redbridge_config_set_client_name(cfg, "c-tests") == REDBRIDGE_OK, "name");
    CHECK(redbridge_config_set_log_callback(cfg, on_log, NULL) == REDBRIDGE_OK, "log callback");
    redbridge_client *c = NULL;
    CHECK(redbridge_client_open_config(cfg, &c) == REDBRIDGE_OK, "open with config");
    redbridge_reply *r = RUN(c, REDBRIDGE_OK, "CLIENT", "GETNAME");
    CHECK(r && r->str && strcmp(r->str, "c-tests") == 0, "client name applied");
    redbridge_reply_free(r);
    redbridge_reply_free(RUN(c, REDBRIDGE_OK, "KEYS", "c:nothing*"));
    CHECK(warnings == 1, "guard warning reached the callback: %d", warnings);
    r = RUN(c, REDBRIDGE_ERR_TIMEOUT, "DEBUG", "SLEEP", "0.3");
    CHECK(r == NULL, "no reply on timeout");
    CHECK(strstr(redbridge_last_error(), "timed out") != NULL, "%s", redbridge_last_error());
    redbridge_stats st;
    CHECK(redbridge_client_stats(c, &st) == REDBRIDGE_OK, "stats");
    CHECK(st.requests >= 3 && st.errors[REDBRIDGE_ERR_TIMEOUT] == 1, "requests %llu timeouts %llu",
          (unsigned long long)st.requests, (unsigned long long)st.errors[REDBRIDGE_ERR_TIMEOUT]);
    redbridge_client_free(c);

    CHECK(redbridge_config_set_guard(cfg, "deny") == REDBRIDGE_OK, "deny");
    CHECK(redbridge_client_open_config(cfg, &c) == REDBRIDGE_OK, "open deny");
    r = RUN(c, REDBRIDGE_ERR_DENIED, "KEYS", "*");
    CHECK(r == NULL && strstr(redbridge_last_error(), "SCAN") != NULL, "refused, names SCAN");
    redbridge_client_free(c);
    redbridge_config_free(cfg);
}

/* Every typed setter, then a client opened with them, proves each one took. */
static void test_every_setter(void) {
    redbridge_config *cfg = NULL;
    CHECK(redbridge_config_from_url(url, &cfg) == REDBRIDGE_OK, "from url");
    /* The URL is redis://127.0.0.1:PORT: re-set host and port through the setters. */
    const char *colon = strrchr(url, ':');
    int port = colon ? atoi(colon + 1) : 6379;
    CHECK(redbridge_config_set_host(cfg, "127.0.0.1") == REDBRIDGE_OK, "host");
    CHECK(redbridge_config_set_port(cfg, (uint16_t)port) == REDBRIDGE_OK, "port");
    CHECK(redbridge_config_set_db(cfg, 2) == REDBRIDGE_OK, "db");
    CHECK(redbridge_config_set_protocol(cfg, 2) == REDBRIDGE_OK, "protocol");
    CHECK(redbridge_config_set_protocol(cfg, 4) == REDBRIDGE_ERR_INVALID_ARGUMENT, "protocol 4");
    CHECK(redbridge_config_set_client_name(cfg, "setters") == REDBRIDGE_OK, "name");
    CHECK(redbridge_config_set_connect_timeout_ms(cfg, 1500) == REDBRIDGE_OK, "connect timeout");
    CHECK(redbridge_config_set_response_timeout_ms(cfg, 3000) == REDBRIDGE_OK, "response timeout");
    CHECK(redbridge_config_set_pool_timeout_ms(cfg, 700) == REDBRIDGE_OK, "pool timeout");
    CHECK(redbridge_config_set_max_connections(cfg, 3) == REDBRIDGE_OK, "max connections");
    CHECK(redbridge_config_set_retries(cfg, 1) == REDBRIDGE_OK, "retries");
    CHECK(redbridge_config_set_retry_on_timeout(cfg, true) == REDBRIDGE_OK, "retry on timeout");
    CHECK(redbridge_config_set_mode(cfg, "pooled") == REDBRIDGE_OK, "mode");
    CHECK(redbridge_config_set_mode(cfg, "weird") == REDBRIDGE_ERR_INVALID_ARGUMENT, "bad mode");
    CHECK(redbridge_config_set_guard(cfg, "off") == REDBRIDGE_OK, "guard");
    CHECK(redbridge_config_set_guard_threshold(cfg, 10) == REDBRIDGE_OK, "guard threshold");
    CHECK(redbridge_config_set_username(cfg, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL username");
    CHECK(redbridge_config_set_password(cfg, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL password");
    CHECK(redbridge_config_set_unix_socket(NULL, "/tmp/x") == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL config");
    redbridge_client *c = NULL;
    CHECK(redbridge_client_open_config(cfg, &c) == REDBRIDGE_OK, "open with every setter");
    if (c) {
        redbridge_reply *r = RUN(c, REDBRIDGE_OK, "SET", "setters:k", "in-db-2");
        redbridge_reply_free(r);
        r = RUN(c, REDBRIDGE_OK, "CLIENT", "GETNAME");
        CHECK(r && r->str && strcmp(r->str, "setters") == 0, "name applied");
        redbridge_reply_free(r);
        redbridge_reply_free(RUN(c, REDBRIDGE_OK, "KEYS", "*")); /* guard off: no warning, no refusal */
        redbridge_stats st;
        redbridge_client_stats(c, &st);
        CHECK(st.pool_max_size == 3 && st.pool_size >= 1, "pooled mode, max 3: %llu/%llu",
              (unsigned long long)st.pool_size, (unsigned long long)st.pool_max_size);
        redbridge_client_free(c);
    }
    redbridge_client *plain = open_client();
    redbridge_reply *r = RUN(plain, REDBRIDGE_OK, "GET", "setters:k");
    CHECK(r && r->type == REDBRIDGE_REPLY_NIL, "db 0 does not have the db 2 key");
    redbridge_reply_free(r);
    redbridge_client_free(plain);
    /* A unix socket path that does not exist: a connection error naming it. */
    CHECK(redbridge_config_set_unix_socket(cfg, "/nonexistent/redbridge.sock") == REDBRIDGE_OK, "unix socket");
    CHECK(redbridge_client_open_config(cfg, &c) == REDBRIDGE_ERR_CONNECTION, "no such socket");
    redbridge_config_free(cfg);
    for (int s = 0; s <= 11; s++) CHECK(strncmp(redbridge_status_name((redbridge_status)s), "REDBRIDGE_", 10) == 0, "status name %d", s);
    CHECK(strcmp(redbridge_status_name(REDBRIDGE_ERR_PANIC), "REDBRIDGE_ERR_PANIC") == 0, "panic name");
}

/* Opens a client on `u` (a cluster's seed node when `cluster`), with the cache when `cache`. */
static redbridge_status open_on(const char *u, bool cluster, bool cache, redbridge_client **out) {
    redbridge_config *cfg = NULL;
    redbridge_status st = redbridge_config_from_url(u, &cfg);
    if (st != REDBRIDGE_OK) return st;
    if (cluster) {
        redbridge_config_set_cluster(cfg, true);
        redbridge_config_set_connect_timeout_ms(cfg, 10000); /* valgrind is slow */
    }
    if (cache) redbridge_config_set_cache(cfg, 100, 0, 0);
    st = redbridge_client_open_config(cfg, out);
    redbridge_config_free(cfg);
    return st;
}

#define CACHE_KEYS 6
#define CACHE_VERSIONS 100

struct cache_writer {
    const char *url;
    bool cluster;
    volatile int done;
};

static void *cache_writer_main(void *arg) {
    struct cache_writer *w = arg;
    redbridge_client *c = NULL;
    if (open_on(w->url, w->cluster, false, &c) != REDBRIDGE_OK) return NULL;
    char k[32], v[16];
    for (int i = 1; i <= CACHE_VERSIONS; i++) {
        for (int j = 0; j < CACHE_KEYS; j++) {
            snprintf(k, sizeof k, "c:version:%d", j);
            snprintf(v, sizeof v, "%d", i);
            const char *set[] = {"SET", k, v};
            redbridge_reply *r = NULL;
            redbridge_command_strv(c, 3, set, &r);
            redbridge_reply_free(r);
        }
    }
    w->done = 1;
    redbridge_client_free(c);
    return NULL;
}

/* A cached reader while another client writes: per key, versions never go down and the
 * last one is seen; then read-your-writes. On a standalone server or a cluster. */
static redbridge_client *writer_reader(const char *u, bool cluster) {
    redbridge_client *reader = NULL;
    CHECK(open_on(u, cluster, true, &reader) == REDBRIDGE_OK, "open cached client: %s", redbridge_last_error());
    if (!reader) return NULL;
    char k[32];
    for (int j = 0; j < CACHE_KEYS; j++) {
        snprintf(k, sizeof k, "c:version:%d", j);
        redbridge_reply_free(RUN(reader, REDBRIDGE_OK, "SET", k, "0"));
    }
    struct cache_writer w = {u, cluster, 0};
    pthread_t t;
    pthread_create(&t, NULL, cache_writer_main, &w);
    long last[CACHE_KEYS] = {0};
    int down = 0, settled = 0;
    for (int guard = 0; guard < 1000000 && !settled; guard++) {
        int done = w.done;
        settled = done;
        for (int j = 0; j < CACHE_KEYS; j++) {
            snprintf(k, sizeof k, "c:version:%d", j);
            const char *get[] = {"GET", k};
            redbridge_reply *r = NULL;
            if (redbridge_command_strv(reader, 2, get, &r) != REDBRIDGE_OK) break;
            long v = atol(r->str);
            redbridge_reply_free(r);
            if (v < last[j]) down++;
            last[j] = v;
            settled = settled && v == CACHE_VERSIONS;
        }
        usleep(200); /* valgrind runs one thread at a time: let the writer in */
    }
    pthread_join(t, NULL);
    for (int j = 0; j < CACHE_KEYS; j++) { /* the writer is done: the second read is a hit */
        snprintf(k, sizeof k, "c:version:%d", j);
        redbridge_reply_free(RUN(reader, REDBRIDGE_OK, "GET", k));
        redbridge_reply_free(RUN(reader, REDBRIDGE_OK, "GET", k));
    }
    CHECK(down == 0 && settled, "%s: versions went down %d times, last %ld", cluster ? "cluster" : "standalone", down,
          last[0]);
    for (int i = 0; i < 200; i++) {
        char v[16];
        snprintf(v, sizeof v, "%d", i);
        redbridge_reply_free(RUN(reader, REDBRIDGE_OK, "SET", "c:ryw", v));
        redbridge_reply *r = RUN(reader, REDBRIDGE_OK, "GET", "c:ryw");
        if (!r || strcmp(r->str, v) != 0) {
            CHECK(0, "read your write %d", i);
            redbridge_reply_free(r);
            break;
        }
        redbridge_reply_free(r);
    }
    return reader;
}

/* Client-side cache: versions never go down while another client writes; read-your-writes. */
static void test_cache(void) {
    CHECK(redbridge_config_set_cache(NULL, 0, 0, 0) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL config");
    redbridge_client *reader = writer_reader(url, false);
    if (!reader) return;
    redbridge_stats st;
    redbridge_client_stats(reader, &st);
    CHECK(st.cache_hits > 0 && st.cache_misses > 0 && st.cache_entries >= 1, "cache stats %llu/%llu/%llu",
          (unsigned long long)st.cache_hits, (unsigned long long)st.cache_misses, (unsigned long long)st.cache_entries);
    CHECK(redbridge_client_cache_clear(reader) == REDBRIDGE_OK, "clear");
    redbridge_client_stats(reader, &st);
    CHECK(st.cache_entries == 0, "cleared");
    redbridge_client_free(reader);
    redbridge_config *cfg = NULL;
    redbridge_config_from_url(url, &cfg);
    CHECK(redbridge_config_set_cache(cfg, 100, 0, 0) == REDBRIDGE_OK, "cache on");
    CHECK(redbridge_config_set_protocol(cfg, 2) == REDBRIDGE_OK, "protocol 2");
    CHECK(redbridge_client_open_config(cfg, &reader) == REDBRIDGE_ERR_INVALID_ARGUMENT, "cache needs RESP3");
    CHECK(strstr(redbridge_last_error(), "RESP3") != NULL, "%s", redbridge_last_error());
    redbridge_config_free(cfg);
}

struct worker {
    redbridge_client *c;
    int id, bad;
};

static void *worker_main(void *arg) {
    struct worker *w = arg;
    char key[32], val[32];
    for (int i = 0; i < 300; i++) {
        snprintf(key, sizeof key, "c:thread:%d", w->id);
        snprintf(val, sizeof val, "%d-%d", w->id, i);
        const char *set[] = {"SET", key, val};
        const char *get[] = {"GET", key};
        redbridge_reply *r = NULL;
        if (redbridge_command_strv(w->c, 3, set, &r) != REDBRIDGE_OK) w->bad++;
        redbridge_reply_free(r);
        r = NULL;
        if (redbridge_command_strv(w->c, 2, get, &r) != REDBRIDGE_OK || strcmp(r->str, val) != 0) w->bad++;
        redbridge_reply_free(r);
    }
    return NULL;
}

static void test_threads(void) {
    redbridge_client *c = open_client();
    pthread_t t[8];
    struct worker w[8];
    for (int i = 0; i < 8; i++) {
        w[i] = (struct worker){c, i, 0};
        pthread_create(&t[i], NULL, worker_main, &w[i]);
    }
    int bad = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        bad += w[i].bad;
    }
    CHECK(bad == 0, "8 threads sharing one client: %d bad replies", bad);
    redbridge_client_free(c);
}

/* --- conformance vectors (tests/conformance/to_lines.py format) --- */

static size_t unhex(const char *hex, char *out) {
    if (strcmp(hex, "-") == 0) return 0;
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) sscanf(hex + 2 * i, "%2hhx", (unsigned char *)&out[i]);
    return n;
}

static void hexify(const char *s, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", (unsigned char)s[i]);
    out[2 * n] = 0;
}

static int cmp_canon(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Renders a reply in the canonical form of to_lines.py; `sorted` sorts the children. */
static char *canon(const redbridge_reply *r, int sorted) {
    char *out = malloc(64 + 2 * r->len + 1);
    switch (r->type) {
    case REDBRIDGE_REPLY_NIL: strcpy(out, "N"); return out;
    case REDBRIDGE_REPLY_INTEGER: sprintf(out, "I%lld", r->integer); return out;
    case REDBRIDGE_REPLY_BOOL: sprintf(out, "b%lld", r->integer); return out;
    case REDBRIDGE_REPLY_DOUBLE: sprintf(out, "D%.17g", r->dval); return out;
    case REDBRIDGE_REPLY_STRING: out[0] = 'B'; hexify(r->str, r->len, out + 1); return out;
    case REDBRIDGE_REPLY_STATUS: out[0] = 'S'; hexify(r->str, r->len, out + 1); return out;
    case REDBRIDGE_REPLY_ERROR: out[0] = 'E'; strcpy(out + 1, r->str); *strchrnul(out, ' ') = 0; return out;
    default: break;
    }
    free(out);
    int map = r->type == REDBRIDGE_REPLY_MAP;
    size_t n = map ? r->elements / 2 : r->elements;
    char **parts = calloc(n ? n : 1, sizeof *parts);
    size_t total = 8;
    for (size_t i = 0; i < n; i++) {
        if (map) {
            char *k = canon(r->element[2 * i], 0), *v = canon(r->element[2 * i + 1], 0);
            parts[i] = malloc(strlen(k) + strlen(v) + 2);
            sprintf(parts[i], "%s=%s", k, v);
            free(k);
            free(v);
        } else {
            parts[i] = canon(r->element[i], 0);
        }
        total += strlen(parts[i]) + 1;
    }
    if (sorted || map || r->type == REDBRIDGE_REPLY_SET) qsort(parts, n, sizeof *parts, cmp_canon);
    out = malloc(total);
    strcpy(out, map ? "M[" : r->type == REDBRIDGE_REPLY_SET ? "T[" : "A[");
    for (size_t i = 0; i < n; i++) {
        if (i) strcat(out, ",");
        strcat(out, parts[i]);
        free(parts[i]);
    }
    strcat(out, "]");
    free(parts);
    return out;
}

/* Runs one line's arguments as a command; returns the status and reply. */
static redbridge_status run_hex(redbridge_client *c, char *line, redbridge_reply **r) {
    const char *argv[32];
    size_t lens[32];
    char *bufs[32];
    int argc = 0;
    for (char *tok = strtok(line, " \n"); tok && argc < 32; tok = strtok(NULL, " \n")) {
        bufs[argc] = malloc(strlen(tok) / 2 + 1);
        lens[argc] = unhex(tok, bufs[argc]);
        argv[argc] = bufs[argc];
        argc++;
    }
    redbridge_status s = redbridge_command_argv(c, argc, argv, lens, r);
    for (int i = 0; i < argc; i++) free(bufs[i]);
    return s;
}

static void test_conformance(const char *path) {
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "vectors file %s", path);
    if (!f) return;
    char base[512];
    for (int proto = 2; proto <= 3; proto++) {
        snprintf(base, sizeof base, "%s%cprotocol=%d", url, strchr(url, '?') ? '&' : '?', proto);
        redbridge_client *c = NULL;
        if (redbridge_client_open(base, &c) != REDBRIDGE_OK) {
            CHECK(0, "open %s", base);
            continue;
        }
        rewind(f);
        char line[4096], name[512] = "", got_name[512];
        redbridge_reply *got = NULL;
        redbridge_status got_status = REDBRIDGE_OK;
        int cases = 0;
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "CASE ", 5) == 0) {
                snprintf(name, sizeof name, "%s", line + 5);
                name[strcspn(name, "\n")] = 0;
            } else if (strncmp(line, "SETUP ", 6) == 0) {
                redbridge_reply *r = NULL;
                run_hex(c, line + 6, &r);
                redbridge_reply_free(r);
            } else if (strncmp(line, "CMD ", 4) == 0) {
                got = NULL;
                got_status = run_hex(c, line + 4, &got);
                snprintf(got_name, sizeof got_name, "%s", name);
            } else if ((proto == 2 && strncmp(line, "EXPECT2 ", 8) == 0) ||
                       (proto == 3 && strncmp(line, "EXPECT3 ", 8) == 0)) {
                char *want = line + 8;
                int unordered = strncmp(want, "UNORDERED ", 10) == 0;
                if (unordered) want += 10;
                want[strcspn(want, "\n")] = 0;
                char *text = got ? canon(got, unordered) : strdup("(no reply)");
                CHECK(strcmp(text, want) == 0 && (got_status == REDBRIDGE_OK || got_status == REDBRIDGE_ERR_RESPONSE),
                      "RESP%d %s: want %s, got %s", proto, got_name, want, text);
                free(text);
                redbridge_reply_free(got);
                got = NULL;
                cases++;
            }
        }
        CHECK(cases >= 30, "ran %d vectors", cases);
        redbridge_client_free(c);
    }
    fclose(f);
}

/* TLS against the TLS-only server make test starts (WITH_TLS=1 in with-redis.sh). */
static void test_tls(void) {
    const char *tls_url = getenv("REDBRIDGE_TLS_URL"), *ca = getenv("REDBRIDGE_TLS_CA");
    const char *cert = getenv("REDBRIDGE_TLS_CERT"), *key = getenv("REDBRIDGE_TLS_KEY");
    const char *other = getenv("REDBRIDGE_TLS_OTHER_CA");
    CHECK(tls_url && ca && cert && key && other, "REDBRIDGE_TLS_* set (make test starts a TLS server)");
    if (!(tls_url && ca && cert && key && other)) return;
    redbridge_config *cfg = NULL;
    redbridge_client *c = NULL;
    /* Through the setters: CA, then CA + client certificate. */
    for (int with_cert = 0; with_cert < 2; with_cert++) {
        CHECK(redbridge_config_from_url(tls_url, &cfg) == REDBRIDGE_OK, "rediss:// URL");
        CHECK(redbridge_config_set_tls(cfg, true) == REDBRIDGE_OK, "tls on");
        CHECK(redbridge_config_set_connect_timeout_ms(cfg, 10000) == REDBRIDGE_OK, "valgrind-slow handshake");
        CHECK(redbridge_config_set_tls_ca_file(cfg, ca) == REDBRIDGE_OK, "ca file");
        if (with_cert) CHECK(redbridge_config_set_tls_client_cert(cfg, cert, key) == REDBRIDGE_OK, "client cert");
        CHECK(redbridge_client_open_config(cfg, &c) == REDBRIDGE_OK, "open over TLS (cert %d): %s", with_cert, redbridge_last_error());
        if (c) {
            redbridge_reply_free(RUN(c, REDBRIDGE_OK, "SET", "tls:c", "over-tls"));
            redbridge_reply *r = RUN(c, REDBRIDGE_OK, "GET", "tls:c");
            CHECK(r && r->str && strcmp(r->str, "over-tls") == 0, "GET over TLS");
            redbridge_reply_free(r);
            redbridge_reply_free(RUN(c, REDBRIDGE_OK, "BLPOP", "tls:empty", "0.05"));
            redbridge_client_free(c);
            c = NULL;
        }
        redbridge_config_free(cfg);
    }
    /* A CA that did not sign the server's certificate: a connection error that says so. */
    CHECK(redbridge_config_from_url(tls_url, &cfg) == REDBRIDGE_OK, "rediss:// URL");
    /* Generous: a TLS handshake under valgrind is slow. */
    CHECK(redbridge_config_set_connect_timeout_ms(cfg, 10000) == REDBRIDGE_OK, "timeout");
    CHECK(redbridge_config_set_tls_ca_file(cfg, other) == REDBRIDGE_OK, "other ca");
    CHECK(redbridge_client_open_config(cfg, &c) == REDBRIDGE_ERR_CONNECTION, "untrusted CA refused");
    CHECK(strstr(redbridge_last_error(), "not signed by a CA") != NULL, "says why: %s", redbridge_last_error());
    /* Not verifying (tests only) connects to anyone. */
    CHECK(redbridge_config_set_tls_verify(cfg, false) == REDBRIDGE_OK, "verify off");
    CHECK(redbridge_client_open_config(cfg, &c) == REDBRIDGE_OK, "no verification: %s", redbridge_last_error());
    redbridge_client_free(c);
    c = NULL;
    CHECK(redbridge_config_set_tls_ca_file(cfg, "/no/such/ca.pem") == REDBRIDGE_OK, "missing file accepted until open");
    CHECK(redbridge_client_open_config(cfg, &c) == REDBRIDGE_ERR_INVALID_ARGUMENT, "missing CA file");
    CHECK(strstr(redbridge_last_error(), "/no/such/ca.pem") != NULL, "names the file: %s", redbridge_last_error());
    CHECK(redbridge_config_set_tls_client_cert(cfg, cert, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL key");
    CHECK(redbridge_config_set_tls_ca_file(NULL, ca) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL config");
    redbridge_config_free(cfg);
}

#define CLUSTER_KEYS 10000

/* A standalone client on one node of the test cluster (for CLUSTER SETSLOT and MIGRATE). */
static redbridge_client *node_client(int port) {
    char u[64];
    snprintf(u, sizeof u, "redis://127.0.0.1:%d", port);
    redbridge_client *n = NULL;
    CHECK(redbridge_client_open(u, &n) == REDBRIDGE_OK, "open node %d: %s", port, redbridge_last_error());
    return n;
}

/* The test cluster's ports (REDBRIDGE_CLUSTER_PORTS, primaries first); returns how many. */
static int cluster_ports(int *ports, int max) {
    const char *env = getenv("REDBRIDGE_CLUSTER_PORTS");
    int n = 0;
    for (const char *p = env; p && *p && n < max;) {
        char *end = NULL;
        long v = strtol(p, &end, 10);
        if (end == p) break;
        ports[n++] = (int)v;
        p = end;
    }
    return n;
}

/* Moves a slot as redis-cli --cluster reshard does (half its keys when !finish). */
static void migrate_slot(const int *ports, int nports, int slot, int src, int dst, bool finish) {
    redbridge_client *a = node_client(src), *b = node_client(dst);
    if (!a || !b) {
        redbridge_client_free(a);
        redbridge_client_free(b);
        return;
    }
    char s[16], d[16], a_id[64] = {0}, b_id[64] = {0};
    snprintf(s, sizeof s, "%d", slot);
    snprintf(d, sizeof d, "%d", dst);
    redbridge_reply *r = RUN(a, REDBRIDGE_OK, "CLUSTER", "MYID");
    if (r && r->str) snprintf(a_id, sizeof a_id, "%s", r->str);
    redbridge_reply_free(r);
    r = RUN(b, REDBRIDGE_OK, "CLUSTER", "MYID");
    if (r && r->str) snprintf(b_id, sizeof b_id, "%s", r->str);
    redbridge_reply_free(r);
    redbridge_reply_free(RUN(b, REDBRIDGE_OK, "CLUSTER", "SETSLOT", s, "IMPORTING", a_id));
    redbridge_reply_free(RUN(a, REDBRIDGE_OK, "CLUSTER", "SETSLOT", s, "MIGRATING", b_id));
    redbridge_reply *keys = RUN(a, REDBRIDGE_OK, "CLUSTER", "GETKEYSINSLOT", s, "100000");
    size_t n = keys ? keys->elements : 0, moving = finish ? n : n / 2;
    if (moving > 0) {
        const char **argv = calloc(moving + 7, sizeof *argv);
        const char *head[] = {"MIGRATE", "127.0.0.1", d, "", "0", "5000", "KEYS"};
        memcpy(argv, head, sizeof head);
        for (size_t i = 0; i < moving; i++) argv[7 + i] = keys->element[i]->str;
        redbridge_reply *m = NULL;
        CHECK(redbridge_command_strv(a, (int)(moving + 7), argv, &m) == REDBRIDGE_OK, "MIGRATE: %s", redbridge_last_error());
        redbridge_reply_free(m);
        free(argv);
    }
    redbridge_reply_free(keys);
    for (int i = 0; finish && i < nports; i++) {
        redbridge_client *node = node_client(ports[i]);
        const char *argv[] = {"CLUSTER", "SETSLOT", s, "NODE", b_id};
        redbridge_reply *ignored = NULL;
        if (node) redbridge_command_strv(node, 5, argv, &ignored); /* replicas refuse: fine */
        redbridge_reply_free(ignored);
        redbridge_client_free(node);
    }
    redbridge_client_free(a);
    redbridge_client_free(b);
}

/* SCAN while slots ahead of the walk move to another primary and one stays half-migrated:
 * each of the 10k keys once. */
static void scan_while_slots_migrate(redbridge_client *c) {
    int ports[16];
    int nports = cluster_ports(ports, 16);
    CHECK(nports == 6, "REDBRIDGE_CLUSTER_PORTS names 6 nodes: %d", nports);
    if (nports != 6) return;
    /* The primary serving the highest slots (walked last) and the one serving slot 0. */
    redbridge_reply *slots = RUN(c, REDBRIDGE_OK, "CLUSTER", "SLOTS");
    long last_start = -1, last_end = -1;
    int last_port = 0, first_port = 0;
    for (size_t i = 0; slots && i < slots->elements; i++) {
        redbridge_reply *range = slots->element[i];
        long start = (long)range->element[0]->integer, end = (long)range->element[1]->integer;
        int port = (int)range->element[2]->element[1]->integer;
        if (start > last_start) last_start = start, last_end = end, last_port = port;
        if (start == 0) first_port = port;
    }
    redbridge_reply_free(slots);
    redbridge_client *last = node_client(last_port);
    int ahead[6], found = 0;
    char s[16];
    for (long slot = last_start; last && slot <= last_end && found < 6; slot++) {
        snprintf(s, sizeof s, "%ld", slot);
        redbridge_reply *n = RUN(last, REDBRIDGE_OK, "CLUSTER", "COUNTKEYSINSLOT", s);
        if (n && n->integer > 0) ahead[found++] = (int)slot;
        redbridge_reply_free(n);
    }
    redbridge_client_free(last);
    CHECK(found == 6 && first_port && first_port != last_port, "slots to move: %d", found);
    if (found != 6) return;
    unsigned char *seen = calloc(CLUSTER_KEYS, 1);
    size_t total = 0, twice = 0;
    redbridge_scan *sc = NULL;
    redbridge_reply *page = NULL;
    CHECK(redbridge_scan_new(c, REDBRIDGE_SCAN_KEYS, NULL, 0, "c:*", 0, NULL, &sc) == REDBRIDGE_OK, "scan");
    for (int pages = 0; sc && redbridge_scan_next(sc, &page) == REDBRIDGE_OK && page; pages++) {
        for (size_t i = 0; i < page->elements; i++) {
            long k = atol(page->element[i]->str + 2);
            if (k >= 0 && k < CLUSTER_KEYS && seen[k]++) twice++;
            total++;
        }
        redbridge_reply_free(page);
        if (pages == 0) {
            for (int i = 0; i < 5; i++) migrate_slot(ports, nports, ahead[i], last_port, first_port, true);
            migrate_slot(ports, nports, ahead[5], last_port, first_port, false);
        }
    }
    redbridge_scan_free(sc);
    size_t distinct = 0;
    for (int k = 0; k < CLUSTER_KEYS; k++) distinct += seen[k] > 0;
    free(seen);
    CHECK(total == CLUSTER_KEYS && distinct == CLUSTER_KEYS && twice == 0,
          "cluster SCAN while slots migrate: %zu keys, %zu distinct, %zu twice", total, distinct, twice);
}

/* Redis Cluster against the 3+3 cluster make test starts (WITH_CLUSTER=1). */
static void test_cluster(void) {
    const char *cluster_url = getenv("REDBRIDGE_CLUSTER_URL");
    CHECK(cluster_url != NULL, "REDBRIDGE_CLUSTER_URL set (make test starts a cluster)");
    if (!cluster_url) return;
    redbridge_config *cfg = NULL;
    redbridge_client *c = NULL;
    CHECK(redbridge_config_from_url(cluster_url, &cfg) == REDBRIDGE_OK, "cluster url");
    CHECK(redbridge_config_set_cluster(cfg, true) == REDBRIDGE_OK, "cluster on");
    CHECK(redbridge_config_set_connect_timeout_ms(cfg, 10000) == REDBRIDGE_OK, "valgrind-slow connect");
    CHECK(redbridge_config_add_cluster_node(cfg, NULL, 7000) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL host");
    CHECK(redbridge_config_set_db(cfg, 3) == REDBRIDGE_OK, "db 3");
    CHECK(redbridge_client_open_config(cfg, &c) == REDBRIDGE_ERR_INVALID_ARGUMENT, "a cluster has only db 0");
    CHECK(redbridge_config_set_db(cfg, 0) == REDBRIDGE_OK, "db 0");
    CHECK(redbridge_client_open_config(cfg, &c) == REDBRIDGE_OK, "open the cluster: %s", redbridge_last_error());
    redbridge_config_free(cfg);
    if (!c) return;
    char key[32], value[32];
    /* 10k keys written in pipelines of 1000 across slots, and a few read back one by one. */
    for (int base = 0; base < CLUSTER_KEYS; base += 1000) {
        redbridge_pipeline *w = redbridge_pipeline_new(false);
        for (int i = base; i < base + 1000; i++) {
            snprintf(key, sizeof key, "c:%d", i);
            snprintf(value, sizeof value, "v%d", i);
            const char *argv[] = {"SET", key, value};
            redbridge_pipeline_append_argv(w, 3, argv, NULL);
        }
        redbridge_reply *done = NULL;
        CHECK(redbridge_pipeline_execute(c, w, &done) == REDBRIDGE_OK && done && done->elements == 1000, "10k SETs");
        redbridge_reply_free(done);
        redbridge_pipeline_free(w);
    }
    redbridge_reply *r = RUN(c, REDBRIDGE_OK, "GET", "c:9999");
    CHECK(r && r->str && strcmp(r->str, "v9999") == 0, "read back");
    redbridge_reply_free(r);
    /* A pipeline of 1000 commands across slots: replies in order. */
    redbridge_pipeline *p = redbridge_pipeline_new(false);
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "c:%d", i * 7);
        const char *argv[] = {"GET", key};
        redbridge_pipeline_append_argv(p, 2, argv, NULL);
    }
    r = NULL;
    CHECK(redbridge_pipeline_execute(c, p, &r) == REDBRIDGE_OK && r && r->elements == 1000, "cross-slot pipeline");
    int in_order = r && r->elements == 1000;
    for (int i = 0; in_order && i < 1000; i++) {
        snprintf(value, sizeof value, "v%d", i * 7);
        in_order = r->element[i]->str && strcmp(r->element[i]->str, value) == 0;
    }
    CHECK(in_order, "every reply in its slot");
    redbridge_reply_free(r);
    redbridge_pipeline_free(p);
    /* MGET across slots, as one call. */
    r = RUN(c, REDBRIDGE_OK, "MGET", "c:1", "c:2", "c:3", "c:4", "c:5");
    CHECK(r && r->elements == 5 && r->element[4]->str && strcmp(r->element[4]->str, "v5") == 0, "MGET across slots");
    redbridge_reply_free(r);
    scan_while_slots_migrate(c);
    /* A cross-slot transaction names the fix. */
    p = redbridge_pipeline_new(true);
    const char *a[] = {"SET", "x", "1"}, *b[] = {"SET", "y", "2"};
    redbridge_pipeline_append_argv(p, 3, a, NULL);
    redbridge_pipeline_append_argv(p, 3, b, NULL);
    r = NULL;
    CHECK(redbridge_pipeline_execute(c, p, &r) == REDBRIDGE_ERR_CLUSTER, "cross-slot MULTI refused");
    CHECK(strstr(redbridge_last_error(), "hash tag") != NULL, "says how: %s", redbridge_last_error());
    redbridge_reply_free(r);
    redbridge_pipeline_free(p);
    /* Per-node counters: every primary served some of the requests above. */
    size_t count = 0;
    CHECK(redbridge_client_node_stats(c, NULL, 0, &count) == REDBRIDGE_OK && count == 3, "3 nodes: %zu", count);
    CHECK(redbridge_client_node_stats(c, NULL, 2, &count) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL nodes");
    redbridge_node_stats nodes[8];
    CHECK(redbridge_client_node_stats(c, nodes, 8, &count) == REDBRIDGE_OK, "node stats");
    for (size_t i = 0; i < count && i < 8; i++)
        CHECK(nodes[i].primary == 1 && nodes[i].requests > 0 && strncmp(nodes[i].addr, "127.0.0.1:", 10) == 0,
              "node %s: %llu requests", nodes[i].addr, (unsigned long long)nodes[i].requests);
    redbridge_client_free(c);

    /* The client-side cache on a cluster: the writer/reader test, each node's part used. */
    redbridge_client *reader = writer_reader(cluster_url, true);
    if (reader) {
        CHECK(redbridge_client_node_stats(reader, nodes, 8, &count) == REDBRIDGE_OK && count == 3, "cache nodes");
        uint64_t hits = 0;
        for (size_t i = 0; i < count && i < 8; i++) hits += nodes[i].cache_hits;
        redbridge_stats st;
        redbridge_client_stats(reader, &st);
        CHECK(hits > 0 && hits == st.cache_hits, "cache hits per node add up: %llu of %llu", (unsigned long long)hits,
              (unsigned long long)st.cache_hits);
        redbridge_client_free(reader);
    }
}

/* A primary killed (SIGKILL by PID) mid-run: its replica takes over, the client keeps
 * serving, every acknowledged write is there. Last: the cluster is one primary short after. */
static void test_cluster_failover(void) {
    const char *cluster_url = getenv("REDBRIDGE_CLUSTER_URL");
    const char *pidfiles = getenv("REDBRIDGE_CLUSTER_PIDFILES");
    CHECK(cluster_url && pidfiles, "REDBRIDGE_CLUSTER_PIDFILES set");
    if (!cluster_url || !pidfiles) return;
    redbridge_client *c = NULL;
    CHECK(open_on(cluster_url, true, false, &c) == REDBRIDGE_OK, "open the cluster");
    if (!c) return;
    char key[32], value[32], first[512] = {0};
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "f:%d", i);
        redbridge_reply_free(RUN(c, REDBRIDGE_OK, "SET", key, "before"));
    }
    /* The first pidfile is a primary's (redis-cli --cluster create makes the first 3 primaries). */
    sscanf(pidfiles, "%511s", first);
    FILE *f = fopen(first, "r");
    long pid = 0;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1) pid = 0;
        fclose(f);
    }
    CHECK(pid > 0 && kill((pid_t)pid, SIGKILL) == 0, "killed the primary %ld", pid);
    static char acked[100][32];
    int written[100] = {0};
    int ok = 0, failures = 0;
    time_t deadline = time(NULL) + 90;
    for (int i = 0; ok < 300 && time(NULL) < deadline; i++) {
        snprintf(key, sizeof key, "f:%d", i % 100);
        snprintf(value, sizeof value, "after%d", i);
        const char *set[] = {"SET", key, value};
        redbridge_reply *r = NULL;
        if (redbridge_command_strv(c, 3, set, &r) == REDBRIDGE_OK) {
            ok++;
            written[i % 100] = 1;
            snprintf(acked[i % 100], sizeof acked[0], "%s", value);
        } else {
            failures++;
        }
        redbridge_reply_free(r);
    }
    CHECK(ok >= 300, "the cluster kept serving: %d acknowledged, %d failed", ok, failures);
    int lost = 0;
    for (int i = 0; i < 100; i++) {
        if (!written[i]) continue;
        snprintf(key, sizeof key, "f:%d", i);
        redbridge_reply *r = RUN(c, REDBRIDGE_OK, "GET", key);
        if (!r || !r->str || strcmp(r->str, acked[i]) != 0) lost++;
        redbridge_reply_free(r);
    }
    CHECK(lost == 0, "no acknowledged write lost (%d lost)", lost);
    redbridge_client_free(c);
}

int main(int argc, char **argv) {
    url = getenv("REDIS_URL");
    if (!url) {
        fprintf(stderr, "set REDIS_URL (make test does)\n");
        return 2;
    }
    test_bad_input();
    test_replies();
    test_binary();
    test_pipeline();
    test_scan();
    test_config_guard_timeout_stats();
    test_threads();
    test_every_setter();
    test_cache();
    test_tls();
    test_cluster();
    test_cluster_failover();
    if (argc > 1) test_conformance(argv[1]);
    printf("libredbridge %s\n", redbridge_version());
    printf("c: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

/* The client-side cache (the writer/reader test is shared with test_cluster.c). */
#include "support.h"

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
redbridge_client *writer_reader(const char *u, bool cluster) {
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
void test_cache(void) {
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

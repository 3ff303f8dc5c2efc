/*
 * The event callback (redbridge_client_set_event_callback, redbridge_set_global_event_callback):
 * operations with their server, status, error code, retries and how they were served; a
 * timeout and a killed connection; the global callback; removal; never an argument value.
 */
#include "support.h"

#define SECRET "c-argument-secret-77"

/* What a callback saw (it runs on redbridge's threads too: under the lock). */
struct seen {
    pthread_mutex_t lock;
    int operations, created, closed_error, closed_timeout, leaked;
    int cache_hits, cache_misses, pool_waits, pooled_created;
    /* TOPOLOGY_CHANGED: the last one's slots moved and primaries. */
    uint64_t moved_slots;
    size_t primaries;
    uint64_t client_id;
    /* The last operation. */
    char name[32], host[64], code[16];
    uint16_t port;
    int64_t db;
    redbridge_status status;
    uint32_t retries;
    redbridge_served served;
    uint64_t duration_ns;
};

static void seen_init(struct seen *s) {
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
}

static void copy(char *dst, size_t n, const char *src) {
    snprintf(dst, n, "%s", src ? src : "");
}

static void on_event(void *userdata, const redbridge_event *e) {
    struct seen *s = userdata;
    pthread_mutex_lock(&s->lock);
    s->client_id = e->client_id;
    const char *texts[] = {e->name, e->host, e->error_code};
    for (size_t i = 0; i < 3; i++)
        if (texts[i] && (strstr(texts[i], SECRET) || strstr(texts[i], "ev:c:"))) s->leaked++;
    switch (e->kind) {
    case REDBRIDGE_EVENT_OPERATION:
        s->operations++;
        copy(s->name, sizeof s->name, e->name);
        copy(s->host, sizeof s->host, e->host);
        copy(s->code, sizeof s->code, e->error_code);
        s->port = e->port;
        s->db = e->db;
        s->status = e->status;
        s->retries = e->retries;
        s->served = e->served;
        s->duration_ns = e->duration_ns;
        break;
    case REDBRIDGE_EVENT_CACHE_HIT:
        s->cache_hits++;
        break;
    case REDBRIDGE_EVENT_CACHE_MISS:
        s->cache_misses++;
        break;
    case REDBRIDGE_EVENT_POOL_WAIT:
        if (!e->timed_out && e->host && strcmp(e->host, "127.0.0.1") == 0) s->pool_waits++;
        break;
    case REDBRIDGE_EVENT_TOPOLOGY_CHANGED:
        s->moved_slots = e->count;
        s->primaries = e->batch;
        break;
    case REDBRIDGE_EVENT_CONNECTION_CREATED:
        s->created++;
        if (e->role == REDBRIDGE_CONNECTION_POOLED) s->pooled_created++;
        break;
    case REDBRIDGE_EVENT_CONNECTION_CLOSED:
        if (e->close_reason == REDBRIDGE_CLOSE_TIMEOUT) s->closed_timeout++;
        if (e->close_reason == REDBRIDGE_CLOSE_ERROR) s->closed_error++;
        break;
    default:
        break;
    }
    pthread_mutex_unlock(&s->lock);
}

/* The port of `url` (redis://host:PORT...). */
static uint16_t url_port(void) {
    const char *colon = strrchr(url, ':');
    return colon ? (uint16_t)atoi(colon + 1) : 0;
}

static void free_reply(redbridge_reply *r) {
    if (r) redbridge_reply_free(r);
}

void test_events(void) {
    struct seen s, g;
    seen_init(&s);
    seen_init(&g);
    CHECK(redbridge_client_set_event_callback(NULL, on_event, &s) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL client");

    redbridge_config *cfg = NULL;
    CHECK(redbridge_config_from_url(url, &cfg) == REDBRIDGE_OK, "config");
    redbridge_config_set_response_timeout_ms(cfg, 300); /* valgrind is slow */
    redbridge_config_set_db(cfg, 4);
    redbridge_client *c = NULL;
    CHECK(redbridge_client_open_config(cfg, &c) == REDBRIDGE_OK, "open");
    redbridge_config_free(cfg);
    if (!c) return;
    CHECK(redbridge_client_set_event_callback(c, on_event, &s) == REDBRIDGE_OK, "set");

    free_reply(RUN(c, REDBRIDGE_OK, "SET", "ev:c:k", SECRET));
    free_reply(RUN(c, REDBRIDGE_OK, "GET", "ev:c:k"));
    pthread_mutex_lock(&s.lock);
    CHECK(s.operations == 2, "%d operations", s.operations);
    CHECK(strcmp(s.name, "GET") == 0, "name %s", s.name);
    CHECK(strcmp(s.host, "127.0.0.1") == 0 && s.port == url_port() && s.db == 4, "%s:%u/%lld", s.host,
          s.port, (long long)s.db);
    CHECK(s.status == REDBRIDGE_OK && s.code[0] == 0 && s.retries == 0, "outcome");
    CHECK(s.served == REDBRIDGE_SERVED_DIRECT, "served %d", (int)s.served);
    CHECK(s.duration_ns > 0 && s.duration_ns < 1000000000ull, "duration %llu", (unsigned long long)s.duration_ns);
    CHECK(s.created >= 1, "the direct connection was created");
    pthread_mutex_unlock(&s.lock);

    /* A failing command: its status and the server's error code. */
    free_reply(RUN(c, REDBRIDGE_ERR_RESPONSE, "INCR", "ev:c:k"));
    pthread_mutex_lock(&s.lock);
    CHECK(strcmp(s.name, "INCR") == 0 && s.status == REDBRIDGE_ERR_RESPONSE && strcmp(s.code, "ERR") == 0,
          "%s %s %s", s.name, redbridge_status_name(s.status), s.code);
    pthread_mutex_unlock(&s.lock);

    /* A timeout: the connection it was on is closed, since its late reply must not be read. */
    free_reply(RUN(c, REDBRIDGE_ERR_TIMEOUT, "DEBUG", "SLEEP", "0.6"));
    pthread_mutex_lock(&s.lock);
    CHECK(s.status == REDBRIDGE_ERR_TIMEOUT && s.duration_ns >= 300000000ull, "%s after %llu ns",
          redbridge_status_name(s.status), (unsigned long long)s.duration_ns);
    CHECK(s.closed_timeout == 1, "closed_timeout %d", s.closed_timeout);
    pthread_mutex_unlock(&s.lock);
    usleep(700 * 1000);

    /* A killed connection: the GET is retried and reports it; the connection comes back. */
    redbridge_reply *id = RUN(c, REDBRIDGE_OK, "CLIENT", "ID");
    redbridge_client *ctl = open_client();
    if (id) {
        char idtext[32];
        snprintf(idtext, sizeof idtext, "%lld", id->integer);
        free_reply(RUN(ctl, REDBRIDGE_OK, "CLIENT", "KILL", "ID", idtext));
        redbridge_reply_free(id);
    }
    int created_before = s.created;
    free_reply(RUN(c, REDBRIDGE_OK, "GET", "ev:c:k"));
    pthread_mutex_lock(&s.lock);
    CHECK(strcmp(s.name, "GET") == 0 && s.status == REDBRIDGE_OK && s.retries >= 1, "retries %u", s.retries);
    CHECK(s.closed_error >= 1, "closed_error %d", s.closed_error);
    pthread_mutex_unlock(&s.lock);
    free_reply(RUN(c, REDBRIDGE_OK, "PING"));
    CHECK(s.created > created_before, "a connection was made again");

    /* The global callback sees every client's events, with the client's number. */
    CHECK(redbridge_set_global_event_callback(on_event, &g) == REDBRIDGE_OK, "global");
    free_reply(RUN(c, REDBRIDGE_OK, "PING"));
    free_reply(RUN(ctl, REDBRIDGE_OK, "PING"));
    CHECK(redbridge_set_global_event_callback(NULL, NULL) == REDBRIDGE_OK, "global off");
    CHECK(g.operations == 2, "global saw %d", g.operations);
    free_reply(RUN(c, REDBRIDGE_OK, "PING"));
    CHECK(g.operations == 2, "removed: global saw %d", g.operations);

    /* Removed: no more calls (and none running once the call returned). */
    CHECK(redbridge_client_set_event_callback(c, NULL, NULL) == REDBRIDGE_OK, "unset");
    int ops = s.operations;
    free_reply(RUN(c, REDBRIDGE_OK, "GET", "ev:c:k"));
    CHECK(s.operations == ops, "removed: %d operations", s.operations - ops);
    CHECK(s.leaked == 0 && g.leaked == 0, "an argument value or key reached an event");

    free_reply(RUN(ctl, REDBRIDGE_OK, "DEL", "ev:c:k"));
    redbridge_client_free(ctl);
    redbridge_client_free(c);

    /* The client-side cache: a miss, then a hit served without I/O. */
    redbridge_client *cached = NULL;
    if (open_on(url, false, true, &cached) == REDBRIDGE_OK) {
        struct seen t;
        seen_init(&t);
        CHECK(redbridge_client_set_event_callback(cached, on_event, &t) == REDBRIDGE_OK, "cache set");
        free_reply(RUN(cached, REDBRIDGE_OK, "SET", "ev:c:cache", SECRET));
        free_reply(RUN(cached, REDBRIDGE_OK, "GET", "ev:c:cache"));
        free_reply(RUN(cached, REDBRIDGE_OK, "GET", "ev:c:cache"));
        CHECK(redbridge_client_set_event_callback(cached, NULL, NULL) == REDBRIDGE_OK, "cache unset");
        CHECK(t.cache_misses == 1 && t.cache_hits == 1, "cache: %d misses, %d hits", t.cache_misses, t.cache_hits);
        CHECK(t.served == REDBRIDGE_SERVED_CACHE, "the last GET served by %d", (int)t.served);
        redbridge_client_free(cached);
        pthread_mutex_destroy(&t.lock);
    }

    /* Pooled mode: each command leases (a wait), the first makes the pool's connection. */
    redbridge_config *pcfg = NULL;
    redbridge_client *pooled = NULL;
    if (redbridge_config_from_url(url, &pcfg) == REDBRIDGE_OK) {
        redbridge_config_set_mode(pcfg, "pooled");
        redbridge_config_set_max_connections(pcfg, 1);
        struct seen t;
        seen_init(&t);
        CHECK(redbridge_set_global_event_callback(on_event, &t) == REDBRIDGE_OK, "global on");
        CHECK(redbridge_client_open_config(pcfg, &pooled) == REDBRIDGE_OK, "pooled open");
        redbridge_config_free(pcfg);
        if (pooled) {
            free_reply(RUN(pooled, REDBRIDGE_OK, "PING"));
            free_reply(RUN(pooled, REDBRIDGE_OK, "PING"));
        }
        CHECK(redbridge_set_global_event_callback(NULL, NULL) == REDBRIDGE_OK, "global off");
        CHECK(t.pool_waits >= 2 && t.pooled_created == 1, "pool: %d waits, %d made", t.pool_waits,
              t.pooled_created);
        if (pooled) redbridge_client_free(pooled);
        pthread_mutex_destroy(&t.lock);
    }

    /* A cluster (when make test-c started one): its first slot table read, which opening
     * the client makes, so only a global callback set before can see it. */
    const char *cluster_url = getenv("REDBRIDGE_CLUSTER_URL");
    if (cluster_url) {
        struct seen t;
        seen_init(&t);
        redbridge_client *cl = NULL;
        CHECK(redbridge_set_global_event_callback(on_event, &t) == REDBRIDGE_OK, "global on");
        CHECK(open_on(cluster_url, true, false, &cl) == REDBRIDGE_OK, "cluster open");
        if (cl) free_reply(RUN(cl, REDBRIDGE_OK, "SET", "ev:c:cl", SECRET));
        CHECK(redbridge_set_global_event_callback(NULL, NULL) == REDBRIDGE_OK, "global off");
        CHECK(t.moved_slots == 16384 && t.primaries == 3, "topology: %llu slots, %zu primaries",
              (unsigned long long)t.moved_slots, t.primaries);
        CHECK(strcmp(t.name, "SET") == 0 && t.served == REDBRIDGE_SERVED_RUNTIME && t.leaked == 0, "cluster SET");
        if (cl) redbridge_client_free(cl);
        pthread_mutex_destroy(&t.lock);
    }
    pthread_mutex_destroy(&s.lock);
    pthread_mutex_destroy(&g.lock);
}

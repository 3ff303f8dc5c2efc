/* Redis Cluster: keys across slots, pipelines, SCAN while slots move, node stats, the
 * cache, and a primary killed mid-run (test_cluster_failover, run last). */
#include "support.h"

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
void test_cluster(void) {
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
void test_cluster_failover(void) {
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

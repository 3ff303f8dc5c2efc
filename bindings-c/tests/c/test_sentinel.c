/* Sentinel (issue #18) through the C setters: bad input refused with what was wrong, then
 * a real deployment from the harness (a primary, 2 replicas, 3 sentinels on loopback):
 * discovery skipping a dead first sentinel, an unknown service's error listing each
 * sentinel's answer, a replica named as the primary refused by its ROLE; SENTINEL FAILOVER
 * under a GET/INCR loop on a second deployment (no GET fails, READONLY at most once per
 * connection, none left on the old primary); SET/GET on the primary, a replica-role client on a replica, sentinel credentials kept
 * out of messages, and the primary killed (SIGKILL) with writes back on the promoted
 * replica within FAILOVER_LIMIT_S, counted in sentinel_switches. Then the same over TLS
 * (`redis_server.py sentinel --tls`: TLS-only sentinels with a CA of their own that ask
 * for a client certificate, TLS-only data nodes): SET/GET through
 * redbridge_config_set_sentinel_tls, and a wrong CA named in the error. Each deployment
 * is this test's own; it stops it. */
#include "support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#define HARNESS "python3 tests/harness/redis_server.py"
#define FAILOVER_LIMIT_S 15
#define SERVICE "mymaster"

/* What `redis_server.py sentinel` started: ports and the pidfiles to stop (primary first). */
typedef struct {
    int primary, replicas[4], sentinels[4], nreplicas, nsentinels, npidfiles;
    char pidfiles[8][256];
    /* With --tls: the data nodes' CA, a CA that signed nothing, the sentinels' CA and
     * the client certificate and key they accept. */
    char ca[256], other_ca[256], sentinel_ca[256], sentinel_cert[256], sentinel_key[256];
} topology;

/* The integers after `"key": ` in one line of JSON: one number, or a list of them. */
static int json_ints(const char *json, const char *key, int *out, int max) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(json, pat);
    if (!p) return 0;
    p += strlen(pat);
    bool list = *p == '[';
    p += list;
    int n = 0;
    while (n < max) {
        char *end = NULL;
        long v = strtol(p, &end, 10);
        if (end == p) break;
        out[n++] = (int)v;
        p = end;
        if (!list || *p != ',') break;
        p++;
    }
    return n;
}

/* The strings of the list after `"key": [` (no escapes: the harness's paths have none). */
static int json_strings(const char *json, const char *key, char (*out)[256], int max) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": [", key);
    const char *p = strstr(json, pat);
    if (!p) return 0;
    p += strlen(pat);
    int n = 0;
    while (n < max) {
        while (*p == ' ' || *p == ',') p++;
        if (*p != '"') break;
        const char *end = strchr(p + 1, '"');
        if (!end || end - p - 1 >= 256) break;
        snprintf(out[n++], 256, "%.*s", (int)(end - p - 1), p + 1);
        p = end + 1;
    }
    return n;
}

/* The string after `"key": ` (no escapes), or false. */
static bool json_string(const char *json, const char *key, char *out, size_t n) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": \"", key);
    const char *p = strstr(json, pat);
    const char *end = p ? strchr(p + strlen(pat), '"') : NULL;
    if (!end) return false;
    p += strlen(pat);
    snprintf(out, n, "%.*s", (int)(end - p), p);
    return true;
}

/* Stops what the harness started, sentinels first (so they start no failover meanwhile). */
static void stop_topology(const topology *t) {
    for (int i = t->npidfiles - 1; i >= 0; i--) {
        char cmd[384];
        snprintf(cmd, sizeof cmd, HARNESS " stop '%s'", t->pidfiles[i]);
        if (system(cmd) != 0) fprintf(stderr, "test_sentinel: could not stop %s\n", t->pidfiles[i]);
    }
}

/* Starts a primary, 2 replicas and 3 sentinels (service "mymaster"), all over TLS with
 * `tls`; false when it did not. */
static bool start_topology(topology *t, bool tls) {
    memset(t, 0, sizeof *t);
    static char line[8192];
    line[0] = '\0';
    FILE *p = popen(tls ? HARNESS " sentinel --tls" : HARNESS " sentinel", "r");
    if (!p) return false;
    bool got = fgets(line, sizeof line, p) != NULL;
    int rc = pclose(p);
    json_ints(line, "primary", &t->primary, 1);
    t->nreplicas = json_ints(line, "replicas", t->replicas, 4);
    t->nsentinels = json_ints(line, "sentinels", t->sentinels, 4);
    t->npidfiles = json_strings(line, "pidfiles", t->pidfiles, 8);
    bool certs = !tls || (json_string(line, "ca", t->ca, sizeof t->ca) &&
                          json_string(line, "other_ca", t->other_ca, sizeof t->other_ca) &&
                          json_string(line, "sentinel_ca", t->sentinel_ca, sizeof t->sentinel_ca) &&
                          json_string(line, "sentinel_cert", t->sentinel_cert, sizeof t->sentinel_cert) &&
                          json_string(line, "sentinel_key", t->sentinel_key, sizeof t->sentinel_key));
    if (got && rc == 0 && certs && t->primary > 0 && t->nreplicas == 2 && t->nsentinels == 3 && t->npidfiles == 6)
        return true;
    fprintf(stderr, "test_sentinel: the harness said: %s\n", line);
    stop_topology(t);
    return false;
}

/* The SENTINEL_SWITCHED events a client reported: how many, the last node's port. */
typedef struct {
    int count;
    int port;
} sentinel_switched;

static void on_switch(void *userdata, const redbridge_event *event) {
    sentinel_switched *seen = userdata;
    if (event->kind != REDBRIDGE_EVENT_SENTINEL_SWITCHED) return;
    __atomic_add_fetch(&seen->count, 1, __ATOMIC_SEQ_CST);
    __atomic_store_n(&seen->port, (int)event->port, __ATOMIC_SEQ_CST);
}

static long pid_in(const char *pidfile) {
    long pid = 0;
    FILE *f = fopen(pidfile, "r");
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1) pid = 0;
        fclose(f);
    }
    return pid;
}

static bool is_replica_port(const topology *t, long port) {
    for (int i = 0; i < t->nreplicas; i++)
        if (t->replicas[i] == port) return true;
    return false;
}

/* TLS for a client of a --tls deployment: the CAs it trusts for the sentinels and for
 * the data nodes (NULL: no TLS). */
typedef struct {
    const char *sentinel_ca, *node_ca;
} tls_trust;

/* A client of the service built with the sentinel setters: `role` NULL for the primary,
 * `sentinel_user` and `sentinel_password` NULL for sentinels without credentials, `tls`
 * NULL for a deployment without TLS. */
static redbridge_status open_sentinel_with(const topology *t, const char *role, const char *sentinel_user,
                                           const char *sentinel_password, const tls_trust *tls,
                                           redbridge_client **out) {
    redbridge_config *cfg = redbridge_config_new();
    redbridge_status st = REDBRIDGE_OK;
    if (tls) {
        st = redbridge_config_set_sentinel_tls(cfg, tls->sentinel_ca, t->sentinel_cert, t->sentinel_key, true);
        if (st == REDBRIDGE_OK) st = redbridge_config_set_tls(cfg, true);
        if (st == REDBRIDGE_OK) st = redbridge_config_set_tls_ca_file(cfg, tls->node_ca);
    }
    for (int i = 0; st == REDBRIDGE_OK && i < t->nsentinels; i++)
        st = redbridge_config_add_sentinel(cfg, "127.0.0.1", (uint16_t)t->sentinels[i]);
    if (st == REDBRIDGE_OK) st = redbridge_config_set_sentinel_service(cfg, SERVICE);
    if (st == REDBRIDGE_OK && role) st = redbridge_config_set_sentinel_role(cfg, role);
    if (st == REDBRIDGE_OK && sentinel_password) st = redbridge_config_set_sentinel_auth(cfg, sentinel_user, sentinel_password);
    if (st == REDBRIDGE_OK) st = redbridge_config_set_connect_timeout_ms(cfg, 10000); /* valgrind is slow */
    if (st == REDBRIDGE_OK) st = redbridge_config_set_response_timeout_ms(cfg, 2000);
    if (st == REDBRIDGE_OK) st = redbridge_client_open_config(cfg, out);
    redbridge_config_free(cfg);
    return st;
}

static redbridge_status open_sentinel(const topology *t, const char *role, const char *sentinel_user,
                                      const char *sentinel_password, redbridge_client **out) {
    return open_sentinel_with(t, role, sentinel_user, sentinel_password, NULL, out);
}

static uint64_t switches(redbridge_client *c) {
    redbridge_stats st;
    memset(&st, 0xff, sizeof st);
    return redbridge_client_stats(c, &st) == REDBRIDGE_OK ? st.sentinel_switches : UINT64_MAX;
}

/* The first word of ROLE ("master", "slave") through `c`, or "" when it failed. */
static void role_of(redbridge_client *c, char *out, size_t n) {
    out[0] = '\0';
    redbridge_reply *r = NULL;
    if (REDBRIDGE_COMMAND(c, &r, "ROLE") == REDBRIDGE_OK && r && r->elements > 0 && r->element[0]->str)
        snprintf(out, n, "%s", r->element[0]->str);
    redbridge_reply_free(r);
}

/* A number of INFO server (`field` as "process_id:"), or -1. */
static long info_server(redbridge_client *c, const char *field) {
    redbridge_reply *r = RUN(c, REDBRIDGE_OK, "INFO", "server");
    const char *at = r && r->str ? strstr(r->str, field) : NULL;
    long v = at ? strtol(at + strlen(field), NULL, 10) : -1;
    redbridge_reply_free(r);
    return v;
}

static double seconds_since(const struct timespec *t0) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A call refused as REDBRIDGE_ERR_INVALID_ARGUMENT whose message names `what`. */
#define REFUSED(call, what)                                                                          \
    CHECK((call) == REDBRIDGE_ERR_INVALID_ARGUMENT && strstr(redbridge_last_error(), (what)) != NULL, \
          "refused naming %s", (what))

/* Bad input to the setters and bad combinations at open: no server needed. */
static void sentinel_bad_input(void) {
    redbridge_config *cfg = redbridge_config_new();
    redbridge_client *c = NULL;
    REFUSED(redbridge_config_add_sentinel(NULL, "127.0.0.1", 26379), "`config`");
    REFUSED(redbridge_config_add_sentinel(cfg, NULL, 26379), "`host` is NULL");
    REFUSED(redbridge_config_add_sentinel(cfg, "", 26379), "`host` is empty");
    REFUSED(redbridge_config_add_sentinel(cfg, "\xff\xfe", 26379), "`host` is not valid UTF-8");
    REFUSED(redbridge_config_add_sentinel(cfg, "a,b", 26379), "comma");
    REFUSED(redbridge_config_add_sentinel(cfg, "127.0.0.1", 0), "`port` is 0");
    REFUSED(redbridge_config_set_sentinel_service(NULL, SERVICE), "`config`");
    REFUSED(redbridge_config_set_sentinel_service(cfg, NULL), "`name` is NULL");
    REFUSED(redbridge_config_set_sentinel_service(cfg, ""), "`name` is empty");
    REFUSED(redbridge_config_set_sentinel_service(cfg, "\xff"), "`name` is not valid UTF-8");
    REFUSED(redbridge_config_set_sentinel_role(cfg, NULL), "`sentinel_role` is NULL");
    REFUSED(redbridge_config_set_sentinel_role(cfg, "boss"), "\"master\" or \"replica\"");
    REFUSED(redbridge_config_set_sentinel_auth(NULL, NULL, "pw"), "`config`");
    REFUSED(redbridge_config_set_sentinel_auth(cfg, NULL, NULL), "`password` is NULL");
    REFUSED(redbridge_config_set_sentinel_auth(cfg, "", "pw"), "`username` is empty");
    REFUSED(redbridge_config_set_sentinel_auth(cfg, "\xff", "pw"), "`username` is not valid UTF-8");
    REFUSED(redbridge_config_set_sentinel_auth(cfg, "u", "secret-\xff"), "`password` is not valid UTF-8");
    CHECK(strstr(redbridge_last_error(), "secret") == NULL, "the password is not shown: %s", redbridge_last_error());
    CHECK(redbridge_config_set_sentinel_role(cfg, "primary") == REDBRIDGE_OK, "primary");
    CHECK(redbridge_config_set_sentinel_role(cfg, "replica") == REDBRIDGE_OK, "replica");
    CHECK(redbridge_config_set_sentinel_auth(cfg, "sentinel-user", "pw") == REDBRIDGE_OK, "user and password");
    CHECK(redbridge_config_set_sentinel_auth(cfg, NULL, "pw") == REDBRIDGE_OK, "default user");
    /* Sentinels and a service go together, without a cluster or TLS (the core's rules). */
    CHECK(redbridge_config_set_sentinel_service(cfg, SERVICE) == REDBRIDGE_OK, "service");
    REFUSED(redbridge_client_open_config(cfg, &c), "sentinels");
    CHECK(c == NULL, "no client");
    redbridge_config_free(cfg);
    cfg = redbridge_config_new();
    CHECK(redbridge_config_add_sentinel(cfg, "127.0.0.1", 26379) == REDBRIDGE_OK, "a sentinel");
    REFUSED(redbridge_client_open_config(cfg, &c), "sentinel_service");
    CHECK(redbridge_config_set_sentinel_service(cfg, SERVICE) == REDBRIDGE_OK, "service");
    CHECK(redbridge_config_set_cluster(cfg, true) == REDBRIDGE_OK, "cluster");
    REFUSED(redbridge_client_open_config(cfg, &c), "not both");
    CHECK(redbridge_config_set_cluster(cfg, false) == REDBRIDGE_OK, "no cluster");
    /* The sentinels' TLS: both parts of a client certificate or neither, files read at
     * open (named as the sentinels' option), and only with sentinels. */
    REFUSED(redbridge_config_set_sentinel_tls(NULL, NULL, NULL, NULL, true), "`config`");
    REFUSED(redbridge_config_set_sentinel_tls(cfg, "", NULL, NULL, true), "`ca_file` is empty");
    REFUSED(redbridge_config_set_sentinel_tls(cfg, NULL, "client.crt", NULL, true), "both `cert_file` and `key_file`");
    REFUSED(redbridge_config_set_sentinel_tls(cfg, NULL, NULL, "client.key", true), "both `cert_file` and `key_file`");
    REFUSED(redbridge_config_set_sentinel_tls(cfg, NULL, "\xff", "client.key", true), "`cert_file` is not valid UTF-8");
    CHECK(redbridge_config_set_sentinel_tls(cfg, "/nonexistent/sentinel-ca.crt", NULL, NULL, true) == REDBRIDGE_OK,
          "sentinel TLS with a CA file");
    REFUSED(redbridge_client_open_config(cfg, &c), "sentinel_tls_ca_file");
    CHECK(c == NULL, "no client");
    redbridge_config_free(cfg);
    cfg = redbridge_config_new();
    CHECK(redbridge_config_set_sentinel_tls(cfg, NULL, NULL, NULL, false) == REDBRIDGE_OK, "sentinel TLS");
    REFUSED(redbridge_client_open_config(cfg, &c), "no sentinels");
    CHECK(c == NULL, "no client");
    redbridge_config_free(cfg);
}

/* A loopback port nobody listens on (bound, then released). */
static int dead_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0) close(fd);
    return port;
}

/* A client of `service` asking the sentinels `ports` in that order; NULL when the open
 * failed (a C open discovers first: redbridge_last_error() says why). */
static redbridge_client *open_service(const char *service, const int *ports, int n) {
    redbridge_config *cfg = redbridge_config_new();
    redbridge_client *c = NULL;
    redbridge_status st = REDBRIDGE_OK;
    for (int i = 0; st == REDBRIDGE_OK && i < n; i++) st = redbridge_config_add_sentinel(cfg, "127.0.0.1", (uint16_t)ports[i]);
    if (st == REDBRIDGE_OK) st = redbridge_config_set_sentinel_service(cfg, service);
    if (st == REDBRIDGE_OK) st = redbridge_config_set_connect_timeout_ms(cfg, 2000);
    if (st == REDBRIDGE_OK) st = redbridge_config_set_response_timeout_ms(cfg, 2000);
    if (st == REDBRIDGE_OK) st = redbridge_client_open_config(cfg, &c);
    redbridge_config_free(cfg);
    return st == REDBRIDGE_OK ? c : NULL;
}

/* Discovery (issue #18): a dead first sentinel is skipped; a service nobody knows fails
 * with each sentinel's answer; a replica a sentinel names as the primary is refused by
 * its ROLE, said so. */
static void sentinel_discovery(const topology *t) {
    int dead = dead_port();
    int first_dead[2] = {dead, t->sentinels[0]};
    redbridge_client *c = open_service(SERVICE, first_dead, 2);
    CHECK(c != NULL, "open with a dead first sentinel: %s", redbridge_last_error());
    if (c) {
        redbridge_reply_free(RUN(c, REDBRIDGE_OK, "SET", "s:dead-first", "1"));
        CHECK(info_server(c, "tcp_port:") == t->primary, "a dead first sentinel is skipped: on the primary");
        redbridge_client_free(c);
    }
    int three[3] = {dead, t->sentinels[0], t->sentinels[1]};
    c = open_service("nosuch", three, 3);
    {
        redbridge_reply *r = NULL;
        CHECK(!c || REDBRIDGE_COMMAND(c, &r, "PING") != REDBRIDGE_OK, "no primary for an unknown service");
        redbridge_reply_free(r);
        const char *e = redbridge_last_error();
        char want[128];
        snprintf(want, sizeof want, "sentinel 127.0.0.1:%d: ", dead);
        CHECK(strstr(e, want) && strstr(e, "refused"), "the dead sentinel's answer is listed: %s", e);
        snprintf(want, sizeof want, "sentinels 127.0.0.1:%d, 127.0.0.1:%d: does not know service `nosuch`",
                 t->sentinels[0], t->sentinels[1]);
        CHECK(strstr(e, want) != NULL, "the other two sentinels' answer is listed: %s", e);
        if (c) redbridge_client_free(c);
    }
    /* A sentinel told to watch a replica's address as the primary of another service. */
    char url[64], port[16];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", t->sentinels[0]);
    snprintf(port, sizeof port, "%d", t->replicas[0]);
    redbridge_client *admin = NULL;
    CHECK(redbridge_client_open(url, &admin) == REDBRIDGE_OK, "open the first sentinel");
    if (!admin) return;
    redbridge_reply_free(RUN(admin, REDBRIDGE_OK, "SENTINEL", "MONITOR", "fake", "127.0.0.1", port, "2"));
    int one[1] = {t->sentinels[0]};
    c = open_service("fake", one, 1);
    {
        redbridge_reply *r = NULL;
        CHECK(!c || REDBRIDGE_COMMAND(c, &r, "PING") != REDBRIDGE_OK, "a replica is no primary");
        redbridge_reply_free(r);
        const char *e = redbridge_last_error();
        char want[128];
        snprintf(want, sizeof want, "named 127.0.0.1:%d, which says it is a slave (ROLE)", t->replicas[0]);
        CHECK(strstr(e, want) != NULL, "the replica's ROLE is given as the reason: %s", e);
        if (c) redbridge_client_free(c);
    }
    redbridge_reply_free(RUN(admin, REDBRIDGE_OK, "SENTINEL", "REMOVE", "fake"));
    redbridge_client_free(admin);
}

/* How many connections on `port` carry the client name `name` (CLIENT LIST), or -1. */
static int named_on(int port, const char *name) {
    char url[64], pat[96];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", port);
    snprintf(pat, sizeof pat, " name=%s ", name);
    redbridge_client *c = NULL;
    if (redbridge_client_open(url, &c) != REDBRIDGE_OK) return -1;
    redbridge_reply *r = NULL;
    int n = -1;
    if (REDBRIDGE_COMMAND(c, &r, "CLIENT", "LIST") == REDBRIDGE_OK && r && r->str) {
        n = 0;
        for (const char *p = strstr(r->str, pat); p; p = strstr(p + 1, pat)) n++;
    }
    redbridge_reply_free(r);
    redbridge_client_free(c);
    return n;
}

/* The first word of ROLE at `port` ("" when it does not answer). */
static void role_at(int port, char *out, size_t n) {
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", port);
    redbridge_client *c = NULL;
    out[0] = '\0';
    if (redbridge_client_open(url, &c) != REDBRIDGE_OK) return;
    role_of(c, out, n);
    redbridge_client_free(c);
}

/* SENTINEL FAILOVER with the old primary alive, under a GET/INCR loop: the client moves
 * to the promoted replica, no GET fails, INCR meets READONLY at most once per connection
 * it had on the old primary, none of its connections stay there. Changes the primary:
 * runs on a deployment of its own. */
static void sentinel_failover_loop(const topology *t) {
    const char *name = "rb-c-loop";
    redbridge_config *cfg = redbridge_config_new();
    redbridge_client *c = NULL;
    redbridge_status st = redbridge_config_add_sentinel(cfg, "127.0.0.1", (uint16_t)t->sentinels[0]);
    if (st == REDBRIDGE_OK) st = redbridge_config_set_sentinel_service(cfg, SERVICE);
    if (st == REDBRIDGE_OK) st = redbridge_config_set_client_name(cfg, name);
    if (st == REDBRIDGE_OK) st = redbridge_config_set_connect_timeout_ms(cfg, 2000);
    if (st == REDBRIDGE_OK) st = redbridge_config_set_response_timeout_ms(cfg, 2000);
    if (st == REDBRIDGE_OK) st = redbridge_client_open_config(cfg, &c);
    redbridge_config_free(cfg);
    CHECK(st == REDBRIDGE_OK && c, "open a named client through the sentinels");
    if (!c) return;
    redbridge_reply_free(RUN(c, REDBRIDGE_OK, "SET", "loop:k", "v"));
    int on_old = named_on(t->primary, name);
    CHECK(on_old >= 1, "the client has connections on the primary: %d", on_old);
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", t->sentinels[0]);
    redbridge_client *admin = NULL;
    CHECK(redbridge_client_open(url, &admin) == REDBRIDGE_OK, "open a sentinel");
    if (admin) {
        redbridge_reply_free(RUN(admin, REDBRIDGE_OK, "SENTINEL", "FAILOVER", SERVICE));
        redbridge_client_free(admin);
    }
    struct timespec asked;
    clock_gettime(CLOCK_MONOTONIC, &asked);
    int get_errors = 0, readonly = 0, other = 0;
    double moved = -1, demoted = -1;
    char role[16];
    for (int i = 0; seconds_since(&asked) < 30; i++) {
        redbridge_reply *r = NULL;
        if (REDBRIDGE_COMMAND(c, &r, "GET", "loop:k") != REDBRIDGE_OK) get_errors++;
        redbridge_reply_free(r);
        r = NULL;
        if (REDBRIDGE_COMMAND(c, &r, "INCR", "loop:n") != REDBRIDGE_OK) {
            if (strstr(redbridge_last_error(), "READONLY")) readonly++;
            else other++;
        }
        redbridge_reply_free(r);
        if (i % 20 == 0) {
            if (moved < 0 && is_replica_port(t, info_server(c, "tcp_port:"))) moved = seconds_since(&asked);
            if (demoted < 0) {
                role_at(t->primary, role, sizeof role);
                if (strcmp(role, "slave") == 0) demoted = seconds_since(&asked);
            }
            if (moved >= 0 && demoted >= 0 && seconds_since(&asked) > demoted + 1) break;
        }
        usleep(5 * 1000);
    }
    fprintf(stderr, "test_sentinel: SENTINEL FAILOVER under GET/INCR: on the promoted replica %.2f s after the request, "
                    "old primary demoted after %.1f s; GET errors %d, READONLY %d, other INCR errors %d\n",
            moved, demoted, get_errors, readonly, other);
    CHECK(moved >= 0, "the client moved to the promoted replica");
    CHECK(demoted >= 0, "the sentinels demoted the old primary within 30 s");
    CHECK(get_errors == 0, "no GET failed: %d", get_errors);
    CHECK(readonly <= on_old, "READONLY at most once per connection: %d for %d", readonly, on_old);
    CHECK(named_on(t->primary, name) == 0, "none of the client's connections stay on the old primary");
    redbridge_client_free(c);
}

/* A primary client and a replica client; then SIGKILL of the primary, and writes back. */
static void sentinel_deployment(const topology *t) {
    redbridge_client *c = NULL, *ro = NULL, *locked = NULL;
    char role[16];
    CHECK(open_sentinel(t, NULL, NULL, NULL, &c) == REDBRIDGE_OK, "open through the sentinels");
    if (!c) return;
    redbridge_reply_free(RUN(c, REDBRIDGE_OK, "SET", "s:greeting", "hello"));
    redbridge_reply *r = RUN(c, REDBRIDGE_OK, "GET", "s:greeting");
    CHECK(r && r->str && strcmp(r->str, "hello") == 0, "GET on the primary");
    redbridge_reply_free(r);
    role_of(c, role, sizeof role);
    CHECK(strcmp(role, "master") == 0, "the client is on the primary: ROLE %s", role);
    long port = info_server(c, "tcp_port:"), pid = info_server(c, "process_id:");
    CHECK(port == t->primary, "on the primary's port %d: %ld", t->primary, port);
    CHECK(pid > 0 && pid == pid_in(t->pidfiles[0]), "the primary's process %ld", pid);

    /* A replica-role client reads the write from a replica and may not write there. */
    CHECK(open_sentinel(t, "replica", NULL, NULL, &ro) == REDBRIDGE_OK, "open a replica client");
    if (ro) {
        role_of(ro, role, sizeof role);
        CHECK(strcmp(role, "slave") == 0, "the replica client is on a replica: ROLE %s", role);
        long rport = info_server(ro, "tcp_port:");
        CHECK(is_replica_port(t, rport), "on a replica's port: %ld", rport);
        bool seen = false;
        for (int i = 0; i < 50 && !seen; i++) { /* replication is asynchronous: 5 s at most */
            redbridge_reply *g = NULL;
            seen = REDBRIDGE_COMMAND(ro, &g, "GET", "s:greeting") == REDBRIDGE_OK && g && g->str &&
                   strcmp(g->str, "hello") == 0;
            redbridge_reply_free(g);
            if (!seen) usleep(100 * 1000);
        }
        CHECK(seen, "the replica serves the primary's write");
        redbridge_reply *w = NULL;
        CHECK(REDBRIDGE_COMMAND(ro, &w, "SET", "s:greeting", "no") == REDBRIDGE_ERR_RESPONSE &&
                  strstr(redbridge_last_error(), "READONLY") != NULL,
              "a replica refuses writes");
        redbridge_reply_free(w);
        redbridge_client_free(ro);
    }

    /* Sentinel credentials the sentinels refuse (a user they do not have): no node is
     * found, the error says of which service, and no message shows the password. */
    const char *secret = "never-shown-sentinel-pw";
    CHECK(open_sentinel(t, NULL, "no-such-user", secret, &locked) == REDBRIDGE_ERR_CONNECTION &&
              strstr(redbridge_last_error(), "`" SERVICE "`") != NULL,
          "refused sentinel credentials: no node");
    CHECK(strstr(redbridge_last_error(), secret) == NULL, "the password is not shown: %s", redbridge_last_error());
    redbridge_client_free(locked);

    /* The primary killed: the sentinels promote a replica, the client follows it. The
     * move is an event too, naming the node (read after the client stopped). */
    sentinel_switched seen = {0, 0};
    CHECK(redbridge_client_set_event_callback(c, on_switch, &seen) == REDBRIDGE_OK, "event callback");
    CHECK(pid > 0 && pid == pid_in(t->pidfiles[0]) && kill((pid_t)pid, SIGKILL) == 0, "killed the primary %ld", pid);
    struct timespec killed;
    clock_gettime(CLOCK_MONOTONIC, &killed);
    bool wrote = false;
    int failures = 0;
    while (!wrote && seconds_since(&killed) < FAILOVER_LIMIT_S) {
        redbridge_reply *w = NULL;
        wrote = REDBRIDGE_COMMAND(c, &w, "SET", "s:after", "failover") == REDBRIDGE_OK;
        redbridge_reply_free(w);
        if (!wrote) {
            failures++;
            usleep(100 * 1000);
        }
    }
    double took = seconds_since(&killed);
    CHECK(wrote, "writes succeed again within %d s of the kill (%d failed)", FAILOVER_LIMIT_S, failures);
    if (wrote) {
        fprintf(stderr, "test_sentinel: writes back %.1f s after the primary was killed (%d failed meanwhile)\n", took,
                failures);
        role_of(c, role, sizeof role);
        CHECK(strcmp(role, "master") == 0, "the new node is the primary: ROLE %s", role);
        uint64_t moved = switches(c);
        CHECK(moved == 1, "sentinel_switches counts the move: %llu", (unsigned long long)moved);
        long now = info_server(c, "tcp_port:");
        CHECK(is_replica_port(t, now), "the client moved to a promoted replica: port %ld", now);
        CHECK(seen.count == 1 && seen.port == now, "one SENTINEL_SWITCHED event naming port %ld: %d events, port %d", now,
              seen.count, seen.port);
        r = RUN(c, REDBRIDGE_OK, "GET", "s:after");
        CHECK(r && r->str && strcmp(r->str, "failover") == 0, "GET after the failover");
        redbridge_reply_free(r);
        r = RUN(c, REDBRIDGE_OK, "GET", "s:greeting");
        CHECK(r && r->str && strcmp(r->str, "hello") == 0, "the write before the failover is there");
        redbridge_reply_free(r);
    }
    redbridge_client_free(c);
}

/* Over TLS: the sentinels' TLS (their CA, a client certificate) apart from the data
 * nodes' (another CA); a wrong CA on either side is an error that names the node and
 * TLS, and never shows the sentinels' password. */
static void sentinel_tls_deployment(const topology *t) {
    redbridge_client *c = NULL, *wrong = NULL;
    tls_trust right = {t->sentinel_ca, t->ca};
    CHECK(open_sentinel_with(t, NULL, NULL, NULL, &right, &c) == REDBRIDGE_OK, "open through TLS sentinels: %s",
          redbridge_last_error());
    if (c) {
        redbridge_reply_free(RUN(c, REDBRIDGE_OK, "SET", "tls:greeting", "hello"));
        redbridge_reply *r = RUN(c, REDBRIDGE_OK, "GET", "tls:greeting");
        CHECK(r && r->str && strcmp(r->str, "hello") == 0, "GET on the TLS primary");
        redbridge_reply_free(r);
        r = RUN(c, REDBRIDGE_OK, "CONFIG", "GET", "tls-port");
        long port = r && r->elements == 2 && r->element[1]->str ? strtol(r->element[1]->str, NULL, 10) : -1;
        redbridge_reply_free(r);
        CHECK(port == t->primary, "on the primary's TLS port %d: %ld", t->primary, port);
        CHECK(switches(c) == 0, "no switch yet");
        redbridge_client_free(c);
    }
    /* The data nodes' CA given for the sentinels: their certificates are not its. */
    const char *secret = "never-shown-sentinel-tls-pw";
    tls_trust swapped = {t->ca, t->ca};
    CHECK(open_sentinel_with(t, NULL, NULL, secret, &swapped, &wrong) == REDBRIDGE_ERR_CONNECTION && wrong == NULL,
          "a wrong sentinel CA: no client");
    const char *e = redbridge_last_error();
    CHECK(strstr(e, "TLS handshake with sentinel 127.0.0.1:") && strstr(e, "not signed by a CA") && strstr(e, "redbridge_config_set_sentinel_tls"),
          "the error names the sentinel, TLS and the setter: %s", e);
    CHECK(strstr(e, secret) == NULL, "the password is not shown: %s", e);
    /* Right sentinels, a CA that did not sign the data nodes' certificates. */
    tls_trust other = {t->sentinel_ca, t->other_ca};
    CHECK(open_sentinel_with(t, NULL, NULL, secret, &other, &wrong) == REDBRIDGE_ERR_CONNECTION && wrong == NULL,
          "a wrong data-node CA: no client");
    e = redbridge_last_error();
    CHECK(strstr(e, "TLS handshake with 127.0.0.1:") && strstr(e, "not signed by a CA") && !strstr(e, "sentinel 127"),
          "the error names the data node: %s", e);
    CHECK(strstr(e, secret) == NULL, "the password is not shown: %s", e);
}

void test_sentinel(void) {
    sentinel_bad_input();
    topology t;
    bool up = start_topology(&t, false);
    CHECK(up, "the harness started a sentinel deployment (" HARNESS " sentinel)");
    if (up) {
        sentinel_discovery(&t);
        sentinel_deployment(&t);
        stop_topology(&t);
    }
    up = start_topology(&t, false);
    CHECK(up, "the harness started another sentinel deployment (" HARNESS " sentinel)");
    if (up) {
        sentinel_failover_loop(&t);
        stop_topology(&t);
    }
    up = start_topology(&t, true);
    CHECK(up, "the harness started a TLS sentinel deployment (" HARNESS " sentinel --tls)");
    if (up) {
        sentinel_tls_deployment(&t);
        stop_topology(&t);
    }
}

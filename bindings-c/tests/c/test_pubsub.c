/* Pub/sub (redbridge_pubsub_*): binary messages on 100 channels, on patterns and on shard
 * channels, each delivered once and in order; confirmations; a timeout that returns no
 * message; resubscription after CLIENT KILL TYPE pubsub with a gap each time; the queue's
 * overflow gap; the callback form, its stop and a free while a call waits; bad input;
 * on a cluster (when there is one), shard channels of several slots. Every wait is bounded. */
#include "support.h"

/* Sizes: small enough for valgrind, large enough for order and exactly-once to mean
 * something (the core's own tests run the full 100 x 1000). */
#define NCH 100   /* channels */
#define NMSG 100  /* messages per channel */
#define NPAT 10   /* patterns, and shard channels */
#define NPMSG 50  /* messages per pattern and per shard channel */

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void sleep_ms(int ms) {
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* A subscriber of `c` with the default bounds (NULL, counted as a failure, if it fails). */
static redbridge_pubsub *open_subscriber_of(redbridge_client *c) {
    redbridge_pubsub *s = NULL;
    redbridge_status st = redbridge_pubsub_new(c, &s);
    CHECK(st == REDBRIDGE_OK && s, "pubsub_new: %s", redbridge_status_name(st));
    return s;
}

static bool is_confirmation(const redbridge_message *m) {
    return m->kind >= REDBRIDGE_PUBSUB_SUBSCRIBE && m->kind <= REDBRIDGE_PUBSUB_SUNSUBSCRIBE;
}

/* The next event within `ms` (NULL if none), skipping confirmations when `skip`. */
static redbridge_message *next_within(redbridge_pubsub *s, double ms, bool skip) {
    double until = now_ms() + ms;
    for (int i = 0; i < 1000000; i++) {
        double left = until - now_ms();
        redbridge_message *m = NULL;
        if (redbridge_pubsub_next(s, left > 0 ? (int64_t)left : 0, &m) != REDBRIDGE_OK || !m) return NULL;
        if (!(skip && is_confirmation(m))) return m;
        redbridge_message_free(m);
    }
    return NULL;
}

static bool bytes_eq(const char *p, size_t n, const char *want, size_t wn) {
    return p && n == wn && memcmp(p, want, n) == 0 && p[n] == '\0';
}

static uint64_t stat_of(redbridge_client *c, int which) {
    redbridge_stats st;
    if (redbridge_client_stats(c, &st) != REDBRIDGE_OK) return (uint64_t)-1;
    return which == 0 ? st.pubsub_messages : which == 1 ? st.pubsub_dropped : st.pubsub_resubscribes;
}

/* Binary names and payloads: NUL and 0xFF inside each. */
static void channel_name(char out[6], int i) {
    memcpy(out, "c\0\xff:", 4);
    out[4] = (char)('0' + i / 10);
    out[5] = (char)('0' + i % 10);
}
static void payload_of(char out[6], int i, int n) {
    out[0] = 0;
    out[1] = (char)0xff;
    out[2] = (char)(n >> 8);
    out[3] = (char)(n & 0xff);
    out[4] = (char)i;
    out[5] = 0;
}

/* Sends `n` commands of 3 arguments each as one pipeline; counts replies other than
 * the integer `want` (what PUBLISH / SPUBLISH answer: receivers). */
static int send_all(redbridge_client *c, int n, const char *const *argv, const size_t *lens, long long want) {
    redbridge_pipeline *p = redbridge_pipeline_new(false);
    for (int i = 0; i < n; i++) redbridge_pipeline_append_argv(p, 3, argv + 3 * i, lens + 3 * i);
    redbridge_reply *r = NULL;
    int bad = 0;
    if (redbridge_pipeline_execute(c, p, &r) != REDBRIDGE_OK || !r || r->elements != (size_t)n) {
        bad = n;
    } else {
        for (int i = 0; i < n; i++)
            if (r->element[i]->type != REDBRIDGE_REPLY_INTEGER || r->element[i]->integer != want) bad++;
    }
    redbridge_reply_free(r);
    redbridge_pipeline_free(p);
    return bad;
}

static void test_delivery(redbridge_client *c) {
    redbridge_pubsub *s = NULL;
    CHECK(redbridge_pubsub_new(c, &s) == REDBRIDGE_OK && s, "pubsub_new");
    if (!s) return;
    uint64_t before = stat_of(c, 0);

    static char names[NCH][6];
    const char *argv[NCH];
    size_t lens[NCH];
    for (int i = 0; i < NCH; i++) {
        channel_name(names[i], i);
        argv[i] = names[i];
        lens[i] = 6;
    }
    CHECK(redbridge_pubsub_subscribe(s, NCH, argv, lens) == REDBRIDGE_OK, "subscribe %d binary channels", NCH);
    int bad = 0;
    for (int i = 0; i < NCH; i++) { /* one confirmation per channel, counting up */
        redbridge_message *m = next_within(s, 5000, false);
        if (!m || m->kind != REDBRIDGE_PUBSUB_SUBSCRIBE || strcmp(m->kind_name, "subscribe") != 0 ||
            !bytes_eq(m->channel, m->channel_len, names[i], 6) || m->count != i + 1 || m->payload)
            bad++;
        redbridge_message_free(m);
    }
    CHECK(bad == 0, "%d of %d SUBSCRIBE confirmations wrong", bad, NCH);

    /* Patterns and shard channels, binary too. */
    char pats[NPAT][6], pchans[NPAT][7], shards[NPAT][6];
    const char *pargv[NPAT], *sargv[NPAT];
    size_t plens[NPAT], slens[NPAT];
    for (int j = 0; j < NPAT; j++) {
        memcpy(pats[j], "p\0\xff?:*", 6);
        pats[j][3] = (char)('0' + j);
        memcpy(pchans[j], pats[j], 5);
        memcpy(pchans[j] + 5, "x", 2); /* "p\0\xffJ:x\0": the NUL is part of the name */
        memcpy(shards[j], "{s}\0\xff?", 6);
        shards[j][5] = (char)('0' + j);
        pargv[j] = pats[j];
        sargv[j] = shards[j];
        plens[j] = slens[j] = 6;
    }
    CHECK(redbridge_pubsub_psubscribe(s, NPAT, pargv, plens) == REDBRIDGE_OK, "psubscribe");
    CHECK(redbridge_pubsub_ssubscribe(s, NPAT, sargv, slens) == REDBRIDGE_OK, "ssubscribe");
    bad = 0;
    for (int j = 0; j < 2 * NPAT; j++) {
        redbridge_message *m = next_within(s, 5000, false);
        int want = j < NPAT ? REDBRIDGE_PUBSUB_PSUBSCRIBE : REDBRIDGE_PUBSUB_SSUBSCRIBE;
        const char *name = j < NPAT ? pats[j] : shards[j - NPAT];
        long long count = j < NPAT ? NCH + j + 1 : j - NPAT + 1; /* shard channels counted apart */
        if (!m || m->kind != want || !bytes_eq(m->channel, m->channel_len, name, 6) || m->count != count) bad++;
        redbridge_message_free(m);
    }
    CHECK(bad == 0, "%d of %d PSUBSCRIBE/SSUBSCRIBE confirmations wrong", bad, 2 * NPAT);
    size_t nc = 0, np = 0, ns = 0;
    CHECK(redbridge_pubsub_subscriptions(s, &nc, &np, &ns) == REDBRIDGE_OK && nc == NCH && np == NPAT && ns == NPAT,
          "subscriptions %zu/%zu/%zu", nc, np, ns);

    /* Publish NMSG rounds over every channel (one pipeline a round), then the patterns'
     * and shard channels' messages. */
    double t0 = now_ms();
    static char payloads[NCH][6];
    const char *cmd[3 * NCH];
    size_t cmdlen[3 * NCH];
    int unheard = 0;
    for (int n = 0; n < NMSG; n++) {
        for (int i = 0; i < NCH; i++) {
            payload_of(payloads[i], i, n);
            cmd[3 * i] = "PUBLISH", cmdlen[3 * i] = 7;
            cmd[3 * i + 1] = names[i], cmdlen[3 * i + 1] = 6;
            cmd[3 * i + 2] = payloads[i], cmdlen[3 * i + 2] = 6;
        }
        unheard += send_all(c, NCH, cmd, cmdlen, 1);
    }
    static char ppay[NPAT * NPMSG][6];
    for (int round = 0; round < 2; round++) { /* 0: PUBLISH to pattern channels, 1: SPUBLISH */
        const char *pc[3 * NPAT * NPMSG];
        size_t pl[3 * NPAT * NPMSG];
        for (int n = 0; n < NPMSG; n++) {
            for (int j = 0; j < NPAT; j++) {
                int k = n * NPAT + j;
                payload_of(ppay[k], j, n);
                pc[3 * k] = round ? "SPUBLISH" : "PUBLISH", pl[3 * k] = round ? 8 : 7;
                pc[3 * k + 1] = round ? shards[j] : pchans[j], pl[3 * k + 1] = round ? 6 : 7;
                pc[3 * k + 2] = ppay[k], pl[3 * k + 2] = 6;
            }
        }
        unheard += send_all(c, NPAT * NPMSG, pc, pl, 1);
    }
    CHECK(unheard == 0, "%d publishes not received by exactly one subscriber", unheard);

    /* Each message once, in order per channel, exactly as published. */
    int seen[NCH] = {0}, pseen[NPAT] = {0}, sseen[NPAT] = {0};
    int total = NCH * NMSG + 2 * NPAT * NPMSG, got = 0;
    bad = 0;
    for (int k = 0; k < total; k++) {
        redbridge_message *m = next_within(s, 5000, false);
        if (!m) break;
        got++;
        char want[6];
        if (m->kind == REDBRIDGE_PUBSUB_MESSAGE && m->channel_len == 6 && m->channel[4] >= '0' && m->channel[5] >= '0') {
            int i = (m->channel[4] - '0') * 10 + (m->channel[5] - '0');
            if (i >= NCH || seen[i] >= NMSG) {
                bad++;
            } else {
                payload_of(want, i, seen[i]++);
                if (!bytes_eq(m->channel, 6, names[i], 6) || !bytes_eq(m->payload, m->payload_len, want, 6) ||
                    m->pattern || strcmp(m->kind_name, "message") != 0)
                    bad++;
            }
        } else if (m->kind == REDBRIDGE_PUBSUB_PMESSAGE && m->pattern_len == 6) {
            int j = m->pattern[3] - '0';
            if (j < 0 || j >= NPAT || pseen[j] >= NPMSG) {
                bad++;
            } else {
                payload_of(want, j, pseen[j]++);
                if (!bytes_eq(m->pattern, 6, pats[j], 6) || !bytes_eq(m->channel, m->channel_len, pchans[j], 7) ||
                    !bytes_eq(m->payload, m->payload_len, want, 6) || strcmp(m->kind_name, "pmessage") != 0)
                    bad++;
            }
        } else if (m->kind == REDBRIDGE_PUBSUB_SMESSAGE && m->channel_len == 6) {
            int j = m->channel[5] - '0';
            if (j < 0 || j >= NPAT || sseen[j] >= NPMSG) {
                bad++;
            } else {
                payload_of(want, j, sseen[j]++);
                if (!bytes_eq(m->channel, 6, shards[j], 6) || !bytes_eq(m->payload, m->payload_len, want, 6) ||
                    m->pattern || strcmp(m->kind_name, "smessage") != 0)
                    bad++;
            }
        } else {
            bad++;
        }
        if (bad == 1) fprintf(stderr, "  first unexpected event: kind %d, message %d\n", m->kind, k);
        redbridge_message_free(m);
    }
    CHECK(got == total && bad == 0, "%d of %d messages received, %d wrong or out of order", got, total, bad);
    redbridge_message *extra = NULL;
    CHECK(redbridge_pubsub_next(s, 0, &extra) == REDBRIDGE_OK && extra == NULL, "nothing twice, nothing else");
    redbridge_message_free(extra);
    CHECK(stat_of(c, 0) - before == (uint64_t)total && stat_of(c, 1) == 0, "stats: %llu messages, %llu dropped",
          (unsigned long long)(stat_of(c, 0) - before), (unsigned long long)stat_of(c, 1));
    printf("pubsub: %d binary messages (%d channels, %d patterns, %d shard channels) in %.0f ms\n", total, NCH,
           NPAT, NPAT, now_ms() - t0);
    redbridge_pubsub_free(s);
}

static void expect(redbridge_pubsub *s, int kind, const char *channel, long long count, const char *what) {
    redbridge_message *m = next_within(s, 5000, false);
    CHECK(m && m->kind == kind && m->count == count &&
              (channel ? bytes_eq(m->channel, m->channel_len, channel, strlen(channel))
                       : (m->channel == NULL && m->channel_len == 0)),
          "%s: kind %d channel %.*s count %lld", what, m ? m->kind : -1, m && m->channel ? (int)m->channel_len : 6,
          m && m->channel ? m->channel : "(none)", m ? m->count : -1);
    redbridge_message_free(m);
}

static void test_confirmations_and_timeout(redbridge_client *c) {
    redbridge_pubsub *s = NULL;
    CHECK(redbridge_pubsub_new_with(c, 1000, 1 << 20, 5000, &s) == REDBRIDGE_OK && s, "pubsub_new_with");
    if (!s) return;
    const char *chans[] = {"cf:a", "cf:b", "cf:c"}, *pat[] = {"cf:*"}, *shard[] = {"{cf}s"};
    CHECK(redbridge_pubsub_subscribe(s, 3, chans, NULL) == REDBRIDGE_OK, "subscribe");
    CHECK(redbridge_pubsub_psubscribe(s, 1, pat, NULL) == REDBRIDGE_OK, "psubscribe");
    CHECK(redbridge_pubsub_ssubscribe(s, 1, shard, NULL) == REDBRIDGE_OK, "ssubscribe");
    expect(s, REDBRIDGE_PUBSUB_SUBSCRIBE, "cf:a", 1, "subscribe a");
    expect(s, REDBRIDGE_PUBSUB_SUBSCRIBE, "cf:b", 2, "subscribe b");
    expect(s, REDBRIDGE_PUBSUB_SUBSCRIBE, "cf:c", 3, "subscribe c");
    expect(s, REDBRIDGE_PUBSUB_PSUBSCRIBE, "cf:*", 4, "psubscribe");
    expect(s, REDBRIDGE_PUBSUB_SSUBSCRIBE, "{cf}s", 1, "ssubscribe: shard channels counted apart");

    /* A message on a channel that a pattern matches too: once per subscription. */
    redbridge_reply *r = RUN(c, REDBRIDGE_OK, "PUBLISH", "cf:a", "both");
    CHECK(r && r->integer == 2, "PUBLISH reaches the channel and the pattern");
    redbridge_reply_free(r);
    redbridge_message *m = next_within(s, 5000, false);
    CHECK(m && m->kind == REDBRIDGE_PUBSUB_MESSAGE && bytes_eq(m->payload, m->payload_len, "both", 4), "message");
    redbridge_message_free(m);
    m = next_within(s, 5000, false);
    CHECK(m && m->kind == REDBRIDGE_PUBSUB_PMESSAGE && bytes_eq(m->pattern, m->pattern_len, "cf:*", 4) &&
              bytes_eq(m->channel, m->channel_len, "cf:a", 4),
          "pmessage with its pattern");
    redbridge_message_free(m);

    /* PING: a pong event after what came before it, carrying the PING's message. */
    r = RUN(c, REDBRIDGE_OK, "PUBLISH", "cf:c", "before-ping");
    redbridge_reply_free(r);
    CHECK(redbridge_pubsub_ping(s, "p\0ng", 4) == REDBRIDGE_OK, "ping with a binary message");
    CHECK(redbridge_pubsub_ping(s, NULL, 0) == REDBRIDGE_OK, "ping without a message");
    for (int i = 0; i < 2; i++) {
        m = next_within(s, 5000, false);
        CHECK(m && (m->kind == REDBRIDGE_PUBSUB_MESSAGE || m->kind == REDBRIDGE_PUBSUB_PMESSAGE) &&
                  bytes_eq(m->payload, m->payload_len, "before-ping", 11),
              "the message before the pongs (%d)", i);
        redbridge_message_free(m);
    }
    m = next_within(s, 5000, false);
    CHECK(m && m->kind == REDBRIDGE_PUBSUB_PONG && strcmp(m->kind_name, "pong") == 0 &&
              bytes_eq(m->payload, m->payload_len, "p\0ng", 4) && m->channel == NULL,
          "pong with the PING's message");
    redbridge_message_free(m);
    m = next_within(s, 5000, false);
    CHECK(m && m->kind == REDBRIDGE_PUBSUB_PONG && m->payload_len == 0, "pong without a message");
    redbridge_message_free(m);

    CHECK(redbridge_pubsub_unsubscribe(s, 1, chans + 1, NULL) == REDBRIDGE_OK, "unsubscribe one");
    expect(s, REDBRIDGE_PUBSUB_UNSUBSCRIBE, "cf:b", 3, "unsubscribe b");
    CHECK(redbridge_pubsub_unsubscribe(s, 0, NULL, NULL) == REDBRIDGE_OK, "unsubscribe all (argc 0, argv NULL)");
    for (int i = 0; i < 2; i++) {
        m = next_within(s, 5000, false);
        CHECK(m && m->kind == REDBRIDGE_PUBSUB_UNSUBSCRIBE && m->count == 2 - i && m->channel_len == 4 &&
                  strcmp(m->kind_name, "unsubscribe") == 0,
              "unsubscribe all: confirmation %d", i);
        redbridge_message_free(m);
    }
    CHECK(redbridge_pubsub_punsubscribe(s, 0, NULL, NULL) == REDBRIDGE_OK, "punsubscribe all");
    expect(s, REDBRIDGE_PUBSUB_PUNSUBSCRIBE, "cf:*", 0, "punsubscribe");
    CHECK(redbridge_pubsub_sunsubscribe(s, 1, shard, NULL) == REDBRIDGE_OK, "sunsubscribe");
    expect(s, REDBRIDGE_PUBSUB_SUNSUBSCRIBE, "{cf}s", 0, "sunsubscribe");
    size_t nc = 9, np = 9, ns = 9;
    CHECK(redbridge_pubsub_subscriptions(s, &nc, &np, &ns) == REDBRIDGE_OK && nc + np + ns == 0, "none left");
    CHECK(redbridge_pubsub_subscriptions(s, NULL, NULL, &ns) == REDBRIDGE_OK, "counts may be NULL");
    r = RUN(c, REDBRIDGE_OK, "PUBLISH", "cf:a", "nobody");
    CHECK(r && r->integer == 0, "nobody listens");
    redbridge_reply_free(r);

    /* Timeouts: no message, OK with NULL, within bounds. */
    m = (redbridge_message *)&m; /* not NULL: must be set */
    double t0 = now_ms();
    CHECK(redbridge_pubsub_next(s, 0, &m) == REDBRIDGE_OK && m == NULL, "timeout 0: nothing queued");
    CHECK(now_ms() - t0 < 500, "timeout 0 returns at once: %.0f ms", now_ms() - t0);
    m = (redbridge_message *)&m;
    t0 = now_ms();
    CHECK(redbridge_pubsub_next(s, 300, &m) == REDBRIDGE_OK && m == NULL, "timeout 300 ms: no message");
    double took = now_ms() - t0;
    CHECK(took >= 295 && took < 3000, "waited %.0f ms for a 300 ms timeout", took);
    redbridge_pubsub_free(s);
}

static void test_overflow(redbridge_client *c) {
    redbridge_pubsub *s = NULL;
    CHECK(redbridge_pubsub_new_with(c, 5, 0, 0, &s) == REDBRIDGE_OK && s, "a queue of 5 messages");
    if (!s) return;
    const char *ch[] = {"ov"};
    CHECK(redbridge_pubsub_subscribe(s, 1, ch, NULL) == REDBRIDGE_OK, "subscribe");
    uint64_t m0 = stat_of(c, 0), d0 = stat_of(c, 1);
    const char *cmd[3 * 20];
    size_t lens[3 * 20];
    for (int i = 0; i < 20; i++) cmd[3 * i] = "PUBLISH", cmd[3 * i + 1] = "ov", cmd[3 * i + 2] = "x";
    for (int i = 0; i < 60; i++) lens[i] = strlen(cmd[i]);
    CHECK(send_all(c, 20, cmd, lens, 1) == 0, "20 published");
    for (int i = 0; i < 100 && stat_of(c, 0) - m0 + stat_of(c, 1) - d0 < 20; i++) sleep_ms(50);
    CHECK(stat_of(c, 0) - m0 == 5 && stat_of(c, 1) - d0 == 15, "5 queued, 15 dropped: %llu, %llu",
          (unsigned long long)(stat_of(c, 0) - m0), (unsigned long long)(stat_of(c, 1) - d0));
    expect(s, REDBRIDGE_PUBSUB_SUBSCRIBE, "ov", 1, "confirmation");
    for (int i = 0; i < 5; i++) {
        redbridge_message *m = next_within(s, 5000, false);
        CHECK(m && m->kind == REDBRIDGE_PUBSUB_MESSAGE, "message %d kept", i);
        redbridge_message_free(m);
    }
    redbridge_message *m = next_within(s, 5000, false);
    CHECK(m && m->kind == REDBRIDGE_PUBSUB_GAP && m->gap_cause == REDBRIDGE_GAP_OVERFLOW && m->dropped == 15 &&
              strcmp(m->kind_name, "gap") == 0 && !m->channel && !m->payload,
          "an overflow gap of 15: kind %d cause %d dropped %llu", m ? m->kind : -1, m ? m->gap_cause : -1,
          m ? (unsigned long long)m->dropped : 0ULL);
    redbridge_message_free(m);
    redbridge_pubsub_free(s);
}

static long long numsub(redbridge_client *c, const char *what, const char *channel) {
    redbridge_reply *r = RUN(c, REDBRIDGE_OK, "PUBSUB", what, channel);
    long long n = r && r->elements == 2 ? r->element[1]->integer : -1;
    redbridge_reply_free(r);
    return n;
}

/* Connections of type pubsub (CLIENT LIST TYPE pubsub: one line each). */
static int pubsub_clients(redbridge_client *c) {
    redbridge_reply *r = RUN(c, REDBRIDGE_OK, "CLIENT", "LIST", "TYPE", "pubsub");
    int n = 0;
    for (size_t i = 0; r && r->str && i < r->len; i++) n += r->str[i] == '\n';
    redbridge_reply_free(r);
    return n;
}

static void test_resubscribe_after_kill(void) {
    redbridge_client *c = NULL;
    redbridge_config *cfg = NULL;
    redbridge_config_from_url(url, &cfg);
    redbridge_config_set_connect_timeout_ms(cfg, 2000);
    redbridge_config_set_response_timeout_ms(cfg, 2000);
    CHECK(redbridge_client_open_config(cfg, &c) == REDBRIDGE_OK, "client");
    redbridge_config_free(cfg);
    if (!c) return;
    redbridge_pubsub *s = open_subscriber_of(c);
    const char *ch[] = {"rk"}, *pat[] = {"rk.*"}, *shard[] = {"{rk}s"};
    CHECK(redbridge_pubsub_subscribe(s, 1, ch, NULL) == REDBRIDGE_OK, "subscribe");
    CHECK(redbridge_pubsub_psubscribe(s, 1, pat, NULL) == REDBRIDGE_OK, "psubscribe");
    CHECK(redbridge_pubsub_ssubscribe(s, 1, shard, NULL) == REDBRIDGE_OK, "ssubscribe");
    /* Earlier tests' subscribers are freed; wait (bounded) until their connections are gone. */
    for (int i = 0; i < 100 && pubsub_clients(c) != 1; i++) sleep_ms(50);
    CHECK(pubsub_clients(c) == 1, "one subscriber connection: %d", pubsub_clients(c));
    uint64_t resubscribes = stat_of(c, 2);
    enum { ROUNDS = 4 };
    for (int round = 0; round < ROUNDS; round++) {
        redbridge_reply *r = RUN(c, REDBRIDGE_OK, "CLIENT", "KILL", "TYPE", "pubsub");
        CHECK(r && r->integer == 1, "round %d: the subscriber's connection killed (%lld)", round, r ? r->integer : -1);
        redbridge_reply_free(r);
        double t0 = now_ms();
        redbridge_message *m = next_within(s, 10000, true);
        CHECK(m && m->kind == REDBRIDGE_PUBSUB_GAP && m->gap_cause == REDBRIDGE_GAP_RECONNECTED && m->dropped == 0,
              "round %d: a reconnect gap (kind %d)", round, m ? m->kind : -1);
        CHECK(now_ms() - t0 < 5000, "round %d: resubscribed in %.0f ms", round, now_ms() - t0);
        redbridge_message_free(m);
        long long n = -1, p = -1, sh = -1;
        for (int i = 0; i < 50; i++) { /* bounded: the gap comes after the resubscription */
            n = numsub(c, "NUMSUB", "rk");
            p = 0;
            redbridge_reply *np = RUN(c, REDBRIDGE_OK, "PUBSUB", "NUMPAT");
            p = np ? np->integer : -1;
            redbridge_reply_free(np);
            sh = numsub(c, "SHARDNUMSUB", "{rk}s");
            if (n == 1 && p == 1 && sh == 1) break;
            sleep_ms(100);
        }
        CHECK(n == 1 && p == 1 && sh == 1, "round %d: exactly one subscription each: %lld %lld %lld", round, n, p, sh);
        char payload[3] = {'a', 0, (char)(0xf0 + round)};
        const char *pub[] = {"PUBLISH", "rk", payload}, *ppub[] = {"PUBLISH", "rk.x", payload},
                   *spub[] = {"SPUBLISH", "{rk}s", payload};
        size_t lens[] = {7, 2, 3}, plens[] = {7, 4, 3}, slens[] = {8, 5, 3};
        redbridge_reply *a = NULL, *b = NULL, *d = NULL;
        redbridge_command_argv(c, 3, pub, lens, &a);
        redbridge_command_argv(c, 3, ppub, plens, &b);
        redbridge_command_argv(c, 3, spub, slens, &d);
        CHECK(a && a->integer == 1 && b && b->integer == 1 && d && d->integer == 1, "round %d: published", round);
        redbridge_reply_free(a);
        redbridge_reply_free(b);
        redbridge_reply_free(d);
        int kinds[] = {REDBRIDGE_PUBSUB_MESSAGE, REDBRIDGE_PUBSUB_PMESSAGE, REDBRIDGE_PUBSUB_SMESSAGE};
        for (int k = 0; k < 3; k++) {
            m = next_within(s, 5000, true);
            CHECK(m && m->kind == kinds[k] && bytes_eq(m->payload, m->payload_len, payload, 3),
                  "round %d: message %d delivered after the reconnect (kind %d)", round, k, m ? m->kind : -1);
            redbridge_message_free(m);
        }
    }
    CHECK(stat_of(c, 2) - resubscribes == ROUNDS, "pubsub_resubscribes: %llu",
          (unsigned long long)(stat_of(c, 2) - resubscribes));
    redbridge_pubsub_free(s);
    redbridge_client_free(c);
}

/* ---- the callback form ---- */

struct sink {
    redbridge_pubsub *s;
    int messages;     /* read by the main thread: atomics */
    int stop_after;   /* return nonzero at this many messages (0: never) */
    int bad;
    int free_at;      /* free the handle from the callback at this many (0: never) */
    int entered;      /* set once the callback ran: run holds the handle */
    int stop_call_at; /* call redbridge_pubsub_stop from the callback at this many (0: never) */
};

static int on_event(void *userdata, const redbridge_message *m) {
    struct sink *k = userdata;
    if (m->kind == REDBRIDGE_PUBSUB_SUBSCRIBE) return 0;
    __atomic_store_n(&k->entered, 1, __ATOMIC_SEQ_CST);
    if (m->kind != REDBRIDGE_PUBSUB_MESSAGE) {
        k->bad++;
        return 0;
    }
    int n = __atomic_add_fetch(&k->messages, 1, __ATOMIC_SEQ_CST);
    char want[16];
    snprintf(want, sizeof want, "m%d", n - 1);
    if (!bytes_eq(m->payload, m->payload_len, want, strlen(want)) || !bytes_eq(m->channel, m->channel_len, "cb", 2))
        k->bad++;
    if (k->free_at && n == k->free_at) redbridge_pubsub_free(k->s);
    if (k->stop_call_at && n == k->stop_call_at) redbridge_pubsub_stop(k->s);
    return k->stop_after && n >= k->stop_after;
}

struct runner {
    redbridge_pubsub *s;
    struct sink *sink;
    int64_t timeout_ms;
    redbridge_status status;
};

static void *run_main(void *arg) {
    struct runner *r = arg;
    r->status = redbridge_pubsub_run(r->s, on_event, r->sink, r->timeout_ms);
    return NULL;
}

static void *next_main(void *arg) {
    struct runner *r = arg;
    redbridge_message *m = NULL;
    r->status = redbridge_pubsub_next(r->s, r->timeout_ms, &m);
    redbridge_message_free(m);
    return NULL;
}

static void publish_n(redbridge_client *c, int from, int n) {
    char payloads[64][16];
    const char *cmd[3 * 64];
    size_t lens[3 * 64];
    for (int i = 0; i < n && i < 64; i++) {
        snprintf(payloads[i], sizeof payloads[i], "m%d", from + i);
        cmd[3 * i] = "PUBLISH", cmd[3 * i + 1] = "cb", cmd[3 * i + 2] = payloads[i];
        lens[3 * i] = 7, lens[3 * i + 1] = 2, lens[3 * i + 2] = strlen(payloads[i]);
    }
    CHECK(send_all(c, n, cmd, lens, 1) == 0, "published %d", n);
}

static void wait_for(int *counter, int want) {
    for (int i = 0; i < 200 && __atomic_load_n(counter, __ATOMIC_SEQ_CST) < want; i++) sleep_ms(25);
}

static void test_callback(redbridge_client *c) {
    redbridge_pubsub *s = open_subscriber_of(c);
    const char *ch[] = {"cb"};
    CHECK(redbridge_pubsub_subscribe(s, 1, ch, NULL) == REDBRIDGE_OK, "subscribe");

    /* The callback stops it: 30 published, stop at the 20th, the rest stays queued. */
    struct sink k = {s, 0, 20, 0, 0, 0, 0};
    publish_n(c, 0, 30);
    CHECK(redbridge_pubsub_run(s, on_event, &k, 10000) == REDBRIDGE_OK, "run until the callback stops");
    CHECK(k.messages == 20 && k.bad == 0, "20 delivered in order: %d (%d bad)", k.messages, k.bad);
    k.stop_after = 30;
    CHECK(redbridge_pubsub_run(s, on_event, &k, 10000) == REDBRIDGE_OK, "run again");
    CHECK(k.messages == 30 && k.bad == 0, "the other 10 were kept: %d (%d bad)", k.messages, k.bad);

    /* redbridge_pubsub_stop from inside the callback. */
    publish_n(c, 30, 5);
    struct sink ks = {s, 30, 0, 0, 0, 0, 33};
    CHECK(redbridge_pubsub_run(s, on_event, &ks, 10000) == REDBRIDGE_OK, "run until the callback calls stop");
    CHECK(ks.messages == 33 && ks.bad == 0, "stopped after the 3rd: %d (%d bad)", ks.messages - 30, ks.bad);
    ks.stop_after = 35;
    CHECK(redbridge_pubsub_run(s, on_event, &ks, 10000) == REDBRIDGE_OK && ks.messages == 35, "the rest");
    k.messages = 35;

    /* A run with a time limit and nothing to deliver. */
    double t0 = now_ms();
    CHECK(redbridge_pubsub_run(s, on_event, &k, 200) == REDBRIDGE_OK, "run for 200 ms");
    CHECK(now_ms() - t0 >= 195 && now_ms() - t0 < 3000, "returned after %.0f ms", now_ms() - t0);

    /* redbridge_pubsub_stop from another thread ends a run that never stops by itself. */
    k.stop_after = 0;
    struct runner r = {s, &k, 20000, REDBRIDGE_ERR_PANIC};
    pthread_t t;
    pthread_create(&t, NULL, run_main, &r);
    publish_n(c, 35, 15);
    wait_for(&k.messages, 50);
    CHECK(__atomic_load_n(&k.messages, __ATOMIC_SEQ_CST) == 50, "delivered on the run's thread");
    t0 = now_ms();
    CHECK(redbridge_pubsub_stop(s) == REDBRIDGE_OK, "stop");
    pthread_join(t, NULL);
    CHECK(r.status == REDBRIDGE_OK && now_ms() - t0 < 3000, "run stopped: %s, %.0f ms after the stop",
          redbridge_status_name(r.status), now_ms() - t0);
    CHECK(k.bad == 0, "in order: %d bad", k.bad);

    /* A stop before the run begins is not lost; a stop interrupts next. */
    CHECK(redbridge_pubsub_stop(s) == REDBRIDGE_OK, "stop first");
    t0 = now_ms();
    CHECK(redbridge_pubsub_run(s, on_event, &k, 10000) == REDBRIDGE_OK && now_ms() - t0 < 2000, "returns at once");
    struct runner n = {s, NULL, 20000, REDBRIDGE_OK};
    pthread_create(&t, NULL, next_main, &n);
    sleep_ms(100);
    t0 = now_ms();
    redbridge_pubsub_stop(s);
    pthread_join(t, NULL);
    CHECK(n.status == REDBRIDGE_ERR_CANCELLED && now_ms() - t0 < 3000, "next interrupted: %s, %.0f ms after the stop",
          redbridge_status_name(n.status), now_ms() - t0);
    redbridge_message *m = NULL;
    CHECK(redbridge_pubsub_next(s, 0, &m) == REDBRIDGE_OK && m == NULL, "the stop was used up");

    /* Freed while a run holds it (another thread), and from inside the callback. */
    struct sink k2 = {s, 50, 0, 0, 0, 0, 0};
    struct runner r2 = {s, &k2, 20000, REDBRIDGE_OK};
    pthread_create(&t, NULL, run_main, &r2);
    publish_n(c, 50, 1);
    wait_for(&k2.entered, 1);
    t0 = now_ms();
    redbridge_pubsub_free(s); /* the run is inside: it returns CANCELLED, then the memory goes */
    pthread_join(t, NULL);
    CHECK(k2.entered && r2.status == REDBRIDGE_ERR_CANCELLED && now_ms() - t0 < 3000,
          "freed under a run: %s, %.0f ms after the free", redbridge_status_name(r2.status), now_ms() - t0);

    s = open_subscriber_of(c);
    CHECK(redbridge_pubsub_subscribe(s, 1, ch, NULL) == REDBRIDGE_OK, "subscribe");
    struct sink k3 = {s, 0, 0, 0, 2, 0, 0};
    publish_n(c, 0, 5);
    CHECK(redbridge_pubsub_run(s, on_event, &k3, 10000) == REDBRIDGE_ERR_CANCELLED, "freed by its callback");
    CHECK(strstr(redbridge_last_error(), "redbridge_pubsub_free") != NULL, "%s", redbridge_last_error());
    CHECK(k3.messages == 2, "nothing delivered after the free: %d", k3.messages);
}

/* A subscriber outlives the client it was made from. */
static void test_client_freed_first(redbridge_client *publisher) {
    redbridge_client *c = open_client();
    redbridge_pubsub *s = open_subscriber_of(c);
    redbridge_client_free(c);
    const char *ch[] = {"orphan"};
    CHECK(redbridge_pubsub_subscribe(s, 1, ch, NULL) == REDBRIDGE_OK, "subscribe after the client is gone");
    redbridge_reply_free(RUN(publisher, REDBRIDGE_OK, "PUBLISH", "orphan", "still here"));
    redbridge_message *m = next_within(s, 5000, true);
    CHECK(m && bytes_eq(m->payload, m->payload_len, "still here", 10), "delivered");
    redbridge_message_free(m);
    redbridge_pubsub_free(s);
}

static void test_pubsub_bad_input(redbridge_client *c) {
    redbridge_pubsub *s = NULL;
    const char *ch[] = {"x", NULL};
    CHECK(redbridge_pubsub_new(NULL, &s) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL client");
    CHECK(strstr(redbridge_last_error(), "client") != NULL, "%s", redbridge_last_error());
    CHECK(redbridge_pubsub_new(c, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL out");
    CHECK(strstr(redbridge_last_error(), "out") != NULL, "%s", redbridge_last_error());
    CHECK(s == NULL, "out untouched");
    CHECK(redbridge_pubsub_subscribe(NULL, 1, ch, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL handle");
    CHECK(strstr(redbridge_last_error(), "pubsub") != NULL, "%s", redbridge_last_error());
    CHECK(redbridge_pubsub_psubscribe(NULL, 1, ch, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL handle");
    CHECK(redbridge_pubsub_ssubscribe(NULL, 1, ch, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL handle");
    CHECK(redbridge_pubsub_unsubscribe(NULL, 0, NULL, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL handle");
    CHECK(redbridge_pubsub_punsubscribe(NULL, 0, NULL, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL handle");
    CHECK(redbridge_pubsub_sunsubscribe(NULL, 0, NULL, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL handle");
    redbridge_message *m = NULL;
    CHECK(redbridge_pubsub_next(NULL, 0, &m) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL handle");
    CHECK(redbridge_pubsub_ping(NULL, NULL, 0) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL handle");
    CHECK(redbridge_pubsub_run(NULL, on_event, NULL, 0) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL handle");
    CHECK(redbridge_pubsub_stop(NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL handle");
    CHECK(redbridge_pubsub_subscriptions(NULL, NULL, NULL, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL handle");
    redbridge_pubsub_free(NULL);
    redbridge_message_free(NULL);

    s = open_subscriber_of(c);
    CHECK(redbridge_pubsub_subscribe(s, 0, ch, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "zero names");
    CHECK(strstr(redbridge_last_error(), "at least one") != NULL, "%s", redbridge_last_error());
    CHECK(redbridge_pubsub_psubscribe(s, 0, NULL, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "zero patterns");
    CHECK(strstr(redbridge_last_error(), "psubscribe") != NULL, "%s", redbridge_last_error());
    CHECK(redbridge_pubsub_ssubscribe(s, 0, NULL, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "zero shard channels");
    CHECK(redbridge_pubsub_subscribe(s, 1, NULL, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL argv");
    CHECK(strstr(redbridge_last_error(), "argv") != NULL, "%s", redbridge_last_error());
    CHECK(redbridge_pubsub_subscribe(s, 2, ch, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL name");
    CHECK(strstr(redbridge_last_error(), "argv[1]") != NULL, "%s", redbridge_last_error());
    CHECK(redbridge_pubsub_unsubscribe(s, 1, NULL, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL argv");
    CHECK(redbridge_pubsub_subscribe(s, -1, ch, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "negative argc");
    CHECK(strstr(redbridge_last_error(), "argc") != NULL, "%s", redbridge_last_error());
    CHECK(redbridge_pubsub_next(s, 0, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL message");
    CHECK(strstr(redbridge_last_error(), "message") != NULL, "%s", redbridge_last_error());
    CHECK(redbridge_pubsub_run(s, NULL, NULL, 0) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL callback");
    CHECK(strstr(redbridge_last_error(), "callback") != NULL, "%s", redbridge_last_error());
    size_t nc = 7;
    CHECK(redbridge_pubsub_subscriptions(s, &nc, NULL, NULL) == REDBRIDGE_OK && nc == 0, "nothing subscribed");
    redbridge_pubsub_free(s);
}

/* On a cluster (when the harness started one): a channel and shard channels of three
 * slots, each heard once and in order (the core places shard channels by slot). */
static void test_pubsub_cluster(void) {
    const char *u = getenv("REDBRIDGE_CLUSTER_URL");
    if (!u || !*u) return;
    redbridge_client *c = NULL;
    CHECK(open_on(u, true, false, &c) == REDBRIDGE_OK, "cluster client");
    if (!c) return;
    redbridge_pubsub *s = open_subscriber_of(c);
    const char *ch[] = {"cl:plain"}, *shards[] = {"{a}cl", "{b}cl", "{c}cl"};
    CHECK(redbridge_pubsub_subscribe(s, 1, ch, NULL) == REDBRIDGE_OK, "cluster: subscribe");
    CHECK(redbridge_pubsub_ssubscribe(s, 3, shards, NULL) == REDBRIDGE_OK, "cluster: ssubscribe 3 slots");
    int unheard = 0;
    for (int n = 0; n < 10; n++) {
        char payload[8];
        snprintf(payload, sizeof payload, "%d", n);
        for (int i = 0; i < 4; i++) {
            const char *argv[] = {i ? "SPUBLISH" : "PUBLISH", i ? shards[i - 1] : ch[0], payload};
            redbridge_reply *r = NULL;
            /* PUBLISH answers the receivers of the node it went to (0 off the home node). */
            if (redbridge_command_strv(c, 3, argv, &r) != REDBRIDGE_OK || (i && r->integer != 1)) unheard++;
            redbridge_reply_free(r);
        }
    }
    CHECK(unheard == 0, "cluster: %d publishes failed or not received by one subscriber", unheard);
    int seen[4] = {0}, bad = 0, got = 0;
    for (int k = 0; k < 40; k++) {
        redbridge_message *m = next_within(s, 10000, true);
        if (!m) break;
        got++;
        int i = -1; /* 0: the channel, 1..3: the shard channels {a} {b} {c} */
        if (m->kind == REDBRIDGE_PUBSUB_MESSAGE) i = 0;
        if (m->kind == REDBRIDGE_PUBSUB_SMESSAGE && m->channel_len == 5) i = 1 + m->channel[1] - 'a';
        char want[8];
        if (i < 0 || i > 3) {
            bad++;
        } else {
            snprintf(want, sizeof want, "%d", seen[i]++);
            if (!bytes_eq(m->payload, m->payload_len, want, strlen(want))) bad++;
        }
        redbridge_message_free(m);
    }
    CHECK(got == 40 && bad == 0, "cluster: %d of 40 messages, %d wrong or out of order", got, bad);
    redbridge_pubsub_free(s);
    redbridge_client_free(c);
}

void test_pubsub(void) {
    redbridge_client *c = open_client();
    test_pubsub_bad_input(c);
    test_confirmations_and_timeout(c);
    test_delivery(c);
    test_overflow(c);
    test_callback(c);
    test_client_freed_first(c);
    test_resubscribe_after_kill();
    test_pubsub_cluster();
    redbridge_client_free(c);
}

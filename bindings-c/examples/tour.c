/* A short tour of libredbridge from C (make demo). Build:
 *   cc tour.c $(pkg-config --cflags --libs redbridge)                                   */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redbridge.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void on_log(void *userdata, int level, const char *message) {
    (void)userdata;
    (void)level;
    printf("   guard warning -> %s\n", message);
}

int main(void) {
    const char *url = getenv("REDIS_URL");
    if (!url) url = "redis://127.0.0.1:6379";
    printf("redbridge C tour (libredbridge %s) — %s\n\n", redbridge_version(), url);

    redbridge_config *cfg = NULL;
    if (redbridge_config_from_url(url, &cfg) != REDBRIDGE_OK) {
        fprintf(stderr, "%s\n", redbridge_last_error());
        return 1;
    }
    redbridge_config_set_client_name(cfg, "c-tour");
    redbridge_config_set_log_callback(cfg, on_log, NULL);
    redbridge_client *c = NULL;
    redbridge_status s = redbridge_client_open_config(cfg, &c);
    redbridge_config_free(cfg);
    if (s != REDBRIDGE_OK) {
        fprintf(stderr, "%s: %s\n", redbridge_status_name(s), redbridge_last_error());
        return 1;
    }

    printf("1. Commands, hiredis-style replies\n");
    redbridge_reply *r = NULL;
    REDBRIDGE_COMMAND(c, &r, "SET", "ctour:greeting", "hello");
    printf("   SET -> %s\n", r->str);
    redbridge_reply_free(r);
    REDBRIDGE_COMMAND(c, &r, "GET", "ctour:greeting");
    printf("   GET -> \"%.*s\" (type %d, %zu bytes)\n", (int)r->len, r->str, r->type, r->len);
    redbridge_reply_free(r);
    r = NULL;
    s = REDBRIDGE_COMMAND(c, &r, "LPUSH", "ctour:greeting", "x");
    printf("   LPUSH on a string -> %s, reply type %d: %s\n", redbridge_status_name(s), r->type, r->str);
    redbridge_reply_free(r);

    printf("\n2. 1,000 sequential GETs vs one pipeline of 1,000\n");
    const char *get[] = {"GET", "ctour:greeting"};
    double t0 = now_ms();
    for (int i = 0; i < 1000; i++) {
        redbridge_command_strv(c, 2, get, &r);
        redbridge_reply_free(r);
    }
    double seq = now_ms() - t0;
    redbridge_pipeline *p = redbridge_pipeline_new(false);
    for (int i = 0; i < 1000; i++) redbridge_pipeline_append_argv(p, 2, get, NULL);
    t0 = now_ms();
    redbridge_pipeline_execute(c, p, &r);
    printf("   sequential %.1f ms, pipelined %.1f ms (%zu replies)\n", seq, now_ms() - t0, r->elements);
    redbridge_reply_free(r);
    redbridge_pipeline_free(p);

    printf("\n3. SCAN with a cursor object, and KEYS for comparison\n");
    redbridge_scan *sc = NULL;
    redbridge_scan_new(c, REDBRIDGE_SCAN_KEYS, NULL, 0, "ctour:*", 100, NULL, &sc);
    size_t n = 0;
    while (redbridge_scan_next(sc, &r) == REDBRIDGE_OK && r) {
        n += r->elements;
        redbridge_reply_free(r);
    }
    redbridge_scan_free(sc);
    printf("   %zu key(s) found by SCAN\n", n);
    REDBRIDGE_COMMAND(c, &r, "KEYS", "ctour:*");
    redbridge_reply_free(r);

    redbridge_stats st;
    redbridge_client_stats(c, &st);
    printf("\n4. Stats: %llu requests, %llu served on the caller's thread, %llu response errors\n",
           (unsigned long long)st.requests, (unsigned long long)st.direct_requests,
           (unsigned long long)st.errors[REDBRIDGE_ERR_RESPONSE]);
    REDBRIDGE_COMMAND(c, &r, "DEL", "ctour:greeting");
    redbridge_reply_free(r);
    redbridge_client_free(c);
    return 0;
}

/* W5 for C: 50k GETs over 100 hot keys through libredbridge's client-side cache, beside
 * the same client uncached (W1). Uses REDIS_URL; QUICK=1 for a tiny run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redbridge.h"

static double rate(redbridge_client *c, int n) {
    char key[32];
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "w5:%d", i % 100);
        const char *argv[] = {"GET", key};
        redbridge_reply *r = NULL;
        if (redbridge_command_strv(c, 2, argv, &r) != REDBRIDGE_OK) exit(1);
        redbridge_reply_free(r);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    return n / ((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
}

int main(void) {
    const char *url = getenv("REDIS_URL");
    int n = getenv("QUICK") && strcmp(getenv("QUICK"), "1") == 0 ? 5000 : 50000;
    redbridge_config *cfg = NULL;
    redbridge_client *plain = NULL, *cached = NULL;
    if (!url || redbridge_client_open(url, &plain) != REDBRIDGE_OK) return 2;
    redbridge_config_from_url(url, &cfg);
    redbridge_config_set_cache(cfg, 0, 0, 0);
    if (redbridge_client_open_config(cfg, &cached) != REDBRIDGE_OK) return 2;
    char key[32], value[101];
    memset(value, 'x', 100);
    value[100] = 0;
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "w5:%d", i);
        const char *argv[] = {"SET", key, value};
        redbridge_reply *r = NULL;
        redbridge_command_strv(plain, 3, argv, &r);
        redbridge_reply_free(r);
    }
    double best_cached = 0, best_plain = 0;
    for (int run = 0; run < 3; run++) {
        double c = rate(cached, n), p = rate(plain, n / 10);
        if (c > best_cached) best_cached = c;
        if (p > best_plain) best_plain = p;
    }
    printf("| W5 (C) | ops/s |\n|---|---:|\n| redbridge (cache) | %.0f |\n| redbridge (no cache, W1) | %.0f |\n", best_cached, best_plain);
    printf("redbridge cached / uncached: %.1fx (goal >= 20x)\n", best_cached / best_plain);
    redbridge_client_free(cached);
    redbridge_client_free(plain);
    redbridge_config_free(cfg);
    return 0;
}

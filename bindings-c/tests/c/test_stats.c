/*
 * redbridge_client_stats_sized: a program built with another redbridge.h than the
 * library's gets the counters its own struct has, and nothing is written past it.
 */
#include "support.h"

#include <stddef.h>

void test_stats_sized(void); /* main.c */

/* redbridge_stats as a header before pubsub_messages declared it: the same fields, fewer. */
typedef struct older_stats {
    uint64_t requests, retries, reconnects, direct_requests;
    uint64_t pool_max_size, pool_size, pool_idle, pool_in_use, pool_waiting, pool_waits,
        pool_wait_timeouts;
    uint64_t errors[16];
    uint64_t cache_hits, cache_misses, cache_invalidations, cache_evictions, cache_entries,
        cache_bytes;
} older_stats;
_Static_assert(sizeof(older_stats) == offsetof(redbridge_stats, pubsub_messages),
               "older_stats is redbridge_stats up to cache_bytes");

#define GUARD 0xABABABABABABABABull

static bool untouched(const uint64_t *words, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (words[i] != GUARD) return false;
    return true;
}

void test_stats_sized(void) {
    redbridge_client *c = open_client();
    for (int i = 0; i < 3; i++) redbridge_reply_free(RUN(c, REDBRIDGE_OK, "PING"));
    redbridge_stats plain;
    CHECK(redbridge_client_stats(c, &plain) == REDBRIDGE_OK, "stats");

    /* This header's struct: the same counters as redbridge_client_stats. */
    redbridge_stats same;
    memset(&same, 0xAB, sizeof same);
    CHECK(redbridge_client_stats_sized(c, &same, sizeof same) == REDBRIDGE_OK, "sized, this header");
    CHECK(same.requests == plain.requests && same.requests >= 3, "requests %llu vs %llu",
          (unsigned long long)same.requests, (unsigned long long)plain.requests);
    CHECK(same.pool_max_size == plain.pool_max_size && same.pool_max_size > 0, "pool bound");
    CHECK(same.sentinel_switches == 0 && same.pubsub_messages == 0, "the last fields filled");

    /* An older header's struct, with guard words after it: they stay as they were. */
    struct {
        older_stats s;
        uint64_t guard[4];
    } older;
    memset(&older, 0xAB, sizeof older);
    CHECK(redbridge_client_stats_sized(c, (redbridge_stats *)&older.s, sizeof older.s) == REDBRIDGE_OK,
          "sized, older header");
    CHECK(older.s.requests == plain.requests, "requests %llu", (unsigned long long)older.s.requests);
    CHECK(older.s.pool_max_size == plain.pool_max_size, "pool bound");
    CHECK(older.s.cache_bytes == 0, "its last field filled");
    CHECK(untouched(older.guard, 4), "nothing written past the caller's struct");

    /* A newer header's struct (three counters this library does not have): zeros there. */
    struct {
        redbridge_stats s;
        uint64_t future[3];
        uint64_t guard;
    } newer;
    memset(&newer, 0xAB, sizeof newer);
    CHECK(redbridge_client_stats_sized(c, &newer.s, sizeof newer.s + sizeof newer.future) == REDBRIDGE_OK,
          "sized, newer header");
    CHECK(newer.s.requests == plain.requests, "requests");
    CHECK(newer.future[0] == 0 && newer.future[1] == 0 && newer.future[2] == 0,
          "fields the library lacks are 0");
    CHECK(untouched(&newer.guard, 1), "nothing written past the caller's struct");

    /* Sizes no header declares, and NULLs: refused, nothing written. */
    memset(&same, 0xAB, sizeof same);
    CHECK(redbridge_client_stats_sized(c, &same, 0) == REDBRIDGE_ERR_INVALID_ARGUMENT, "size 0");
    CHECK(redbridge_client_stats_sized(c, &same, 12) == REDBRIDGE_ERR_INVALID_ARGUMENT, "size 12");
    CHECK(strstr(redbridge_last_error(), "sizeof(struct redbridge_stats)") != NULL, "%s",
          redbridge_last_error());
    CHECK(untouched((const uint64_t *)&same, sizeof same / 8), "nothing written on a bad size");
    CHECK(redbridge_client_stats_sized(c, NULL, sizeof same) == REDBRIDGE_ERR_INVALID_ARGUMENT,
          "NULL stats");
    CHECK(redbridge_client_stats_sized(NULL, &same, sizeof same) == REDBRIDGE_ERR_INVALID_ARGUMENT,
          "NULL client");
    redbridge_client_free(c);
}

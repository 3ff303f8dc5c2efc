/*
 * Shared by the C tests of libredbridge (main.c runs them): the CHECK counters, the
 * test server's URL, helpers to open clients and run commands, and the test functions,
 * one file per topic. Include it first: it defines _GNU_SOURCE.
 */
#ifndef REDBRIDGE_TEST_SUPPORT_H
#define REDBRIDGE_TEST_SUPPORT_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
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

/* Checks passed and failed so far (main prints them). */
extern int passed, failed;
/* The test server (REDBRIDGE_TEST_URL): redis://127.0.0.1:PORT, a server the tests may fill. */
extern const char *url;

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

/* A client on `url`; exits (status 2) when it cannot connect. */
redbridge_client *open_client(void);

/* Runs a command given as NUL-terminated strings; returns the reply (or NULL). */
redbridge_reply *run(redbridge_client *c, redbridge_status want, int argc, const char **argv);
#define RUN(c, want, ...) run((c), (want), (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)), (const char *[]){__VA_ARGS__})

/* Opens a client on `u` (a cluster's seed node when `cluster`), with the cache when `cache`. */
redbridge_status open_on(const char *u, bool cluster, bool cache, redbridge_client **out);

/* test_cache.c: a cached reader while another client writes (standalone or cluster);
 * returns the reader, or NULL when it could not open. */
redbridge_client *writer_reader(const char *u, bool cluster);

/* The tests, in the order main.c runs them. */
void test_bad_input(void);                  /* test_commands.c */
void test_replies(void);                    /* test_commands.c */
void test_binary(void);                     /* test_commands.c */
void test_pipeline(void);                   /* test_pipeline_scan.c */
void test_scan(void);                       /* test_pipeline_scan.c */
void test_config_guard_timeout_stats(void); /* test_config.c */
void test_threads(void);                    /* test_threads.c */
void test_every_setter(void);               /* test_config.c */
void test_cache(void);                      /* test_cache.c */
void test_pubsub(void);                     /* test_pubsub.c */
void test_events(void);                     /* test_events.c */
void test_tls(void);                        /* test_tls.c */
void test_cluster(void);                    /* test_cluster.c */
void test_cluster_failover(void);           /* test_cluster.c; last: kills a primary */
void test_script(void);                     /* test_script.c */
void test_reply_families(void);             /* test_families.c */
void test_conformance(const char *path);    /* test_conformance.c */

#endif

/*
 * C tests of libredbridge against a real redis-server, run under valgrind by `make test`.
 * Usage: REDBRIDGE_TEST_URL=redis://127.0.0.1:PORT test_redbridge [vectors.lines]
 * The tests write to that server: it is a test server, never REDIS_URL (the user's server,
 * for the demo and the examples). `make test-c` starts a throwaway one.
 */
#include "support.h"

void test_sentinel(void); /* test_sentinel.c: starts and stops its own deployment */
void test_stats_sized(void); /* test_stats.c */

int main(int argc, char **argv) {
    url = getenv("REDBRIDGE_TEST_URL");
    if (!url || !*url) {
        fprintf(stderr, "REDBRIDGE_TEST_URL is not set: set it to a redis-server the tests may write to\n"
                        "(REDIS_URL is not read here; make test-c starts a throwaway server)\n");
        return 2;
    }
    test_bad_input();
    test_replies();
    test_binary();
    test_pipeline();
    test_script();
    test_reply_families();
    test_scan();
    test_config_guard_timeout_stats();
    test_stats_sized();
    test_threads();
    test_every_setter();
    test_cache();
    test_pubsub();
    test_events();
    /* Before the TLS and Sentinel tests. Run after them, the cluster tests failed in 2 of
     * 3 runs: under valgrind, clients of the TLS Sentinel test whose open failed left
     * their Sentinel followers doing TLS handshakes for about 11 s of CPU, in this
     * process (fixed: the follower ends when its client is dropped), and a shared cluster
     * primary was once failed over (cause not seen in a log yet). */
    test_cluster();
    test_cluster_failover();
    test_tls();
    test_sentinel();
    if (argc > 1) test_conformance(argv[1]);
    printf("libredbridge %s\n", redbridge_version());
    printf("c: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

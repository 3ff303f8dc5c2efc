/*
 * C tests of libredbridge against a real redis-server (REDIS_URL), run under valgrind
 * by `make test`. Usage: test_redbridge [vectors.lines]
 */
#include "support.h"

int main(int argc, char **argv) {
    url = getenv("REDIS_URL");
    if (!url) {
        fprintf(stderr, "set REDIS_URL (make test does)\n");
        return 2;
    }
    test_bad_input();
    test_replies();
    test_binary();
    test_pipeline();
    test_scan();
    test_config_guard_timeout_stats();
    test_threads();
    test_every_setter();
    test_cache();
    test_tls();
    test_cluster();
    test_cluster_failover();
    if (argc > 1) test_conformance(argv[1]);
    printf("libredbridge %s\n", redbridge_version());
    printf("c: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

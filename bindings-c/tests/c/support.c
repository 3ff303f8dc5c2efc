/* Shared helpers of the C tests (declared in support.h). */
#include "support.h"

int passed, failed;
const char *url;

redbridge_client *open_client(void) {
    redbridge_client *c = NULL;
    redbridge_status s = redbridge_client_open(url, &c);
    if (s != REDBRIDGE_OK) {
        fprintf(stderr, "cannot open %s: %s\n", url, redbridge_last_error());
        exit(2);
    }
    return c;
}

redbridge_reply *run(redbridge_client *c, redbridge_status want, int argc, const char **argv) {
    redbridge_reply *r = NULL;
    redbridge_status s = redbridge_command_strv(c, argc, argv, &r);
    CHECK(s == want, "%s: got %s, want %s", argv[0], redbridge_status_name(s), redbridge_status_name(want));
    return r;
}

redbridge_status open_on(const char *u, bool cluster, bool cache, redbridge_client **out) {
    redbridge_config *cfg = NULL;
    redbridge_status st = redbridge_config_from_url(u, &cfg);
    if (st != REDBRIDGE_OK) return st;
    if (cluster) {
        redbridge_config_set_cluster(cfg, true);
        redbridge_config_set_connect_timeout_ms(cfg, 10000); /* valgrind is slow */
    }
    if (cache) redbridge_config_set_cache(cfg, 100, 0, 0);
    st = redbridge_client_open_config(cfg, out);
    redbridge_config_free(cfg);
    return st;
}

#include "support.h"

/* TLS against the TLS-only server make test starts (WITH_TLS=1 in with-redis.sh). */
void test_tls(void) {
    const char *tls_url = getenv("REDBRIDGE_TLS_URL"), *ca = getenv("REDBRIDGE_TLS_CA");
    const char *cert = getenv("REDBRIDGE_TLS_CERT"), *key = getenv("REDBRIDGE_TLS_KEY");
    const char *other = getenv("REDBRIDGE_TLS_OTHER_CA");
    CHECK(tls_url && ca && cert && key && other, "REDBRIDGE_TLS_* set (make test starts a TLS server)");
    if (!(tls_url && ca && cert && key && other)) return;
    redbridge_config *cfg = NULL;
    redbridge_client *c = NULL;
    /* Through the setters: CA, then CA + client certificate. */
    for (int with_cert = 0; with_cert < 2; with_cert++) {
        CHECK(redbridge_config_from_url(tls_url, &cfg) == REDBRIDGE_OK, "rediss:// URL");
        CHECK(redbridge_config_set_tls(cfg, true) == REDBRIDGE_OK, "tls on");
        CHECK(redbridge_config_set_connect_timeout_ms(cfg, 10000) == REDBRIDGE_OK, "valgrind-slow handshake");
        CHECK(redbridge_config_set_tls_ca_file(cfg, ca) == REDBRIDGE_OK, "ca file");
        if (with_cert) CHECK(redbridge_config_set_tls_client_cert(cfg, cert, key) == REDBRIDGE_OK, "client cert");
        CHECK(redbridge_client_open_config(cfg, &c) == REDBRIDGE_OK, "open over TLS (cert %d): %s", with_cert, redbridge_last_error());
        if (c) {
            redbridge_reply_free(RUN(c, REDBRIDGE_OK, "SET", "tls:c", "over-tls"));
            redbridge_reply *r = RUN(c, REDBRIDGE_OK, "GET", "tls:c");
            CHECK(r && r->str && strcmp(r->str, "over-tls") == 0, "GET over TLS");
            redbridge_reply_free(r);
            redbridge_reply_free(RUN(c, REDBRIDGE_OK, "BLPOP", "tls:empty", "0.05"));
            redbridge_client_free(c);
            c = NULL;
        }
        redbridge_config_free(cfg);
    }
    /* A CA that did not sign the server's certificate: a connection error that says so. */
    CHECK(redbridge_config_from_url(tls_url, &cfg) == REDBRIDGE_OK, "rediss:// URL");
    /* Generous: a TLS handshake under valgrind is slow. */
    CHECK(redbridge_config_set_connect_timeout_ms(cfg, 10000) == REDBRIDGE_OK, "timeout");
    CHECK(redbridge_config_set_tls_ca_file(cfg, other) == REDBRIDGE_OK, "other ca");
    CHECK(redbridge_client_open_config(cfg, &c) == REDBRIDGE_ERR_CONNECTION, "untrusted CA refused");
    CHECK(strstr(redbridge_last_error(), "not signed by a CA") != NULL, "says why: %s", redbridge_last_error());
    /* Not verifying (tests only) connects to anyone. */
    CHECK(redbridge_config_set_tls_verify(cfg, false) == REDBRIDGE_OK, "verify off");
    CHECK(redbridge_client_open_config(cfg, &c) == REDBRIDGE_OK, "no verification: %s", redbridge_last_error());
    redbridge_client_free(c);
    c = NULL;
    CHECK(redbridge_config_set_tls_ca_file(cfg, "/no/such/ca.pem") == REDBRIDGE_OK, "missing file accepted until open");
    CHECK(redbridge_client_open_config(cfg, &c) == REDBRIDGE_ERR_INVALID_ARGUMENT, "missing CA file");
    CHECK(strstr(redbridge_last_error(), "/no/such/ca.pem") != NULL, "names the file: %s", redbridge_last_error());
    CHECK(redbridge_config_set_tls_client_cert(cfg, cert, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL key");
    CHECK(redbridge_config_set_tls_ca_file(NULL, ca) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL config");
    redbridge_config_free(cfg);
}

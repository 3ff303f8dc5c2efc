/* Options: the log callback and the guard, response timeouts, stats, every typed setter. */
#include "support.h"

static int warnings;
static void on_log(void *userdata, int level, const char *message) {
    (void)userdata;
    if (level == REDBRIDGE_LOG_WARN && strstr(message, "SCAN")) warnings++;
}

void test_config_guard_timeout_stats(void) {
    redbridge_config *cfg = NULL;
    CHECK(redbridge_config_from_url(url, &cfg) == REDBRIDGE_OK, "config from url");
    CHECK(redbridge_config_set_response_timeout_ms(cfg, 100) == REDBRIDGE_OK, "timeout");
    CHECK(redbridge_config_set_client_name(cfg, "c-tests") == REDBRIDGE_OK, "name");
    CHECK(redbridge_config_set_log_callback(cfg, on_log, NULL) == REDBRIDGE_OK, "log callback");
    redbridge_client *c = NULL;
    CHECK(redbridge_client_open_config(cfg, &c) == REDBRIDGE_OK, "open with config");
    redbridge_reply *r = RUN(c, REDBRIDGE_OK, "CLIENT", "GETNAME");
    CHECK(r && r->str && strcmp(r->str, "c-tests") == 0, "client name applied");
    redbridge_reply_free(r);
    redbridge_reply_free(RUN(c, REDBRIDGE_OK, "KEYS", "c:nothing*"));
    CHECK(warnings == 1, "guard warning reached the callback: %d", warnings);
    r = RUN(c, REDBRIDGE_ERR_TIMEOUT, "DEBUG", "SLEEP", "0.3");
    CHECK(r == NULL, "no reply on timeout");
    CHECK(strstr(redbridge_last_error(), "timed out") != NULL, "%s", redbridge_last_error());
    redbridge_stats st;
    CHECK(redbridge_client_stats(c, &st) == REDBRIDGE_OK, "stats");
    CHECK(st.requests >= 3 && st.errors[REDBRIDGE_ERR_TIMEOUT] == 1, "requests %llu timeouts %llu",
          (unsigned long long)st.requests, (unsigned long long)st.errors[REDBRIDGE_ERR_TIMEOUT]);
    redbridge_client_free(c);

    CHECK(redbridge_config_set_guard(cfg, "deny") == REDBRIDGE_OK, "deny");
    CHECK(redbridge_client_open_config(cfg, &c) == REDBRIDGE_OK, "open deny");
    r = RUN(c, REDBRIDGE_ERR_DENIED, "KEYS", "*");
    CHECK(r == NULL && strstr(redbridge_last_error(), "SCAN") != NULL, "refused, names SCAN");
    redbridge_client_free(c);
    redbridge_config_free(cfg);
}

/* Every typed setter, then a client opened with them, proves each one took. */
void test_every_setter(void) {
    redbridge_config *cfg = NULL;
    CHECK(redbridge_config_from_url(url, &cfg) == REDBRIDGE_OK, "from url");
    /* The URL is redis://127.0.0.1:PORT: re-set host and port through the setters. */
    const char *colon = strrchr(url, ':');
    int port = colon ? atoi(colon + 1) : 6379;
    CHECK(redbridge_config_set_host(cfg, "127.0.0.1") == REDBRIDGE_OK, "host");
    CHECK(redbridge_config_set_port(cfg, (uint16_t)port) == REDBRIDGE_OK, "port");
    CHECK(redbridge_config_set_db(cfg, 2) == REDBRIDGE_OK, "db");
    CHECK(redbridge_config_set_protocol(cfg, 2) == REDBRIDGE_OK, "protocol");
    CHECK(redbridge_config_set_protocol(cfg, 4) == REDBRIDGE_ERR_INVALID_ARGUMENT, "protocol 4");
    CHECK(redbridge_config_set_client_name(cfg, "setters") == REDBRIDGE_OK, "name");
    CHECK(redbridge_config_set_connect_timeout_ms(cfg, 1500) == REDBRIDGE_OK, "connect timeout");
    CHECK(redbridge_config_set_response_timeout_ms(cfg, 3000) == REDBRIDGE_OK, "response timeout");
    CHECK(redbridge_config_set_pool_timeout_ms(cfg, 700) == REDBRIDGE_OK, "pool timeout");
    CHECK(redbridge_config_set_max_connections(cfg, 3) == REDBRIDGE_OK, "max connections");
    CHECK(redbridge_config_set_retries(cfg, 1) == REDBRIDGE_OK, "retries");
    CHECK(redbridge_config_set_retry_on_timeout(cfg, true) == REDBRIDGE_OK, "retry on timeout");
    CHECK(redbridge_config_set_mode(cfg, "pooled") == REDBRIDGE_OK, "mode");
    CHECK(redbridge_config_set_mode(cfg, "weird") == REDBRIDGE_ERR_INVALID_ARGUMENT, "bad mode");
    CHECK(redbridge_config_set_guard(cfg, "off") == REDBRIDGE_OK, "guard");
    CHECK(redbridge_config_set_guard_threshold(cfg, 10) == REDBRIDGE_OK, "guard threshold");
    CHECK(redbridge_config_set_username(cfg, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL username");
    CHECK(redbridge_config_set_password(cfg, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL password");
    CHECK(redbridge_config_set_unix_socket(NULL, "/tmp/x") == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL config");
    redbridge_client *c = NULL;
    CHECK(redbridge_client_open_config(cfg, &c) == REDBRIDGE_OK, "open with every setter");
    if (c) {
        redbridge_reply *r = RUN(c, REDBRIDGE_OK, "SET", "setters:k", "in-db-2");
        redbridge_reply_free(r);
        r = RUN(c, REDBRIDGE_OK, "CLIENT", "GETNAME");
        CHECK(r && r->str && strcmp(r->str, "setters") == 0, "name applied");
        redbridge_reply_free(r);
        redbridge_reply_free(RUN(c, REDBRIDGE_OK, "KEYS", "*")); /* guard off: no warning, no refusal */
        redbridge_stats st;
        redbridge_client_stats(c, &st);
        CHECK(st.pool_max_size == 3 && st.pool_size >= 1, "pooled mode, max 3: %llu/%llu",
              (unsigned long long)st.pool_size, (unsigned long long)st.pool_max_size);
        redbridge_client_free(c);
    }
    redbridge_client *plain = open_client();
    redbridge_reply *r = RUN(plain, REDBRIDGE_OK, "GET", "setters:k");
    CHECK(r && r->type == REDBRIDGE_REPLY_NIL, "db 0 does not have the db 2 key");
    redbridge_reply_free(r);
    redbridge_client_free(plain);
    /* A unix socket path that does not exist: a connection error naming it. */
    CHECK(redbridge_config_set_unix_socket(cfg, "/nonexistent/redbridge.sock") == REDBRIDGE_OK, "unix socket");
    CHECK(redbridge_client_open_config(cfg, &c) == REDBRIDGE_ERR_CONNECTION, "no such socket");
    redbridge_config_free(cfg);
    for (int s = 0; s <= 11; s++) CHECK(strncmp(redbridge_status_name((redbridge_status)s), "REDBRIDGE_", 10) == 0, "status name %d", s);
    CHECK(strcmp(redbridge_status_name(REDBRIDGE_ERR_PANIC), "REDBRIDGE_ERR_PANIC") == 0, "panic name");
}

/* Bad input (NULLs, bad URLs, bad options), every reply type, binary-safe arguments. */
#include "support.h"

void test_bad_input(void) {
    redbridge_client *c = NULL;
    CHECK(redbridge_client_open("ftp://nowhere", &c) == REDBRIDGE_ERR_INVALID_ARGUMENT, "bad scheme");
    CHECK(strstr(redbridge_last_error(), "scheme") != NULL, "message names the scheme: %s", redbridge_last_error());
    CHECK(c == NULL, "out untouched on failure");
    CHECK(redbridge_client_open(NULL, &c) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL url");
    CHECK(strstr(redbridge_last_error(), "url") != NULL, "names the argument");
    CHECK(redbridge_client_open(url, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL out");
    CHECK(redbridge_client_open("redis://127.0.0.1:1", &c) == REDBRIDGE_ERR_CONNECTION, "nobody listens on port 1");
    CHECK(strstr(redbridge_last_error(), "127.0.0.1:1") != NULL, "names the address: %s", redbridge_last_error());

    redbridge_client *ok = open_client();
    redbridge_reply *r = NULL;
    const char *argv[] = {"GET", NULL};
    CHECK(redbridge_command_strv(NULL, 1, argv, &r) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL client");
    CHECK(redbridge_command_strv(ok, 2, argv, &r) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL argv element");
    CHECK(strstr(redbridge_last_error(), "argv[1]") != NULL, "names argv[1]");
    CHECK(redbridge_command_strv(ok, 0, argv, &r) == REDBRIDGE_ERR_INVALID_ARGUMENT, "argc 0");
    CHECK(redbridge_command_strv(ok, 1, NULL, &r) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL argv");
    CHECK(redbridge_command_strv(ok, 1, argv, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL reply");
    CHECK(r == NULL, "reply untouched");
    const char *sel[] = {"SELECT", "1"};
    CHECK(redbridge_command_strv(ok, 2, sel, &r) == REDBRIDGE_ERR_INVALID_ARGUMENT, "SELECT refused");
    CHECK(strstr(redbridge_last_error(), "db option") != NULL, "%s", redbridge_last_error());
    redbridge_stats st;
    CHECK(redbridge_client_stats(ok, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL stats");
    CHECK(redbridge_client_stats(NULL, &st) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL client stats");
    CHECK(redbridge_pipeline_len(NULL) == 0, "len of NULL");
    CHECK(redbridge_pipeline_execute(ok, NULL, &r) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL pipeline");
    redbridge_scan *sc = NULL;
    CHECK(redbridge_scan_new(ok, 42, NULL, 0, NULL, 0, NULL, &sc) == REDBRIDGE_ERR_INVALID_ARGUMENT, "bad scan kind");
    CHECK(redbridge_scan_new(ok, REDBRIDGE_SCAN_SET, NULL, 0, NULL, 0, NULL, &sc) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL key");
    CHECK(redbridge_scan_next(NULL, &r) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL scan");
    CHECK(redbridge_config_set(NULL, "db", "1") == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL config");
    redbridge_config *cfg = redbridge_config_new();
    CHECK(redbridge_config_set(cfg, "colour", "red") == REDBRIDGE_ERR_INVALID_ARGUMENT, "unknown option");
    CHECK(strstr(redbridge_last_error(), "colour") != NULL, "names the option");
    CHECK(redbridge_config_set(cfg, "response_timeout", "soon") == REDBRIDGE_ERR_INVALID_ARGUMENT, "bad duration");
    CHECK(redbridge_config_set_max_connections(cfg, 0) == REDBRIDGE_OK, "set is lazy");
    CHECK(redbridge_client_open_config(cfg, &c) == REDBRIDGE_ERR_INVALID_ARGUMENT, "checked at open");
    CHECK(strstr(redbridge_last_error(), "max_connections") != NULL, "%s", redbridge_last_error());
    redbridge_config_free(cfg);
    /* Freeing NULL is a no-op, for every handle. */
    redbridge_client_free(NULL);
    redbridge_config_free(NULL);
    redbridge_pipeline_free(NULL);
    redbridge_scan_free(NULL);
    redbridge_reply_free(NULL);
    redbridge_client_free(ok);
}

void test_replies(void) {
    redbridge_client *c = open_client();
    redbridge_reply *r = RUN(c, REDBRIDGE_OK, "SET", "c:s", "hello");
    CHECK(r && r->type == REDBRIDGE_REPLY_STATUS && strcmp(r->str, "OK") == 0 && r->len == 2, "SET -> OK");
    redbridge_reply_free(r);
    r = RUN(c, REDBRIDGE_OK, "GET", "c:s");
    CHECK(r && r->type == REDBRIDGE_REPLY_STRING && r->len == 5 && strcmp(r->str, "hello") == 0, "GET");
    redbridge_reply_free(r);
    r = RUN(c, REDBRIDGE_OK, "GET", "c:missing");
    CHECK(r && r->type == REDBRIDGE_REPLY_NIL, "nil");
    redbridge_reply_free(r);
    r = RUN(c, REDBRIDGE_OK, "INCRBY", "c:n", "41");
    redbridge_reply_free(r);
    r = RUN(c, REDBRIDGE_OK, "INCR", "c:n");
    CHECK(r && r->type == REDBRIDGE_REPLY_INTEGER && r->integer == 42, "INCR");
    redbridge_reply_free(r);
    r = RUN(c, REDBRIDGE_OK, "MGET", "c:s", "c:missing");
    CHECK(r && r->type == REDBRIDGE_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDBRIDGE_REPLY_STRING &&
              r->element[1]->type == REDBRIDGE_REPLY_NIL, "MGET");
    redbridge_reply_free(r);
    /* A server error: status RESPONSE and an ERROR reply, hiredis style. */
    r = RUN(c, REDBRIDGE_ERR_RESPONSE, "LPUSH", "c:s", "x");
    CHECK(r && r->type == REDBRIDGE_REPLY_ERROR && strncmp(r->str, "WRONGTYPE", 9) == 0, "error reply");
    CHECK(strncmp(redbridge_last_error(), "WRONGTYPE", 9) == 0, "last error");
    redbridge_reply_free(r);
    /* RESP3 types. */
    redbridge_reply_free(RUN(c, REDBRIDGE_OK, "DEL", "c:h", "c:z", "c:set"));
    redbridge_reply_free(RUN(c, REDBRIDGE_OK, "HSET", "c:h", "a", "1", "b", "2"));
    r = RUN(c, REDBRIDGE_OK, "HGETALL", "c:h");
    CHECK(r && r->type == REDBRIDGE_REPLY_MAP && r->elements == 4, "HGETALL is a map of 2 pairs");
    redbridge_reply_free(r);
    redbridge_reply_free(RUN(c, REDBRIDGE_OK, "ZADD", "c:z", "1.5", "m"));
    r = RUN(c, REDBRIDGE_OK, "ZSCORE", "c:z", "m");
    CHECK(r && r->type == REDBRIDGE_REPLY_DOUBLE && r->dval == 1.5 && strcmp(r->str, "1.5") == 0, "double");
    redbridge_reply_free(r);
    redbridge_reply_free(RUN(c, REDBRIDGE_OK, "SADD", "c:set", "x"));
    r = RUN(c, REDBRIDGE_OK, "SMEMBERS", "c:set");
    CHECK(r && r->type == REDBRIDGE_REPLY_SET && r->elements == 1, "set");
    redbridge_reply_free(r);
    /* The convenience macro. */
    r = NULL;
    CHECK(REDBRIDGE_COMMAND(c, &r, "ECHO", "macro") == REDBRIDGE_OK, "macro");
    CHECK(r && strcmp(r->str, "macro") == 0, "macro reply");
    redbridge_reply_free(r);
    redbridge_client_free(c);
}

void test_binary(void) {
    redbridge_client *c = open_client();
    const char value[] = {'a', 0, 'b', 0, '\r', '\n', (char)0xff};
    const char *argv[] = {"SET", "c:bin\0key", value};
    size_t lens[] = {3, 9, sizeof value};
    redbridge_reply *r = NULL;
    CHECK(redbridge_command_argv(c, 3, argv, lens, &r) == REDBRIDGE_OK, "binary SET");
    redbridge_reply_free(r);
    const char *get[] = {"GET", "c:bin\0key"};
    size_t glens[] = {3, 9};
    r = NULL;
    CHECK(redbridge_command_argv(c, 2, get, glens, &r) == REDBRIDGE_OK, "binary GET");
    CHECK(r && r->len == sizeof value && memcmp(r->str, value, sizeof value) == 0 && r->str[r->len] == 0,
          "bytes with NUL come back intact and NUL-terminated");
    redbridge_reply_free(r);
    redbridge_client_free(c);
}

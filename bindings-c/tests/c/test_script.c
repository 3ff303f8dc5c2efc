/* Lua scripts by SHA1 (redbridge_script_*): EVAL on a fresh server, EVALSHA after, the
 * server's errors, NULL and bad arguments, binary-safe keys and arguments. */
#include "support.h"

/* `calls=` of INFO commandstats for `cmd` ("evalsha"), 0 before its first call. */
static long calls_of(redbridge_client *c, const char *cmd) {
    redbridge_reply *r = RUN(c, REDBRIDGE_OK, "INFO", "commandstats");
    long n = 0;
    if (r && r->str) {
        char field[64];
        snprintf(field, sizeof field, "cmdstat_%s:calls=", cmd);
        const char *at = strstr(r->str, field);
        if (at) n = strtol(at + strlen(field), NULL, 10);
    }
    redbridge_reply_free(r);
    return n;
}

static void test_fallback_then_sha(redbridge_client *c) {
    redbridge_reply_free(RUN(c, REDBRIDGE_OK, "SCRIPT", "FLUSH"));
    redbridge_reply_free(RUN(c, REDBRIDGE_OK, "CONFIG", "RESETSTAT"));
    const char body[] = "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])";
    redbridge_script *s = NULL;
    CHECK(redbridge_script_new(body, strlen(body), &s) == REDBRIDGE_OK && s, "script_new");

    /* The SHA is the server's. */
    redbridge_reply *r = RUN(c, REDBRIDGE_OK, "SCRIPT", "EXISTS", redbridge_script_sha(s));
    CHECK(r && r->elements == 1 && r->element[0]->integer == 0, "not on the fresh server");
    redbridge_reply_free(r);
    const char *sha = redbridge_script_sha(s);
    CHECK(sha && strlen(sha) == 40, "40 hex digits: %s", sha ? sha : "(null)");

    const char *argv[] = {"sc:c", "one"};
    r = NULL;
    CHECK(redbridge_script_eval(c, s, 1, 2, argv, NULL, &r) == REDBRIDGE_OK, "first run falls back");
    CHECK(r && r->type == REDBRIDGE_REPLY_STRING && strcmp(r->str, "one") == 0, "its reply");
    redbridge_reply_free(r);
    CHECK(calls_of(c, "evalsha") == 1 && calls_of(c, "eval") == 1, "EVALSHA, then EVAL");

    argv[1] = "two";
    r = NULL;
    CHECK(redbridge_script_eval(c, s, 1, 2, argv, NULL, &r) == REDBRIDGE_OK, "second run");
    CHECK(r && r->type == REDBRIDGE_REPLY_STRING && strcmp(r->str, "two") == 0, "its reply");
    redbridge_reply_free(r);
    CHECK(calls_of(c, "evalsha") == 2 && calls_of(c, "eval") == 1, "by SHA only: evalsha %ld, eval %ld",
          calls_of(c, "evalsha"), calls_of(c, "eval"));

    r = RUN(c, REDBRIDGE_OK, "SCRIPT", "LOAD", body);
    CHECK(r && strcmp(r->str, sha) == 0, "SCRIPT LOAD answers the same SHA");
    redbridge_reply_free(r);

    /* Read-only: EVALSHA_RO / EVAL_RO, and a write refused. */
    const char *key[] = {"sc:c", "three"};
    CHECK(redbridge_script_set_read_only(s, true) == REDBRIDGE_OK, "set_read_only");
    r = NULL;
    CHECK(redbridge_script_eval(c, s, 1, 2, key, NULL, &r) == REDBRIDGE_ERR_RESPONSE, "write in a RO script");
    CHECK(r && r->type == REDBRIDGE_REPLY_ERROR && strstr(r->str, "read-only"), "the server's error");
    redbridge_reply_free(r);
    const char get[] = "return redis.call('GET', KEYS[1])";
    redbridge_script *ro = NULL;
    CHECK(redbridge_script_new(get, strlen(get), &ro) == REDBRIDGE_OK, "script_new");
    CHECK(redbridge_script_set_read_only(ro, true) == REDBRIDGE_OK, "set_read_only");
    CHECK(redbridge_script_sha(ro) && strcmp(redbridge_script_sha(ro), redbridge_script_sha(s)) != 0, "own SHA");
    long ro_calls = calls_of(c, "evalsha_ro");
    r = NULL;
    CHECK(redbridge_script_eval(c, ro, 1, 1, key, NULL, &r) == REDBRIDGE_OK, "RO script");
    CHECK(r && r->type == REDBRIDGE_REPLY_STRING && strcmp(r->str, "two") == 0, "its reply");
    redbridge_reply_free(r);
    CHECK(calls_of(c, "evalsha_ro") == ro_calls + 1, "sent as EVALSHA_RO");
    redbridge_script_free(ro);
    redbridge_script_free(s);
}

static void test_script_errors(redbridge_client *c) {
    const char raise[] = "return redis.error_reply('MYERR no luck')";
    redbridge_script *s = NULL;
    CHECK(redbridge_script_new(raise, strlen(raise), &s) == REDBRIDGE_OK, "script_new");
    for (int i = 0; i < 2; i++) { /* by EVAL, then by SHA */
        redbridge_reply *r = NULL;
        CHECK(redbridge_script_eval(c, s, 0, 0, NULL, NULL, &r) == REDBRIDGE_ERR_RESPONSE, "script error");
        CHECK(r && r->type == REDBRIDGE_REPLY_ERROR && strcmp(r->str, "MYERR no luck") == 0, "reply: %s",
              r ? r->str : "(none)");
        CHECK(strcmp(redbridge_last_error(), "MYERR no luck") == 0, "last error");
        redbridge_reply_free(r);
    }
    redbridge_script_free(s);
    const char bad[] = "this is not lua";
    CHECK(redbridge_script_new(bad, strlen(bad), &s) == REDBRIDGE_OK, "made without the server");
    redbridge_reply *r = NULL;
    CHECK(redbridge_script_eval(c, s, 0, 0, NULL, NULL, &r) == REDBRIDGE_ERR_RESPONSE, "Lua syntax error");
    CHECK(r && strncmp(r->str, "ERR", 3) == 0, "ERR …");
    redbridge_reply_free(r);
    redbridge_script_free(s);
}

static void test_script_bad_input(redbridge_client *c) {
    redbridge_script *s = NULL;
    CHECK(redbridge_script_new(NULL, 0, &s) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL body");
    CHECK(strstr(redbridge_last_error(), "body") != NULL, "names it: %s", redbridge_last_error());
    CHECK(redbridge_script_new("return 1", 8, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL out");
    CHECK(s == NULL, "out untouched");
    CHECK(redbridge_script_sha(NULL) == NULL, "sha of NULL");
    CHECK(strstr(redbridge_last_error(), "script") != NULL, "names it: %s", redbridge_last_error());
    CHECK(redbridge_script_new("return 1", 8, &s) == REDBRIDGE_OK, "script_new");

    const char *argv[] = {"k", NULL};
    redbridge_reply *r = NULL;
    CHECK(redbridge_script_eval(NULL, s, 0, 0, NULL, NULL, &r) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL client");
    CHECK(strstr(redbridge_last_error(), "client") != NULL, "%s", redbridge_last_error());
    CHECK(redbridge_script_eval(c, NULL, 0, 0, NULL, NULL, &r) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL script");
    CHECK(strstr(redbridge_last_error(), "script") != NULL, "%s", redbridge_last_error());
    CHECK(redbridge_script_eval(c, s, 0, 0, NULL, NULL, NULL) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL reply");
    CHECK(redbridge_script_eval(c, s, 0, 1, NULL, NULL, &r) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL argv");
    CHECK(strstr(redbridge_last_error(), "argv") != NULL, "%s", redbridge_last_error());
    CHECK(redbridge_script_eval(c, s, 0, 2, argv, NULL, &r) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL argv[1]");
    CHECK(strstr(redbridge_last_error(), "argv[1]") != NULL, "%s", redbridge_last_error());
    CHECK(redbridge_script_eval(c, s, 2, 1, argv, NULL, &r) == REDBRIDGE_ERR_INVALID_ARGUMENT, "numkeys > argc");
    CHECK(strstr(redbridge_last_error(), "numkeys") != NULL, "%s", redbridge_last_error());
    CHECK(redbridge_script_eval(c, s, -1, 1, argv, NULL, &r) == REDBRIDGE_ERR_INVALID_ARGUMENT, "negative");
    CHECK(redbridge_script_eval(c, s, 0, -1, argv, NULL, &r) == REDBRIDGE_ERR_INVALID_ARGUMENT, "negative");
    CHECK(redbridge_script_set_read_only(NULL, true) == REDBRIDGE_ERR_INVALID_ARGUMENT, "NULL script");
    CHECK(r == NULL, "reply untouched");
    redbridge_script_free(s);
    redbridge_script_free(NULL);
}

static void test_script_binary(redbridge_client *c) {
    /* A body with a NUL byte inside a Lua string literal: hashed and sent whole. */
    const char body[] = "return {KEYS[1], ARGV[1], #ARGV, 'a\0b'}";
    redbridge_script *s = NULL;
    CHECK(redbridge_script_new(body, sizeof body - 1, &s) == REDBRIDGE_OK, "binary body");
    const char key[] = {'s', 'c', 0, 'k'};
    const char value[] = {'v', 0, '\r', '\n', (char)0xff};
    const char *argv[] = {key, value};
    size_t lens[] = {sizeof key, sizeof value};
    for (int i = 0; i < 2; i++) {
        redbridge_reply *r = NULL;
        CHECK(redbridge_script_eval(c, s, 1, 2, argv, lens, &r) == REDBRIDGE_OK, "binary run");
        CHECK(r && r->type == REDBRIDGE_REPLY_ARRAY && r->elements == 4, "array of 4");
        if (r && r->elements == 4) {
            CHECK(r->element[0]->len == sizeof key && memcmp(r->element[0]->str, key, sizeof key) == 0, "key");
            CHECK(r->element[1]->len == sizeof value && memcmp(r->element[1]->str, value, sizeof value) == 0,
                  "argument");
            CHECK(r->element[2]->type == REDBRIDGE_REPLY_INTEGER && r->element[2]->integer == 1, "#ARGV");
            CHECK(r->element[3]->len == 3 && memcmp(r->element[3]->str, "a\0b", 3) == 0, "NUL in the body");
        }
        redbridge_reply_free(r);
    }
    redbridge_script_free(s);
}

void test_script(void) {
    redbridge_client *c = open_client();
    test_fallback_then_sha(c);
    test_script_errors(c);
    test_script_bad_input(c);
    test_script_binary(c);
    redbridge_client_free(c);
}

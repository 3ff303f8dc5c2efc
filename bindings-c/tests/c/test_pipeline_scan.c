/* Pipelines and MULTI/EXEC; SCAN and HSCAN cursors. */
#include "support.h"

void test_pipeline(void) {
    redbridge_client *c = open_client();
    redbridge_pipeline *p = redbridge_pipeline_new(false);
    const char *a1[] = {"SET", "c:p", "text"};
    const char *a2[] = {"INCR", "c:p"};
    const char *a3[] = {"GET", "c:p"};
    CHECK(redbridge_pipeline_append_argv(p, 3, a1, NULL) == REDBRIDGE_OK, "append");
    redbridge_pipeline_append_argv(p, 2, a2, NULL);
    redbridge_pipeline_append_argv(p, 2, a3, NULL);
    CHECK(redbridge_pipeline_len(p) == 3, "len");
    redbridge_reply *r = NULL;
    CHECK(redbridge_pipeline_execute(c, p, &r) == REDBRIDGE_OK, "execute");
    CHECK(r && r->type == REDBRIDGE_REPLY_ARRAY && r->elements == 3, "3 slots");
    if (r && r->elements == 3) {
        CHECK(r->element[0]->type == REDBRIDGE_REPLY_STATUS, "slot 0 OK");
        CHECK(r->element[1]->type == REDBRIDGE_REPLY_ERROR && strstr(r->element[1]->str, "ERR") != NULL,
              "slot 1 is an ERROR element, not a failed call");
        CHECK(r->element[2]->type == REDBRIDGE_REPLY_STRING && strcmp(r->element[2]->str, "text") == 0, "slot 2");
    }
    redbridge_reply_free(r);
    redbridge_pipeline_free(p);

    redbridge_pipeline *tx = redbridge_pipeline_new(true);
    const char *t1[] = {"SET", "c:tx", "1"};
    const char *t2[] = {"INCR", "c:tx"};
    redbridge_pipeline_append_argv(tx, 3, t1, NULL);
    redbridge_pipeline_append_argv(tx, 2, t2, NULL);
    r = NULL;
    CHECK(redbridge_pipeline_execute(c, tx, &r) == REDBRIDGE_OK, "MULTI/EXEC");
    CHECK(r && r->elements == 2 && r->element[1]->integer == 2, "transaction results");
    redbridge_reply_free(r);
    redbridge_pipeline_free(tx);
    const char *bad[] = {"MULTI"};
    redbridge_pipeline *p2 = redbridge_pipeline_new(false);
    redbridge_pipeline_append_argv(p2, 1, bad, NULL);
    r = NULL;
    CHECK(redbridge_pipeline_execute(c, p2, &r) == REDBRIDGE_ERR_INVALID_ARGUMENT, "MULTI inside a pipeline");
    redbridge_pipeline_free(p2);
    redbridge_client_free(c);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void test_scan(void) {
    redbridge_client *c = open_client();
    redbridge_pipeline *p = redbridge_pipeline_new(false);
    char key[32], field[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "c:scan:%d", i);
        const char *argv[] = {"SET", key, "v"};
        redbridge_pipeline_append_argv(p, 3, argv, NULL);
        snprintf(field, sizeof field, "f%d", i);
        const char *h[] = {"HSET", "c:scanhash", field, "v"};
        redbridge_pipeline_append_argv(p, 4, h, NULL);
    }
    redbridge_reply *r = NULL;
    CHECK(redbridge_pipeline_execute(c, p, &r) == REDBRIDGE_OK, "fill");
    redbridge_reply_free(r);
    redbridge_pipeline_free(p);

    redbridge_scan *sc = NULL;
    CHECK(redbridge_scan_new(c, REDBRIDGE_SCAN_KEYS, NULL, 0, "c:scan:*", 100, "string", &sc) == REDBRIDGE_OK, "scan");
    char **seen = calloc(2000, sizeof *seen);
    size_t n = 0;
    for (int guard = 0; guard < 10000; guard++) {
        redbridge_reply *batch = NULL;
        if (redbridge_scan_next(sc, &batch) != REDBRIDGE_OK || batch == NULL) break;
        for (size_t i = 0; i < batch->elements && n < 2000; i++) seen[n++] = strdup(batch->element[i]->str);
        redbridge_reply_free(batch);
    }
    qsort(seen, n, sizeof *seen, cmp_str);
    size_t unique = n ? 1 : 0;
    for (size_t i = 1; i < n; i++) unique += strcmp(seen[i], seen[i - 1]) != 0;
    CHECK(unique == 1000, "every key once: %zu unique of %zu", unique, n);
    for (size_t i = 0; i < n; i++) free(seen[i]);
    free(seen);
    redbridge_scan_free(sc);

    CHECK(redbridge_scan_new(c, REDBRIDGE_SCAN_HASH, "c:scanhash", 10, NULL, 0, NULL, &sc) == REDBRIDGE_OK, "hscan");
    size_t pairs = 0;
    int shaped = 1;
    for (int guard = 0; guard < 10000; guard++) {
        redbridge_reply *batch = NULL;
        if (redbridge_scan_next(sc, &batch) != REDBRIDGE_OK || batch == NULL) break;
        for (size_t i = 0; i < batch->elements; i++) shaped &= batch->element[i]->elements == 2;
        pairs += batch->elements;
        redbridge_reply_free(batch);
    }
    CHECK(pairs >= 1000 && shaped, "HSCAN pairs: %zu", pairs);
    redbridge_scan_free(sc);
    redbridge_client_free(c);
}

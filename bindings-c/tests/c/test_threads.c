/* One client shared by 8 threads. */
#include "support.h"

struct worker {
    redbridge_client *c;
    int id, bad;
};

static void *worker_main(void *arg) {
    struct worker *w = arg;
    char key[32], val[32];
    for (int i = 0; i < 300; i++) {
        snprintf(key, sizeof key, "c:thread:%d", w->id);
        snprintf(val, sizeof val, "%d-%d", w->id, i);
        const char *set[] = {"SET", key, val};
        const char *get[] = {"GET", key};
        redbridge_reply *r = NULL;
        if (redbridge_command_strv(w->c, 3, set, &r) != REDBRIDGE_OK) w->bad++;
        redbridge_reply_free(r);
        r = NULL;
        if (redbridge_command_strv(w->c, 2, get, &r) != REDBRIDGE_OK || strcmp(r->str, val) != 0) w->bad++;
        redbridge_reply_free(r);
    }
    return NULL;
}

void test_threads(void) {
    redbridge_client *c = open_client();
    pthread_t t[8];
    struct worker w[8];
    for (int i = 0; i < 8; i++) {
        w[i] = (struct worker){c, i, 0};
        pthread_create(&t[i], NULL, worker_main, &w[i]);
    }
    int bad = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        bad += w[i].bad;
    }
    CHECK(bad == 0, "8 threads sharing one client: %d bad replies", bad);
    redbridge_client_free(c);
}

/* The shared conformance vectors (tests/conformance/vectors.json) under RESP2 and RESP3. */
#include "support.h"

/* --- conformance vectors (tests/conformance/to_lines.py format) --- */

static size_t unhex(const char *hex, char *out) {
    if (strcmp(hex, "-") == 0) return 0;
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) sscanf(hex + 2 * i, "%2hhx", (unsigned char *)&out[i]);
    return n;
}

static void hexify(const char *s, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", (unsigned char)s[i]);
    out[2 * n] = 0;
}

static int cmp_canon(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Renders a reply in the canonical form of to_lines.py; `sorted` sorts the children. */
static char *canon(const redbridge_reply *r, int sorted) {
    char *out = malloc(64 + 2 * r->len + 1);
    switch (r->type) {
    case REDBRIDGE_REPLY_NIL: strcpy(out, "N"); return out;
    case REDBRIDGE_REPLY_INTEGER: sprintf(out, "I%lld", r->integer); return out;
    case REDBRIDGE_REPLY_BOOL: sprintf(out, "b%lld", r->integer); return out;
    case REDBRIDGE_REPLY_DOUBLE: sprintf(out, "D%.17g", r->dval); return out;
    case REDBRIDGE_REPLY_STRING: out[0] = 'B'; hexify(r->str, r->len, out + 1); return out;
    case REDBRIDGE_REPLY_STATUS: out[0] = 'S'; hexify(r->str, r->len, out + 1); return out;
    case REDBRIDGE_REPLY_ERROR: out[0] = 'E'; strcpy(out + 1, r->str); *strchrnul(out, ' ') = 0; return out;
    default: break;
    }
    free(out);
    int map = r->type == REDBRIDGE_REPLY_MAP;
    size_t n = map ? r->elements / 2 : r->elements;
    char **parts = calloc(n ? n : 1, sizeof *parts);
    size_t total = 8;
    for (size_t i = 0; i < n; i++) {
        if (map) {
            char *k = canon(r->element[2 * i], 0), *v = canon(r->element[2 * i + 1], 0);
            parts[i] = malloc(strlen(k) + strlen(v) + 2);
            sprintf(parts[i], "%s=%s", k, v);
            free(k);
            free(v);
        } else {
            parts[i] = canon(r->element[i], 0);
        }
        total += strlen(parts[i]) + 1;
    }
    if (sorted || map || r->type == REDBRIDGE_REPLY_SET) qsort(parts, n, sizeof *parts, cmp_canon);
    out = malloc(total);
    strcpy(out, map ? "M[" : r->type == REDBRIDGE_REPLY_SET ? "T[" : "A[");
    for (size_t i = 0; i < n; i++) {
        if (i) strcat(out, ",");
        strcat(out, parts[i]);
        free(parts[i]);
    }
    strcat(out, "]");
    free(parts);
    return out;
}

/* Runs one line's arguments as a command; returns the status and reply. */
static redbridge_status run_hex(redbridge_client *c, char *line, redbridge_reply **r) {
    const char *argv[32];
    size_t lens[32];
    char *bufs[32];
    int argc = 0;
    for (char *tok = strtok(line, " \n"); tok && argc < 32; tok = strtok(NULL, " \n")) {
        bufs[argc] = malloc(strlen(tok) / 2 + 1);
        lens[argc] = unhex(tok, bufs[argc]);
        argv[argc] = bufs[argc];
        argc++;
    }
    redbridge_status s = redbridge_command_argv(c, argc, argv, lens, r);
    for (int i = 0; i < argc; i++) free(bufs[i]);
    return s;
}

void test_conformance(const char *path) {
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "vectors file %s", path);
    if (!f) return;
    char base[512];
    for (int proto = 2; proto <= 3; proto++) {
        snprintf(base, sizeof base, "%s%cprotocol=%d", url, strchr(url, '?') ? '&' : '?', proto);
        redbridge_client *c = NULL;
        if (redbridge_client_open(base, &c) != REDBRIDGE_OK) {
            CHECK(0, "open %s", base);
            continue;
        }
        rewind(f);
        char line[4096], name[512] = "", got_name[512];
        redbridge_reply *got = NULL;
        redbridge_status got_status = REDBRIDGE_OK;
        int cases = 0;
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "CASE ", 5) == 0) {
                snprintf(name, sizeof name, "%s", line + 5);
                name[strcspn(name, "\n")] = 0;
            } else if (strncmp(line, "SETUP ", 6) == 0) {
                redbridge_reply *r = NULL;
                run_hex(c, line + 6, &r);
                redbridge_reply_free(r);
            } else if (strncmp(line, "CMD ", 4) == 0) {
                got = NULL;
                got_status = run_hex(c, line + 4, &got);
                snprintf(got_name, sizeof got_name, "%s", name);
            } else if ((proto == 2 && strncmp(line, "EXPECT2 ", 8) == 0) ||
                       (proto == 3 && strncmp(line, "EXPECT3 ", 8) == 0)) {
                char *want = line + 8;
                int unordered = strncmp(want, "UNORDERED ", 10) == 0;
                if (unordered) want += 10;
                want[strcspn(want, "\n")] = 0;
                char *text = got ? canon(got, unordered) : strdup("(no reply)");
                CHECK(strcmp(text, want) == 0 && (got_status == REDBRIDGE_OK || got_status == REDBRIDGE_ERR_RESPONSE),
                      "RESP%d %s: want %s, got %s", proto, got_name, want, text);
                free(text);
                redbridge_reply_free(got);
                got = NULL;
                cases++;
            }
        }
        CHECK(cases >= 30, "ran %d vectors", cases);
        redbridge_client_free(c);
    }
    fclose(f);
}

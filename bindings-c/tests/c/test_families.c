/* How replies of each command family look through redbridge_reply, under RESP3 (the
 * default) and RESP2: the shapes bindings-c/README.md documents ("Replies by command
 * family"), one command per family. A shape is written as the reply's type tree:
 * S string, T status, I integer, D double, B bool, N nil, E error, A[…] array,
 * M[…] map (keys and values alternating), Z[…] set. */
#include "support.h"

static void shape_of(const redbridge_reply *r, char *buf, size_t cap) {
    static const char letters[] = "?SAINTEDBMZ?PGV";
    size_t n = strlen(buf);
    if (n + 2 >= cap) return;
    int t = r->type;
    buf[n] = (t > 0 && t < (int)sizeof letters - 1) ? letters[t] : '?';
    buf[n + 1] = 0;
    if (t == REDBRIDGE_REPLY_ARRAY || t == REDBRIDGE_REPLY_MAP || t == REDBRIDGE_REPLY_SET ||
        t == REDBRIDGE_REPLY_PUSH) {
        strncat(buf, "[", cap - strlen(buf) - 1);
        for (size_t i = 0; i < r->elements; i++) {
            if (i) strncat(buf, ",", cap - strlen(buf) - 1);
            shape_of(r->element[i], buf, cap);
        }
        strncat(buf, "]", cap - strlen(buf) - 1);
    }
}

/* Runs a command and checks its reply's shape. */
#define SHAPE(c, want, ...)                                                                 \
    do {                                                                                    \
        redbridge_reply *r_ = RUN((c), REDBRIDGE_OK, __VA_ARGS__);                          \
        char got_[512] = "";                                                                \
        if (r_) shape_of(r_, got_, sizeof got_);                                            \
        CHECK(strcmp(got_, (want)) == 0, "%s: shape %s, want %s", #__VA_ARGS__, got_, want); \
        redbridge_reply_free(r_);                                                           \
    } while (0)

static redbridge_client *open_protocol(const char *protocol) {
    redbridge_config *cfg = NULL;
    redbridge_client *c = NULL;
    if (redbridge_config_from_url(url, &cfg) != REDBRIDGE_OK) return NULL;
    redbridge_config_set(cfg, "protocol", protocol);
    redbridge_status st = redbridge_client_open_config(cfg, &c);
    redbridge_config_free(cfg);
    CHECK(st == REDBRIDGE_OK, "open with protocol %s", protocol);
    return c;
}

static void families(redbridge_client *c, bool resp3) {
    redbridge_reply_free(RUN(c, REDBRIDGE_OK, "DEL", "fam:s", "fam:g", "fam:h", "fam:set", "fam:z", "fam:f"));
    redbridge_reply_free(RUN(c, REDBRIDGE_OK, "XADD", "fam:s", "1-1", "field", "value"));
    redbridge_reply_free(RUN(c, REDBRIDGE_OK, "GEOADD", "fam:g", "13.361389", "38.115556", "Palermo"));
    redbridge_reply_free(RUN(c, REDBRIDGE_OK, "HSET", "fam:h", "a", "1"));
    redbridge_reply_free(RUN(c, REDBRIDGE_OK, "SADD", "fam:set", "x"));
    redbridge_reply_free(RUN(c, REDBRIDGE_OK, "ZADD", "fam:z", "1.5", "m"));
    redbridge_reply_free(RUN(c, REDBRIDGE_OK, "FUNCTION", "LOAD", "REPLACE",
                             "#!lua name=famlib\nredis.register_function('fam_echo', function(k, a) return a[1] end)"));

    /* Streams: an entry is [id, [field, value, …]]; XREAD is stream → entries. */
    SHAPE(c, "A[A[S,A[S,S]]]", "XRANGE", "fam:s", "-", "+");
    SHAPE(c, resp3 ? "M[S,A[A[S,A[S,S]]]]" : "A[A[S,A[A[S,A[S,S]]]]]", "XREAD", "STREAMS", "fam:s", "0");
    /* Geo: [member, distance, [longitude, latitude]]; the distance is a string under
     * both protocols, the coordinates are DOUBLEs under RESP3. GEODIST: a string. */
    SHAPE(c, resp3 ? "A[A[S,S,A[D,D]]]" : "A[A[S,S,A[S,S]]]", "GEOSEARCH", "fam:g", "FROMLONLAT", "15", "37",
          "BYRADIUS", "200", "km", "WITHDIST", "WITHCOORD");
    SHAPE(c, "S", "GEODIST", "fam:g", "Palermo", "Palermo");
    /* Scripts: Lua number → INTEGER (3.7 is cut to 3), string → STRING, false → NIL,
     * true → INTEGER 1, table → ARRAY, under both protocols. */
    SHAPE(c, "A[I,S,N,I,I,A[I]]", "EVAL", "return {1, 'a', false, true, 3.7, {2}}", "0");
    /* After redis.setresp(3), true/false are BOOL for a RESP3 client, INTEGER 1/0 for RESP2. */
    SHAPE(c, resp3 ? "A[B,B]" : "A[I,I]", "EVAL", "redis.setresp(3); return {true, false}", "0");
    /* A script that asks for RESP3 replies (redis.setresp(3)) passes maps and doubles on
     * to a RESP3 client; a RESP2 client gets them flattened and as strings. */
    SHAPE(c, resp3 ? "M[S,S]" : "A[S,S]", "EVAL", "redis.setresp(3); return redis.call('HGETALL', KEYS[1])", "1",
          "fam:h");
    SHAPE(c, resp3 ? "D" : "S", "EVAL", "return {double = 3.5}", "0");
    /* Functions: as scripts. */
    SHAPE(c, "S", "FCALL", "fam_echo", "0", "hi");
    /* Maps: HGETALL, CONFIG GET, XINFO STREAM. HELLO itself is refused (the protocol
     * option chooses RESP2 or RESP3). */
    SHAPE(c, resp3 ? "M[S,S]" : "A[S,S]", "HGETALL", "fam:h");
    SHAPE(c, resp3 ? "M[S,S]" : "A[S,S]", "CONFIG", "GET", "maxmemory");
    redbridge_reply_free(RUN(c, REDBRIDGE_ERR_INVALID_ARGUMENT, "HELLO", "3"));
    CHECK(strstr(redbridge_last_error(), "protocol") != NULL, "%s", redbridge_last_error());
    /* Sets. */
    SHAPE(c, resp3 ? "Z[S]" : "A[S]", "SMEMBERS", "fam:set");
    /* Doubles: scores are DOUBLE under RESP3 (dval, and its text in str), strings under
     * RESP2; INCRBYFLOAT is a string under both. */
    SHAPE(c, resp3 ? "D" : "S", "ZSCORE", "fam:z", "m");
    SHAPE(c, resp3 ? "A[A[S,D]]" : "A[S,S]", "ZRANGE", "fam:z", "0", "-1", "WITHSCORES");
    SHAPE(c, "S", "INCRBYFLOAT", "fam:f", "1.5");
    redbridge_reply_free(RUN(c, REDBRIDGE_OK, "FUNCTION", "DELETE", "famlib"));
}

void test_reply_families(void) {
    redbridge_client *c3 = open_protocol("3");
    redbridge_client *c2 = open_protocol("2");
    if (c3) families(c3, true);
    if (c2) families(c2, false);
    redbridge_client_free(c3);
    redbridge_client_free(c2);
}

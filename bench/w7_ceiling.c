/*
 * W7's ceiling: the fastest a subscriber could possibly receive on this machine.
 *
 * It subscribes to one channel, then only read()s the socket into a 1 MiB buffer and
 * counts bytes: no parsing, no allocation, no callback. Every message of a round has
 * the same size (the bench's 100-byte payload on one channel), so bytes tell messages.
 * Run by bench/w7_ceiling.py, which publishes with the bench's own publisher.
 *
 * Usage: w7_ceiling PORT CHANNEL MESSAGES ROUNDS. Before each round it prints
 * "READY <round>"; after it, "<round> <messages per second>" (first byte to last).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PAYLOAD 100

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* Reads until `want` bytes have come (counting from `*have`); returns the time the
 * first of them came, or -1 when the connection ended. `*have` keeps what came beyond. */
static double read_bytes(int s, long want, long *have) {
    static char buf[1 << 20];
    double first = *have > 0 ? now() : 0;
    while (*have < want) {
        ssize_t r = read(s, buf, sizeof buf);
        if (r <= 0) return -1;
        if (first == 0) first = now();
        *have += r;
    }
    *have -= want;
    return first;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: w7_ceiling PORT CHANNEL MESSAGES ROUNDS\n");
        return 2;
    }
    const char *channel = argv[2];
    long n = atol(argv[3]);
    int rounds = atoi(argv[4]);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("w7_ceiling: connect");
        return 1;
    }
    int cl = (int)strlen(channel);
    char cmd[512];
    int k = snprintf(cmd, sizeof cmd, "*2\r\n$9\r\nSUBSCRIBE\r\n$%d\r\n%s\r\n", cl, channel);
    if (write(s, cmd, k) != k) return 1;
    /* The confirmation (*3 $9 subscribe $<cl> <channel> :1), then each message
     * (*3 $7 message $<cl> <channel> $100 <payload>), all RESP2. */
    char digits[16];
    int dl = snprintf(digits, sizeof digits, "%d", cl);
    long name = 1 + dl + 2 + cl + 2;
    long confirm = 4 + 15 + name + 4;
    long frame = 4 + 13 + name + 6 + PAYLOAD + 2;
    long have = 0;
    if (read_bytes(s, confirm, &have) < 0) return 1;
    for (int round = 0; round < rounds; round++) {
        printf("READY %d\n", round);
        fflush(stdout);
        double first = read_bytes(s, n * frame, &have);
        if (first < 0) return 1;
        printf("%d %.0f\n", round, n / (now() - first));
        fflush(stdout);
    }
    return 0;
}

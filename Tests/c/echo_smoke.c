/* echo_smoke.c PORT — client for the examples check (mk/c.mk c-examples-check): opens
 * 8 connections to examples/c/echo_server, streams 256 KiB of a pattern through each
 * (interleaved), verifies every echoed byte, half-closes and expects EOF. Exit 0 on success. */
#define _GNU_SOURCE 1
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { CONNS = 8, TOTAL = 256 * 1024, CHUNK = 4096 };

static int full_read(int fd, unsigned char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        if (r <= 0) {
            return -1;
        }
        got += (size_t)r;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])) };
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    int fds[CONNS];
    for (int c = 0; c < CONNS; c++) {
        fds[c] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fds[c] < 0 || connect(fds[c], (struct sockaddr *)&a, sizeof a) != 0) {
            perror("connect");
            return 1;
        }
    }
    unsigned char out[CHUNK], in[CHUNK];
    for (size_t off = 0; off < TOTAL; off += CHUNK) {
        for (int c = 0; c < CONNS; c++) {
            for (size_t i = 0; i < CHUNK; i++) {
                out[i] = (unsigned char)((off + i) * 31u + (unsigned)c * 7u);
            }
            if (send(fds[c], out, CHUNK, MSG_NOSIGNAL) != CHUNK || full_read(fds[c], in, CHUNK) != 0 ||
                memcmp(in, out, CHUNK) != 0) {
                fprintf(stderr, "echo mismatch on connection %d at offset %zu\n", c, off);
                return 1;
            }
        }
    }
    for (int c = 0; c < CONNS; c++) {
        shutdown(fds[c], SHUT_WR);
        if (read(fds[c], in, 1) != 0) {
            fprintf(stderr, "connection %d: no EOF after half-close\n", c);
            return 1;
        }
        close(fds[c]);
    }
    printf("echo_smoke: %d connections x %d bytes echoed and verified\n", CONNS, TOTAL);
    return 0;
}

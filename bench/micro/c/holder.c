#define _GNU_SOURCE
/* holder PORT N: opens N TCP connections to 127.0.0.1:PORT and keeps them open
 * (idle) until its standard input closes. The client side of the idle-connection
 * benchmark (d), in its own process so the server's RSS counts only the server. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: holder PORT N\n"); return 2; }
    int port = atoi(argv[1]), n = atoi(argv[2]);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) { perror("holder: socket"); return 1; }
        if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("holder: connect"); return 1; }
    }
    fprintf(stderr, "holder: %d connections open\n", n);
    char buf[64];
    while (read(0, buf, sizeof buf) > 0) {}
    return 0;
}

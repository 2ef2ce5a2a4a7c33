/* libuv_udp_echo.c — libuv's UDP echo for issue 15's benchmark: uv_udp_recv_start with
 * one static buffer, uv_udp_try_send back to the sender.
 *   libuv_udp_echo --port P   (prints `listening on 127.0.0.1:P (udp)`; exits on SIGTERM) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static char buf[65536];
static uv_udp_t sock;
static uv_signal_t term;

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    (void)suggested;
    *b = uv_buf_init(buf, sizeof buf);
}

static void recv_cb(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *from, unsigned flags)
{
    (void)flags;
    if (n < 0 || from == NULL) return;
    uv_buf_t out = uv_buf_init(b->base, (unsigned)n);
    uv_udp_try_send(h, &out, 1, from);
}

static void on_term(uv_signal_t *s, int sig)
{
    (void)sig;
    uv_close((uv_handle_t *)&sock, NULL);
    uv_close((uv_handle_t *)s, NULL);
}

int main(int argc, char **argv)
{
    int port = argc > 2 && strcmp(argv[1], "--port") == 0 ? atoi(argv[2]) : 9000;
    uv_loop_t *loop = uv_default_loop();
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", port, &a);
    uv_udp_init(loop, &sock);
    if (uv_udp_bind(&sock, (const struct sockaddr *)&a, 0) != 0) return 1;
    int len = sizeof a;
    uv_udp_getsockname(&sock, (struct sockaddr *)&a, &len);
    printf("listening on 127.0.0.1:%u (udp)\n", ntohs(a.sin_port));
    fflush(stdout);
    uv_udp_recv_start(&sock, alloc_cb, recv_cb);
    uv_signal_init(loop, &term);
    uv_signal_start(&term, on_term, SIGTERM);
    uv_run(loop, UV_RUN_DEFAULT);
    return 0;
}

/* libuv TCP echo server (anchor). Single-threaded on 127.0.0.1:PORT.
 *
 *   libuv_echo [--port PORT]
 *
 * read -> write back. Each connection owns one 64 KiB buffer (alloc_cb hands it out, no
 * allocation per read) and one uv_write_t; reading stops while a write is in flight and
 * resumes in its callback, so the buffer is never overwritten before the kernel took it.
 * SIGTERM/SIGINT: a uv_signal_t stops the loop, every handle is closed, exit 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define BUF_SIZE 65536

typedef struct {
    uv_tcp_t tcp;
    uv_write_t wreq;
    char buf[BUF_SIZE];
} conn_t;

static uv_loop_t *loop;
static uv_tcp_t server;
static uv_signal_t sigterm, sigint;

static void on_close(uv_handle_t *h) { free(h); } /* h == &conn->tcp, first member */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    conn_t *c = (conn_t *)h;
    *buf = uv_buf_init(c->buf, BUF_SIZE);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

static void on_write(uv_write_t *req, int status)
{
    conn_t *c = req->data;
    if (status < 0) {
        if (!uv_is_closing((uv_handle_t *)&c->tcp)) uv_close((uv_handle_t *)&c->tcp, on_close);
        return;
    }
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    conn_t *c = (conn_t *)s;
    if (n > 0) {
        uv_buf_t w = uv_buf_init(buf->base, (unsigned)n);
        /* Fast path: try a synchronous write first; fall back to uv_write for the rest. */
        int r = uv_try_write(s, &w, 1);
        if (r == n) return;
        if (r < 0 && r != UV_EAGAIN) { uv_close((uv_handle_t *)s, on_close); return; }
        if (r > 0) { w.base += r; w.len -= (unsigned)r; }
        uv_read_stop(s);
        c->wreq.data = c;
        if (uv_write(&c->wreq, s, &w, 1, on_write) != 0) uv_close((uv_handle_t *)s, on_close);
        return;
    }
    if (n < 0) uv_close((uv_handle_t *)s, on_close); /* UV_EOF or error */
}

static void on_connection(uv_stream_t *srv, int status)
{
    if (status < 0) return;
    conn_t *c = malloc(sizeof *c);
    if (!c) return;
    uv_tcp_init(loop, &c->tcp);
    if (uv_accept(srv, (uv_stream_t *)&c->tcp) != 0) { uv_close((uv_handle_t *)&c->tcp, on_close); return; }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void close_all(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (uv_is_closing(h)) return;
    if (h->type == UV_TCP && h != (uv_handle_t *)&server) uv_close(h, on_close);
    else uv_close(h, NULL);
}

static void on_signal(uv_signal_t *s, int sig)
{
    (void)s; (void)sig;
    uv_stop(loop);
}

int main(int argc, char **argv)
{
    int port = 9000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc) port = atoi(argv[++i]);
        else { fprintf(stderr, "usage: %s [--port PORT]\n", argv[0]); return 2; }
    }
    loop = uv_default_loop();
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", port, &addr);
    uv_tcp_init(loop, &server);
    int r = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0);
    if (!r) r = uv_listen((uv_stream_t *)&server, 1024, on_connection);
    if (r) { fprintf(stderr, "listen: %s\n", uv_strerror(r)); return 1; }
    uv_signal_init(loop, &sigterm);
    uv_signal_start(&sigterm, on_signal, SIGTERM);
    uv_signal_init(loop, &sigint);
    uv_signal_start(&sigint, on_signal, SIGINT);
    printf("listening on 127.0.0.1:%d\n", port);
    fflush(stdout);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_walk(loop, close_all, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    return uv_loop_close(loop) == 0 ? 0 : 1;
}

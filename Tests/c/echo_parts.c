/* echo_parts.c — see echo_parts.h. */
#include "echo_parts.h"

static int conn_end(echo_conn_t *c, int r)
{
    if (c->s.id != 0) {
        eddy_tcp_close(c->s);
        c->s.id = 0;
    }
    if (r < 0) {
        c->stats->conn_errors++;
        c->stats->last_error = r;
    } else {
        c->stats->conns_done++;
    }
    return r;
}

int echo_conn_poll(void *state, eddy_cx_t *cx)
{
    echo_conn_t *c = state;
    for (;;) {
        if (c->off < c->len) {
            size_t n = 0;
            int r = eddy_tcp_poll_write(c->s, cx, c->buf + c->off, c->len - c->off, &n);
            if (r == EDDY_PENDING) {
                return EDDY_PENDING;
            }
            if (r < 0) {
                return conn_end(c, r);
            }
            if (n == 0) {
                return conn_end(c, EDDY_EBADPOLL); /* READY without progress: a library bug */
            }
            c->off += n;
            continue;
        }
        size_t n = 0;
        int r = eddy_tcp_poll_read(c->s, cx, c->buf, sizeof c->buf, &n);
        if (r == EDDY_PENDING) {
            return EDDY_PENDING;
        }
        if (r < 0) {
            return conn_end(c, r);
        }
        if (n == 0) {
            return conn_end(c, EDDY_READY); /* EOF: everything was echoed */
        }
        c->len = n;
        c->off = 0;
    }
}

void echo_conn_drop(void *state)
{
    echo_conn_t *c = state;
    c->stats->drops++;
    free(c);
}

int acceptor_poll(void *state, eddy_cx_t *cx)
{
    acceptor_t *a = state;
    while (a->accepted < a->want) {
        eddy_tcp_t s;
        int r = eddy_tcp_poll_accept(a->listener, cx, &s);
        if (r == EDDY_PENDING) {
            return EDDY_PENDING;
        }
        if (r < 0) {
            eddy_tcp_close(a->listener);
            a->listener.id = 0;
            return r;
        }
        a->accepted++;
        echo_conn_t *c = calloc(1, sizeof *c);
        if (c == NULL) {
            eddy_tcp_close(s);
            continue;
        }
        c->s = s;
        c->stats = a->stats;
        eddy_runtime_t rt;
        eddy_task_t t;
        r = eddy_cx_runtime(cx, &rt);
        if (r == 0) {
            r = eddy_spawn(rt, echo_conn_poll, c, echo_conn_drop, &t);
        }
        if (r != 0) {
            eddy_tcp_close(s);
            free(c);
            a->stats->conn_errors++;
            a->stats->last_error = r;
            continue;
        }
        a->stats->conns_started++;
        eddy_task_free(t); /* detached: the connection runs to EOF on its own */
    }
    eddy_tcp_close(a->listener);
    a->listener.id = 0;
    return EDDY_READY;
}

void fclient_init(fclient_t *c, const char *host, uint16_t port, unsigned id, size_t total)
{
    memset(c, 0, sizeof *c);
    c->host = host;
    c->port = port;
    c->id = id;
    c->total = total;
}

static int fclient_end(fclient_t *c, int r)
{
    if (c->fut.id != 0) {
        eddy_future_free(c->fut);
        c->fut.id = 0;
    }
    if (c->s.id != 0) {
        eddy_tcp_close(c->s);
        c->s.id = 0;
    }
    c->phase = 2;
    return r;
}

int fclient_poll(void *state, eddy_cx_t *cx)
{
    fclient_t *c = state;
    int r;
    if (c->phase == 0) {
        if (c->fut.id == 0) {
            eddy_runtime_t rt;
            r = eddy_cx_runtime(cx, &rt);
            if (r == 0) {
                r = eddy_tcp_connect(rt, c->host, c->port, &c->fut);
            }
            if (r < 0) {
                return fclient_end(c, r);
            }
        }
        r = eddy_future_poll(c->fut, cx);
        if (r == EDDY_PENDING) {
            return EDDY_PENDING;
        }
        if (r < 0) {
            return fclient_end(c, r);
        }
        r = eddy_future_take_tcp(c->fut, &c->s);
        eddy_future_free(c->fut);
        c->fut.id = 0;
        if (r < 0) {
            c->s.id = 0;
            return fclient_end(c, r);
        }
        c->phase = 1;
    }
    if (c->phase == 2) {
        return EDDY_READY;
    }
    for (;;) {
        int progress = 0;
        if (c->sent < c->total) {
            size_t chunk = c->total - c->sent;
            if (chunk > sizeof c->wbuf) {
                chunk = sizeof c->wbuf;
            }
            for (size_t i = 0; i < chunk; i++) {
                c->wbuf[i] = pattern_byte(c->id, c->sent + i);
            }
            size_t n = 0;
            r = eddy_tcp_poll_write(c->s, cx, c->wbuf, chunk, &n);
            if (r < 0) {
                return fclient_end(c, r);
            }
            if (r == EDDY_READY) {
                if (n == 0 || n > chunk) {
                    return fclient_end(c, EDDY_EBADPOLL);
                }
                c->sent += n;
                progress = 1;
            }
        } else if (!c->shut) {
            r = eddy_tcp_poll_shutdown(c->s, cx);
            if (r < 0) {
                return fclient_end(c, r);
            }
            if (r == EDDY_READY) {
                c->shut = 1;
                progress = 1;
            }
        }
        size_t n = 0;
        r = eddy_tcp_poll_read(c->s, cx, c->rbuf, sizeof c->rbuf, &n);
        if (r < 0) {
            return fclient_end(c, r);
        }
        if (r == EDDY_READY) {
            if (n == 0) {
                if (c->recvd != c->total || c->mismatches != 0) {
                    return fclient_end(c, TEST_VERIFY_FAILED);
                }
                return fclient_end(c, EDDY_READY);
            }
            if (n > sizeof c->rbuf || c->recvd + n > c->total) {
                return fclient_end(c, TEST_VERIFY_FAILED);
            }
            for (size_t i = 0; i < n; i++) {
                if (c->rbuf[i] != pattern_byte(c->id, c->recvd + i)) {
                    c->mismatches++;
                }
            }
            c->recvd += n;
            progress = 1;
        }
        if (!progress) {
            return EDDY_PENDING;
        }
    }
}

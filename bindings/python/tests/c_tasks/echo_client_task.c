/* A C task for test_aloop_c_tasks.py: spawned with eddy_spawn on an eddy.EventLoop's
 * runtime, it connects to 127.0.0.1:port with Eddy's TCP futures, writes `out`,
 * shuts its side down and reads the reply into `in` until end of stream. It only
 * makes progress inside the loop's turns (nothing else runs that runtime). */
#include <stddef.h>
#include <stdint.h>
#include "eddy.h"

typedef struct {
    eddy_runtime_t rt;
    uint16_t port;
    int step;
    eddy_future_t fut;
    eddy_tcp_t tcp;
    size_t off;
    size_t outlen;
    size_t inlen;
    char out[4096];
    char in[8192];
} job_t;

static int job_fail(job_t *j, int rc) {
    if (j->step >= 2) eddy_tcp_close(j->tcp);
    return rc;
}

int echo_client_poll(void *state, eddy_cx_t *cx) {
    job_t *j = state;
    size_t n;
    int rc;
    for (;;) {
        switch (j->step) {
        case 0:
            rc = eddy_tcp_connect(j->rt, "127.0.0.1", j->port, &j->fut);
            if (rc < 0) return rc;
            j->step = 1;
            break;
        case 1:
            rc = eddy_future_poll(j->fut, cx);
            if (rc == EDDY_PENDING) return rc;
            if (rc == EDDY_READY) rc = eddy_future_take_tcp(j->fut, &j->tcp);
            eddy_future_free(j->fut);
            if (rc < 0) return rc;
            j->step = 2;
            break;
        case 2:
            rc = eddy_tcp_poll_write(j->tcp, cx, j->out + j->off, j->outlen - j->off, &n);
            if (rc == EDDY_PENDING) return rc;
            if (rc < 0) return job_fail(j, rc);
            j->off += n;
            if (j->off == j->outlen) j->step = 3;
            break;
        case 3:
            rc = eddy_tcp_poll_shutdown(j->tcp, cx);
            if (rc == EDDY_PENDING) return rc;
            if (rc < 0) return job_fail(j, rc);
            j->step = 4;
            break;
        default:
            if (j->inlen == sizeof j->in) return job_fail(j, -90 /* EMSGSIZE */);
            rc = eddy_tcp_poll_read(j->tcp, cx, j->in + j->inlen, sizeof j->in - j->inlen, &n);
            if (rc == EDDY_PENDING) return rc;
            if (rc < 0) return job_fail(j, rc);
            if (n == 0) {
                eddy_tcp_close(j->tcp);
                return EDDY_READY;
            }
            j->inlen += n;
        }
    }
}

/* install_app.c — built against an installed libeddy with
 *   cc app.c $(pkg-config --cflags --libs eddy)
 * by `make test-install`: proves the header, the library symlinks and eddy.pc work.
 * Prints eddy_version_string() and the decoded eddy_version(), which the test compares with
 * the header's macros, the soname and eddy.pc. */
#include <eddy.h>
#include <stdio.h>

static int await_sleep(void *state, eddy_cx_t *cx)
{
    return eddy_future_poll(*(eddy_future_t *)state, cx);
}

int main(void)
{
    eddy_runtime_t rt;
    eddy_future_t nap;
    int status = -1;
    if (eddy_version() != EDDY_VERSION_HEX || eddy_runtime_new(NULL, &rt) != 0) {
        return 1;
    }
    if (eddy_sleep(rt, 1000000, &nap) != 0 || eddy_block_on(rt, await_sleep, &nap, NULL, &status) != 0 ||
        status != 0 || eddy_future_free(nap) != 0 || eddy_runtime_free(rt) != 0) {
        return 1;
    }
    unsigned v = eddy_version();
    printf("installed libeddy %s (eddy_version() %u.%u.%u) works\n", eddy_version_string(), (v >> 16) & 0xFF,
           (v >> 8) & 0xFF, v & 0xFF);
    return 0;
}

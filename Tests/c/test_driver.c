/* test_driver.c — choosing the kernel interface (issue 18): eddy_config_t.driver,
 * EDDY_DRIVER, the fallback to epoll with its reason (forced through the test hook
 * EDDY_TEST_IO_URING_SETUP_ERRNO), the older struct_size. The other suites run on
 * whichever driver EDDY_DRIVER names (`make test` runs them once per driver). */
#include "harness.h"

#include <errno.h>
#include <stdio.h>

/* Sets (value != NULL) or unsets an environment variable, returning the old value
 * (malloc'ed, or NULL) for restore_env. */
static char *set_env(const char *name, const char *value)
{
    const char *old = getenv(name);
    char *saved = old ? strdup(old) : NULL;
    if (value) {
        setenv(name, value, 1);
    } else {
        unsetenv(name);
    }
    return saved;
}

static void restore_env(const char *name, char *saved)
{
    if (saved) {
        setenv(name, saved, 1);
        free(saved);
    } else {
        unsetenv(name);
    }
}

static eddy_runtime_t new_with(uint32_t driver, int *rc)
{
    eddy_config_t c;
    assert_int_equal(eddy_config_init(&c), 0);
    assert_int_equal(c.driver, EDDY_DRIVER_DEFAULT);
    c.driver = driver;
    eddy_runtime_t rt = { 0 };
    *rc = eddy_runtime_new(&c, &rt);
    return rt;
}

static void test_explicit_epoll_ignores_the_environment(void **state)
{
    fixture_t *f = *state;
    char *saved = set_env("EDDY_DRIVER", "io_uring");
    int rc;
    eddy_runtime_t rt = new_with(EDDY_DRIVER_EPOLL, &rc);
    restore_env("EDDY_DRIVER", saved);
    assert_int_equal(rc, 0);
    uint32_t d = 99;
    int why = 99;
    assert_int_equal(eddy_runtime_driver(rt, &d, &why), 0);
    assert_int_equal(d, EDDY_DRIVER_EPOLL);
    assert_int_equal(why, 0);
    assert_int_equal(eddy_runtime_driver(rt, NULL, NULL), 0);
    assert_int_equal(eddy_runtime_free(rt), 0);
    check_fds(f);
}

static void test_io_uring_or_a_reason(void **state)
{
    fixture_t *f = *state;
    int rc;
    eddy_runtime_t rt = new_with(EDDY_DRIVER_IO_URING, &rc);
    assert_int_equal(rc, 0);
    uint32_t d = 0;
    int why = 1;
    assert_int_equal(eddy_runtime_driver(rt, &d, &why), 0);
    assert_true((d == EDDY_DRIVER_IO_URING && why == 0) || (d == EDDY_DRIVER_EPOLL && why < 0));
    assert_int_equal(eddy_runtime_free(rt), 0);
    check_fds(f);
}

static void test_environment_and_bad_values(void **state)
{
    fixture_t *f = *state;
    int rc;
    char *saved = set_env("EDDY_DRIVER", "epoll");
    eddy_runtime_t rt = new_with(EDDY_DRIVER_DEFAULT, &rc);
    assert_int_equal(rc, 0);
    uint32_t d = 0;
    assert_int_equal(eddy_runtime_driver(rt, &d, NULL), 0);
    assert_int_equal(d, EDDY_DRIVER_EPOLL);
    assert_int_equal(eddy_runtime_free(rt), 0);
    setenv("EDDY_DRIVER", "io_uring", 1);
    rt = new_with(EDDY_DRIVER_DEFAULT, &rc);
    assert_int_equal(rc, 0);
    int why = 1;
    assert_int_equal(eddy_runtime_driver(rt, &d, &why), 0);
    assert_true(d == EDDY_DRIVER_IO_URING || why < 0);
    assert_int_equal(eddy_runtime_free(rt), 0);
    setenv("EDDY_DRIVER", "kqueue", 1);
    rt = new_with(EDDY_DRIVER_DEFAULT, &rc);
    assert_int_equal(rc, EDDY_EINVAL);
    restore_env("EDDY_DRIVER", saved);
    rt = new_with(3, &rc); /* not a driver */
    assert_int_equal(rc, EDDY_EINVAL);
    eddy_runtime_t none = { 0 };
    assert_int_equal(eddy_runtime_driver(none, &d, &why), EDDY_EBADHANDLE);
    check_fds(f);
}

/* A refused io_uring_setup (ENOSYS: old kernel or seccomp; EPERM: io_uring_disabled)
 * gives a working epoll runtime that says why. */
static void test_refused_setup_falls_back_with_the_reason(void **state)
{
    fixture_t *f = *state;
    const int codes[] = { ENOSYS, EPERM };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        char num[16];
        snprintf(num, sizeof num, "%d", codes[i]);
        char *saved = set_env("EDDY_TEST_IO_URING_SETUP_ERRNO", num);
        int rc;
        eddy_runtime_t rt = new_with(EDDY_DRIVER_IO_URING, &rc);
        restore_env("EDDY_TEST_IO_URING_SETUP_ERRNO", saved);
        assert_int_equal(rc, 0);
        uint32_t d = 0;
        int why = 0;
        assert_int_equal(eddy_runtime_driver(rt, &d, &why), 0);
        assert_int_equal(d, EDDY_DRIVER_EPOLL);
        assert_int_equal(why, -codes[i]);
        /* It works: a sleep completes. */
        eddy_future_t s;
        assert_int_equal(eddy_sleep(rt, 1 * MS, &s), 0);
        await_t a = { .fut = s };
        int status = -1;
        assert_int_equal(eddy_block_on(rt, await_poll, &a, NULL, &status), 0);
        assert_int_equal(status, 0);
        assert_int_equal(eddy_future_free(s), 0);
        assert_int_equal(eddy_runtime_free(rt), 0);
    }
    check_fds(f);
}

/* A caller built before `driver` existed passes the smaller struct_size: accepted,
 * default driver. */
static void test_older_struct_size(void **state)
{
    fixture_t *f = *state;
    eddy_config_t c;
    assert_int_equal(eddy_config_init(&c), 0);
    c.struct_size = (uint32_t)offsetof(eddy_config_t, driver);
    c.driver = 12345; /* not the caller's: never read */
    eddy_runtime_t rt;
    assert_int_equal(eddy_runtime_new(&c, &rt), 0);
    assert_int_equal(eddy_runtime_free(rt), 0);
    c.struct_size = (uint32_t)offsetof(eddy_config_t, driver) - 4;
    assert_int_equal(eddy_runtime_new(&c, &rt), EDDY_EINVAL);
    check_fds(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup_nort, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_explicit_epoll_ignores_the_environment),
        T(test_io_uring_or_a_reason),
        T(test_environment_and_bad_values),
        T(test_refused_setup_falls_back_with_the_reason),
        T(test_older_struct_size),
    };
    return cmocka_run_group_tests_name("driver", tests, NULL, NULL);
}

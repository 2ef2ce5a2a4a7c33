/* abi_fuzz.c — seeded random driver of the Eddy C ABI (libeddy.so).
 *
 *   abi_fuzz --seed N [--calls N]      one run (default 1 000 000 ABI calls)
 *   abi_fuzz --corpus FILE [--calls N] replay every "seed [calls]" line of FILE
 *                                       (--calls caps each line's count)
 *
 * Calls every eddy_* function in random sequences, from the owning thread, from inside
 * poll_fns and then-callbacks, and (any-thread functions) from a helper thread, with
 * valid, stale (freed), forged, zero, wrong-kind handles and handles of freed runtimes,
 * NULL pointers, bogus cx pointers and huge lengths; frees handles (its own task, the
 * future being completed, other runtimes) from inside callbacks; frees runtimes with
 * live tasks, timers, blocking calls, listeners and connections on 127.0.0.1.
 *
 * Oracle (exit 1 with the seed and call number on the first violation):
 *   - a call with a handle the model knows is invalid returns EDDY_EBADHANDLE or
 *     EDDY_EINVAL, never success;
 *   - a call with only valid handles never returns EDDY_EBADHANDLE;
 *   - every negative code is one eddy_err_name knows; polls return READY/PENDING/<0,
 *     other functions 0/<0 (eddy_runtime_free: a count >= 0);
 *   - every spawned task's drop_fn runs exactly once, every then-callback exactly once
 *     (checked when its runtime is freed);
 *   - at the end, no descriptor is left open (/proc/self/fd).
 * A crash or a hang (alarm, and `timeout` in the Makefile) fails the run too. */
#define _GNU_SOURCE 1
#include <eddy.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- rng, counters */

static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 2685821657736338717ull;
}
static unsigned rn(unsigned n) { return n ? (unsigned)(rnd() % n) : 0; }
static int chance(unsigned pct) { return rn(100) < pct; }

static uint64_t g_seed;
static int g_nesting; /* run_until / block_on calls in progress on this thread */
/* poll_fns in progress. Inside runtime B's poll, runtime A's sockets and futures answer
 * EDDY_EWRONGTHREAD (the core refuses to park B's waker on A's reactor): allowed there. */
static int g_poll_depth;
static uint64_t g_last_pick;
static int g_trace;
static long long g_calls, g_target;
static const char *g_what = "";

#define CALL(expr) (g_calls++, g_what = #expr, g_trace ? fprintf(stderr, "call %lld: %s\n", g_calls, #expr) : 0, (expr))

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "abi_fuzz: (poll depth %d, nesting %d, last picked handle %#llx)\n", g_poll_depth, g_nesting,
            (unsigned long long)g_last_pick);
    fprintf(stderr, "abi_fuzz: FAIL seed %llu call %lld: ", (unsigned long long)g_seed, g_calls);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n  last call: %s\n  replay: abi_fuzz --seed %llu --calls %lld\n", g_what,
            (unsigned long long)g_seed, g_target);
    va_end(ap);
    fflush(stderr);
    _exit(1);
}

static int known_code(int r)
{
    return strcmp(eddy_err_name(r), "EDDY_EUNKNOWN") != 0;
}

enum { INVALID = 0, VALID = 1, UNKNOWN = 2 };
#define WEAK(v) ((v) == INVALID ? INVALID : UNKNOWN) /* a valid handle that may still fail */


/* max_pos: the largest non-negative value allowed (0, EDDY_PENDING, or INT32_MAX for counts). */
static void check(int r, int validity, int max_pos)
{
    if (r >= 0) {
        if (r > max_pos) {
            die("returned %d (max %d)", r, max_pos);
        }
        if (validity == INVALID) {
            die("returned %d for an invalid handle", r);
        }
        return;
    }
    if (!known_code(r)) {
        die("returned unknown code %d", r);
    }
    /* EDDY_EWRONGTHREAD: a forged id can collide with a live handle of the helper thread. */
    if (validity == INVALID && r != EDDY_EBADHANDLE && r != EDDY_EINVAL && r != EDDY_EWRONGTHREAD) {
        die("returned %s for an invalid handle (want EDDY_EBADHANDLE/EINVAL)", eddy_err_name(r));
    }
    if (validity == VALID && r == EDDY_EBADHANDLE) {
        die("returned EDDY_EBADHANDLE for a valid handle");
    }
    /* Nested: inside runtime B's poll while runtime A (same thread) is running further
     * up the stack, A's objects are off limits: EDDY_EWRONGTHREAD is the documented answer. */
    if (r == EDDY_EFORKED || (r == EDDY_EWRONGTHREAD && validity != INVALID && g_nesting < 2 && g_poll_depth == 0)) {
        die("returned %s on the owning thread of an unforked process", eddy_err_name(r));
    }
}

/* ---------------------------------------------------------------- the model */

enum { K_RT, K_TASK, K_FUT, K_TCP, K_WAKER, K_N };
enum { MAXE = 2048, MAXRT = 3, MAXSTATES = 8192 };

typedef struct {
    uint64_t id;
    int kind;
    int live;
    int rt;       /* index into rts[] of the owning runtime, -1 for runtimes themselves */
    int listener; /* K_TCP */
    int fkind;    /* K_FUT: 0 sleep, 1 connect, 2 blocking, 3 timeout */
    int has_then;
} ent_t;

static ent_t ents[MAXE];
static int nents;

typedef struct state state_t;

typedef struct {
    int live;
    uint64_t id;
    int ent;
    uint16_t port; /* of its first listener, 0 if none */
    int running;   /* inside run_until / block_on */
} rtinfo_t;
static rtinfo_t rts[MAXRT];

struct state { /* a fuzz task's state */
    int rt;
    int drops;
    int polls;
    int spawned;
    int done_at; /* poll count after which it returns READY */
    int always_wake; /* a task something waits for (block_on, run_until): never parks unwoken */
};

typedef struct {
    int rt;
    int calls;
    uint64_t fut;
} thenctx_t;

/* States and then-contexts live until their runtime is freed and checked. */
static state_t *states[MAXSTATES];
static int nstates;
static thenctx_t *thens[MAXSTATES];
static int nthens;

static atomic_uint_fast64_t shared_ids[64]; /* snapshot for the helper thread */
static atomic_int helper_stop;

static ent_t *add_ent(uint64_t id, int kind, int rt)
{
    if (nents == MAXE) {
        int j = 0;
        for (int i = 0; i < nents; i++) { /* keep live ones and a few stale ones */
            if (ents[i].live || (i & 7) == 0) {
                ents[j++] = ents[i];
            }
        }
        nents = j;
        if (nents == MAXE) {
            return NULL;
        }
    }
    ent_t *e = &ents[nents++];
    if (g_trace) {
        fprintf(stderr, "call %lld: new handle %#llx kind %d rt %d (poll depth %d)\n", g_calls, (unsigned long long)id,
                kind, rt, g_poll_depth);
    }
    memset(e, 0, sizeof *e);
    e->id = id;
    e->kind = kind;
    e->live = 1;
    e->rt = rt;
    atomic_store(&shared_ids[rn(64)], id);
    return e;
}

static int count_live(int kind)
{
    int n = 0;
    for (int i = 0; i < nents; i++) {
        n += ents[i].live && ents[i].kind == kind;
    }
    return n;
}

static ent_t *find_ent(uint64_t id)
{
    for (int i = nents - 1; i >= 0; i--) {
        if (ents[i].id == id) {
            return &ents[i];
        }
    }
    return NULL;
}

static int ent_valid(const ent_t *e, int kind)
{
    return e->live && e->kind == kind && (e->rt < 0 || rts[e->rt].live);
}

/* A handle argument of `kind`: mostly real entries (live or stale), sometimes
 * wrong-kind, forged, zero or generation-flipped ids. */
static uint64_t pick_(int kind, int *validity, ent_t **out);
static uint64_t pick(int kind, int *validity, ent_t **out)
{
    uint64_t id = pick_(kind, validity, out);
    g_last_pick = id;
    return id;
}
static uint64_t pick_(int kind, int *validity, ent_t **out)
{
    *out = NULL;
    unsigned c = rn(100);
    if (c < 75 && nents > 0) {
        for (int tries = 0; tries < 8; tries++) {
            ent_t *e = &ents[rn((unsigned)nents)];
            if (e->kind == kind && (e->live || tries > 5)) {
                *out = e;
                *validity = ent_valid(e, kind) ? VALID : INVALID;
                return e->id;
            }
        }
    }
    if (c < 85 && nents > 0) { /* another kind's id */
        ent_t *e = &ents[rn((unsigned)nents)];
        *validity = e->kind == kind ? (ent_valid(e, kind) ? VALID : INVALID) : INVALID;
        if (e->kind == kind) {
            *out = e;
        }
        return e->id;
    }
    *validity = INVALID;
    if (c < 90) {
        return 0;
    }
    int flipped = c < 95 && nents > 0;
    uint64_t id = flipped ? ents[rn((unsigned)nents)].id ^ (1ull << (40 + rn(24))) /* other generation */
                          : rnd();
    /* A generation flip can land on a live handle the model does not track (block_on's
     * internal task, the helper thread's objects): anything known is fine, but no crash. */
    if (flipped) {
        *validity = UNKNOWN;
    }
    /* A forged id may happen to be one of our live handles: then it is that handle. */
    for (int i = 0; i < nents; i++) {
        if (ents[i].id == id && ents[i].live) {
            *out = ents[i].kind == kind ? &ents[i] : NULL;
            *validity = ent_valid(&ents[i], kind) ? VALID : INVALID;
            break;
        }
    }
    return id;
}

static uint64_t g_bad_rt_id;

/* A runtime argument: mostly a live runtime (index in *rti), else an invalid id
 * left in g_bad_rt_id (rt_id(-1) returns it). */
static int pick_rt(int *validity, int *rti)
{
    *rti = -1;
    if (chance(90)) {
        int live[MAXRT], n = 0;
        for (int i = 0; i < MAXRT; i++) {
            if (rts[i].live) {
                live[n++] = i;
            }
        }
        if (n > 0) {
            *rti = live[rn((unsigned)n)];
            *validity = VALID;
            return *rti;
        }
    }
    ent_t *e;
    int v;
    uint64_t id = pick(K_RT, &v, &e);
    if (v == VALID) {
        for (int i = 0; i < MAXRT; i++) {
            if (rts[i].live && rts[i].id == id) {
                *rti = i;
                *validity = VALID;
                return i;
            }
        }
    }
    *validity = v == UNKNOWN ? UNKNOWN : INVALID;
    g_bad_rt_id = id;
    return -1;
}

static uint64_t rt_id(int rti)
{
    return rti >= 0 ? rts[rti].id : g_bad_rt_id;
}

/* ---------------------------------------------------------------- callbacks */

static void fz_drop(void *p)
{
    state_t *s = p;
    s->drops++;
}

static void fz_then(void *user, int status)
{
    thenctx_t *t = user;
    t->calls++;
    if (!known_code(status) || (status > 0)) {
        die("then-callback status %d", status);
    }
    if (chance(30)) { /* free the future from inside its own callback */
        ent_t *e = find_ent(t->fut);
        int r = CALL(eddy_future_free((eddy_future_t){ t->fut }));
        if (e != NULL && e->live && e->kind == K_FUT) {
            check(r, VALID, 0);
            if (r == 0) {
                e->live = 0;
            }
        } else {
            check(r, UNKNOWN, 0);
        }
    }
}

static long fz_mix(long a, long b, long c, long d)
{
    return a * 3 + b - c + (d & 7);
}
static void *fz_blocking(void *arg)
{
    struct timespec ts = { 0, (long)((uintptr_t)arg % 200) * 1000 };
    nanosleep(&ts, NULL);
    return arg;
}

static void random_op(eddy_cx_t *cx, int cur_rt, int depth);

static int fz_poll(void *p, eddy_cx_t *cx)
{
    state_t *s = p;
    if (s == NULL) { /* spawned through an argument-check path that was expected to fail */
        return EDDY_READY;
    }
    s->polls++;
    int ops = (int)rn(6);
    g_poll_depth++;
    for (int i = 0; i < ops && g_calls < g_target + 100000; i++) {
        random_op(cx, s->rt, 1);
    }
    g_poll_depth--;
    if (s->polls >= s->done_at) {
        unsigned c = rn(100);
        if (c < 70) {
            return EDDY_READY;
        }
        if (c < 90) {
            return -(int)(1 + rn(130)); /* an errno as status */
        }
        return (int)(2 + rn(1000)); /* bogus: EDDY_EBADPOLL */
    }
    if (s->always_wake || chance(60)) { /* arrange a wake */
        eddy_waker_t w;
        int r = CALL(eddy_cx_waker(cx, &w));
        check(r, VALID, 0);
        if (r == 0) {
            check(CALL(eddy_waker_wake(w)), VALID, 0);
            if (chance(50)) {
                check(CALL(eddy_waker_free(w)), VALID, 0);
            } else {
                add_ent(w.id, K_WAKER, s->rt);
            }
        }
    }
    return EDDY_PENDING;
}

/* ---------------------------------------------------------------- ops */

static char sbuf[65536];

static const char *const sigs[] = { "i(ii)", "l(llll)", "v()", "L(L)", "d(dd)", "f(f)", "p(p)", "z(zz)", "I(I)",
                                    "i(",    "(i)",     "",    "x(i)", "i(ix)", "vv()", "i(i))", "i(pppppppppppppp)" };

static void do_spawn(int cur_rt, eddy_cx_t *cx)
{
    int v, rti;
    pick_rt(&v, &rti);
    if (v != VALID || count_live(K_TASK) > 300 || nstates >= MAXSTATES) {
        eddy_task_t t;
        int r = CALL(eddy_spawn((eddy_runtime_t){ rt_id(rti) }, fz_poll, NULL, NULL, chance(50) ? &t : NULL));
        check(r, WEAK(v), 0);
        if (r == 0 && v == INVALID) {
            die("spawn with a bad runtime succeeded");
        }
        return;
    }
    state_t *s = calloc(1, sizeof *s);
    s->rt = rti;
    s->done_at = (int)rn(4);
    eddy_task_t t;
    int r = CALL(eddy_spawn((eddy_runtime_t){ rts[rti].id }, fz_poll, s, fz_drop, &t));
    check(r, VALID, 0);
    (void)cur_rt;
    (void)cx;
    if (r == 0) {
        s->spawned = 1;
        states[nstates++] = s;
        add_ent(t.id, K_TASK, rti);
    } else {
        free(s);
    }
}

static void random_op(eddy_cx_t *cx, int cur_rt, int depth)
{
    int v, rti;
    ent_t *e;
    uint64_t h;
    int r;
    eddy_cx_t *bcx = cx;
    if (cx != NULL && chance(5)) {
        bcx = chance(50) ? NULL : (eddy_cx_t *)(void *)sbuf; /* a bogus cx */
    }
    int cx_ok = bcx != NULL && bcx == cx;
    switch (rn(30)) {
    case 0: { /* runtime_new */
        int slot = -1;
        for (int i = 0; i < MAXRT; i++) {
            if (!rts[i].live) {
                slot = i;
            }
        }
        eddy_config_t cfg;
        check(CALL(eddy_config_init(chance(5) ? NULL : &cfg)), UNKNOWN, 0);
        eddy_config_init(&cfg);
        if (chance(10)) {
            cfg.struct_size = (uint32_t)rnd();
        }
        if (chance(10)) {
            cfg.flags = (uint32_t)rnd();
        }
        cfg.blocking_threads = 1 + rn(2);
        if (slot < 0 || depth > 0) {
            r = CALL(eddy_runtime_new(&cfg, NULL));
            check(r, UNKNOWN, 0);
            if (r == 0) {
                die("runtime_new with NULL out succeeded");
            }
            break;
        }
        eddy_runtime_t rt;
        r = CALL(eddy_runtime_new(chance(30) ? NULL : &cfg, &rt));
        check(r, UNKNOWN, 0);
        if (r == 0) {
            rts[slot] = (rtinfo_t){ .live = 1, .id = rt.id };
            ent_t *re = add_ent(rt.id, K_RT, -1);
            rts[slot].ent = re ? (int)(re - ents) : -1;
            eddy_tcp_t l;
            if (CALL(eddy_tcp_listen(rt, "127.0.0.1", 0, 64, &l)) == 0) {
                add_ent(l.id, K_TCP, slot)->listener = 1;
                CALL(eddy_tcp_local_port(l, &rts[slot].port));
            }
        }
        break;
    }
    case 1: /* runtime_free (any runtime, inside a poll too) */
        if (!chance(15)) {
            break;
        }
        pick_rt(&v, &rti);
        if (v != VALID) {
            check(CALL(eddy_runtime_free((eddy_runtime_t){ rt_id(rti) })), v, INT32_MAX);
            break;
        }
        {
            int states_before = nstates;
            r = CALL(eddy_runtime_free((eddy_runtime_t){ rts[rti].id }));
            if (rts[rti].running) {
                if (r != EDDY_EBUSY) {
                    die("runtime_free of a running runtime returned %d", r);
                }
                break;
            }
            check(r, VALID, INT32_MAX);
            if (r >= 0) {
                rts[rti].live = 0;
                for (int i = 0; i < nents; i++) {
                    if (ents[i].rt == rti) {
                        ents[i].live = 0;
                    }
                }
                if (rts[rti].ent >= 0 && rts[rti].ent < nents && ents[rts[rti].ent].id == rts[rti].id) {
                    ents[rts[rti].ent].live = 0;
                }
                /* Every task of this runtime was dropped exactly once, every then called once. */
                int j = 0;
                for (int i = 0; i < states_before && i < nstates; i++) {
                    state_t *s = states[i];
                    if (s->rt == rti) {
                        if (s->drops != 1) {
                            die("task state dropped %d times after runtime free", s->drops);
                        }
                        free(s);
                    } else {
                        states[j++] = s;
                    }
                }
                for (int i = states_before; i < nstates; i++) {
                    states[j++] = states[i];
                }
                nstates = j;
                j = 0;
                for (int i = 0; i < nthens; i++) {
                    thenctx_t *t = thens[i];
                    if (t->rt == rti) {
                        if (t->calls != 1) {
                            die("then-callback called %d times after runtime free", t->calls);
                        }
                        free(t);
                    } else {
                        thens[j++] = t;
                    }
                }
                nthens = j;
            }
        }
        break;
    case 2:
    case 3:
        do_spawn(cur_rt, cx);
        break;
    case 4: { /* drive a runtime briefly (nested inside a poll too) */
        pick_rt(&v, &rti);
        if (v != VALID || depth > 1 || !chance(depth ? 10 : 40)) {
            int st;
            check(CALL(eddy_runtime_run_until((eddy_runtime_t){ rt_id(rti) }, (eddy_task_t){ rnd() }, &st)),
                  WEAK(v), 0);
            break;
        }
        eddy_future_t sl;
        r = CALL(eddy_sleep((eddy_runtime_t){ rts[rti].id }, rn(300) * 1000ull, &sl));
        check(r, VALID, 0);
        if (r != 0) {
            break;
        }
        eddy_task_t stopper;
        state_t *s = calloc(1, sizeof *s);
        s->rt = rti;
        s->done_at = 1 + (int)rn(3);
        s->always_wake = 1;
        r = CALL(eddy_spawn((eddy_runtime_t){ rts[rti].id }, fz_poll, s, fz_drop, &stopper));
        check(r, VALID, 0);
        if (r != 0) {
            free(s);
            CALL(eddy_future_free(sl));
            break;
        }
        s->spawned = 1;
        states[nstates++] = s;
        /* Tracked, so nested ops (which may pick and free them) keep the model right. */
        add_ent(sl.id, K_FUT, rti);
        add_ent(stopper.id, K_TASK, rti);
        int st = 0;
        int was = rts[rti].running;
        rts[rti].running = 1;
        uint64_t rid = rts[rti].id;
        g_nesting++;
        r = CALL(eddy_runtime_run_until((eddy_runtime_t){ rid }, stopper, &st));
        g_nesting--;
        if (rts[rti].live && rts[rti].id == rid) {
            rts[rti].running = was;
            if (was && r != EDDY_EBUSY) {
                die("run_until of a running runtime returned %d", r);
            }
            ent_t *te = find_ent(stopper.id), *fe = find_ent(sl.id);
            check(r, te != NULL && te->live ? VALID : UNKNOWN, 0);
            if (te != NULL && te->live) {
                check(CALL(eddy_task_free(stopper)), VALID, 0);
                te->live = 0;
            }
            if (fe != NULL && fe->live) {
                check(CALL(eddy_future_free(sl)), VALID, 0);
                fe->live = 0;
            }
        }
        break;
    }
    case 5: { /* task status / abort / free / poll_join */
        h = pick(K_TASK, &v, &e);
        int st;
        switch (rn(4)) {
        case 0:
            check(CALL(eddy_task_status((eddy_task_t){ h }, chance(5) ? NULL : &st)), WEAK(v),
                  1);
            break;
        case 1:
            check(CALL(eddy_task_abort((eddy_task_t){ h })), v, 0);
            break;
        case 2:
            r = CALL(eddy_task_free((eddy_task_t){ h }));
            check(r, v, 0);
            if (r == 0 && e != NULL) {
                e->live = 0;
            }
            break;
        default:
            r = CALL(eddy_task_poll_join((eddy_task_t){ h }, bcx, &st));
            check(r, cx_ok && v == VALID ? VALID : (WEAK(v)), 1);
            break;
        }
        break;
    }
    case 6:
    case 7: { /* futures: sleep / connect / timeout / blocking */
        pick_rt(&v, &rti);
        uint64_t rid = rt_id(rti);
        eddy_future_t f;
        int kind = (int)rn(5);
        int ok = v == VALID && count_live(K_FUT) < 300;
        eddy_future_t *out = ok && !chance(3) ? &f : NULL;
        int val = ok ? (out ? VALID : UNKNOWN) : (WEAK(v));
        switch (kind) {
        case 0:
            r = CALL(eddy_sleep((eddy_runtime_t){ rid }, chance(5) ? UINT64_MAX : rn(2000) * 1000ull, out));
            break;
        case 1: {
            uint16_t port = rti >= 0 && rts[rti].port && chance(80) ? rts[rti].port : (uint16_t)(1 + rn(3));
            const char *hosts[] = { "127.0.0.1", "::1", "localhost", "not-a-host", "", "999.1.1.1" };
            r = CALL(eddy_tcp_connect((eddy_runtime_t){ rid }, chance(5) ? NULL : hosts[rn(6) < 4 ? 0 : rn(6)], port,
                                      out));
            if (val == VALID && r < 0) {
                val = UNKNOWN;
            }
            break;
        }
        case 2: {
            ent_t *ie;
            int iv;
            uint64_t inner = pick(K_FUT, &iv, &ie);
            r = CALL(eddy_timeout((eddy_runtime_t){ rid }, (eddy_future_t){ inner }, rn(3000) * 1000ull, out));
            if (r == 0 && ie != NULL) {
                ie->live = 0; /* consumed */
            }
            if (iv != VALID && val != INVALID) {
                val = iv;
            } else if (ie != NULL && ie->rt != rti && val == VALID) {
                val = UNKNOWN; /* another runtime's future: EINVAL */
            } else if (ie != NULL && ie->has_then && val == VALID) {
                val = UNKNOWN;
            }
            break;
        }
        case 3: {
            const char *sg = sigs[rn(sizeof sigs / sizeof *sigs)];
            eddy_value_t args[16];
            for (int i = 0; i < 16; i++) {
                args[i].u = rnd() & 0xffff;
            }
            size_t nargs = chance(5) ? (size_t)rnd() : rn(5);
            r = CALL(eddy_blocking_call((eddy_runtime_t){ rid }, chance(3) ? NULL : (void (*)(void))fz_mix, sg,
                                        chance(3) ? NULL : args, nargs, out));
            if (val == VALID && r < 0) {
                val = UNKNOWN; /* malformed signature or nargs: EINVAL */
            }
            break;
        }
        default:
            r = CALL(eddy_spawn_blocking((eddy_runtime_t){ rid }, chance(3) ? NULL : fz_blocking,
                                         (void *)(uintptr_t)rnd(), out));
            if (val == VALID && r < 0) {
                val = UNKNOWN;
            }
            break;
        }
        check(r, val, 0);
        if (r == 0) {
            if (out == NULL) {
                die("future creation with NULL out succeeded");
            }
            ent_t *fe = add_ent(f.id, K_FUT, rti);
            if (fe != NULL) {
                fe->fkind = kind;
            } else {
                CALL(eddy_future_free(f));
            }
        }
        break;
    }
    case 8:
    case 9: { /* future poll / take / then / free */
        h = pick(K_FUT, &v, &e);
        eddy_tcp_t t;
        eddy_value_t val;
        switch (rn(5)) {
        case 0:
            r = CALL(eddy_future_poll((eddy_future_t){ h }, bcx));
            check(r, v == VALID && cx_ok ? VALID : (WEAK(v)), 1);
            if (v == VALID && cx_ok && r != EDDY_PENDING && e->has_then == 0 && r == EDDY_EINVAL) {
                die("future_poll with a good cx returned EINVAL");
            }
            break;
        case 1:
            r = CALL(eddy_future_take_tcp((eddy_future_t){ h }, chance(5) ? NULL : &t));
            check(r, WEAK(v), 0);
            if (r == 0) {
                if (e == NULL || add_ent(t.id, K_TCP, e->rt) == NULL) {
                    CALL(eddy_tcp_close(t));
                }
            }
            break;
        case 2:
            check(CALL(eddy_future_take_value((eddy_future_t){ h }, chance(5) ? NULL : &val)),
                  WEAK(v), 0);
            break;
        case 3: {
            if (nthens >= MAXSTATES) {
                break;
            }
            thenctx_t *tc = calloc(1, sizeof *tc);
            tc->fut = h;
            tc->rt = e ? e->rt : -1;
            r = CALL(eddy_future_then((eddy_future_t){ h }, chance(3) ? NULL : fz_then, tc));
            check(r, WEAK(v), 0);
            if (r == 0) {
                if (e != NULL) {
                    e->has_then = 1;
                }
                thens[nthens++] = tc;
            } else {
                free(tc);
            }
            break;
        }
        default:
            r = CALL(eddy_future_free((eddy_future_t){ h }));
            check(r, v, 0);
            if (r == 0 && e != NULL) {
                e->live = 0;
            }
            break;
        }
        break;
    }
    case 10:
    case 11:
    case 12: { /* tcp poll functions (need a cx) */
        h = pick(K_TCP, &v, &e);
        size_t n;
        int val = v == VALID && cx_ok ? VALID : (WEAK(v));
        if (v == VALID && e->listener) {
            val = UNKNOWN; /* stream operation on a listener: EINVAL */
        }
        switch (rn(4)) {
        case 0: {
            eddy_tcp_t s;
            r = CALL(eddy_tcp_poll_accept((eddy_tcp_t){ h }, bcx, chance(5) ? NULL : &s));
            if (getenv("FUZZ_DEBUG") && r == EDDY_EWRONGTHREAD) {
                fprintf(stderr, "accept: h=%llx v=%d e=%p rt=%d cur_rt=%d listener=%d nest=%d cx_ok=%d rts: %d/%d %d/%d %d/%d\n",
                        (unsigned long long)h, v, (void *)e, e ? e->rt : -9, cur_rt, e ? e->listener : -1, g_nesting,
                        cx_ok, rts[0].live, rts[0].running, rts[1].live, rts[1].running, rts[2].live, rts[2].running);
            }
            check(r, v == VALID && cx_ok && e->listener ? UNKNOWN : (WEAK(v)), 1);
            if (r == 0) {
                if (e == NULL || count_live(K_TCP) > 200) {
                    CALL(eddy_tcp_close(s));
                } else {
                    add_ent(s.id, K_TCP, e->rt);
                }
            }
            break;
        }
        case 1: {
            size_t len = chance(10) ? (chance(50) ? SIZE_MAX - rn(100) : ((size_t)1 << 63) + rn(10)) : rn(sizeof sbuf + 1);
            void *buf = chance(5) ? NULL : sbuf;
            r = CALL(eddy_tcp_poll_read((eddy_tcp_t){ h }, bcx, buf, len, chance(5) ? NULL : &n));
            check(r, len > ((size_t)1 << 62) || (buf == NULL && len) ? (val == INVALID ? INVALID : UNKNOWN) : val, 1);
            if (len > ((size_t)1 << 62) && r >= 0) {
                die("poll_read with length %zu returned %d", len, r);
            }
            if (r == EDDY_READY && n > len) {
                die("poll_read reported %zu > %zu bytes", n, len);
            }
            break;
        }
        case 2: {
            size_t len = chance(10) ? (chance(50) ? SIZE_MAX - rn(100) : ((size_t)1 << 63) + rn(10)) : rn(sizeof sbuf + 1);
            const void *buf = chance(5) ? NULL : sbuf;
            r = CALL(eddy_tcp_poll_write((eddy_tcp_t){ h }, bcx, buf, len, chance(5) ? NULL : &n));
            check(r, len > ((size_t)1 << 62) || (buf == NULL && len) ? (val == INVALID ? INVALID : UNKNOWN) : val, 1);
            if (len > ((size_t)1 << 62) && r >= 0) {
                die("poll_write with length %zu returned %d", len, r);
            }
            if (r == EDDY_READY && n > len) {
                die("poll_write reported %zu > %zu bytes", n, len);
            }
            break;
        }
        default:
            check(CALL(eddy_tcp_poll_shutdown((eddy_tcp_t){ h }, bcx)), val == VALID ? UNKNOWN : val, 1);
            break;
        }
        break;
    }
    case 13: { /* tcp misc */
        h = pick(K_TCP, &v, &e);
        uint16_t port;
        switch (rn(4)) {
        case 0:
            check(CALL(eddy_tcp_local_port((eddy_tcp_t){ h }, chance(5) ? NULL : &port)), v == VALID ? UNKNOWN : v, 0);
            break;
        case 1:
            check(CALL(eddy_tcp_set_nodelay((eddy_tcp_t){ h }, (int)rn(3))), v == VALID ? UNKNOWN : v, 0);
            break;
        default:
            r = CALL(eddy_tcp_close((eddy_tcp_t){ h }));
            check(r, v, 0);
            if (r == 0 && e != NULL) {
                e->live = 0;
            }
            break;
        }
        break;
    }
    case 14: { /* listen */
        pick_rt(&v, &rti);
        const char *hosts[] = { "127.0.0.1", "::1", "[::1]", "localhost", "example.com", "", "1.2.3.4.5", "0.0.0.0x" };
        eddy_tcp_t l;
        int ok = v == VALID && count_live(K_TCP) < 200;
        r = CALL(eddy_tcp_listen((eddy_runtime_t){ rt_id(rti) }, chance(5) ? NULL : hosts[rn(8)], 0,
                                 (int)rn(3) - 1, ok && !chance(5) ? &l : NULL));
        check(r, WEAK(v), 0);
        if (r == 0) {
            if (!ok) {
                die("listen with NULL out succeeded");
            }
            add_ent(l.id, K_TCP, rti)->listener = 1;
        }
        break;
    }
    case 15: { /* wakers */
        h = pick(K_WAKER, &v, &e);
        int wv = WEAK(v); /* a waker may outlive its runtime's state */
        if (chance(70)) {
            check(CALL(eddy_waker_wake((eddy_waker_t){ h })), wv, 0);
        } else {
            r = CALL(eddy_waker_free((eddy_waker_t){ h }));
            check(r, wv, 0);
            if (r == 0 && e != NULL) {
                e->live = 0;
            }
        }
        break;
    }
    case 16: { /* cx functions */
        eddy_runtime_t rt;
        eddy_waker_t w;
        if (chance(50)) {
            r = CALL(eddy_cx_runtime(bcx, chance(5) ? NULL : &rt));
            check(r, cx_ok ? UNKNOWN : UNKNOWN, 0);
            if (cx_ok && r == 0 && cur_rt >= 0 && rt.id != rts[cur_rt].id) {
                die("cx_runtime gave another runtime");
            }
            if (!cx_ok && r == 0) {
                die("cx_runtime accepted a bad cx");
            }
        } else {
            r = CALL(eddy_cx_waker(bcx, chance(5) ? NULL : &w));
            check(r, UNKNOWN, 0);
            if (!cx_ok && r == 0) {
                die("cx_waker accepted a bad cx");
            }
            if (r == 0) {
                if (add_ent(w.id, K_WAKER, cur_rt) == NULL) {
                    CALL(eddy_waker_free(w));
                }
            }
        }
        break;
    }
    case 17: { /* block_on with a fuzz task (not when nested deeply) */
        pick_rt(&v, &rti);
        int st;
        if (v != VALID || depth > 0 || !chance(30)) {
            check(CALL(eddy_block_on((eddy_runtime_t){ rt_id(rti) }, chance(50) ? NULL : fz_poll, NULL, NULL,
                                     chance(50) ? NULL : &st)),
                  WEAK(v), 0);
            break;
        }
        state_t *s = calloc(1, sizeof *s);
        s->rt = rti;
        s->done_at = (int)rn(3);
        s->always_wake = 1;
        s->spawned = 1;
        states[nstates++] = s; /* block_on drops it in every case once spawned */
        rts[rti].running = 1;
        uint64_t rid = rts[rti].id;
        g_nesting++;
        r = CALL(eddy_block_on((eddy_runtime_t){ rid }, fz_poll, s, fz_drop, &st));
        g_nesting--;
        if (rts[rti].live && rts[rti].id == rid) {
            rts[rti].running = 0;
        }
        check(r, VALID, 0);
        break;
    }
    case 18: /* version and names, any code */
        CALL(eddy_version());
        CALL(eddy_version_string());
        if (CALL(eddy_strerror((int)rnd())) == NULL || CALL(eddy_err_name((int)rnd())) == NULL) {
            die("NULL string");
        }
        break;
    default: /* the most common calls again, with a bias to poll functions inside polls */
        if (cx != NULL) {
            h = pick(K_FUT, &v, &e);
            r = CALL(eddy_future_poll((eddy_future_t){ h }, bcx));
            check(r, WEAK(v), 1);
        } else {
            h = pick(K_TASK, &v, &e);
            int st;
            check(CALL(eddy_task_status((eddy_task_t){ h }, &st)), v, 1);
        }
        break;
    }
}

/* ---------------------------------------------------------------- helper thread */

static void *helper_main(void *arg)
{
    (void)arg;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    while (!atomic_load(&helper_stop)) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t id = atomic_load(&shared_ids[x % 64]);
        int r;
        switch ((x >> 8) % 64 < 62 ? (x >> 8) % 3 : 3) {
        case 0:
            r = eddy_waker_wake((eddy_waker_t){ id });
            break;
        case 1:
            r = eddy_task_abort((eddy_task_t){ id });
            break;
        case 2: { /* a foreign thread using owning-thread functions: never a crash */
            eddy_tcp_t t;
            uint16_t port;
            r = eddy_tcp_local_port((eddy_tcp_t){ id }, &port);
            if (r == 0) {
                r = eddy_tcp_close((eddy_tcp_t){ 0 });
            }
            (void)t;
            break;
        }
        default: { /* its own short-lived runtime */
            eddy_runtime_t rt;
            r = eddy_runtime_new(NULL, &rt);
            if (r == 0) {
                eddy_future_t f;
                eddy_sleep(rt, 1000, &f);
                r = eddy_runtime_free(rt);
                r = r >= 0 ? 0 : r;
            }
            break;
        }
        }
        if (r < 0 && !known_code(r)) {
            die("helper thread: unknown code %d", r);
        }
        if (r == EDDY_EFORKED) {
            die("helper thread: EDDY_EFORKED");
        }
        struct timespec ts = { 0, 20000 };
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* ---------------------------------------------------------------- driver */

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        n += e->d_name[0] != '.';
    }
    closedir(d);
    return n;
}

static void free_all_runtimes(void)
{
    for (int i = 0; i < MAXRT; i++) {
        if (rts[i].live) {
            int v, rti;
            (void)v;
            (void)rti;
            g_calls++;
            int r = eddy_runtime_free((eddy_runtime_t){ rts[i].id });
            if (r < 0) {
                die("final runtime_free: %s", eddy_err_name(r));
            }
            rts[i].live = 0;
        }
    }
    for (int i = 0; i < nstates; i++) {
        if (states[i]->drops != 1) {
            die("task state dropped %d times at the end", states[i]->drops);
        }
        free(states[i]);
    }
    nstates = 0;
    for (int i = 0; i < nthens; i++) {
        if (thens[i]->calls != 1) {
            die("then-callback called %d times at the end", thens[i]->calls);
        }
        free(thens[i]);
    }
    nthens = 0;
}

static int run_one(uint64_t seed, long long calls)
{
    g_seed = seed;
    rng_state = seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;
    if (rng_state == 0) {
        rng_state = 1;
    }
    g_calls = 0;
    g_target = calls;
    nents = 0;
    memset(rts, 0, sizeof rts);
    for (int i = 0; i < 64; i++) {
        atomic_store(&shared_ids[i], 0);
    }
    int fds0 = count_fds();
    atomic_store(&helper_stop, 0);
    pthread_t helper;
    pthread_create(&helper, NULL, helper_main, NULL);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (g_calls < calls) {
        random_op(NULL, -1, 0);
    }
    atomic_store(&helper_stop, 1);
    pthread_join(helper, NULL);
    free_all_runtimes();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int fds1 = count_fds();
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("abi_fuzz: seed %llu: %lld calls in %.1f s, fds %d -> %d\n", (unsigned long long)seed, g_calls, secs, fds0,
           fds1);
    fflush(stdout);
    if (fds1 != fds0) {
        die("descriptor leak: %d open before, %d after", fds0, fds1);
    }
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t seed = (uint64_t)time(NULL);
    long long calls = 1000000;
    const char *corpus = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--calls") == 0 && i + 1 < argc) {
            calls = atoll(argv[++i]);
        } else if (strcmp(argv[i], "--corpus") == 0 && i + 1 < argc) {
            corpus = argv[++i];
        } else {
            fprintf(stderr, "usage: %s [--seed N] [--calls N] [--corpus FILE]\n", argv[0]);
            return 2;
        }
    }
    signal(SIGPIPE, SIG_DFL);
    g_trace = getenv("FUZZ_TRACE") != NULL;
    alarm(170); /* a hang is a failure */
    if (corpus == NULL) {
        return run_one(seed, calls);
    }
    FILE *f = fopen(corpus, "r");
    if (f == NULL) {
        perror(corpus);
        return 2;
    }
    char line[256];
    int n = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        char *p = line;
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        if (*p == '#' || *p == '\n' || *p == 0) {
            continue;
        }
        unsigned long long s = 0;
        long long c = 0;
        int k = sscanf(p, "%llu %lld", &s, &c);
        if (k < 1) {
            continue;
        }
        if (k < 2 || c <= 0 || (c > calls && calls > 0)) {
            c = k < 2 || c <= 0 ? 20000 : calls;
        }
        run_one(s, c);
        n++;
    }
    fclose(f);
    printf("abi_fuzz: corpus %s: %d seeds replayed\n", corpus, n);
    return 0;
}

//! tokio reference for Eddy's runtime and channel benchmarks (bench/rt).
//!
//!   tokio-rtbench BENCH --flavor ct|mt [--workers N] [--iters R] [--quick]
//!
//! The runtime benchmarks follow tokio's `benches/rt_multi_threaded.rs` and
//! `rt_current_thread.rs` (spawn_many_local, spawn_many_remote_idle,
//! spawn_many_remote_busy, yield_many, ping_pong, chained_spawn); the channel ones the
//! issue-16 list (mpsc with 1 and 4 producers, oneshot, Notify round trip). Every
//! benchmark has one shape for every flavour and every runtime (bench/rt/README.md):
//! the iteration's end is awaited inside `block_on` (a `Notify`), never by blocking the
//! thread, so the same body runs on a current-thread runtime.
//! Prints `RESULT <bench> <ns per op> <ops per iteration> <iterations>` (median).
use std::future::Future;
use std::sync::atomic::Ordering::{AcqRel, Relaxed};
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::Arc;
use std::time::Instant;
use tokio::runtime::Runtime;
use tokio::sync::{mpsc, oneshot, Notify};

struct Cfg {
    quick: bool,
    iters: Option<usize>,
}

impl Cfg {
    /// A count, divided by 100 for the smoke run.
    fn n(&self, full: usize) -> usize {
        if self.quick { (full / 100).max(2) } else { full }
    }
    fn iters(&self, default: usize) -> usize {
        if self.quick { 1 } else { self.iters.unwrap_or(default) }
    }
}

/// Runs `body` once to warm up, then `iters` times; returns the median seconds.
fn measure(iters: usize, mut body: impl FnMut()) -> f64 {
    body();
    let mut v: Vec<f64> = (0..iters)
        .map(|_| {
            let t0 = Instant::now();
            body();
            t0.elapsed().as_secs_f64()
        })
        .collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn report(name: &str, secs: f64, ops: usize, iters: usize) {
    println!("RESULT {} {:.1} {} {}", name, secs * 1e9 / ops as f64, ops, iters);
}

/// A countdown: the task that brings it to zero notifies the waiter.
struct Countdown {
    rem: AtomicUsize,
    done: Notify,
}

impl Countdown {
    fn new() -> Arc<Self> {
        Arc::new(Countdown { rem: AtomicUsize::new(0), done: Notify::new() })
    }
    fn arm(&self, n: usize) {
        self.rem.store(n, Relaxed);
    }
    fn tick(&self) {
        if self.rem.fetch_sub(1, AcqRel) == 1 {
            self.done.notify_one();
        }
    }
    fn wait(&self) -> impl Future<Output = ()> + '_ {
        self.done.notified()
    }
}

// spawn_many_local: spawn N empty tasks from inside block_on; the last one to run
// signals the root (rt_multi_threaded.rs's shape).
fn spawn_many_local(rt: &Runtime, c: &Cfg) {
    let n = c.n(10_000);
    let cd = Countdown::new();
    let secs = measure(c.iters(30), || {
        cd.arm(n);
        let cd2 = cd.clone();
        rt.block_on(async move {
            for _ in 0..n {
                let cd = cd2.clone();
                tokio::spawn(async move { cd.tick() });
            }
            cd2.wait().await;
        });
        assert_eq!(cd.rem.load(Relaxed), 0);
    });
    report("spawn_many_local", secs, n, c.iters(30));
}

// spawn_many_remote_idle: spawn N tasks from outside the runtime (the main thread,
// not inside block_on), then block_on joins every handle.
fn spawn_many_remote_idle(rt: &Runtime, c: &Cfg) {
    let n = c.n(10_000);
    let ran = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::with_capacity(n);
    let secs = measure(c.iters(30), || {
        ran.store(0, Relaxed);
        for _ in 0..n {
            let ran = ran.clone();
            handles.push(rt.spawn(async move { ran.fetch_add(1, Relaxed); }));
        }
        rt.block_on(async {
            for h in handles.drain(..) {
                h.await.unwrap();
            }
        });
        assert_eq!(ran.load(Relaxed), n);
    });
    report("spawn_many_remote_idle", secs, n, c.iters(30));
}

// spawn_many_remote_busy: as remote_idle while 2 tasks per worker keep the runtime busy,
// each yielding in a loop until a flag stops it (rt_multi_threaded.rs's busy1 without its
// 10 us spin, which would only measure the machine's load). Not rt_current_thread.rs's
// endless spawn chain: tokio 1.24's multi-thread LIFO slot has no fairness bound, so a
// worker running such a chain never returns to its queues and the benchmark hangs.
fn spawn_many_remote_busy(rt: &Runtime, c: &Cfg, workers: usize) {
    let n = c.n(10_000);
    let stop = Arc::new(AtomicBool::new(false));
    for _ in 0..2 * workers {
        let stop = stop.clone();
        rt.spawn(async move {
            while !stop.load(Relaxed) {
                tokio::task::yield_now().await;
            }
        });
    }
    let ran = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::with_capacity(n);
    let secs = measure(c.iters(30), || {
        ran.store(0, Relaxed);
        for _ in 0..n {
            let ran = ran.clone();
            handles.push(rt.spawn(async move { ran.fetch_add(1, Relaxed); }));
        }
        rt.block_on(async {
            for h in handles.drain(..) {
                h.await.unwrap();
            }
        });
        assert_eq!(ran.load(Relaxed), n);
    });
    stop.store(true, Relaxed);
    report("spawn_many_remote_busy", secs, n, c.iters(30));
}

// yield_many: 200 tasks spawned from outside, each yields 1 000 times; block_on waits
// for the last. One op = one yield.
fn yield_many(rt: &Runtime, c: &Cfg) {
    let tasks = 200;
    let yields = c.n(1_000);
    let cd = Countdown::new();
    let secs = measure(c.iters(10), || {
        cd.arm(tasks);
        for _ in 0..tasks {
            let cd = cd.clone();
            rt.spawn(async move {
                for _ in 0..yields {
                    tokio::task::yield_now().await;
                }
                cd.tick();
            });
        }
        rt.block_on(cd.wait());
        assert_eq!(cd.rem.load(Relaxed), 0);
    });
    report("yield_many", secs, tasks * yields, c.iters(10));
}

// ping_pong: a task spawns 1 000 ping tasks; each ping spawns its pong task, sends it a
// value through one oneshot and waits for the answer through another. One op = one
// ping (2 spawns, 2 oneshots).
fn ping_pong(rt: &Runtime, c: &Cfg) {
    let pings = c.n(1_000);
    let cd = Countdown::new();
    let secs = measure(c.iters(30), || {
        cd.arm(pings);
        let cd2 = cd.clone();
        rt.block_on(async move {
            let cd3 = cd2.clone();
            tokio::spawn(async move {
                for _ in 0..pings {
                    let cd = cd3.clone();
                    tokio::spawn(async move {
                        let (tx1, rx1) = oneshot::channel::<usize>();
                        let (tx2, rx2) = oneshot::channel::<usize>();
                        tokio::spawn(async move {
                            let v = rx1.await.unwrap();
                            tx2.send(v + 1).unwrap();
                        });
                        tx1.send(1).unwrap();
                        assert_eq!(rx2.await.unwrap(), 2);
                        cd.tick();
                    });
                }
            });
            cd2.wait().await;
        });
        assert_eq!(cd.rem.load(Relaxed), 0);
    });
    report("ping_pong", secs, pings, c.iters(30));
}

// chained_spawn: each task spawns the next, 1 000 deep; the last signals the root.
fn chain(cd: Arc<Countdown>, n: usize) {
    if n == 0 {
        cd.tick();
    } else {
        tokio::spawn(async move { chain(cd, n - 1) });
    }
}

fn chained_spawn(rt: &Runtime, c: &Cfg) {
    let depth = c.n(1_000);
    let cd = Countdown::new();
    let secs = measure(c.iters(50), || {
        cd.arm(1);
        let cd2 = cd.clone();
        rt.block_on(async move {
            let cd3 = cd2.clone();
            tokio::spawn(async move { chain(cd3, depth) });
            cd2.wait().await;
        });
    });
    report("chained_spawn", secs, depth, c.iters(50));
}

// mpsc_Np: P producer tasks send M values in total through a bounded(1 024) channel;
// the root receives them. One op = one value.
fn mpsc_producers(rt: &Runtime, c: &Cfg, producers: usize) {
    let total = c.n(100_000);
    let per = total / producers;
    let secs = measure(c.iters(10), || {
        let got = rt.block_on(async move {
            let (tx, mut rx) = mpsc::channel::<usize>(1024);
            for _ in 0..producers {
                let tx = tx.clone();
                tokio::spawn(async move {
                    for i in 0..per {
                        tx.send(i).await.unwrap();
                    }
                });
            }
            drop(tx);
            let mut got = 0;
            while rx.recv().await.is_some() {
                got += 1;
            }
            got
        });
        assert_eq!(got, per * producers);
    });
    report(&format!("mpsc_{}p", producers), secs, per * producers, c.iters(10));
}

// oneshot: create a oneshot, send, receive, drop; K times in one task.
fn oneshot_cost(rt: &Runtime, c: &Cfg) {
    let k = c.n(100_000);
    let secs = measure(c.iters(10), || {
        let sum = rt.block_on(async move {
            let mut sum = 0usize;
            for i in 0..k {
                let (tx, rx) = oneshot::channel::<usize>();
                tx.send(i).unwrap();
                sum += rx.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, k * (k - 1) / 2);
    });
    report("oneshot", secs, k, c.iters(10));
}

// notify_rtt: two tasks, two Notifys: the root notifies the peer and waits to be
// notified back. One op = one round trip.
fn notify_rtt(rt: &Runtime, c: &Cfg) {
    let k = c.n(20_000);
    let secs = measure(c.iters(5), || {
        let count = Arc::new(AtomicUsize::new(0));
        let count2 = count.clone();
        rt.block_on(async move {
            let ping = Arc::new(Notify::new());
            let pong = Arc::new(Notify::new());
            let (ping2, pong2) = (ping.clone(), pong.clone());
            let peer = tokio::spawn(async move {
                for _ in 0..k {
                    ping2.notified().await;
                    count2.fetch_add(1, Relaxed);
                    pong2.notify_one();
                }
            });
            for _ in 0..k {
                ping.notify_one();
                pong.notified().await;
            }
            peer.await.unwrap();
        });
        assert_eq!(count.load(Relaxed), k);
    });
    report("notify_rtt", secs, k, c.iters(5));
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = || -> ! {
        eprintln!("usage: tokio-rtbench BENCH --flavor ct|mt [--workers N] [--iters R] [--quick]");
        std::process::exit(2);
    };
    let bench = args.get(1).cloned().unwrap_or_else(|| usage());
    let (mut flavor, mut workers, mut cfg) = (String::from("ct"), 1usize, Cfg { quick: false, iters: None });
    let mut i = 2;
    while i < args.len() {
        match args[i].as_str() {
            "--flavor" => { flavor = args.get(i + 1).cloned().unwrap_or_else(|| usage()); i += 1; }
            "--workers" => { workers = args.get(i + 1).and_then(|s| s.parse().ok()).unwrap_or_else(|| usage()); i += 1; }
            "--iters" => { cfg.iters = args.get(i + 1).and_then(|s| s.parse().ok()); i += 1; }
            "--quick" => cfg.quick = true,
            _ => usage(),
        }
        i += 1;
    }
    let rt = match flavor.as_str() {
        "ct" if workers == 1 => tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap(),
        "mt" if workers >= 1 => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers).enable_all().build().unwrap(),
        _ => usage(),
    };
    match bench.as_str() {
        "spawn_many_local" => spawn_many_local(&rt, &cfg),
        "spawn_many_remote_idle" => spawn_many_remote_idle(&rt, &cfg),
        "spawn_many_remote_busy" => spawn_many_remote_busy(&rt, &cfg, workers),
        "yield_many" => yield_many(&rt, &cfg),
        "ping_pong" => ping_pong(&rt, &cfg),
        "chained_spawn" => chained_spawn(&rt, &cfg),
        "mpsc_1p" => mpsc_producers(&rt, &cfg, 1),
        "mpsc_4p" => mpsc_producers(&rt, &cfg, 4),
        "oneshot" => oneshot_cost(&rt, &cfg),
        "notify_rtt" => notify_rtt(&rt, &cfg),
        _ => usage(),
    }
    // The busy tasks of spawn_many_remote_busy are still queued: do not wait for them.
    std::process::exit(0);
}

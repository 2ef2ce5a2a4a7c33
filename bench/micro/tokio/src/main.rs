//! tokio current-thread reference for Eddy's runtime micro-benchmarks.
//!   tokio-micro spawn N REPS | pingpong N REPS | timers N | idle N
//! Prints `RESULT <key> <value> <unit>` lines (median over REPS where it applies).
use std::cell::RefCell;
use std::future::poll_fn;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn status_kb(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    for l in s.lines() {
        if let Some(rest) = l.strip_prefix(field) {
            return rest.trim().trim_end_matches("kB").trim().parse().unwrap();
        }
    }
    0
}

fn rss_bytes() -> u64 {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = s.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

// (a) spawn-and-complete of empty tasks, in batches of 1000 (handles dropped = detached).
static DONE: AtomicUsize = AtomicUsize::new(0);
const BATCH: usize = 1000;

fn bench_spawn(n: usize) -> f64 {
    let rt = rt();
    DONE.store(0, Ordering::Relaxed);
    let t0 = Instant::now();
    rt.block_on(async move {
        let mut spawned = 0;
        while spawned < n {
            let b = BATCH.min(n - spawned);
            for _ in 0..b {
                tokio::spawn(async {
                    DONE.fetch_add(1, Ordering::Relaxed);
                });
            }
            spawned += b;
            while DONE.load(Ordering::Relaxed) < spawned {
                tokio::task::yield_now().await;
            }
        }
    });
    let dt = t0.elapsed().as_secs_f64();
    n as f64 / dt
}

// (b) ping-pong: A wakes B, B wakes A (one round trip = 2 wakes + 2 polls).
// State is only touched on the current-thread runtime's one thread.
struct Inner {
    turn_a: bool,
    count: usize,
    done: bool,
    wa: Option<Waker>,
    wb: Option<Waker>,
}
struct Shared(RefCell<Inner>);
// SAFETY: a current_thread runtime polls every task on the thread that calls block_on.
unsafe impl Sync for Shared {}
unsafe impl Send for Shared {}

fn store(slot: &mut Option<Waker>, w: &Waker) {
    match slot {
        Some(s) if s.will_wake(w) => {}
        _ => *slot = Some(w.clone()),
    }
}

fn bench_pingpong(n: usize) -> f64 {
    let rt = rt();
    let sh: &'static Shared = Box::leak(Box::new(Shared(RefCell::new(Inner {
        turn_a: true, count: 0, done: false, wa: None, wb: None,
    }))));
    let t0 = Instant::now();
    rt.block_on(async move {
        let a = tokio::spawn(poll_fn(move |cx| {
            let mut s = sh.0.borrow_mut();
            store(&mut s.wa, cx.waker());
            if s.turn_a {
                s.count += 1;
                s.turn_a = false;
                if s.count == n { s.done = true; }
                if let Some(w) = &s.wb { w.wake_by_ref(); }
                if s.done { return Poll::Ready(()); }
            }
            Poll::Pending
        }));
        let b = tokio::spawn(poll_fn(move |cx| {
            let mut s = sh.0.borrow_mut();
            if s.done { return Poll::Ready(()); }
            store(&mut s.wb, cx.waker());
            if !s.turn_a {
                s.turn_a = true;
                if let Some(w) = &s.wa { w.wake_by_ref(); }
            }
            Poll::Pending
        }));
        a.await.unwrap();
        b.await.unwrap();
    });
    let dt = t0.elapsed().as_secs_f64();
    assert_eq!(sh.0.borrow().count, n);
    n as f64 / dt
}

// (c) N timers armed (first poll registers) then cancelled (dropped), pseudo-random
// deadlines 10..70 s ahead.
fn bench_timers(n: usize) {
    let rt = rt();
    let rss0 = rss_bytes();
    let t0 = Instant::now();
    let (arm, cancel) = rt.block_on(async move {
        let base = tokio::time::Instant::now();
        let mut v: Vec<std::pin::Pin<Box<tokio::time::Sleep>>> = Vec::with_capacity(n);
        let mut x: u64 = 0x9E3779B97F4A7C15;
        for _ in 0..n {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            let off = Duration::from_secs(10) + Duration::from_micros(x % 60_000_000);
            v.push(Box::pin(tokio::time::sleep_until(base + off)));
        }
        let tc = Instant::now();
        // Poll each once: registers the timer with the driver (unconstrained: the
        // coop budget would otherwise turn every poll after the 128th into a no-op).
        tokio::task::unconstrained(poll_fn(|cx| {
            for s in v.iter_mut() {
                assert!(s.as_mut().poll(cx).is_pending());
            }
            Poll::Ready(())
        })).await;
        let t1 = Instant::now();
        println!("RESULT timers_create_s {:.3} s", (tc - t0).as_secs_f64());
        drop(v);
        let t2 = Instant::now();
        (t1, t2)
    });
    let total = t0.elapsed().as_secs_f64();
    println!("RESULT timers_arm_s {:.3} s", (arm - t0).as_secs_f64());
    println!("RESULT timers_cancel_s {:.3} s", (cancel - arm).as_secs_f64());
    println!("RESULT timers_total_s {:.3} s", total);
    println!("RESULT timers_peak_rss_mb {:.1} MB", status_kb("VmHWM:") as f64 / 1024.0);
    println!("RESULT timers_base_rss_mb {:.1} MB", rss0 as f64 / 1048576.0);
}

use std::future::Future;

// (d) idle connections: accept N, one task per connection pending in a 64-byte read.
fn bench_idle(n: usize) {
    raise_nofile();
    let rt = rt();
    rt.block_on(async move {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let rss0 = rss_bytes();
        println!("PORT {}", port);
        use std::io::Write;
        std::io::stdout().flush().unwrap();
        static POLLED: AtomicUsize = AtomicUsize::new(0);
        let mut mid = 0u64;
        for i in 0..n {
            let (mut s, _) = l.accept().await.unwrap();
            tokio::spawn(async move {
                let mut buf = [0u8; 64];
                POLLED.fetch_add(1, Ordering::Relaxed);
                let _ = s.read(&mut buf).await;
            });
            if i + 1 == n / 10 {
                while POLLED.load(Ordering::Relaxed) < n / 10 { tokio::task::yield_now().await; }
                mid = rss_bytes();
            }
        }
        while POLLED.load(Ordering::Relaxed) < n { tokio::task::yield_now().await; }
        // Let the reactor see every socket once more.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let rss1 = rss_bytes();
        println!("RESULT idle_bytes_per_conn {:.0} B", (rss1 - rss0) as f64 / n as f64);
        println!("RESULT idle_marginal_bytes_per_conn {:.0} B", (rss1 - mid) as f64 / (n - n / 10) as f64);
        println!("RESULT idle_rss_delta_mb {:.2} MB", (rss1 - rss0) as f64 / 1048576.0);
    });
    std::process::exit(0); // don't wait for the idle tasks
}

fn raise_nofile() {
    unsafe {
        let mut r = std::mem::zeroed::<libc_rlimit>();
        getrlimit(7, &mut r);
        r.cur = r.max;
        setrlimit(7, &r);
    }
}
#[repr(C)]
struct libc_rlimit { cur: u64, max: u64 }
extern "C" {
    fn getrlimit(res: i32, r: *mut libc_rlimit) -> i32;
    fn setrlimit(res: i32, r: *const libc_rlimit) -> i32;
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(2).map(|s| s.parse().unwrap()).unwrap_or(1_000_000);
    let reps: usize = args.get(3).map(|s| s.parse().unwrap()).unwrap_or(5);
    match args.get(1).map(|s| s.as_str()) {
        Some("spawn") => {
            bench_spawn(n / 10); // warm-up
            let v: Vec<f64> = (0..reps).map(|_| bench_spawn(n)).collect();
            println!("RESULT spawn_per_s {:.0} tasks/s", median(v));
        }
        Some("pingpong") => {
            bench_pingpong(n / 10);
            let v: Vec<f64> = (0..reps).map(|_| bench_pingpong(n)).collect();
            println!("RESULT pingpong_per_s {:.0} rt/s", median(v));
        }
        Some("timers") => bench_timers(n),
        Some("idle") => bench_idle(n),
        _ => {
            eprintln!("usage: tokio-micro spawn|pingpong|timers|idle N [REPS]");
            std::process::exit(2);
        }
    }
}

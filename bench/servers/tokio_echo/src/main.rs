//! tokio TCP echo server (anchor). Single-threaded (current_thread runtime) on
//! 127.0.0.1:PORT unless `--multi-thread` (one worker thread per CPU).
//!
//!     tokio_echo [--port PORT] [--multi-thread]
//!
//! One task per connection, one 64 KiB buffer per connection (no allocation per read).
//! SIGTERM/SIGINT end the accept loop; the runtime is dropped (cancelling the connection
//! tasks) and the process exits 0.
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{signal, SignalKind};

async fn conn(mut s: TcpStream) {
    let _ = s.set_nodelay(true);
    let mut buf = vec![0u8; 65536];
    loop {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if s.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn serve(port: u16) -> std::io::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on {}", listener.local_addr()?);
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    loop {
        tokio::select! {
            r = listener.accept() => {
                if let Ok((s, _)) = r {
                    tokio::spawn(conn(s));
                }
            }
            _ = term.recv() => return Ok(()),
            _ = int.recv() => return Ok(()),
        }
    }
}

fn main() {
    let mut port: u16 = 9000;
    let mut multi = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => port = args.next().and_then(|v| v.parse().ok()).expect("--port PORT"),
            "--multi-thread" => multi = true,
            _ => {
                eprintln!("usage: tokio_echo [--port PORT] [--multi-thread]");
                std::process::exit(2);
            }
        }
    }
    let rt = if multi {
        tokio::runtime::Builder::new_multi_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    }
    .expect("runtime");
    let r = rt.block_on(serve(port));
    drop(rt);
    if let Err(e) = r {
        eprintln!("tokio_echo: {e}");
        std::process::exit(1);
    }
}

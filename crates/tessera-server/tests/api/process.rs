//! The real `tessera` binary as a child process, and a TCP proxy that can cut a database
//! off and bring it back, for the multi-process and fault tests.

use std::io::{BufRead, BufReader};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::helpers::SECRET;

/// A running `tessera serve`; killed when dropped.
pub struct Tessera {
    child: Child,
    pub base: String,
}

impl Tessera {
    /// Starts `tessera serve` on a free port and returns once it listens (it logs its port).
    pub fn start(database_url: &str, data_dir: &Path) -> Tessera {
        Tessera::start_with(database_url, data_dir, &[])
    }

    /// Like [`Tessera::start`], with extra environment variables.
    pub fn start_with(database_url: &str, data_dir: &Path, env: &[(&str, &str)]) -> Tessera {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("DATABASE_URL", database_url)
            .env("TESSERA_DATA_DIR", data_dir)
            .env("TESSERA_SECRET_KEY", SECRET)
            .env("TESSERA_BCRYPT_COST", "4")
            .env("TESSERA_LOG_FORMAT", "json")
            .env("TESSERA_WORKERS", "2")
            .env("TESSERA_REGISTER_MAX_PER_HOUR", "0")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the tessera binary starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let port = loop {
            let line = match lines.next() {
                Some(Ok(line)) => line,
                _ => panic!("tessera exited before listening: {:?}", child.wait()),
            };
            if let Some(port) = line
                .contains("tessera is listening")
                .then(|| port_of(&line))
                .flatten()
            {
                break port;
            }
        };
        // Keep draining the log so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Tessera {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGKILL: no shutdown, no flushing — as when a machine dies.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Tessera {
    fn drop(&mut self) {
        self.kill();
    }
}

fn port_of(json_line: &str) -> Option<u16> {
    let value: serde_json::Value = serde_json::from_str(json_line).ok()?;
    value["fields"]["port"]
        .as_u64()
        .and_then(|p| u16::try_from(p).ok())
}

/// Forwards a local port to a database server. `stop` refuses new connections and cuts
/// the open ones, as a crashed or unreachable database would; `start` restores service on
/// the same port.
pub struct Proxy {
    pub port: u16,
    upstream: String,
    state: Arc<ProxyState>,
}

struct ProxyState {
    running: AtomicBool,
    connections: Mutex<Vec<TcpStream>>,
    listener: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Proxy {
    pub fn new(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = Proxy {
            port,
            upstream: upstream.to_owned(),
            state: Arc::new(ProxyState {
                running: AtomicBool::new(false),
                connections: Mutex::new(Vec::new()),
                listener: Mutex::new(None),
            }),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        self.state.running.store(true, Ordering::SeqCst);
        let state = Arc::clone(&self.state);
        let upstream = self.upstream.clone();
        let handle = std::thread::spawn(move || {
            for client in listener.incoming() {
                if !state.running.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let mut connections = state.connections.lock().unwrap();
                connections.push(client.try_clone().unwrap());
                connections.push(server.try_clone().unwrap());
                pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
                pipe(server, client);
            }
        });
        *self.state.listener.lock().unwrap() = Some(handle);
    }

    pub fn stop(&self) {
        self.state.running.store(false, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag and drops the listener.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(handle) = self.state.listener.lock().unwrap().take() {
            handle.join().unwrap();
        }
        for connection in self.state.connections.lock().unwrap().drain(..) {
            let _ = connection.shutdown(Shutdown::Both);
        }
    }

    pub fn start(&self) {
        self.serve(
            TcpListener::bind(("127.0.0.1", self.port)).expect("the proxy port is free again"),
        );
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if self.state.running.load(Ordering::SeqCst) {
            self.stop();
        }
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(Shutdown::Both);
    });
}

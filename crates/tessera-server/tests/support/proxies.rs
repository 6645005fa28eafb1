//! Running the reverse-proxy configurations the documentation shows, shared by the test
//! binaries that include it: the documented blocks, filled in; the programs they need; a
//! test certificate; nginx and Caddy as processes of the test's own.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A document whose fenced blocks the tests run.
pub struct Documentation {
    /// From the workspace root, for messages.
    pub path: &'static str,
    pub text: &'static str,
}

impl Documentation {
    /// The fenced block after `<!-- tested: NAME … -->`.
    pub fn block(&self, name: &str) -> &'static str {
        let marker = format!("<!-- tested: {name} ");
        let start = self
            .text
            .find(&marker)
            .unwrap_or_else(|| panic!("{} has no {marker:?}", self.path));
        let after = &self.text[start..];
        let fence = after
            .find("\n```")
            .expect("a fenced block after the marker");
        let body = &after[fence + 4..];
        let body = &body[body.find('\n').expect("the fence's info string ends") + 1..];
        &body[..body.find("\n```").expect("the block is closed")]
    }
}

/// `text` with each `(from, to)` replaced, in order; each `from` must occur exactly once
/// by then, so the documentation cannot drift away from what is tested without the test
/// noticing.
pub fn fill_in(text: &str, replacements: &[(&str, &str)]) -> String {
    replacements
        .iter()
        .fold(text.to_owned(), |text, (from, to)| {
            assert_eq!(text.matches(from).count(), 1, "{from:?} once in {text}");
            text.replace(from, to)
        })
}

/// A program the test needs, or `None` (a skip, said out loud) outside CI.
pub fn tool(path: &str) -> Option<PathBuf> {
    let path = PathBuf::from(path);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "{} is missing: `make test` (scripts/install-deps.sh test) installs it",
        path.display()
    );
    eprintln!(
        "SKIPPING: {} is missing; run `scripts/install-deps.sh test`",
        path.display()
    );
    None
}

/// A loopback port that was free a moment ago, for programs that cannot be told to pick one.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A proxy process, stopped when dropped; its log is shown when it does not come up.
pub struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    pub fn start(command: &mut Command, log: PathBuf) -> Daemon {
        let output = std::fs::File::create(&log).expect("the proxy's log file");
        let child = command
            .stdin(Stdio::null())
            .stdout(output.try_clone().expect("the log file, twice"))
            .stderr(output)
            .spawn()
            .unwrap_or_else(|e| panic!("{command:?}: {e}"));
        Daemon { child, log }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A self-signed certificate for `hosts` (the first is its subject) in `dir`:
/// (certificate, key).
pub fn certificate(openssl: &Path, dir: &Path, hosts: &[&str]) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let names = hosts
        .iter()
        .map(|host| format!("DNS:{host}"))
        .collect::<Vec<_>>()
        .join(",");
    let status = Command::new(openssl)
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
        .arg("-subj")
        .arg(format!("/CN={}", hosts[0]))
        .arg("-addext")
        .arg(format!("subjectAltName={names}"))
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(status.success(), "openssl made no certificate");
    (cert, key)
}

/// nginx serving `servers` (`server` blocks) inside a minimal `nginx.conf` in `dir`.
pub fn start_nginx(nginx: &Path, dir: &Path, servers: &str) -> Daemon {
    // One process, no workers: killing it leaves nothing behind (a worker outliving its
    // master kept the sockets it inherited, database connections of the test binary among
    // them). Readable temp dirs all the same, for a run as another user.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
        .expect("the nginx directory is ours");
    let d = dir.display();
    let conf = format!(
        "master_process off;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log info;\n\
         events {{ worker_connections 128; }}\n\
         http {{\n    access_log {d}/access.log;\n    client_body_temp_path {d}/body;\n    \
         proxy_temp_path {d}/proxy;\n    fastcgi_temp_path {d}/fastcgi;\n    \
         uwsgi_temp_path {d}/uwsgi;\n    scgi_temp_path {d}/scgi;\n{servers}\n}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), conf).expect("nginx.conf written");
    Daemon::start(
        Command::new(nginx)
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .arg("-e")
            .arg(dir.join("error.log")),
        dir.join("error.log"),
    )
}

/// The global options a test's Caddy needs, one per line: HTTPS on `https_port` with its
/// local CA instead of ACME, HTTP on `http_port`, loopback only, state in `dir`.
pub fn caddy_test_options(dir: &Path, http_port: u16, https_port: u16) -> String {
    format!(
        "    local_certs\n    skip_install_trust\n    default_bind 127.0.0.1\n    \
         http_port {http_port}\n    https_port {https_port}\n    storage file_system {}\n",
        dir.join("storage").display()
    )
}

/// Caddy running `caddyfile` from `dir`, its home and data there too.
pub fn start_caddy(caddy: &Path, dir: &Path, caddyfile: &str) -> Daemon {
    std::fs::write(dir.join("Caddyfile"), caddyfile).expect("Caddyfile written");
    Daemon::start(
        Command::new(caddy)
            .args(["run", "--adapter", "caddyfile", "--config"])
            .arg(dir.join("Caddyfile"))
            .env("HOME", dir)
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .env("XDG_DATA_HOME", dir.join("data")),
        dir.join("caddy.log"),
    )
}

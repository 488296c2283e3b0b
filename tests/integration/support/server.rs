//! The server binary as an operator runs it: a builder for its environment, and `Drop` that
//! stops it, so a failing test never leaves a server running.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub struct ServerBuilder {
    env: Vec<(String, String)>,
    dir: Option<PathBuf>,
    port: Option<u16>,
    stdout: Stdio,
    stderr: Stdio,
}

/// A running server process on loopback.
pub struct ServerProcess {
    pub child: Child,
    pub base: String,
}

impl ServerBuilder {
    /// Production-like: PROD, an in-memory store, no Secure cookies (plain HTTP on loopback).
    pub fn new() -> ServerBuilder {
        ServerBuilder {
            env: Vec::new(),
            dir: None,
            port: None,
            stdout: Stdio::null(),
            stderr: Stdio::null(),
        }
        .env("LEPTOS_ENV", "PROD")
        .env("DOTP_DATABASE_URL", "mem://")
        .env("DOTP_COOKIE_SECURE", "false")
        .env("DOTP_OTP_SECRET", "binary-test-secret-0123456789abcdef")
        .env("RUST_LOG", "info")
        // Parallel tests each run a server: none may take the default metrics port.
        .env("DOTP_METRICS_ADDR", "off")
    }

    /// Sets (or replaces) one variable; a setting's name gets the `DOTP_` prefix if it lacks it.
    pub fn env(mut self, key: &str, value: impl Into<String>) -> ServerBuilder {
        let key = if ["DOTP_", "LEPTOS_", "RUST_"]
            .iter()
            .any(|p| key.starts_with(p))
        {
            key.to_string()
        } else {
            format!("DOTP_{key}")
        };
        self.env.retain(|(k, _)| *k != key);
        self.env.push((key, value.into()));
        self
    }

    pub fn envs<'a>(self, pairs: impl IntoIterator<Item = &'a (&'a str, String)>) -> Self {
        pairs.into_iter().fold(self, |builder, (key, value)| {
            builder.env(key, value.clone())
        })
    }

    /// Runs in `dir` with its data (the code key) there too.
    pub fn dir(self, dir: &Path) -> ServerBuilder {
        let mut builder = self.env("DOTP_DATA_DIR", dir.display().to_string());
        builder.dir = Some(dir.to_path_buf());
        builder
    }

    /// A fixed port, so a restarted server answers where the old one did.
    pub fn port(mut self, port: u16) -> ServerBuilder {
        self.port = Some(port);
        self
    }

    pub fn stdout(mut self, stdout: Stdio) -> ServerBuilder {
        self.stdout = stdout;
        self
    }

    pub fn stderr(mut self, stderr: Stdio) -> ServerBuilder {
        self.stderr = stderr;
        self
    }

    /// Starts the process without waiting for it to answer.
    pub fn spawn(self) -> ServerProcess {
        let port = self.port.unwrap_or_else(free_port);
        let mut command = Command::new(env!("CARGO_BIN_EXE_dynamic_otp"));
        command
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .stdout(self.stdout)
            .stderr(self.stderr);
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        for (key, value) in &self.env {
            command.env(key, value);
        }
        ServerProcess {
            child: command.spawn().expect("server binary starts"),
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Starts the process and waits until it answers `/healthz`.
    pub async fn start(self) -> ServerProcess {
        self.spawn().ready().await
    }
}

impl ServerProcess {
    /// Waits (at most a minute) until the server answers; owned meanwhile, so a panic here
    /// still stops the process.
    pub async fn ready(self) -> ServerProcess {
        let deadline = Instant::now() + Duration::from_secs(60);
        let client = reqwest::Client::new();
        while Instant::now() < deadline {
            let url = format!("{}/healthz", self.base);
            if client.get(url).send().await.is_ok() {
                return self;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("server did not start");
    }

    /// SIGKILL: the process gets no chance to finish anything.
    pub fn kill_9(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("wait");
    }

    /// SIGTERM, then waits for the exit.
    pub fn terminate(mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "SIGTERM sent");
        self.child.wait().expect("wait")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("its address")
        .port()
}

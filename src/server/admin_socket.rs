//! The running server's admin socket: `admin …` commands reach a server that holds the embedded
//! store through a Unix socket beside the store (`data/app.db.admin.sock`), so registering an
//! app or unlocking an account needs no downtime, and a command always reaches the server of
//! its own store. Only the operator's user can open it (mode 0600); it never listens on the
//! network. One line each way: the arguments as a JSON array, then
//! `{"ok": bool, "output": "..."}`.

use std::path::PathBuf;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::server::db::Db;
use crate::server::settings::Config;

/// The longest command line accepted, in bytes: far beyond any real one.
const MAX_LINE: u64 = 64 * 1024;

/// The embedded store's folder, when the store is one held by one process (the case the socket
/// exists for).
fn store_path(config: &Config) -> Option<&str> {
    Some(config.database.disk_path()?.trim_end_matches('/'))
}

pub fn store_is_embedded(config: &Config) -> bool {
    store_path(config).is_some()
}

fn path(config: &Config) -> Option<PathBuf> {
    store_path(config).map(|store| PathBuf::from(format!("{store}.admin.sock")))
}

/// Listens until the process ends. A socket file left by a server that was killed is replaced.
pub fn serve(db: Db, config: Config) -> Result<(), String> {
    let Some(path) = path(&config) else {
        return Ok(());
    };
    let _ = std::fs::remove_file(&path);
    let listener = tokio::net::UnixListener::bind(&path)
        .map_err(|e| format!("admin socket: {}: {e}", path.display()))?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("admin socket: {e}"))?;
    }
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (db, config) = (db.clone(), config.clone());
            tokio::spawn(async move {
                if let Err(e) = answer(stream, &db, &config).await {
                    tracing::warn!("admin socket: {e}");
                }
            });
        }
    });
    Ok(())
}

async fn answer(stream: tokio::net::UnixStream, db: &Db, config: &Config) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    BufReader::new(read.take(MAX_LINE))
        .read_line(&mut line)
        .await?;
    let result = match serde_json::from_str::<Vec<String>>(&line) {
        Ok(args) => {
            tracing::info!(
                "admin command over the socket: {}",
                args.first().map(String::as_str).unwrap_or("")
            );
            crate::server::admin::run(db, config, &args, crate::server::clock::now_ms()).await
        }
        Err(_) => Err("unreadable command".to_string()),
    };
    let (ok, output) = match result {
        Ok(output) => (true, output),
        Err(output) => (false, output),
    };
    let mut reply = serde_json::json!({ "ok": ok, "output": output }).to_string();
    reply.push('\n');
    write.write_all(reply.as_bytes()).await?;
    write.shutdown().await
}

/// The running server's answer to a command, or None when no server holds the store (the
/// caller then opens it itself).
pub async fn ask(config: &Config, args: &[String]) -> Option<Result<String, String>> {
    let stream = tokio::net::UnixStream::connect(path(config)?).await.ok()?;
    let (read, mut write) = stream.into_split();
    let mut request = serde_json::to_string(args).ok()?;
    request.push('\n');
    if write.write_all(request.as_bytes()).await.is_err() {
        return Some(Err("the running server did not take the command".into()));
    }
    let mut line = String::new();
    let read = BufReader::new(read.take(16 * MAX_LINE))
        .read_line(&mut line)
        .await;
    let reply: Option<serde_json::Value> = read.ok().and_then(|_| serde_json::from_str(&line).ok());
    Some(match reply {
        Some(reply) => {
            let output = reply["output"].as_str().unwrap_or_default().to_string();
            if reply["ok"] == true {
                Ok(output)
            } else {
                Err(output)
            }
        }
        None => Err("the running server gave no answer; see its log".into()),
    })
}

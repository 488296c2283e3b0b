//! `dynamic_otp admin …` from the shell. Against a SurrealDB server the commands run beside the
//! instances. The embedded store is held by one process at a time: a running server takes the
//! command over its admin socket, so nothing needs stopping; with no server running the command
//! opens the store itself.

use std::process::ExitCode;

use crate::server::db;

pub async fn main(args: &[String]) -> ExitCode {
    let config = match crate::server::startup::configuration() {
        Ok((config, _, warnings)) => {
            for warning in warnings {
                eprintln!("warning: {warning}");
            }
            config
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The key lives outside the database, so this works while the server runs.
    if args.first().map(String::as_str) == Some("rotate-secret") {
        return match crate::server::code_key::rotate(&config, crate::server::clock::now_ms() / 1000)
        {
            Ok(message) => {
                print!("{message}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(2)
            }
        };
    }
    let result = match crate::server::admin_socket::ask(&config, args).await {
        Some(answer) => answer,
        None => match db::connect(&config.database).await {
            Ok(db) => {
                crate::server::admin::run(&db, &config, args, crate::server::clock::now_ms()).await
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    match result {
        Ok(output) => {
            print!("{output}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}

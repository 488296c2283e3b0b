//! Every lookup the server makes by a field goes through an index: each SurrealQL statement in
//! `src/server` (the store layer, the janitor, …) that filters a table with WHERE is planned by
//! the real engine (EXPLAIN, on the real schema, with its parameters bound) and must not scan
//! the table. A new query on an unindexed field fails here before it is slow at a million
//! accounts.

use std::path::Path;

use super::*;
use surrealdb::types::{RecordId, Value};

/// Tables that stay small whatever the number of accounts, so a scan of them costs nothing:
/// the OIDC signing keys (the current one and the few retired ones still published).
const SMALL_TABLES: [&str; 1] = ["oidc_key"];

/// The text of every string literal in a Rust source, with `\` line continuations joined.
fn string_literals(source: &str) -> Vec<String> {
    let mut literals = Vec::new();
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // A char literal such as '"' would open a string by mistake.
            '\'' => {
                let ahead: String = chars.clone().take(3).collect();
                if ahead.starts_with("\\") && ahead.ends_with('\'') {
                    chars.nth(2);
                } else if ahead.chars().nth(1) == Some('\'') {
                    chars.nth(1);
                }
            }
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '"' => {
                let mut text = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some('\n') => {
                                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                                    chars.next();
                                }
                            }
                            Some('n') => text.push('\n'),
                            Some(other) => text.push(other),
                            None => break,
                        },
                        c => text.push(c),
                    }
                }
                literals.push(text);
            }
            _ => {}
        }
    }
    literals
}

/// Every statement of the store layer that filters a table, as (file, table, statement).
fn filtering_statements() -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    let mut files = vec![Path::new("src/server").to_path_buf()];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        for literal in string_literals(&source) {
            for statement in literal.split(';') {
                let statement = statement.split_whitespace().collect::<Vec<_>>().join(" ");
                // Built with format!: not a whole statement here.
                if statement.contains('{') {
                    continue;
                }
                for query in with_subqueries(&statement) {
                    if let Some(table) = filtered_table(&query) {
                        found.push((path.display().to_string(), table, query));
                    }
                }
            }
        }
    }
    found
}

/// The statement and each `(SELECT …)` inside it (`LET $x = (SELECT …)` in a transaction).
fn with_subqueries(statement: &str) -> Vec<String> {
    let mut queries = vec![statement.to_string()];
    for (start, _) in statement.match_indices("(SELECT ") {
        let mut depth = 0;
        for (at, c) in statement[start..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                queries.push(statement[start + 1..start + at].to_string());
                break;
            }
        }
    }
    queries
}

/// The `$name`s a statement reads.
fn parameters(statement: &str) -> Vec<String> {
    let mut names: Vec<String> = statement
        .split('$')
        .skip(1)
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The table a SELECT, UPDATE or DELETE filters with WHERE, if it does.
fn filtered_table(statement: &str) -> Option<String> {
    let words: Vec<&str> = statement.split(' ').collect();
    let table_at = match *words.first()? {
        "SELECT" => words.iter().position(|w| *w == "FROM")? + 1,
        "UPDATE" | "DELETE" => 1,
        _ => return None,
    };
    let table = words.get(table_at)?;
    let is_name = table.chars().all(|c| c.is_ascii_lowercase() || c == '_');
    (is_name && words.get(table_at + 1) == Some(&"WHERE")).then(|| table.to_string())
}

/// The statement as a SELECT the planner explains: DELETE and UPDATE find their rows the same way.
fn as_explained_select(table: &str, statement: &str) -> String {
    if statement.starts_with("SELECT") {
        return format!("{statement} EXPLAIN");
    }
    let filter = &statement[statement.find(" WHERE ").unwrap()..];
    let filter = filter.split(" RETURN ").next().unwrap();
    format!("SELECT * FROM {table}{filter} EXPLAIN")
}

#[tokio::test]
async fn every_filtered_lookup_in_the_store_layer_uses_an_index() {
    let app = start_app(&[]).await;
    let statements = filtering_statements();
    // The extraction itself must find the queries it guards.
    assert!(statements.len() >= 40, "found only {}", statements.len());
    assert!(statements
        .iter()
        .any(|(_, t, s)| t == "user" && s.contains("username = $username")));
    assert!(statements
        .iter()
        .any(|(_, t, s)| t == "user" && s.contains("phone_verified = false")));

    let account = RecordId::new("user", "someone");
    let mut scans = Vec::new();
    for (file, table, statement) in &statements {
        if SMALL_TABLES.contains(&table.as_str()) {
            continue;
        }
        let explained = as_explained_select(table, statement);
        // A transaction's earlier statement leaves `$won`; here it names the same account.
        let mut query = app
            .db
            .query(format!("LET $won = [{{ account: $account }}]; {explained}"))
            .bind(("account", account.clone()));
        for name in parameters(statement) {
            query = match name.as_str() {
                "account" | "won" => query,
                "id" => query.bind((name, account.clone())),
                "keep" => query.bind((name, RecordId::new("session", "kept"))),
                "stale" => query.bind((name, vec![account.clone()])),
                n if n == "now"
                    || n == "limit"
                    || n == "max"
                    || n.ends_with("before")
                    || n.ends_with("since") =>
                {
                    query.bind((name, 1_000_i64))
                }
                _ => query.bind((name, "text")),
            };
        }
        let mut res = query
            .await
            .unwrap_or_else(|e| panic!("{file}: {explained}: {e}"));
        let plan: Value = res
            .take(1)
            .unwrap_or_else(|e| panic!("{file}: {explained}: {e}"));
        let plan = format!("{plan:?}");
        assert!(plan.contains("Scan"), "{file}: not a plan: {plan}");
        if plan.contains("TableScan") {
            scans.push(format!("{file}: {statement}"));
        }
    }
    assert!(scans.is_empty(), "table scans:\n{}", scans.join("\n"));
}

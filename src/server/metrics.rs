//! Prometheus metrics through the `metrics` facade: one recorder per process, rendered at
//! `/metrics`. Every name and label set lives here, and every label takes its value from a
//! closed list, so the number of series stays bounded whatever clients send.

use std::sync::OnceLock;
use std::time::Duration;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::error::AppError;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Latency buckets, in seconds: an SMS API answers in tens to thousands of milliseconds.
const SECONDS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the process-wide recorder on first use. Tests start several apps in one process;
/// they share it.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)
                .expect("the bucket list is not empty");
            let handle = match builder.install_recorder() {
                Ok(handle) => handle,
                Err(e) => {
                    tracing::error!("metrics recorder: {e}; /metrics stays empty");
                    PrometheusBuilder::new().build_recorder().handle()
                }
            };
            describe();
            spawn_upkeep(handle.clone());
            handle
        })
        .clone()
}

/// Histograms keep raw samples until upkeep folds them into buckets.
fn spawn_upkeep(handle: PrometheusHandle) {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(5));
            loop {
                every.tick().await;
                handle.run_upkeep();
            }
        });
    }
}

fn describe() {
    describe_counter!(
        "dotp_http_requests_total",
        "HTTP requests answered, by method, route and status"
    );
    describe_histogram!(
        "dotp_http_request_duration_seconds",
        "time to answer an HTTP request, by method and route"
    );
    describe_counter!(
        "dotp_oidc_events_total",
        "OpenID Connect token grants, revocations, introspections and client refusals by outcome"
    );
    describe_counter!(
        "dotp_registrations_total",
        "registration attempts by outcome"
    );
    describe_counter!(
        "dotp_sign_ins_total",
        "password sign-in attempts by outcome (code_sent means the password was right)"
    );
    describe_counter!(
        "dotp_code_verifications_total",
        "codes entered, by outcome (accepted starts a session or verifies a phone)"
    );
    describe_counter!(
        "dotp_password_resets_total",
        "forgot-password steps (start: code asked for; finish: new password set) by outcome"
    );
    describe_counter!(
        "dotp_code_resends_total",
        "\"Resend code\" requests by outcome"
    );
    describe_counter!(
        "dotp_sms_sends_total",
        "SMS send attempts per provider, by message kind and outcome"
    );
    describe_histogram!(
        "dotp_sms_send_duration_seconds",
        "time for one provider to answer one SMS send"
    );
    describe_counter!(
        "dotp_argon2_runs_total",
        "argon2id hashes computed (new passwords and password checks)"
    );
    describe_gauge!(
        "dotp_argon2_queue_depth",
        "password hashes running or waiting for a slot"
    );
    describe_counter!(
        "dotp_database_errors_total",
        "database calls that failed (after any retries)"
    );
    describe_counter!(
        "dotp_database_conflicts_retried_total",
        "write conflicts between concurrent transactions that were retried"
    );
}

/// The scrape endpoint.
pub async fn scrape() -> Response {
    let body = install().render();
    (
        [
            (
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

pub fn request(method: &str, route: &str, status: u16, elapsed: Duration) {
    // Methods are an open set in HTTP; ours are these.
    let method = match method {
        "GET" | "POST" | "HEAD" | "OPTIONS" => method.to_string(),
        _ => "other".to_string(),
    };
    let route = route.to_string();
    counter!(
        "dotp_http_requests_total",
        "method" => method.clone(),
        "route" => route.clone(),
        "status" => status.to_string()
    )
    .increment(1);
    histogram!(
        "dotp_http_request_duration_seconds",
        "method" => method,
        "route" => route
    )
    .record(elapsed.as_secs_f64());
}

pub fn registration<T>(result: &Result<T, AppError>) {
    counter!("dotp_registrations_total", "outcome" => outcome(result, "code_sent")).increment(1);
}

pub fn sign_in<T>(result: &Result<T, AppError>) {
    counter!("dotp_sign_ins_total", "outcome" => outcome(result, "code_sent")).increment(1);
}

pub fn verification<T>(result: &Result<T, AppError>) {
    counter!("dotp_code_verifications_total", "outcome" => outcome(result, "accepted"))
        .increment(1);
}

pub fn password_reset<T>(step: &'static str, result: &Result<T, AppError>) {
    counter!("dotp_password_resets_total", "step" => step, "outcome" => outcome(result, "ok"))
        .increment(1);
}

pub fn resend<T>(result: &Result<T, AppError>) {
    counter!("dotp_code_resends_total", "outcome" => outcome(result, "code_sent")).increment(1);
}

/// One provider's try at one message; `outcome` is `accepted` or the error's kind.
pub fn sms_attempt(
    provider: &'static str,
    kind: &'static str,
    outcome: &'static str,
    took: Duration,
) {
    counter!(
        "dotp_sms_sends_total",
        "provider" => provider,
        "kind" => kind,
        "outcome" => outcome
    )
    .increment(1);
    histogram!("dotp_sms_send_duration_seconds", "provider" => provider).record(took.as_secs_f64());
}

/// A provider passed over because its circuit is open.
pub fn sms_skipped(provider: &'static str, kind: &'static str) {
    counter!(
        "dotp_sms_sends_total",
        "provider" => provider,
        "kind" => kind,
        "outcome" => "skipped_circuit_open"
    )
    .increment(1);
}

/// One argon2id hash computed (a new password or a check of one).
pub fn argon2_run() {
    counter!("dotp_argon2_runs_total").increment(1);
}

pub fn argon2_queue_depth(depth: usize) {
    gauge!("dotp_argon2_queue_depth").set(depth as f64);
}

/// An OpenID Connect event: `event` is the grant type (`code`, `refresh`), `revoke`,
/// `introspect` or `client_auth`; `outcome` is `issued`, `ok` or the OAuth error.
pub fn oidc(event: &'static str, outcome: &'static str) {
    counter!("dotp_oidc_events_total", "event" => event, "outcome" => outcome).increment(1);
}

pub fn database_error() {
    counter!("dotp_database_errors_total").increment(1);
}

pub fn conflict_retried() {
    counter!("dotp_database_conflicts_retried_total").increment(1);
}

fn outcome<T>(result: &Result<T, AppError>, ok: &'static str) -> &'static str {
    match result {
        Ok(_) => ok,
        Err(e) => error_label(e),
    }
}

/// What a refusal means, in a word fit for a label.
fn error_label(error: &AppError) -> &'static str {
    match error {
        AppError::InvalidFields(_)
        | AppError::FormIncomplete
        | AppError::Unreadable
        | AppError::FormsOnly
        | AppError::CodeFormat => "invalid",
        AppError::SignInFailed => "bad_credentials",
        AppError::WrongCode { .. } | AppError::ResetCodeRefused => "wrong_code",
        AppError::CodeExpired | AppError::LinkExpired => "expired",
        AppError::ResendTooSoon { .. } => "too_soon",
        AppError::TooManyRequests { .. } => "rate_limited",
        AppError::SmsFailed => "sms_failed",
        AppError::NumberCannotReceiveSms => "number_cannot_receive_sms",
        AppError::NotSignedIn => "not_signed_in",
        AppError::SendingPaused { .. } => "sending_paused",
        AppError::AccountLocked => "locked",
        AppError::StepUpNeeded => "step_up",
        AppError::ForeignOrigin => "foreign_origin",
        AppError::Busy => "shed",
        AppError::Internal | AppError::Transport(_) => "error",
    }
}

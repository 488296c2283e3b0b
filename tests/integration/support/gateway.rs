//! A loopback HTTP server that plays the SMS providers: records each request, answers as told.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::any;
use axum::Router;

/// One request as a loopback provider received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: String,
    /// The status the gateway answered with.
    pub answered: u16,
}

/// What the gateway answers: a status, a body, after a delay.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub body: String,
    pub delay: Duration,
}

/// A loopback HTTP server that plays an SMS provider: records every request, answers with the
/// current `Reply`.
#[derive(Clone)]
pub struct Gateway {
    pub base: String,
    pub received: Arc<Mutex<Vec<Received>>>,
    pub reply: Arc<Mutex<Reply>>,
    pub normal: Reply,
}

pub type GatewayState = (Arc<Mutex<Vec<Received>>>, Arc<Mutex<Reply>>);

impl Gateway {
    pub async fn start(success: StatusCode) -> Gateway {
        Gateway::answering(success, "{\"sid\":\"SM123\",\"status\":\"queued\"}").await
    }

    /// A gateway whose success answer is `body`.
    pub async fn answering(status: StatusCode, body: &str) -> Gateway {
        let normal = Reply {
            status,
            body: body.to_string(),
            delay: Duration::ZERO,
        };
        let received = Arc::new(Mutex::new(Vec::new()));
        let reply = Arc::new(Mutex::new(normal.clone()));
        let app = Router::new()
            .route("/{*path}", any(record))
            .with_state((received.clone(), reply.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Gateway {
            base: format!("http://{addr}"),
            received,
            reply,
            normal,
        }
    }

    /// Requests it answered with success.
    pub fn all(&self) -> Vec<Received> {
        self.tried()
            .into_iter()
            .filter(|r| (200..300).contains(&r.answered))
            .collect()
    }

    /// Every request, whatever it was answered.
    pub fn tried(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Webhook messages as (to, message).
    pub fn messages(&self) -> Vec<(String, String)> {
        self.all()
            .iter()
            .map(|r| {
                let json: serde_json::Value = serde_json::from_str(&r.body).unwrap();
                (
                    json["to"].as_str().unwrap().to_string(),
                    json["message"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    pub fn fail(&self, on: bool) {
        if on {
            self.answer(StatusCode::SERVICE_UNAVAILABLE, "{\"error\":\"down\"}");
        } else {
            *self.reply.lock().unwrap() = self.normal.clone();
        }
    }

    pub fn answer(&self, status: StatusCode, body: &str) {
        let mut reply = self.reply.lock().unwrap();
        reply.status = status;
        reply.body = body.to_string();
    }

    pub fn stall(&self, delay: Duration) {
        self.reply.lock().unwrap().delay = delay;
    }
}

pub async fn record(
    State((received, reply)): State<GatewayState>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (
    StatusCode,
    [(axum::http::HeaderName, &'static str); 1],
    String,
) {
    let reply = reply.lock().unwrap().clone();
    received.lock().unwrap().push(Received {
        method: method.to_string(),
        path: uri.path().to_string(),
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
        answered: reply.status.as_u16(),
    });
    tokio::time::sleep(reply.delay).await;
    (
        reply.status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        reply.body,
    )
}

//! The Lintel server: use cases (`app`), the HTTP API (`http`), configuration (`config`) and
//! what the `lintel` binary runs.

pub mod app;
pub mod config;
pub mod grpc;
pub mod http;
pub mod i18n;
pub mod notify;
mod web;

use std::future::Future;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt as _;
use tower_http::timeout::TimeoutBody;

pub use app::AppState;
pub use http::{HttpOptions, Timeouts};

/// The whole application on one port: the HTTP API, the pages and the gRPC services, behind
/// the front every answer goes through (`http::front`).
pub fn app(state: AppState, options: HttpOptions) -> axum::Router {
    let https = state.public_url.starts_with("https://");
    let policy = web::content_security_policy(&state.oidc.origins());
    let routes = grpc::routes(state.clone())
        .merge(http::api_routes().merge(web::routes()).with_state(state));
    http::front(routes, https, &policy, options)
}

/// Serves the HTTP API on an already-bound listener until `shutdown` completes, then lets
/// requests in flight finish for at most `options.timeouts.shutdown_grace`.
///
/// Connections are served by hyper directly rather than through `axum::serve`, for the
/// timeouts a server facing the internet needs: a client must send its request's head within
/// `header_read` (on a kept-alive connection too, so idle connections close), and its body
/// may pause at most `body_idle` between chunks (`http::front`); HTTP/2 connections are
/// pinged and closed when the peer stops answering.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    options: HttpOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let timeouts = options.timeouts;
    // Commands between this node and the others' controller sessions, while serving.
    let routing = tokio::spawn(app::hub::route(
        state.controllers.clone(),
        state.store.clone(),
    ));
    let _routing = AbortOnDrop(routing);
    let app = app(state, options);
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header_read);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(timeouts.header_read))
        .keep_alive_timeout(timeouts.header_read);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, most likely: wait for some to close rather than
                    // spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = app.clone().map_request(move |mut req: Request<Incoming>| {
            // The source address, for per-source limits (`ConnectInfo`, as axum::serve gives).
            req.extensions_mut().insert(ConnectInfo(peer));
            req.map(|body| Body::new(TimeoutBody::new(timeouts.body_idle, body)))
        });
        let builder = builder.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            // hyper times out a request's head once it knows the protocol; a client that
            // never sends the first bytes that tell it is closed here.
            if !matches!(
                tokio::time::timeout(timeouts.header_read, protocol_known(&stream)).await,
                Ok(Ok(()))
            ) {
                return;
            }
            let connection = builder.serve_connection_with_upgrades(
                TokioIo::new(stream),
                TowerToHyperService::new(service),
            );
            if let Err(e) = watcher.watch(connection.into_owned()).await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(timeouts.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "requests still in flight after {:?}; closing them",
            timeouts.shutdown_grace
        );
    }
    Ok(())
}

/// Waits until the first bytes of a connection tell HTTP/1 from HTTP/2's preface (or the
/// peer closed it).
async fn protocol_known(stream: &tokio::net::TcpStream) -> std::io::Result<()> {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let mut buf = [0u8; PREFACE.len()];
    loop {
        let n = stream.peek(&mut buf).await?;
        if n == 0 || n == PREFACE.len() || buf[..n] != PREFACE[..n] {
            return Ok(());
        }
        // Part of the preface: peek returns at once while those bytes wait, so pause.
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Stops a task when its owner ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

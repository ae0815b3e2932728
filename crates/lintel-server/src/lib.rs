//! The Lintel server: use cases (`app`), the HTTP API (`http`), configuration (`config`) and
//! what the `lintel` binary runs.

pub mod app;
pub mod config;
pub mod grpc;
pub mod http;
pub mod notify;
mod web;

use std::future::Future;

use tokio::net::TcpListener;

pub use app::AppState;
pub use http::HttpOptions;

/// Serves the HTTP API on an already-bound listener until `shutdown` completes, then lets
/// requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    options: HttpOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = http::router(state, options);
    // Connection info gives each request its source address, for send limits.
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

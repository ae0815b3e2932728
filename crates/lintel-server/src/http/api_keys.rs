//! `/api/v1/orgs/{org_slug}/api-keys`: an organization's machine credentials.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lintel_domain::ApiKeyId;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, InOrg};
use super::list::{List, ListParams};
use super::orgs::OrgPath;
use crate::app::api_keys::{ApiKeyInfo, CreateApiKey, CreatedApiKey};
use crate::app::{self, AppState};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct KeyPath {
    pub key_id: Uuid,
}

/// Lists the organization's API keys, revoked ones included; never their secrets. Needs `api`.
#[utoipa::path(operation_id = "list_api_keys", get, path = "/api/v1/orgs/{org_slug}/api-keys", tag = "api keys",
    params(OrgPath, ListParams), security(("bearer" = [])),
    responses((status = 200, body = List<ApiKeyInfo>),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn list(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiQuery(page): ApiQuery<ListParams>,
) -> Result<Json<List<ApiKeyInfo>>, ApiError> {
    Ok(Json(
        app::api_keys::list(&state, &ctx, &page.into())
            .await?
            .into(),
    ))
}

/// Creates an API key. The secret is in this response only; it is stored as a hash. Needs
/// `api` and every area the key gets.
#[utoipa::path(operation_id = "create_api_key", post, path = "/api/v1/orgs/{org_slug}/api-keys", tag = "api keys",
    params(OrgPath), security(("bearer" = [])), request_body = CreateApiKey,
    responses((status = 201, body = CreatedApiKey),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn create(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiJson(req): ApiJson<CreateApiKey>,
) -> Result<(StatusCode, Json<CreatedApiKey>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(app::api_keys::create(&state, &ctx, req).await?),
    ))
}

/// Revokes an API key at once. Needs `api` and every area the key holds.
#[utoipa::path(operation_id = "revoke_api_key", post, path = "/api/v1/orgs/{org_slug}/api-keys/{key_id}/revoke", tag = "api keys",
    params(OrgPath, KeyPath), security(("bearer" = [])),
    responses((status = 200, body = ApiKeyInfo),
              (status = "4XX", body = ErrorBody, description = "see the error code")))]
pub async fn revoke(
    State(state): State<AppState>,
    InOrg(ctx): InOrg,
    ApiPath(path): ApiPath<KeyPath>,
) -> Result<Json<ApiKeyInfo>, ApiError> {
    Ok(Json(
        app::api_keys::revoke(&state, &ctx, ApiKeyId(path.key_id)).await?,
    ))
}

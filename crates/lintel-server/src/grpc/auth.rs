//! `AuthService`: an API key for rotating tokens.

use tonic::{Request, Response, Status};

use super::pb::{self, auth_service_server::AuthService};
use super::{Api, status, timestamp};
use crate::app::api_keys::{self, KeyTokens};

#[tonic::async_trait]
impl AuthService for Api {
    async fn authenticate(
        &self,
        req: Request<pb::AuthenticateRequest>,
    ) -> Result<Response<pb::AuthenticateResponse>, Status> {
        let tokens = api_keys::trade(&self.state, &req.get_ref().api_key)
            .await
            .map_err(status)?;
        Ok(Response::new(answer(tokens)))
    }

    async fn reissue(
        &self,
        req: Request<pb::ReissueRequest>,
    ) -> Result<Response<pb::AuthenticateResponse>, Status> {
        let tokens = api_keys::reissue_key_tokens(&self.state, &req.get_ref().reissue_token)
            .await
            .map_err(status)?;
        Ok(Response::new(answer(tokens)))
    }
}

fn answer(t: KeyTokens) -> pb::AuthenticateResponse {
    pb::AuthenticateResponse {
        auth_token: t.auth_token,
        reissue_token: t.reissue_token,
        expires_at: Some(timestamp(t.auth_expires_at)),
        reissue_expires_at: Some(timestamp(t.reissue_expires_at)),
    }
}

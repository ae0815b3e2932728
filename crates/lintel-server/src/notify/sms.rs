//! SMS through an HTTP provider: a `POST` of `{"to": "+46701234567", "from": SENDER,
//! "text": "…"}` as JSON to `sms_url`, with `Authorization: <sms_authorization>` when set. Any
//! 2xx answer counts as sent; anything else is retried. Most providers take this shape
//! directly or through a small relay.

use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use lintel_store::Message;
use serde::Serialize;

use crate::app::outbox::Transport;

pub struct HttpSms {
    client: reqwest::Client,
    url: reqwest::Url,
    authorization: Option<String>,
    from: String,
}

#[derive(Serialize)]
struct Body<'a> {
    to: &'a str,
    from: &'a str,
    text: &'a str,
}

impl HttpSms {
    pub fn new(url: &str, authorization: Option<&str>, from: &str) -> anyhow::Result<HttpSms> {
        let url = reqwest::Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .with_context(|| format!("sms_url {url:?} is not an http:// or https:// URL"))?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .context("building the SMS HTTP client")?;
        Ok(HttpSms {
            client,
            url,
            authorization: authorization.map(str::to_owned),
            from: from.to_owned(),
        })
    }
}

#[async_trait]
impl Transport for HttpSms {
    async fn send(&self, message: &Message) -> Result<(), String> {
        let mut request = self.client.post(self.url.clone()).json(&Body {
            to: &message.recipient,
            from: &self.from,
            text: &message.body,
        });
        if let Some(auth) = &self.authorization {
            request = request.header(reqwest::header::AUTHORIZATION, auth);
        }
        let response = request
            .send()
            .await
            .map_err(|e| format!("SMS provider unreachable: {e}"))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        let snippet: String = text.chars().take(200).collect();
        Err(format!("SMS provider answered {status}: {snippet}"))
    }
}

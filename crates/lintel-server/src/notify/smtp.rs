//! Email over SMTP, configured by a URL: `smtps://USER:PASSWORD@HOST:465` (TLS from the
//! start), `smtp://USER:PASSWORD@HOST:587?tls=required` (STARTTLS), or `smtp://HOST:25`
//! (plain, for a relay on a trusted network).

use anyhow::Context as _;
use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Tokio1Executor};
use lintel_store::Message;

use crate::app::outbox::Transport;

pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Smtp {
    pub fn new(url: &str, from: &str) -> anyhow::Result<Smtp> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .with_context(|| {
                format!(
                    "smtp_url {} is not an smtp:// or smtps:// URL",
                    crate::config::redact_url(url)
                )
            })?
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        let from = from.parse::<Mailbox>().with_context(|| {
            format!(
                "email_from {from:?} is not an address such as \"Lintel <no-reply@example.com>\""
            )
        })?;
        Ok(Smtp { transport, from })
    }
}

#[async_trait]
impl Transport for Smtp {
    async fn send(&self, message: &Message) -> Result<(), String> {
        let to = message
            .recipient
            .parse::<Mailbox>()
            .map_err(|e| format!("recipient {:?}: {e}", message.recipient))?;
        let email = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&message.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(message.body.clone())
            .map_err(|e| format!("building the email: {e}"))?;
        self.transport
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP: {e}"))
    }
}

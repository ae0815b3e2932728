//! Where outbox messages go: SMTP for email, an HTTP provider for SMS, or the log when
//! neither is configured (development), each behind `app::outbox::Transport`.

mod sms;
mod smtp;

use std::sync::Arc;

use async_trait::async_trait;
use lintel_store::{Channel, Message};

use crate::app::outbox::{LogTransport, Transport};
use crate::config::Config;

pub use sms::HttpSms;
pub use smtp::Smtp;

/// Sends each message over the transport of its channel.
pub struct ByChannel {
    pub email: Arc<dyn Transport>,
    pub sms: Arc<dyn Transport>,
}

#[async_trait]
impl Transport for ByChannel {
    async fn send(&self, message: &Message) -> Result<(), String> {
        match message.channel {
            Channel::Email => self.email.send(message).await,
            Channel::Sms => self.sms.send(message).await,
        }
    }
}

/// The transports the configuration names; the log for a channel it leaves unset.
pub fn from_config(config: &Config) -> anyhow::Result<ByChannel> {
    let email: Arc<dyn Transport> = match &config.smtp_url {
        Some(url) if !url.trim().is_empty() => Arc::new(Smtp::new(url, &config.email_from)?),
        _ => Arc::new(LogTransport),
    };
    let sms: Arc<dyn Transport> = match &config.sms_url {
        Some(url) if !url.trim().is_empty() => Arc::new(HttpSms::new(
            url,
            config.sms_authorization.as_deref(),
            &config.sms_from,
        )?),
        _ => Arc::new(LogTransport),
    };
    Ok(ByChannel { email, sms })
}

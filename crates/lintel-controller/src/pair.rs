//! `lintel-controller pair CODE`: enrolling a controller on site with the short, single-use
//! code an admin made for it, instead of copying its long token by hand. The server answers
//! the controller's new token (`ControllerService.Pair`), kept in `token_file`, readable by
//! the controller's user only.

use std::io::Write as _;

use lintel_proto::v1 as pb;

use crate::config::Config;

/// Trades `code` for the controller's token and writes it to the configured `token_file`.
pub async fn pair(config: &Config, code: &str) -> anyhow::Result<()> {
    let Some(file) = &config.token_file else {
        anyhow::bail!("give --token-file: where the token the server answers is kept");
    };
    let mut reached = None;
    for server in config.servers() {
        match tonic::transport::Endpoint::from_shared(server.clone())?
            .connect()
            .await
        {
            Ok(channel) => {
                reached = Some(channel);
                break;
            }
            Err(e) => eprintln!("cannot reach the server at {server}: {e}"),
        }
    }
    let Some(channel) = reached else {
        anyhow::bail!("no server of {} could be reached", config.server);
    };
    let mut client = pb::controller_service_client::ControllerServiceClient::new(channel);
    let paired = client
        .pair(pb::PairRequest {
            code: code.to_owned(),
        })
        .await
        .map_err(|status| match status.code() {
            tonic::Code::NotFound => anyhow::anyhow!(
                "the server does not know this code: it is mistyped, used already, or older \
                 than 15 minutes; ask for a new one"
            ),
            _ => anyhow::anyhow!("pairing failed: {}", status.message()),
        })?
        .into_inner();
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out = options
        .open(file)
        .map_err(|e| anyhow::anyhow!("cannot write token_file {}: {e}", file.display()))?;
    // Also when the file was there before, with other permissions.
    #[cfg(unix)]
    out.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    writeln!(out, "{}", paired.token)?;
    out.sync_all()?;
    println!(
        "Paired as controller {:?} of {}: its token is in {} (its old token no longer works). \
         Start lintel-controller with the same settings.",
        paired.name,
        paired.organization_slug,
        file.display()
    );
    Ok(())
}

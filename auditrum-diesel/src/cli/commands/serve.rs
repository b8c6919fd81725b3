//! `serve [--bind ADDR] [--token T]`: the audit viewer, stand-alone (feature `viewer`).

use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use clap::Args;
use diesel::r2d2::{ConnectionManager, Pool};
use diesel::PgConnection;

use crate::cli::{CliError, Context};
use crate::viewer::{RequireToken, Viewer};

/// `serve`.
#[derive(Debug, Args)]
pub struct Serve {
    /// Address to listen on. Anything but a loopback address needs --token.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Require this token on every request: `Authorization: Bearer <token>`, or any user
    /// name with the token as password (browsers ask). Env: AUDITRUM_VIEWER_TOKEN.
    #[arg(long, env = "AUDITRUM_VIEWER_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Database connections in the viewer's pool.
    #[arg(long, default_value_t = 4)]
    pub pool_size: u32,
    /// Events per page of the list.
    #[arg(long, default_value_t = 50)]
    pub page_size: i64,
    /// Verify the hash chain at start and then this often (`90s`, `30m`, `1h`); the status
    /// page and /metrics show the result. Off when not given.
    #[arg(long, value_parser = parse_duration)]
    pub verify_chain_every: Option<Duration>,
}

/// A humantime duration (`90s`, `30m`, `1h 30m`, `1d`), or bare seconds (`90`).
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let parsed = match text.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => humantime::parse_duration(text)
            .map_err(|e| format!("not a duration: {text:?} ({e}; e.g. 90s, 30m, 1h)"))?,
    };
    if parsed.is_zero() {
        return Err("the interval must be positive".into());
    }
    Ok(parsed)
}

pub(crate) fn run(args: Serve, context: &Context) -> Result<(), CliError> {
    let token = args.token.filter(|t| !t.is_empty());
    let addrs: Vec<SocketAddr> = args
        .bind
        .to_socket_addrs()
        .map_err(|e| CliError::BadArgument(format!("cannot bind {:?}: {e}", args.bind)))?
        .collect();
    if token.is_none() {
        if let Some(open) = addrs.iter().find(|a| !a.ip().is_loopback()) {
            return Err(CliError::BadArgument(format!(
                "refusing to serve the audit log on {open}, which is not a loopback address, \
                 without --token (or AUDITRUM_VIEWER_TOKEN)"
            )));
        }
    }
    let url = context
        .database_url
        .as_deref()
        .ok_or(CliError::NoDatabase)?;
    let pool = Pool::builder()
        .max_size(args.pool_size.max(1))
        .connection_timeout(Duration::from_secs(10))
        .build(ConnectionManager::<PgConnection>::new(url))
        .map_err(|e| CliError::Connect(e.to_string()))?;
    let mut viewer = Viewer::new(pool)
        .config(context.config.clone())
        .page_size(args.page_size);
    if let Some(every) = args.verify_chain_every {
        viewer = viewer.verify_chain_every(every);
    }
    let mut app = viewer.router();
    app = match token {
        Some(token) => RequireToken::new(token).protect(app),
        None => crate::cli::loopback_host::loopback_only(app),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addrs.as_slice()).await?;
        let local = listener.local_addr()?;
        let mut out = std::io::stdout();
        writeln!(
            out,
            "auditrum-diesel: serving the audit viewer at http://{local}/"
        )?;
        out.flush()?;
        tracing::info!(%local, "serving the audit viewer");
        axum::serve(listener, app).await?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("0s").is_err());
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert!(parse_duration("1x").is_err());
        assert!(parse_duration("h").is_err());
    }
}

//! The client's address: the peer of the connection, or what trusted proxies say.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use http::Request;

/// Where the client's IP address comes from.
///
/// `X-Forwarded-For` is written by whoever sends the request: a client can put anything
/// in it. Only the entries appended by proxies you run can be believed, so the address is
/// counted from the right: with `trusted_proxies = 1` (one load balancer in front of the
/// app), the last entry is the address that load balancer saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientIp {
    /// The peer address of the TCP connection (`ConnectInfo<SocketAddr>`, from
    /// `into_make_service_with_connect_info::<SocketAddr>()`). Right when clients connect
    /// to the app directly. The default.
    #[default]
    Peer,
    /// The `n`-th address from the right of `X-Forwarded-For`, for `n` proxies of yours
    /// in front of the app (each appends the address it received the request from); the
    /// peer address when the header has fewer entries.
    TrustedProxies(usize),
}

impl ClientIp {
    pub(crate) fn of<B>(self, request: &Request<B>) -> Option<IpAddr> {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip());
        let ClientIp::TrustedProxies(hops) = self else {
            return peer;
        };
        if hops == 0 {
            return peer;
        }
        let forwarded: Vec<IpAddr> = request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(|entry| entry.trim().parse::<IpAddr>())
            .collect::<Result<_, _>>()
            .unwrap_or_default();
        forwarded
            .len()
            .checked_sub(hops)
            .map(|i| forwarded[i])
            .or(peer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(forwarded: &str) -> Request<()> {
        let mut request = Request::builder()
            .header("x-forwarded-for", forwarded)
            .body(())
            .unwrap();
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 1], 4000))));
        request
    }

    #[test]
    fn the_address_is_counted_from_the_right() {
        let r = request("6.6.6.6, 203.0.113.7, 10.0.0.2");
        assert_eq!(ClientIp::Peer.of(&r), Some([10, 0, 0, 1].into()));
        assert_eq!(
            ClientIp::TrustedProxies(1).of(&r),
            Some([10, 0, 0, 2].into())
        );
        assert_eq!(
            ClientIp::TrustedProxies(2).of(&r),
            Some([203, 0, 113, 7].into())
        );
        assert_eq!(
            ClientIp::TrustedProxies(4).of(&r),
            Some([10, 0, 0, 1].into())
        );
        assert_eq!(
            ClientIp::TrustedProxies(1).of(&request("garbage")),
            Some([10, 0, 0, 1].into())
        );
    }
}

//! A loopback TCP proxy between the engines and the server that the campaign can cut: every
//! connection through it (REST and the sync WebSocket) is dropped at once, new ones pass.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// The proxy; its threads run until the campaign ends (they only hold loopback sockets).
#[derive(Clone)]
pub struct Proxy {
    pub address: String,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards each connection to `upstream`.
    pub fn start(upstream: String) -> anyhow::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?.to_string();
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let proxy = Proxy {
            address,
            open: Arc::clone(&open),
        };
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&upstream) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                let (Ok(c2), Ok(s2), Ok(c3), Ok(s3)) = (
                    client.try_clone(),
                    server.try_clone(),
                    client.try_clone(),
                    server.try_clone(),
                ) else {
                    continue;
                };
                if let Ok(mut o) = open.lock() {
                    o.retain(|s| s.peer_addr().is_ok());
                    o.push(c3);
                    o.push(s3);
                }
                std::thread::spawn(move || pipe(client, s2));
                std::thread::spawn(move || pipe(server, c2));
            }
        });
        Ok(proxy)
    }

    /// Drops every open connection (both directions); returns how many were cut.
    pub fn cut(&self) -> usize {
        let Ok(mut o) = self.open.lock() else {
            return 0;
        };
        let n = o.len() / 2;
        for s in o.drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
        n
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_pass_and_a_cut_ends_the_connection() {
        let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
        let up = upstream.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            for mut s in upstream.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut b = [0u8; 64];
                    while let Ok(n) = s.read(&mut b) {
                        if n == 0 || s.write_all(&b[..n]).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        let proxy = Proxy::start(up).unwrap();
        let mut c = TcpStream::connect(&proxy.address).unwrap();
        c.write_all(b"ping").unwrap();
        let mut b = [0u8; 4];
        c.read_exact(&mut b).unwrap();
        assert_eq!(&b, b"ping");
        assert_eq!(proxy.cut(), 1);
        let mut rest = Vec::new();
        assert_eq!(c.read_to_end(&mut rest).map(|_| rest.len()).unwrap_or(0), 0);
        let mut again = TcpStream::connect(&proxy.address).unwrap();
        again.write_all(b"pong").unwrap();
        again.read_exact(&mut b).unwrap();
        assert_eq!(&b, b"pong", "new connections pass after a cut");
    }
}

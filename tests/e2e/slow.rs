//! Slow clients: one that sends its request head a byte at a time (slowloris) is cut off after
//! the head timeout; one that sends its body too slowly gets a 408. Neither holds the server.

use consult_tests::{Db, TestApp};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn read_all(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off() {
    let app = TestApp::start(Db::Sqlite).await;
    let base = app
        .instance_with(consult_api::Limits {
            header_read_timeout: Duration::from_millis(500),
            request_timeout: Duration::from_millis(500),
            ..consult_api::Limits::default()
        })
        .await;
    let addr = base.trim_start_matches("http://").to_owned();

    // The head never finishes: the connection is closed once the head timeout passes.
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    let start = Instant::now();
    slow.write_all(b"GET /api/v1/continuum HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1];
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            // Keep trickling a header byte now and then, as slowloris does.
            tokio::select! {
                n = slow.read(&mut buf) => break n,
                () = tokio::time::sleep(Duration::from_millis(100)) => {
                    if slow.write_all(b"X").await.is_err() {
                        break Ok(0);
                    }
                }
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "a slow head held the connection for 5 s");
    let held = start.elapsed();
    assert!(
        held >= Duration::from_millis(400) && held < Duration::from_secs(3),
        "{held:?}"
    );

    // The body never finishes: 408 problem+json.
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    slow.write_all(
        b"POST /api/v1/residents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"em",
    )
    .await
    .unwrap();
    let answer = read_all(&mut slow).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");

    // Meanwhile everyone else is served.
    let res = app.client.get(format!("{base}/api/v1/continuum")).send().await.unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    app.stop().await;
}

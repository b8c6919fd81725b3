//! The archive in S3-compatible object storage: a real local S3 server (moto in server mode,
//! `pip install 'moto[server]'`), never a mock in this process.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{count, stderr, stdout};
use crate::{archivable, month};

/// A moto S3 server on a free local port, stopped (by its pid) when dropped.
struct S3Server {
    child: Child,
    endpoint: String,
}

impl S3Server {
    fn start() -> S3Server {
        let ok = Command::new("python3")
            .args(["-c", "import moto.server, boto3"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "moto's S3 server is missing: provision it with `pip install 'moto[server]'` (python3 on PATH)"
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto server starts");
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        S3Server {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Runs a boto3 snippet against the server (`s3` is the client).
    fn boto(&self, code: &str) -> Output {
        let script = format!(
            "import boto3, sys\ns3 = boto3.client('s3', endpoint_url='{}', region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test')\n{code}",
            self.endpoint
        );
        let out = Command::new("python3")
            .args(["-c", &script])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// `auditrum-diesel ARGS` with the AWS settings of this server.
    fn cli(&self, args: &[&str], database_url: &str) -> Output {
        Command::new(env!("CARGO_BIN_EXE_auditrum-diesel"))
            .args(args)
            .env("DATABASE_URL", database_url)
            .env("AWS_ENDPOINT", &self.endpoint)
            .env("AWS_ALLOW_HTTP", "true")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .output()
            .unwrap()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_month_archived_to_s3_verifies_and_a_changed_object_is_named() {
    let server = S3Server::start();
    server.boto("s3.create_bucket(Bucket='audit')");
    let (db, mut conn) = archivable(20_000);
    let month = month(&mut conn);
    let url = "s3://audit/prod/log";

    let out = server.cli(
        &["archive", "--older-than", "13 months", "--to", url],
        db.url(),
    );
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("20000 event(s)"), "{}", stdout(&out));
    assert_eq!(
        count(&mut conn, "SELECT count(*) FROM auditlog"),
        3,
        "the month left the database (two events, and the PURGE entry recording the cut)"
    );

    let listed = server.boto(
        "print('\\n'.join(o['Key'] for o in s3.list_objects_v2(Bucket='audit')['Contents']))",
    );
    let keys = stdout(&listed);
    for key in [
        format!("prod/log/table=auditlog/month={month}/part-0.parquet"),
        format!("prod/log/table=auditlog_context/month={month}/part-0.parquet"),
        format!("prod/log/table=auditlog_chain/month={month}/part-0.parquet"),
        format!("prod/log/_manifests/table=auditlog/month={month}.json"),
    ] {
        assert!(keys.lines().any(|k| k == key), "{key} not in:\n{keys}");
    }

    let verify = |server: &S3Server| {
        let out = server.cli(&["verify-chain", "--archive", url], db.url());
        (out.status.code(), stdout(&out) + &stderr(&out))
    };
    let (code, text) = verify(&server);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("archive intact") && text.contains("20000 event(s), 40 link(s)"),
        "{text}"
    );

    // One byte flipped in the stored object.
    let key = format!("prod/log/table=auditlog/month={month}/part-0.parquet");
    server.boto(&format!(
        "b = bytearray(s3.get_object(Bucket='audit', Key='{key}')['Body'].read())\nb[len(b) // 2] ^= 1\ns3.put_object(Bucket='audit', Key='{key}', Body=bytes(b))"
    ));
    let (code, text) = verify(&server);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "BROKEN table=auditlog/month={month}/part-0.parquet: changed file"
        )),
        "{text}"
    );
}

//! Test support: a `moto_server` on a free loopback port, behind the proxy in
//! `moto_proxy.py` that works around moto's deviations from AWS.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The moto_server installed by `scripts/test` (or named by BEDFORM_MOTO_SERVER).
fn moto_server() -> PathBuf {
    if let Some(path) = std::env::var_os("BEDFORM_MOTO_SERVER") {
        return PathBuf::from(path);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = root.join("target/moto-venv/bin/moto_server");
    assert!(
        path.exists(),
        "moto_server not found at {}: run ./scripts/test, which installs it (or set BEDFORM_MOTO_SERVER)",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn wait_for_port(port: u16, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited early: {status}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} did not listen on 127.0.0.1:{port}");
}

/// A fresh emulated account, reachable at [`Moto::endpoint`].
pub struct Moto {
    moto: Child,
    proxy: Child,
    pub endpoint: String,
    pub moto_port: u16,
}

impl Moto {
    pub fn start() -> Moto {
        let moto_port = free_port();
        let mut moto = Command::new(moto_server())
            .args(["-H", "127.0.0.1", "-p", &moto_port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        wait_for_port(moto_port, &mut moto, "moto_server");
        let python = moto_server().with_file_name("python");
        let proxy_port = free_port();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/moto_proxy.py");
        let mut proxy = Command::new(python)
            .arg(script)
            .args([proxy_port.to_string(), moto_port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the moto proxy");
        wait_for_port(proxy_port, &mut proxy, "the moto proxy");
        Moto {
            moto,
            proxy,
            endpoint: format!("http://127.0.0.1:{proxy_port}"),
            moto_port,
        }
    }

    /// Environment for the bedform binary and SDK clients: dummy credentials, the
    /// proxy as endpoint, nothing from the developer's own AWS setup.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_SESSION_TOKEN", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_CONFIG_FILE", "/dev/null".into()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }

    /// An SDK config pointing at the emulator, for checking results directly.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_sts::config::Credentials::new(
                "testing", "testing", None, None, "tests",
            ))
            .load()
            .await
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.proxy.kill();
        let _ = self.moto.kill();
        let _ = self.proxy.wait();
        let _ = self.moto.wait();
    }
}

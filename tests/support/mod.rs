//! Test support: a `moto_server` on a free loopback port, behind the proxy in
//! `moto_proxy.py` that works around moto's deviations from AWS, counts requests
//! and injects the faults a test asks for ([`Faults`]).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
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

/// botocore's service model of `service` (`bedrock`, `iam`, `logs`, ...), the one
/// installed with moto and read by `service_model.py`, as JSON.
pub fn service_model(service: &str) -> serde_json::Value {
    let python = moto_server().with_file_name("python");
    let output = Command::new(&python)
        .args([
            "-c",
            "import sys, json, botocore.loaders; \
             json.dump(botocore.loaders.Loader().load_service_model(sys.argv[1], 'service-2'), sys.stdout)",
            service,
        ])
        .output()
        .unwrap_or_else(|e| panic!("{} does not run: {e}", python.display()));
    assert!(
        output.status.success(),
        "no botocore model of {service}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("botocore's model is JSON")
}

/// A loopback port no server of this process has been given. The port is free
/// when it is found, but nothing holds it until the server binds it: without
/// the record, two emulators started side by side could be handed the same
/// port, and one test would talk to the other's server.
fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<std::collections::BTreeSet<u16>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free loopback port");
        if GIVEN.lock().unwrap_or_else(|e| e.into_inner()).insert(port) {
            return port;
        }
    }
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

/// A fault the proxy can answer a request with instead of moto's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The service's throttling error, as its protocol spells it.
    Throttle,
    /// HTTP 500 with the service's internal-error code.
    Internal,
    /// HTTP 503 with the service's unavailable code.
    Unavailable,
    /// The connection is reset before the request reaches moto.
    Reset,
    /// The request takes effect in moto, then the connection is reset: the answer
    /// is lost and a retry repeats a request that already succeeded.
    Lost,
}

impl Fault {
    pub const ALL: [Fault; 5] = [
        Fault::Throttle,
        Fault::Internal,
        Fault::Unavailable,
        Fault::Reset,
        Fault::Lost,
    ];

    fn name(self) -> &'static str {
        match self {
            Fault::Throttle => "throttle",
            Fault::Internal => "internal",
            Fault::Unavailable => "unavailable",
            Fault::Reset => "reset",
            Fault::Lost => "lost",
        }
    }
}

/// What the proxy does to the requests of the client under test, from the moment
/// the settings are given: requests are numbered from 1 in order of arrival.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Seeds the proxy's RNG: the same requests in the same order get the same faults.
    pub seed: u64,
    /// Fraction of requests answered with a fault drawn from `kinds`.
    pub rate: f64,
    pub kinds: Vec<Fault>,
    /// Added to every request.
    pub latency_ms: u64,
    /// Request `k` and every later one are held unanswered and never reach moto,
    /// so the client can be killed at that point ([`Moto::reached`]).
    pub kill_at: Option<u64>,
    /// Request `k` itself reaches moto and only its answer is held: the client
    /// dies after AWS acted but before it learnt so.
    pub kill_after_effect: bool,
}

impl Faults {
    /// `rate` of requests faulted, with every kind of fault.
    pub fn mixed(seed: u64, rate: f64) -> Faults {
        Faults {
            seed,
            rate,
            kinds: Fault::ALL.to_vec(),
            ..Faults::default()
        }
    }

    /// Holds request `k` and all after it; with `after_effect`, request `k` takes
    /// effect in moto first.
    pub fn kill_at(k: u64, after_effect: bool) -> Faults {
        Faults {
            kill_at: Some(k),
            kill_after_effect: after_effect,
            ..Faults::default()
        }
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "seed": self.seed,
            "rate": self.rate,
            "kinds": self.kinds.iter().map(|k| k.name()).collect::<Vec<_>>(),
            "latencyMs": self.latency_ms,
            "killAt": self.kill_at,
            "killAfterEffect": self.kill_after_effect,
        })
    }
}

/// What the proxy has seen since the fault settings were last given.
#[derive(Clone, Debug, Default)]
pub struct FaultStatus {
    /// Requests of the client under test.
    pub requests: u64,
    /// Faults injected, by kind (`hold` for requests held by `kill_at`).
    pub injected: BTreeMap<String, u64>,
}

/// One request to the proxy's control endpoints; the answer's body as JSON.
fn control(port: u16, method: &str, path: &str, body: &str) -> serde_json::Value {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the moto proxy");
    let timeout = Some(Duration::from_secs(60));
    stream.set_read_timeout(timeout).expect("read timeout");
    stream.set_write_timeout(timeout).expect("write timeout");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send to the moto proxy");
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .expect("answer from the moto proxy");
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or_else(|| {
        panic!("{method} {path}: not an HTTP answer from the moto proxy: {answer}")
    });
    assert!(
        head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"),
        "{method} {path}: {head}\n{body}"
    );
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{method} {path}: {e}: {body}"))
}

/// `value` percent-encoded for a query string: operation names hold spaces, which
/// would end the request line.
fn query_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A fresh emulated account, reachable at [`Moto::endpoint`].
pub struct Moto {
    moto: Child,
    proxy: Child,
    pub endpoint: String,
    pub moto_port: u16,
    pub proxy_port: u16,
    /// The cache folder (`XDG_CACHE_HOME`) of the runs against this account,
    /// so that one test's cached price list is never another's.
    pub cache: tempfile::TempDir,
}

impl Moto {
    /// The process ids of moto_server and of the proxy in front of it.
    pub fn pids(&self) -> [u32; 2] {
        [self.moto.id(), self.proxy.id()]
    }

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
            proxy_port,
            cache: tempfile::TempDir::new().expect("a cache folder"),
        }
    }

    /// Replaces the proxy's fault settings and restarts its request numbering;
    /// requests held by the previous settings are released (their connections reset).
    pub fn set_faults(&self, faults: &Faults) {
        control(
            self.proxy_port,
            "POST",
            "/__faults",
            &faults.to_json().to_string(),
        );
    }

    /// No more faults, latency or held requests.
    pub fn clear_faults(&self) {
        control(self.proxy_port, "POST", "/__faults", "{}");
    }

    /// Requests seen and faults injected since the settings were last given.
    pub fn fault_status(&self) -> FaultStatus {
        let status = control(self.proxy_port, "GET", "/__faults", "");
        FaultStatus {
            requests: status["seq"].as_u64().unwrap_or(0),
            injected: status["injected"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// Whether request `k` (since the settings were last given) has arrived; with
    /// `kill_after_effect`, whether moto has answered it.
    pub fn reached(&self, k: u64) -> bool {
        control(self.proxy_port, "GET", &format!("/__reached?k={k}"), "")["reached"]
            .as_bool()
            .unwrap_or(false)
    }

    /// Requests by `service:operation` since the start or the last reset.
    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.by_operation("/__counts", |v| v.as_u64().unwrap_or(0))
    }

    /// Seconds the emulator spent answering each operation, named as in
    /// [`Moto::counts`] (what the benchmarks attribute wall time to).
    pub fn times(&self) -> BTreeMap<String, f64> {
        self.by_operation("/__times", |v| v.as_f64().unwrap_or(0.0))
    }

    /// A control endpoint's figures by operation.
    fn by_operation<T>(
        &self,
        path: &str,
        value: impl Fn(&serde_json::Value) -> T,
    ) -> BTreeMap<String, T> {
        control(self.proxy_port, "GET", path, "")
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), value(v))).collect())
            .unwrap_or_default()
    }

    /// Every request since the start or the last reset, in order of arrival,
    /// named as in [`Moto::counts`].
    pub fn sequence(&self) -> Vec<String> {
        control(self.proxy_port, "GET", "/__sequence", "")["operations"]
            .as_array()
            .map(|ops| {
                ops.iter()
                    .filter_map(|o| o.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Zeroes the request counts, leaving the account as it is.
    pub fn reset_counts(&self) {
        control(self.proxy_port, "POST", "/__reset_counts", "");
    }

    /// From now on, answers `operations` (named as in [`Moto::counts`]) with their
    /// service's AccessDenied error, as AWS answers credentials without the
    /// permission; an empty list allows everything again.
    pub fn deny(&self, operations: &[&str]) {
        let body = serde_json::json!({ "operations": operations });
        control(self.proxy_port, "POST", "/__deny", &body.to_string());
    }

    /// From now on, keeps the body of every request of `operations` (named as in
    /// [`Moto::counts`], e.g. `bedrock:POST /model-customization-jobs`), dropping
    /// the bodies kept before.
    pub fn record_requests(&self, operations: &[&str]) {
        let body = serde_json::json!({ "operations": operations });
        control(self.proxy_port, "POST", "/__requests", &body.to_string());
    }

    /// The bodies of `operation`'s requests since [`Moto::record_requests`] named
    /// it, in order of arrival: JSON as sent, anything else as a string.
    pub fn requests(&self, operation: &str) -> Vec<serde_json::Value> {
        let path = format!("/__requests?op={}", query_escape(operation));
        control(self.proxy_port, "GET", &path, "")["requests"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// How the stub answers Converse from now on: `reply` (cut at the request's
    /// `maxTokens` words) after `delay_ms`, or the AWS error `(status, code, message)`.
    pub fn set_converse(&self, reply: &str, delay_ms: u64, error: Option<(u16, &str, &str)>) {
        let error = error.map(|(status, code, message)| {
            serde_json::json!({"status": status, "code": code, "message": message})
        });
        let body = serde_json::json!({"reply": reply, "delayMs": delay_ms, "error": error});
        control(self.proxy_port, "POST", "/__converse", &body.to_string());
    }

    /// The Converse requests the stub received: `{"modelId", "body"}` each.
    pub fn conversations(&self) -> Vec<serde_json::Value> {
        control(self.proxy_port, "GET", "/__converse", "")["requests"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The ApplyGuardrail requests the stub received:
    /// `{"guardrailIdentifier", "guardrailVersion", "body"}` each.
    pub fn guardrail_applications(&self) -> Vec<serde_json::Value> {
        control(self.proxy_port, "GET", "/__apply_guardrail", "")["requests"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// How long a throughput stays Creating (or Updating) before it is InService.
    /// How long the tagging index trails the tags of the stub's objects from now
    /// on (0 unless set), as AWS's index trails a fresh tag.
    pub fn set_index_lag(&self, seconds: f64) {
        let body = serde_json::json!({ "seconds": seconds });
        control(self.proxy_port, "POST", "/__index_lag", &body.to_string());
    }

    pub fn set_creating_seconds(&self, seconds: f64) {
        let body = serde_json::json!({ "creatingSeconds": seconds });
        control(self.proxy_port, "POST", "/__throughput", &body.to_string());
    }

    /// The Bedrock requests (to the stub or to moto) and the stub's answers that
    /// broke botocore's service model since the start, each `what: problems`;
    /// forgotten once taken. Every test's `Moto` is checked for them when dropped.
    pub fn take_violations(&self) -> Vec<String> {
        control(self.proxy_port, "POST", "/__violations", "")["violations"]
            .as_array()
            .map(|found| {
                found
                    .iter()
                    .map(|v| {
                        let problems: Vec<&str> = v["problems"]
                            .as_array()
                            .map(|p| p.iter().filter_map(|p| p.as_str()).collect())
                            .unwrap_or_default();
                        format!(
                            "{}: {}",
                            v["what"].as_str().unwrap_or("?"),
                            problems.join("; ")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// An empty account again (moto, the proxy's Bedrock stub, counts and faults,
    /// and the cache folder of the runs against it),
    /// without the cost of starting new processes.
    pub fn reset(&self) {
        control(self.proxy_port, "POST", "/__reset", "");
        // A fresh account is read afresh: no price list kept from before.
        if let Ok(entries) = std::fs::read_dir(self.cache.path()) {
            for entry in entries.flatten() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
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
            ("XDG_CACHE_HOME", self.cache.path().display().to_string()),
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

/// An S3 client for the emulator: path-style addresses, as bedform uses with an
/// endpoint URL.
pub fn s3_client(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

impl Drop for Moto {
    fn drop(&mut self) {
        // A test that passed sent nothing AWS would reject and was answered
        // nothing AWS would not answer.
        let violations = if std::thread::panicking() {
            Vec::new()
        } else {
            self.take_violations()
        };
        let _ = self.proxy.kill();
        let _ = self.moto.kill();
        let _ = self.proxy.wait();
        let _ = self.moto.wait();
        assert!(
            violations.is_empty(),
            "requests or stub answers broke the service model:\n{}",
            violations.join("\n")
        );
    }
}

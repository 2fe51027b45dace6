//! FreeIPA/latchset `kdcproxy` (Debian python3-kdcproxy) under gunicorn, as
//! the reference KKDCP server to compare against.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Debian's interpreter: python3-kdcproxy is installed for it, not for a
/// pyenv/venv python that may come first on PATH.
const PYTHON: &str = "/usr/bin/python3";

/// `None` when kdcproxy and gunicorn are importable by Debian's python.
pub fn missing() -> Option<String> {
    let ok = Command::new(PYTHON)
        .args(["-c", "import kdcproxy, gunicorn"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return None;
    }
    crate::peers::missing(
        "kdcproxy/gunicorn not installed for /usr/bin/python3 (python3-kdcproxy, gunicorn)"
            .to_owned(),
    )
}

/// A running gunicorn serving `kdcproxy:application`.
#[derive(Debug)]
pub struct KdcProxy {
    pub port: u16,
    child: Child,
    pub dir: PathBuf,
}

impl KdcProxy {
    /// Starts kdcproxy for LAB.TEST -> `kerberos+tcp://127.0.0.1:kdc_port`,
    /// `use_dns = false`, on `port`, TLS with `cert`/`key` if given,
    /// `workers` processes of `threads` threads (gthread: keep-alive).
    pub fn start(
        dir: &Path,
        port: u16,
        kdc_port: u16,
        tls: Option<(&Path, &Path)>,
        workers: usize,
        threads: usize,
    ) -> KdcProxy {
        Self::start_realms(dir, port, &[("LAB.TEST", kdc_port)], tls, workers, threads)
    }

    /// Like [`KdcProxy::start`] with several realms, each to one TCP KDC.
    pub fn start_realms(
        dir: &Path,
        port: u16,
        realms: &[(&str, u16)],
        tls: Option<(&Path, &Path)>,
        workers: usize,
        threads: usize,
    ) -> KdcProxy {
        std::fs::create_dir_all(dir).unwrap();
        let conf = dir.join("kdcproxy.conf");
        let mut text = String::from("[global]\nuse_dns = false\n");
        for (realm, kdc_port) in realms {
            text.push_str(&format!(
                "\n[{realm}]\nkerberos = kerberos+tcp://127.0.0.1:{kdc_port}\n"
            ));
        }
        std::fs::write(&conf, text).unwrap();
        let mut cmd = Command::new(PYTHON);
        cmd.args(["-m", "gunicorn", "--bind", &format!("127.0.0.1:{port}")])
            .args([
                "--workers",
                &workers.to_string(),
                "--threads",
                &threads.to_string(),
            ])
            .args([
                "--worker-class",
                "gthread",
                "--keep-alive",
                "30",
                "--log-level",
                "warning",
            ])
            .env("KDCPROXY_CONFIG", &conf)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(dir.join("gunicorn.log")).unwrap(),
            ));
        if let Some((cert, key)) = tls {
            cmd.arg("--certfile").arg(cert).arg("--keyfile").arg(key);
        }
        cmd.arg("kdcproxy:application");
        let child = cmd.spawn().unwrap();
        let mut p = KdcProxy {
            port,
            child,
            dir: dir.to_owned(),
        };
        p.wait_listening();
        p
    }

    fn wait_listening(&mut self) {
        for _ in 0..300 {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log =
                    std::fs::read_to_string(self.dir.join("gunicorn.log")).unwrap_or_default();
                panic!("gunicorn exited ({status}):\n{log}");
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("kdcproxy did not start listening on {}", self.port);
    }
}

impl Drop for KdcProxy {
    fn drop(&mut self) {
        // SIGTERM lets the gunicorn master stop its workers; SIGKILL would
        // orphan them until they notice their parent is gone.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..100 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! A server program a test starts, its stdout collected line by line;
//! killed when dropped.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running child process and the stdout lines it printed so far.
#[derive(Debug)]
pub struct Running {
    child: Child,
    out: Arc<Mutex<Vec<String>>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// Starts `cmd` with stdout collected line by line (stderr discarded).
    pub fn spawn(mut cmd: Command) -> Running {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let out = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().expect("piped stdout");
        let sink = out.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().expect("stdout lines").push(line);
            }
        });
        Running { child, out }
    }

    /// Waits (up to 5 s) until something listens on loopback `port`;
    /// panics if the process exits first or nothing comes up.
    pub fn wait_for_port(&mut self, port: u16) {
        for _ in 0..500 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("server exited early: {status}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("nothing listens on {port}");
    }

    /// The stdout lines printed so far.
    pub fn lines(&self) -> Vec<String> {
        self.out.lock().expect("stdout lines").clone()
    }

    /// Waits (up to 3 s) until `done` holds for the lines printed so far,
    /// then returns them (whether or not it held).
    pub fn wait_for_lines(&self, done: impl Fn(&[String]) -> bool) -> Vec<String> {
        for _ in 0..300 {
            let lines = self.lines();
            if done(&lines) {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.lines()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_stdout_lines() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo one; echo two; sleep 5"]);
        let r = Running::spawn(cmd);
        let lines = r.wait_for_lines(|l| l.len() >= 2);
        assert_eq!(lines, ["one", "two"]);
    }
}

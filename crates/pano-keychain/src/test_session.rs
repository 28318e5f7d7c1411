//! A real keychain for tests, never the user's. On Linux: a private D-Bus session with an
//! unlocked gnome-keyring in a throwaway home (what `scripts/with-keyring.sh` does, but
//! from inside the test process, so that a plain `cargo test` tests the real Secret
//! Service too). Missing tools are a loud failure, never a skipped test.
//!
//! A private session is started even when the test runs inside a desktop session, so that
//! the user's own keyrings are never touched; only when the tools are missing is an
//! existing session's Secret Service used.
//!
//! Call [`ensure`] first thing in every test of a binary that touches the keychain: it
//! sets `DBUS_SESSION_BUS_ADDRESS` for the whole process, which must happen before other
//! threads of the test read the environment. The session ends with the test process (the
//! helper waits on a pipe that only the process's exit closes).

/// Makes sure a Secret Service answers in this process; starts a private one once.
/// Panics, naming what is missing, when none can be had.
pub fn ensure() {
    #[cfg(target_os = "linux")]
    linux::ensure();
    // macOS and Windows: the OS keychain is always there.
}

/// A private D-Bus session bus listening on a socket of the caller's choosing, with an
/// unlocked gnome-keyring (Linux). It ends when dropped, or with the process. For tests of
/// a keychain that is missing at first and appears later.
#[cfg(target_os = "linux")]
pub struct PrivateSession {
    _child: std::process::Child,
    _keepalive: std::process::ChildStdin,
}

#[cfg(target_os = "linux")]
impl PrivateSession {
    /// Starts the bus at `socket` (a path that must not exist yet; its folder must) and
    /// the keyring on it. Does not change this process's environment: the bus address is
    /// `unix:path=<socket>`. Panics, naming what is missing, when it cannot start.
    pub fn start_at(socket: &std::path::Path) -> Self {
        linux::start(Some(socket)).0
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::io::{BufRead, BufReader};
    use std::path::Path;
    use std::process::{Command, Stdio};
    use std::sync::{Mutex, OnceLock};

    use super::PrivateSession;

    fn have(tool: &str) -> bool {
        std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
    }

    const TOOLS: [&str; 2] = ["dbus-daemon", "gnome-keyring-daemon"];

    // A bus on $PANO_TEST_BUS_SOCKET; on it, a new login keyring in the throwaway home,
    // unlocked; then the bus address on stdout, and a wait for the test process to end
    // (stdin closes), which ends the bus and with it gnome-keyring-daemon. The home is
    // removed afterwards.
    const SCRIPT: &str = r#"
home="$HOME"
dbus-daemon --session --nofork --nopidfile --address="unix:path=$PANO_TEST_BUS_SOCKET" >/dev/null &
bus=$!
export DBUS_SESSION_BUS_ADDRESS="unix:path=$PANO_TEST_BUS_SOCKET"
i=0
while [ ! -S "$PANO_TEST_BUS_SOCKET" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
if eval "$(printf %s pano-test | gnome-keyring-daemon --unlock --components=secrets)" >/dev/null; then
  echo "PANO_TEST_BUS=$DBUS_SESSION_BUS_ADDRESS"
  cat >/dev/null
fi
kill $bus 2>/dev/null
wait $bus 2>/dev/null
rm -rf "$home"
"#;

    /// The process-wide session of [`super::ensure`] (none when an existing one is used).
    static STARTED: OnceLock<Option<Mutex<PrivateSession>>> = OnceLock::new();

    pub fn ensure() {
        STARTED.get_or_init(|| {
            let missing: Vec<&str> = TOOLS.into_iter().filter(|t| !have(t)).collect();
            if !missing.is_empty() && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() {
                // A desktop session with its own Secret Service (KWallet, say): use it.
                eprintln!(
                    "test keychain: {} not found; using this session's Secret Service",
                    missing.join(" and ")
                );
                return None;
            }
            let (session, address) = start(None);
            // The one place the process's environment changes; callers run this before
            // their test starts other threads.
            std::env::set_var("DBUS_SESSION_BUS_ADDRESS", address);
            Some(Mutex::new(session))
        });
    }

    /// Starts a session on `socket` (or one in the throwaway home); answers its address.
    pub fn start(socket: Option<&Path>) -> (PrivateSession, String) {
        let missing: Vec<&str> = TOOLS.into_iter().filter(|t| !have(t)).collect();
        assert!(
            missing.is_empty(),
            "the keychain tests need a real Secret Service: {} not found (Debian: apt-get \
             install dbus gnome-keyring; scripts/setup.sh installs them)",
            missing.join(" and ")
        );
        let home = std::env::temp_dir().join(format!(
            "pano-keyring-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        let runtime = home.join("run");
        std::fs::create_dir_all(&runtime).expect("a scratch folder for the test keyring");
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700));
            let _ = std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700));
        }
        let socket = socket.map_or_else(|| home.join("bus"), Path::to_path_buf);
        let log = home.join("session.log");
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(SCRIPT)
            .env("HOME", &home)
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("PANO_TEST_BUS_SOCKET", &socket)
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env_remove("GNOME_KEYRING_CONTROL")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(
                std::fs::File::create(&log)
                    .map(Stdio::from)
                    .unwrap_or_else(|_| Stdio::null()),
            )
            .spawn()
            .expect("sh starts");
        let stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let Some(address) = line.trim().strip_prefix("PANO_TEST_BUS=") else {
            let why = std::fs::read_to_string(&log).unwrap_or_default();
            let _ = child.kill();
            panic!("the private D-Bus session with gnome-keyring did not start: {why}");
        };
        let session = PrivateSession {
            _child: child,
            _keepalive: stdin,
        };
        (session, address.to_string())
    }
}

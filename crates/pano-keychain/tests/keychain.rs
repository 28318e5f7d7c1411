//! Against a real Secret Service: the test starts its own private D-Bus session with an
//! unlocked gnome-keyring (`pano_keychain::test_session`) and fails, naming the missing
//! tools, when it cannot; it never passes without having talked to a keychain. Without a
//! Secret Service the error must be the clear "no keychain" message (checked in a child
//! process pointed at a bus that does not exist).

use pano_keychain::{Keychain, KeychainError, SecretName};
use secrecy::ExposeSecret;

/// Set in the child process of [`without_a_secret_service_the_error_says_so`].
const NO_BUS_CHILD: &str = "PANO_KEYCHAIN_TEST_NO_BUS";

#[test]
fn keys_are_set_replaced_cleared_and_only_reach_the_service() {
    if std::env::var_os(NO_BUS_CHILD).is_some() {
        return; // only the no-bus test runs in that child
    }
    pano_keychain::test_session::ensure();
    let keychain = Keychain::new(&format!("app.pano.test.{}", std::process::id()));
    assert!(!keychain.is_set(SecretName::RunpodApiKey).unwrap());
    assert_eq!(
        keychain.set(SecretName::RunpodApiKey, "  ").unwrap_err(),
        KeychainError::Empty
    );
    keychain.set(SecretName::RunpodApiKey, "rp-first").unwrap();
    keychain.set(SecretName::RunpodApiKey, "rp-second").unwrap();
    keychain
        .set(SecretName::S3AccessKeyId, "AKIA-TEST")
        .unwrap();
    keychain
        .set(SecretName::S3SecretAccessKey, "s3-secret")
        .unwrap();
    let secrets = keychain.load().unwrap();
    assert_eq!(secrets.runpod_api_key.unwrap().expose_secret(), "rp-second");
    let s3 = secrets.s3.unwrap();
    assert_eq!(s3.access_key_id, "AKIA-TEST");
    assert_eq!(s3.secret_access_key.expose_secret(), "s3-secret");
    for name in SecretName::ALL {
        keychain.clear(name).unwrap();
        keychain.clear(name).unwrap();
        assert!(!keychain.is_set(name).unwrap());
    }
    assert!(keychain.load().unwrap().runpod_api_key.is_none());
}

#[test]
fn without_a_secret_service_the_error_says_so() {
    const NAME: &str = "without_a_secret_service_the_error_says_so";
    if std::env::var_os(NO_BUS_CHILD).is_some() {
        let keychain = Keychain::new("app.pano.test.no-bus");
        let err = keychain.set(SecretName::RunpodApiKey, "rp-1").unwrap_err();
        assert_eq!(err.code(), "keychain_unavailable", "{err}");
        assert!(err.to_string().contains("Secret Service"), "{err}");
        assert!(err.is_temporary());
        assert_eq!(keychain.load().unwrap_err().code(), "keychain_unavailable");
        return;
    }
    // The environment is the process's: a child of this test binary gets a bus address
    // where nothing listens.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([NAME, "--exact", "--test-threads=1", "--nocapture"])
        .env(NO_BUS_CHILD, "1")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/pano-test-bus",
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

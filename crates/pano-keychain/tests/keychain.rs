//! Against a real Secret Service when the test runs inside one (`scripts/test.sh` starts a
//! D-Bus session with an unlocked gnome-keyring for it); without one, the error must be the
//! clear "no keychain" message.

use pano_keychain::{Keychain, KeychainError, SecretName};
use secrecy::ExposeSecret;

fn has_session_bus() -> bool {
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
}

#[test]
fn keys_are_set_replaced_cleared_and_only_reach_the_service() {
    let keychain = Keychain::new(&format!("app.pano.test.{}", std::process::id()));
    if !has_session_bus() {
        let err = keychain.set(SecretName::RunpodApiKey, "rp-1").unwrap_err();
        assert_eq!(err.code(), "keychain_unavailable", "{err}");
        assert!(err.to_string().contains("Secret Service"), "{err}");
        return;
    }
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

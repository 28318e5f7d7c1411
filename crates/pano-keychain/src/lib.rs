//! The clinic's keys in the OS keychain (Secret Service on Linux, Keychain on macOS,
//! Credential Manager on Windows) through `keyring`. The UI can set, replace, clear and
//! ask whether a key is set; nothing here returns a key to anything but the service's
//! [`Secrets`].

use pano_cloud::storage::S3Credentials;
use pano_service::Secrets;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use thiserror::Error;

#[cfg(feature = "test-session")]
pub mod test_session;

/// The keys the app keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretName {
    RunpodApiKey,
    S3AccessKeyId,
    S3SecretAccessKey,
}

impl SecretName {
    pub const ALL: [SecretName; 3] = [
        SecretName::RunpodApiKey,
        SecretName::S3AccessKeyId,
        SecretName::S3SecretAccessKey,
    ];

    fn account(self) -> &'static str {
        match self {
            SecretName::RunpodApiKey => "runpod-api-key",
            SecretName::S3AccessKeyId => "s3-access-key-id",
            SecretName::S3SecretAccessKey => "s3-secret-access-key",
        }
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum KeychainError {
    #[error("no keychain is available on this computer ({0}); on Linux a Secret Service (GNOME Keyring or KWallet) must be running")]
    Unavailable(String),
    #[error("the keychain is locked or refused access; unlock it and try again")]
    Locked,
    #[error("a key cannot be empty")]
    Empty,
    #[error("the keychain failed: {0}")]
    Other(String),
}

impl KeychainError {
    pub fn code(&self) -> &'static str {
        match self {
            KeychainError::Unavailable(_) => "keychain_unavailable",
            KeychainError::Locked => "keychain_locked",
            KeychainError::Empty => "secret_empty",
            KeychainError::Other(_) => "keychain_error",
        }
    }

    /// Whether the keys may well be readable a little later without anyone changing a
    /// setting: the keychain is locked (the user has not unlocked it yet) or no Secret
    /// Service answers (the desktop session is still starting). The app retries these in
    /// the background; an empty key or another failure needs a person.
    pub fn is_temporary(&self) -> bool {
        matches!(self, KeychainError::Unavailable(_) | KeychainError::Locked)
    }
}

fn classify(e: keyring::Error) -> KeychainError {
    match e {
        keyring::Error::PlatformFailure(inner) => {
            // The text of a platform failure can name the D-Bus address; keep it short and
            // free of anything but the reason.
            let text = inner.to_string();
            let reason = text
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(120)
                .collect();
            KeychainError::Unavailable(reason)
        }
        keyring::Error::NoStorageAccess(_) => KeychainError::Locked,
        other => KeychainError::Other(other.to_string()),
    }
}

/// The keychain entries under one service name (`app.pano.desktop`; tests use their own).
#[derive(Debug, Clone)]
pub struct Keychain {
    service: String,
}

impl Keychain {
    pub fn new(service: &str) -> Self {
        Self {
            service: service.to_string(),
        }
    }

    fn entry(&self, name: SecretName) -> Result<keyring::Entry, KeychainError> {
        keyring::Entry::new(&self.service, name.account()).map_err(classify)
    }

    /// Stores or replaces a key.
    pub fn set(&self, name: SecretName, value: &str) -> Result<(), KeychainError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(KeychainError::Empty);
        }
        self.entry(name)?.set_password(value).map_err(classify)
    }

    /// Removes a key; removing one that is not there succeeds.
    pub fn clear(&self, name: SecretName) -> Result<(), KeychainError> {
        match self.entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }

    /// Whether a key is stored (never its value).
    pub fn is_set(&self, name: SecretName) -> Result<bool, KeychainError> {
        match self.entry(name)?.get_password() {
            Ok(_) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(classify(e)),
        }
    }

    fn get(&self, name: SecretName) -> Result<Option<SecretString>, KeychainError> {
        match self.entry(name)?.get_password() {
            Ok(v) => Ok(Some(v.into())),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(classify(e)),
        }
    }

    /// The keys for the service.
    pub fn load(&self) -> Result<Secrets, KeychainError> {
        let runpod_api_key = self.get(SecretName::RunpodApiKey)?;
        let s3 = match (
            self.get(SecretName::S3AccessKeyId)?,
            self.get(SecretName::S3SecretAccessKey)?,
        ) {
            (Some(id), Some(secret)) => Some(S3Credentials {
                access_key_id: secrecy::ExposeSecret::expose_secret(&id).to_string(),
                secret_access_key: secret,
            }),
            _ => None,
        };
        Ok(Secrets {
            runpod_api_key,
            s3,
            ..Secrets::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_locked_or_missing_keychain_is_worth_waiting_for() {
        assert!(KeychainError::Locked.is_temporary());
        assert!(KeychainError::Unavailable("no bus".into()).is_temporary());
        assert!(!KeychainError::Empty.is_temporary());
        assert!(!KeychainError::Other("denied".into()).is_temporary());
    }
}

#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked gnome-keyring (a real
# Secret Service), in a throwaway HOME so that the user's own keyrings are never touched.
# Used by scripts/test.sh for the keychain tests; falls back to running the command as is
# when dbus-run-session or gnome-keyring-daemon is missing (the tests then check the
# "no keychain" message; the keychain tests themselves start a private session when none runs).
set -euo pipefail
if ! command -v dbus-run-session >/dev/null || ! command -v gnome-keyring-daemon >/dev/null; then
  exec "$@"
fi
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
keyring_home=$(mktemp -d)
trap 'rm -rf "$keyring_home"' EXIT
HOME="$keyring_home" dbus-run-session -- bash -c '
  eval "$(printf %s pano-test | gnome-keyring-daemon --unlock --components=secrets)" >/dev/null
  export GNOME_KEYRING_CONTROL SSH_AUTH_SOCK
  exec "$@"' with-keyring "$@" 2> >(grep -v "Failed to set fd limit" >&2)

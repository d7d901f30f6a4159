//! Whether this run is CI's, shared by the test binaries that decide at run
//! time whether a backend's tests run.
//!
//! Outside CI a backend whose server is not configured has its tests
//! reported as ignored, so a developer without a MySQL server or a Galera
//! cluster can still run the rest. In CI the same tests fail instead: CI
//! starts every server itself, so one that is missing is a broken run, and
//! an ignored count in a green run is too easy to overlook.

/// `CI` set to anything but empty, `0` or `false` (CI services set `CI=true`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

/// Why a test that needs the server `var` names cannot run in CI.
pub fn missing_in_ci(var: &str) -> String {
    format!(
        "{var} is not set, and CI is: a backend whose server is missing fails the run instead \
         of having its tests ignored (start the server, e.g. .ci/run does, or unset CI to skip)"
    )
}

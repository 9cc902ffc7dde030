//! `cargo xtask package <platform> [--check]`: the desktop installers built on this machine
//! (issue 14, DSK-1), each from one `[profile.dist]` build of the app. Each platform has its own
//! module; for Windows `--check` then installs the result in a throwaway environment and fails
//! when anything is missing (Linux's check is `cargo xtask installed-e2e`).

mod linux;
mod windows;

pub use linux::installed_e2e;

const USAGE: &str = "usage: cargo xtask package linux | cargo xtask package windows [--check]";

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let Some((platform, flags)) = args.split_first() else {
        anyhow::bail!("{USAGE}");
    };
    let check = match flags {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => anyhow::bail!("{USAGE}"),
    };
    match platform.as_str() {
        "windows" => windows::run(check),
        "linux" if !check => linux::package().map(|_| ()),
        other => anyhow::bail!("no installer for {other:?}\n{USAGE}"),
    }
}

/// The version every installer carries: `version` in tauri.conf.json.
fn app_version() -> anyhow::Result<String> {
    use anyhow::Context;
    let path = crate::cmd::root().join("tauri.conf.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let config: serde_json::Value =
        serde_json::from_str(&text).context("parsing tauri.conf.json")?;
    config["version"]
        .as_str()
        .map(str::to_string)
        .context("tauri.conf.json has no \"version\"")
}

/// The size budget for one installer.
const MAX_INSTALLER_BYTES: u64 = 15 * 1000 * 1000;

/// Megabytes with one decimal, for reports.
fn mb(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let mb = bytes as f64 / 1e6;
    format!("{mb:.1} MB")
}

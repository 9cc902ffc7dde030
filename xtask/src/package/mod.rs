//! `cargo xtask package <platform>`: the installers a garage's IT person installs (issue 14,
//! DSK-1), built from one `[profile.dist]` build of the app.

mod linux;

pub use linux::installed_e2e;

pub fn run(args: &[String]) -> anyhow::Result<()> {
    match args {
        [platform] if platform == "linux" => linux::package().map(|_| ()),
        _ => anyhow::bail!("usage: cargo xtask package linux"),
    }
}

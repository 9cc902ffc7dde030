//! `cargo xtask package windows [--check]`: the Windows installer, built on Linux (issue 14).
//!
//! 1. `garage-inbox.exe`: the app cross-compiled for `x86_64-pc-windows-gnu` (mingw-w64) with
//!    the `dist` profile, the one every shipped build uses.
//! 2. The files beside it, staged in `target/package/windows/stage/`: `WebView2Loader.dll` (the
//!    GNU build loads it at run time; the x64 copy from the locked `webview2-com-sys` crate),
//!    the toast icon `app-icon.png` and the installer's `icon.ico` (from `assets/app-icons/`).
//! 3. `makensis` (Debian's `nsis`) over `packaging/windows/installer.nsi`, warnings as errors,
//!    with `-DLOADER_DLL` (the script ships the DLL only then):
//!    `target/package/windows/Garage-Inbox_<version>_x64-setup.exe`, at most 15 MB.
//!
//! The release workflow (`.github/workflows/release.yml`) builds the installer users get from the
//! same script with the same makensis (Debian 12's, in a container), flags and defines and the same
//! staged files, but from the MSVC build of the app, which links the WebView2 loader statically:
//! so without `-DLOADER_DLL`. A test below holds the workflow to these flags.
//!
//! `--check` then installs it under Wine (`wine64`, headless, a fresh prefix in
//! `target/package/windows/`) and checks what a user would get: refused without the WebView2
//! Runtime (exit code 10), then installed with it — files, Start-menu shortcut, the
//! `garage-inbox://` scheme, the AppUserModelID, the "Installed apps" entry; an update with the
//! updater's arguments; the uninstaller keeping the app's data, and deleting it with
//! `/DELETEAPPDATA`; an install into a folder given with `/D=`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::Context;

use super::{app_version, mb, MAX_INSTALLER_BYTES};
use crate::cmd::{cargo, root, succeeds, target_dir, timed};
use crate::cross::WINDOWS;

const EXE: &str = "garage-inbox.exe";
const LOADER: &str = "WebView2Loader.dll";
const PRODUCT: &str = "Garage Inbox";
const IDENTIFIER: &str = "app.garageinbox.desktop";
/// makensis's flags, here and in the release workflow: quiet but for warnings and errors,
/// warnings as errors, paths relative to the root, the script read as UTF-8.
const MAKENSIS_FLAGS: [&str; 5] = ["-V2", "-WX", "-NOCD", "-INPUTCHARSET", "UTF8"];
/// The define that makes the installer ship `WebView2Loader.dll` (the GNU build only).
const LOADER_DEFINE: &str = "-DLOADER_DLL";
/// The installer's exit code when the WebView2 Runtime is missing (installer.nsi).
const EXIT_NO_WEBVIEW2: i32 = 10;
const WEBVIEW2_KEY: &str =
    r"HKCU\Software\Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}";

pub fn run(check: bool) -> anyhow::Result<()> {
    let installer = build()?;
    if check {
        self::check(&installer)?;
    }
    Ok(())
}

/// What `build` made.
struct Installer {
    path: PathBuf,
    version: String,
    exe: PathBuf,
}

fn build() -> anyhow::Result<Installer> {
    let root = root();
    if !succeeds(tool("makensis", &["-VERSION"])) {
        anyhow::bail!(
            "makensis is not installed (Debian package `nsis`; .ci/setup.sh installs it)"
        );
    }
    if !root.join("ui/dist/index.html").is_file() {
        // The app embeds the UI at compile time.
        crate::ui::build()?;
    }
    timed(
        "windows exe",
        cargo([
            "build",
            "-p",
            "garage-inbox",
            "--profile",
            "dist",
            "--target",
            WINDOWS,
        ]),
    )?;
    let exe = target_dir().join(WINDOWS).join("dist").join(EXE);
    let version = app_version()?;

    let out = target_dir().join("package/windows");
    let stage = out.join("stage");
    if stage.exists() {
        fs::remove_dir_all(&stage).with_context(|| format!("clearing {}", stage.display()))?;
    }
    fs::create_dir_all(&stage)?;
    copy(&exe, &stage.join(EXE))?;
    copy(&webview2_loader()?, &stage.join(LOADER))?;
    copy(
        &root.join("assets/app-icons/128x128.png"),
        &stage.join("app-icon.png"),
    )?;
    copy(
        &root.join("assets/app-icons/icon.ico"),
        &stage.join("icon.ico"),
    )?;

    let path = out.join(format!("Garage-Inbox_{version}_x64-setup.exe"));
    let mut nsis = tool("makensis", &MAKENSIS_FLAGS);
    nsis.arg(format!("-DVERSION={version}"))
        .arg(format!("-DSTAGE={}", stage.display()))
        .arg(format!("-DOUTFILE={}", path.display()))
        .arg(LOADER_DEFINE)
        .arg(root.join("packaging/windows/installer.nsi"))
        .current_dir(&root);
    timed("makensis", nsis)?;

    let exe_size = size(&exe)?;
    let installer_size = size(&path)?;
    eprintln!(
        "package windows: {} ({}), {EXE} {}",
        path.display(),
        mb(installer_size),
        mb(exe_size)
    );
    if installer_size > MAX_INSTALLER_BYTES {
        anyhow::bail!(
            "the Windows installer is {}, over the {} budget",
            mb(installer_size),
            mb(MAX_INSTALLER_BYTES)
        );
    }
    Ok(Installer { path, version, exe })
}

/// `WebView2Loader.dll` (x64) from the `webview2-com-sys` crate the lock file names.
fn webview2_loader() -> anyhow::Result<PathBuf> {
    let output = cargo([
        "metadata",
        "--format-version",
        "1",
        "--filter-platform",
        WINDOWS,
    ])
    .output()
    .context("running cargo metadata")?;
    if !output.status.success() {
        anyhow::bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("parsing cargo metadata")?;
    let manifest = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == "webview2-com-sys")
        .and_then(|p| p["manifest_path"].as_str())
        .context("webview2-com-sys is not among the app's Windows dependencies")?;
    let dll = Path::new(manifest)
        .parent()
        .map(|dir| dir.join("x64").join(LOADER))
        .context("webview2-com-sys has no directory")?;
    if !dll.is_file() {
        anyhow::bail!("{} is missing", dll.display());
    }
    Ok(dll)
}

// ---------------------------------------------------------------------------------------------
// --check: install and uninstall under Wine

fn check(installer: &Installer) -> anyhow::Result<()> {
    check_imports(&installer.exe)?;
    let wine = Wine::new()?;
    eprintln!(
        "==> package windows --check: under Wine in {}",
        wine.prefix.display()
    );

    // Without the WebView2 Runtime: refused, with its own exit code, and nothing installed.
    let refused = wine.run_installer(&installer.path, &["/S"])?;
    expect(
        refused.status.code() == Some(EXIT_NO_WEBVIEW2),
        format!(
            "without WebView2 the silent installer should exit {EXIT_NO_WEBVIEW2}, not {:?}",
            refused.status.code()
        ),
    )?;
    let default_dir = wine.local_app_data().join("Programs").join(PRODUCT);
    expect(
        !default_dir.exists(),
        "the installer refused but installed files anyway",
    )?;
    eprintln!("    refused without the WebView2 Runtime (exit {EXIT_NO_WEBVIEW2})");

    // With it (the per-user registration is what the check reads).
    wine.reg(&[
        "add",
        WEBVIEW2_KEY,
        "/v",
        "pv",
        "/t",
        "REG_SZ",
        "/d",
        "120.0.2210.91",
        "/f",
    ])?;
    // What the app keeps, as if it had run: the uninstaller must leave it unless asked.
    let app_data = [
        wine.roaming_app_data()
            .join("garageinbox")
            .join(PRODUCT)
            .join("data")
            .join("session.json"),
        wine.local_app_data()
            .join(IDENTIFIER)
            .join("EBWebView")
            .join("Local State"),
    ];
    for file in &app_data {
        write(file, b"{}")?;
    }

    let installed = wine.run_installer(&installer.path, &["/S"])?;
    expect_success("install", &installed)?;
    let windows_dir = format!(r"C:\users\{}\AppData\Local\Programs\{PRODUCT}", wine.user);
    verify_installed(&wine, installer, &default_dir, &windows_dir)?;
    eprintln!("    installed into %LOCALAPPDATA%\\Programs\\{PRODUCT}: files, shortcut, registry");

    // An update as tauri-plugin-updater runs it in quiet mode (/R left out: it would start the
    // app, which needs a real WebView2): a removed shortcut stays removed.
    let shortcut = wine.start_menu().join(format!("{PRODUCT}.lnk"));
    fs::remove_file(&shortcut).with_context(|| format!("removing {}", shortcut.display()))?;
    let updated = wine.run_installer(
        &installer.path,
        &[
            "/S",
            "/NS",
            "/UPDATE",
            "/ARGS",
            "garage-inbox://messages?filter=unread",
        ],
    )?;
    expect_success("update", &updated)?;
    verify_files(installer, &default_dir)?;
    expect(
        !shortcut.exists(),
        "an /UPDATE install re-created the shortcut the user had removed",
    )?;
    eprintln!("    updated in place with the updater's arguments");

    // Uninstall, keeping the app's data.
    let uninstalled = wine.uninstall(&format!(r"{windows_dir}\uninstall.exe"), &["/S"])?;
    expect_success("uninstall", &uninstalled)?;
    verify_removed(&wine, &default_dir)?;
    for file in &app_data {
        expect(
            file.is_file(),
            format!(
                "the uninstaller deleted {} without /DELETEAPPDATA",
                file.display()
            ),
        )?;
    }
    eprintln!("    uninstalled; the app's data kept");

    // Into a folder of the user's choosing, then uninstalled with the app's data.
    // No space in it: NSIS reads /D= only unquoted, and a program started from here gets its
    // arguments quoted when they hold spaces.
    let custom = r"C:\Apps\GarageInbox";
    let custom_dir = wine.prefix.join("drive_c/Apps/GarageInbox");
    let installed = wine.run_installer(&installer.path, &["/S", &format!("/D={custom}")])?;
    expect_success("install with /D=", &installed)?;
    verify_installed(&wine, installer, &custom_dir, custom)?;
    let uninstalled = wine.uninstall(
        &format!(r"{custom}\uninstall.exe"),
        &["/S", "/DELETEAPPDATA"],
    )?;
    expect_success("uninstall /DELETEAPPDATA", &uninstalled)?;
    verify_removed(&wine, &custom_dir)?;
    for file in &app_data {
        expect(
            !file.exists(),
            format!("/DELETEAPPDATA left {}", file.display()),
        )?;
    }
    expect(
        !wine.roaming_app_data().join("garageinbox").exists(),
        "/DELETEAPPDATA left the empty garageinbox folder",
    )?;
    eprintln!("    installed with /D=, uninstalled with /DELETEAPPDATA: the app's data gone");
    // The used prefix goes (it is the template's size, about 0.7 GB); a failed check keeps it
    // for a look.
    let used = wine.prefix.clone();
    drop(wine);
    fs::remove_dir_all(&used).with_context(|| format!("removing {}", used.display()))?;
    eprintln!("<== package windows --check: ok");
    Ok(())
}

/// The exe needs no DLL the installer does not ship and Windows does not have: the MinGW
/// runtime (libgcc, libstdc++, libwinpthread) must be linked in statically.
fn check_imports(exe: &Path) -> anyhow::Result<()> {
    let output = tool("x86_64-w64-mingw32-objdump", &["-p"])
        .arg(exe)
        .output()
        .context("running x86_64-w64-mingw32-objdump (Debian package `mingw-w64`)")?;
    expect(output.status.success(), "objdump could not read the exe")?;
    let imports = dll_imports(&String::from_utf8_lossy(&output.stdout));
    expect(
        imports.iter().any(|d| d.eq_ignore_ascii_case(LOADER)),
        format!("{EXE} does not import {LOADER}: is it still the WebView2 build?"),
    )?;
    let foreign: Vec<&String> = imports
        .iter()
        .filter(|d| d.to_ascii_lowercase().starts_with("lib"))
        .collect();
    expect(
        foreign.is_empty(),
        format!("{EXE} needs DLLs no Windows has: {foreign:?}"),
    )?;
    eprintln!(
        "    {EXE} imports {} system DLLs and {LOADER}",
        imports.len() - 1
    );
    Ok(())
}

/// The DLL names of `objdump -p`'s import table.
fn dll_imports(objdump: &str) -> Vec<String> {
    let mut names: Vec<String> = objdump
        .lines()
        .filter_map(|l| l.trim().strip_prefix("DLL Name:"))
        .map(|n| n.trim().to_string())
        .collect();
    names.sort_by_key(|n| n.to_ascii_lowercase());
    names.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    names
}

/// The installed files are the staged ones, and the shortcut and registry entries point at them.
fn verify_installed(
    wine: &Wine,
    installer: &Installer,
    dir: &Path,
    windows_dir: &str,
) -> anyhow::Result<()> {
    verify_files(installer, dir)?;
    let shortcut = wine.start_menu().join(format!("{PRODUCT}.lnk"));
    expect(shortcut.is_file(), "no Start-menu shortcut")?;
    let exe = format!(r"{windows_dir}\{EXE}");

    let scheme = r"HKCU\Software\Classes\garage-inbox";
    expect_value(wine, scheme, "URL Protocol", "")?;
    expect_value(
        wine,
        &format!(r"{scheme}\shell\open\command"),
        "",
        &format!("\"{exe}\" \"%1\""),
    )?;
    let aumid = format!(r"HKCU\Software\Classes\AppUserModelId\{IDENTIFIER}");
    expect_value(wine, &aumid, "DisplayName", PRODUCT)?;
    expect_value(
        wine,
        &aumid,
        "IconUri",
        &format!(r"{windows_dir}\app-icon.png"),
    )?;
    let uninstall =
        format!(r"HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\{IDENTIFIER}");
    expect_value(wine, &uninstall, "DisplayName", PRODUCT)?;
    expect_value(wine, &uninstall, "DisplayVersion", &installer.version)?;
    expect_value(wine, &uninstall, "InstallLocation", windows_dir)?;
    expect_value(
        wine,
        &uninstall,
        "QuietUninstallString",
        &format!("\"{windows_dir}\\uninstall.exe\" /S"),
    )?;
    Ok(())
}

fn verify_files(installer: &Installer, dir: &Path) -> anyhow::Result<()> {
    for name in [EXE, LOADER, "app-icon.png", "uninstall.exe"] {
        expect(dir.join(name).is_file(), format!("{name} is not installed"))?;
    }
    let installed = fs::read(dir.join(EXE))?;
    let built = fs::read(&installer.exe)?;
    expect(installed == built, "the installed exe is not the one built")?;
    Ok(())
}

fn verify_removed(wine: &Wine, dir: &Path) -> anyhow::Result<()> {
    expect(!dir.exists(), format!("{} is still there", dir.display()))?;
    expect(
        !wine.start_menu().join(format!("{PRODUCT}.lnk")).exists(),
        "the Start-menu shortcut is still there",
    )?;
    for key in [
        r"HKCU\Software\Classes\garage-inbox".to_string(),
        format!(r"HKCU\Software\Classes\AppUserModelId\{IDENTIFIER}"),
        format!(r"HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\{IDENTIFIER}"),
    ] {
        expect(
            !wine.reg(&["query", &key])?.status.success(),
            format!("{key} is still in the registry"),
        )?;
    }
    Ok(())
}

/// The value `name` ("" for the default) of `key` is `want`.
fn expect_value(wine: &Wine, key: &str, name: &str, want: &str) -> anyhow::Result<()> {
    let mut args = vec!["query", key];
    if name.is_empty() {
        args.push("/ve");
    } else {
        args.extend(["/v", name]);
    }
    let output = wine.reg(&args)?;
    let text = String::from_utf8_lossy(&output.stdout);
    let got = reg_value(&text, name);
    expect(
        got.as_deref() == Some(want),
        format!("{key} {name:?} is {got:?}, not {want:?}"),
    )
}

/// A value from `reg query` output: `    NAME    REG_SZ    DATA` (the default value's name is
/// `(Default)`).
fn reg_value(output: &str, name: &str) -> Option<String> {
    let name = if name.is_empty() { "(Default)" } else { name };
    output.lines().find_map(|line| {
        let rest = line.trim_start().strip_prefix(name)?;
        let rest = rest.trim_start();
        let (kind, data) = rest.split_once("    ").unwrap_or((rest, ""));
        kind.starts_with("REG_").then(|| data.trim().to_string())
    })
}

fn expect(ok: bool, message: impl Into<String>) -> anyhow::Result<()> {
    if ok {
        Ok(())
    } else {
        anyhow::bail!("package windows --check: {}", message.into())
    }
}

fn expect_success(what: &str, output: &Output) -> anyhow::Result<()> {
    expect(
        output.status.success(),
        format!(
            "{what} exited with {:?}: {}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

/// A throwaway Wine prefix: headless, quiet, without the Mono and Gecko prompts.
struct Wine {
    wine: PathBuf,
    wineserver: PathBuf,
    prefix: PathBuf,
    /// The Windows user name Wine gives the Unix user.
    user: String,
}

impl Wine {
    fn new() -> anyhow::Result<Wine> {
        let wine = find(&["wine64", "/usr/lib/wine/wine64"]).context(
            "wine64 is not installed (Debian package `wine64`; .ci/setup.sh installs it)",
        )?;
        let wineserver = find(&["wineserver", "/usr/lib/wine/wineserver"])
            .context("wineserver is not installed (Debian package `wine64`)")?;
        // A prefix made once by wineboot (half a minute) and copied fresh for every check.
        let dir = target_dir().join("package/windows");
        let template = Wine {
            wine: wine.clone(),
            wineserver: wineserver.clone(),
            prefix: dir.join("wineprefix-template"),
            user: String::new(),
        };
        let ready = template.prefix.join(".ready");
        if !ready.is_file() {
            if template.prefix.exists() {
                fs::remove_dir_all(&template.prefix)?;
            }
            fs::create_dir_all(&template.prefix)?;
            let mut boot = template.command(&["wineboot", "--init"]);
            boot.stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            timed("wineboot", boot)?;
            template.wait()?;
            fs::write(&ready, b"")?;
        }
        let prefix = dir.join("wineprefix");
        if prefix.exists() {
            fs::remove_dir_all(&prefix)
                .with_context(|| format!("clearing {}", prefix.display()))?;
        }
        let mut cp = Command::new("cp");
        cp.arg("-a").arg(&template.prefix).arg(&prefix);
        timed("fresh Wine prefix", cp)?;
        let mut w = Wine {
            wine,
            wineserver,
            prefix,
            user: String::new(),
        };
        w.user = fs::read_dir(w.prefix.join("drive_c/users"))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .find(|name| name != "Public")
            .context("Wine made no user folder")?;
        Ok(w)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.wine);
        c.args(args)
            .env("WINEPREFIX", &self.prefix)
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY");
        c
    }

    /// Runs a program in the prefix until it exits.
    fn run(&self, args: &[&str]) -> anyhow::Result<Output> {
        self.command(args)
            .output()
            .with_context(|| format!("running {} under Wine", args.join(" ")))
    }

    /// Runs an uninstaller, which copies itself to %TEMP% and returns at once while the copy
    /// works: waits for every process of the prefix to end.
    fn uninstall(&self, uninstaller: &str, args: &[&str]) -> anyhow::Result<Output> {
        let mut all = vec![uninstaller];
        all.extend(args);
        let output = self.run(&all)?;
        self.wait()?;
        Ok(output)
    }

    fn run_installer(&self, installer: &Path, args: &[&str]) -> anyhow::Result<Output> {
        let path = installer.to_string_lossy();
        let mut all = vec![path.as_ref()];
        all.extend(args);
        self.run(&all)
    }

    fn reg(&self, args: &[&str]) -> anyhow::Result<Output> {
        let mut all = vec!["reg"];
        all.extend(args);
        self.run(&all)
    }

    /// Waits until the prefix's processes have ended (and the registry is written).
    fn wait(&self) -> anyhow::Result<()> {
        let status = Command::new(&self.wineserver)
            .arg("-w")
            .env("WINEPREFIX", &self.prefix)
            .status()
            .context("running wineserver -w")?;
        expect(status.success(), "wineserver -w failed")
    }

    fn user_dir(&self) -> PathBuf {
        self.prefix.join("drive_c/users").join(&self.user)
    }

    fn local_app_data(&self) -> PathBuf {
        self.user_dir().join("AppData/Local")
    }

    fn roaming_app_data(&self) -> PathBuf {
        self.user_dir().join("AppData/Roaming")
    }

    fn start_menu(&self) -> PathBuf {
        self.roaming_app_data()
            .join("Microsoft/Windows/Start Menu/Programs")
    }
}

impl Drop for Wine {
    fn drop(&mut self) {
        // No wineserver outlives the check.
        let _ = Command::new(&self.wineserver)
            .arg("-k")
            .env("WINEPREFIX", &self.prefix)
            .status();
    }
}

/// The first of `candidates` that runs (a name on PATH or an absolute path).
fn find(candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(PathBuf::from).find(|p| {
        if p.is_absolute() {
            p.is_file()
        } else {
            std::env::var_os("PATH")
                .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(p).is_file()))
        }
    })
}

fn tool(program: &str, args: &[&str]) -> Command {
    let mut c = Command::new(program);
    c.args(args);
    c
}

fn copy(from: &Path, to: &Path) -> anyhow::Result<()> {
    fs::copy(from, to)
        .map(|_| ())
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

fn size(path: &Path) -> anyhow::Result<u64> {
    Ok(fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_import_table_is_read_once_per_dll() {
        let out = "\tDLL Name: KERNEL32.dll\n\tvma: Hint\n\tDLL Name: kernel32.dll\n\
                   \tDLL Name: WebView2Loader.dll\n";
        assert_eq!(dll_imports(out), ["KERNEL32.dll", "WebView2Loader.dll"]);
    }

    /// What users install is what CI tests: the release workflow runs makensis over the same
    /// script with the same flags, defines and staged files, less the loader DLL (its MSVC build
    /// links the loader in).
    #[test]
    fn the_release_workflow_runs_makensis_as_ci_does() {
        let path = crate::cmd::root().join(".github/workflows/release.yml");
        let workflow = fs::read_to_string(&path).unwrap();
        let command = format!("makensis {}", MAKENSIS_FLAGS.join(" "));
        let calls: Vec<&str> = workflow
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("makensis ") && l.contains(".nsi"))
            .collect();
        assert_eq!(
            calls.len(),
            1,
            "release.yml should compile one script with makensis: {calls:?}"
        );
        let call = calls[0];
        assert!(call.starts_with(&command), "{call:?} is not {command:?} …");
        for define in ["\"-DVERSION=$VERSION\"", "\"-DSTAGE=", "\"-DOUTFILE="] {
            assert!(call.contains(define), "{call:?} lacks {define}");
        }
        assert!(
            call.ends_with(" packaging/windows/installer.nsi"),
            "{call:?} does not compile packaging/windows/installer.nsi"
        );
        assert!(
            !call.contains(LOADER_DEFINE),
            "{call:?}: the MSVC build has no loader DLL"
        );
        // The files `build` stages, from the same sources.
        for staged in [
            "assets/app-icons/128x128.png",
            "app-icon.png",
            "assets/app-icons/icon.ico",
            "icon.ico",
            EXE,
        ] {
            assert!(
                workflow.contains(staged),
                "release.yml does not stage {staged}"
            );
        }
    }

    #[test]
    fn reg_query_output_is_read_by_value_name() {
        let out = "\r\nHKEY_CURRENT_USER\\Software\\Classes\\garage-inbox\r\n    \
                   (Default)    REG_SZ    URL:app.garageinbox.desktop protocol\r\n    \
                   URL Protocol    REG_SZ    \r\n";
        assert_eq!(
            reg_value(out, "").as_deref(),
            Some("URL:app.garageinbox.desktop protocol")
        );
        assert_eq!(reg_value(out, "URL Protocol").as_deref(), Some(""));
        assert_eq!(reg_value(out, "Missing"), None);
    }
}

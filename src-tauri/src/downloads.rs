//! Saving into the user's Downloads folder (the analytics CSV, a message's file): under a plain
//! name, never over an existing file ("name (2).ext", as browsers do).

use std::path::PathBuf;

use tauri::{AppHandle, Manager};

/// `name` with anything a file system or a path could take for something else replaced by `_`,
/// without a leading dot, at most 150 characters.
pub fn plain(name: &str) -> String {
    let cleaned: String = name
        .trim()
        .chars()
        .filter(|c| c.is_control() || !inbox_core::media::is_hidden(*c))
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .take(150)
        .collect();
    let cleaned = cleaned.trim_start_matches('.').trim().to_string();
    // Windows keeps these names for devices, with any extension.
    let stem = cleaned
        .split('.')
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    let reserved = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (stem.len() == 4
            && (stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.ends_with(|c: char| c.is_ascii_digit()));
    if reserved {
        format!("_{cleaned}")
    } else {
        cleaned
    }
}

/// Writes `bytes` as `name` in Downloads (or the next free "name (n).ext"); returns the path.
pub fn save(app: &AppHandle, name: &str, bytes: &[u8]) -> Result<PathBuf, String> {
    // A desktop without XDG user folders set up still has a home with a Downloads folder.
    let dir = app
        .path()
        .download_dir()
        .or_else(|_| app.path().home_dir().map(|h| h.join("Downloads")))
        .map_err(|e| format!("there is no Downloads folder: {e}"))?;
    std::fs::create_dir_all(&dir).map_err(|e| format!("could not make {}: {e}", dir.display()))?;
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s, format!(".{e}")),
        _ => (name, String::new()),
    };
    for n in 1..1000 {
        let file = if n == 1 {
            name.to_string()
        } else {
            format!("{stem} ({n}){ext}")
        };
        let path = dir.join(file);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                use std::io::Write;
                f.write_all(bytes)
                    .map_err(|e| format!("could not write {}: {e}", path.display()))?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("could not write {}: {e}", path.display())),
        }
    }
    Err(format!(
        "{} already holds a thousand copies of {name}",
        dir.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_cannot_leave_the_folder_or_hide() {
        assert_eq!(plain("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(plain(".bashrc"), "bashrc");
        assert_eq!(plain("V5C: Ford?.pdf"), "V5C_ Ford_.pdf");
        assert_eq!(plain("quote.csv"), "quote.csv");
        assert_eq!(plain("NUL.pdf"), "_NUL.pdf");
        assert_eq!(plain("com1.txt"), "_com1.txt");
        assert_eq!(plain("a\u{202E}b.pdf"), "ab.pdf");
    }
}

//! The file dialogs (Import, Save, Back up) run in the XDG desktop portal's
//! process, never in this one: a chooser reads the files of the folder it
//! shows, and in this process closing a descriptor on the database would
//! drop SQLite's locks (docs/sqlite-locks.md). Without a portal, the
//! dialog library falls back to `zenity` (also another process) and,
//! failing that, returns "no file" as if the user had cancelled; this
//! module says so instead, before the dialog is asked for.

use crate::CommandError;

/// The portal's well-known name on the session bus.
const PORTAL: &str = "org.freedesktop.portal.Desktop";

/// `Ok` if a file dialog can be shown out of process; otherwise
/// [`CommandError::NoFileDialog`], whose hint names the packages.
pub(crate) async fn ensure_available() -> Result<(), CommandError> {
    if !cfg!(target_os = "linux") || zenity_on_path() {
        return Ok(());
    }
    let session = tokio::time::timeout(
        std::time::Duration::from_secs(3),
        zbus::Connection::session(),
    )
    .await;
    match session {
        Ok(Ok(bus)) if portal_on(&bus).await => Ok(()),
        Ok(_) => Err(CommandError::NoFileDialog),
        Err(_) => Ok(()), // a bus that does not answer: let the dialog try
    }
}

/// Whether the portal runs on `bus`, or D-Bus would start it on demand.
/// A bus that does not answer within 3 s cannot tell: the dialog is tried.
async fn portal_on(bus: &zbus::Connection) -> bool {
    let check = async {
        let dbus = zbus::fdo::DBusProxy::new(bus).await.ok()?;
        let name = zbus::names::BusName::try_from(PORTAL).ok()?;
        if dbus.name_has_owner(name).await.ok()? {
            return Some(true);
        }
        let activatable = dbus.list_activatable_names().await.ok()?;
        Some(activatable.iter().any(|n| n.as_str() == PORTAL))
    };
    match tokio::time::timeout(std::time::Duration::from_secs(3), check).await {
        Ok(answer) => answer.unwrap_or(false),
        Err(_) => true,
    }
}

fn zenity_on_path() -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("zenity").is_file()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A private bus; the daemon is stopped when this is dropped, even if
    /// the test fails, and holds none of the test's output streams.
    struct Bus {
        daemon: std::process::Child,
        address: String,
        _config: tempfile::NamedTempFile,
    }

    impl Bus {
        /// A bus whose activatable services come from `service_dir` only.
        fn start(service_dir: Option<&str>) -> Bus {
            use std::io::{BufRead as _, Write as _};
            let mut config = tempfile::NamedTempFile::new().unwrap();
            let services = service_dir
                .map(|d| format!("<servicedir>{d}</servicedir>"))
                .unwrap_or_default();
            write!(
                config,
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:tmpdir=/tmp</listen>{services}
<policy context="default"><allow send_destination="*" eavesdrop="true"/>
<allow eavesdrop="true"/><allow own="*"/></policy></busconfig>"#
            )
            .unwrap();
            let mut daemon = std::process::Command::new("dbus-daemon")
                .arg(format!("--config-file={}", config.path().display()))
                .args(["--nofork", "--print-address"])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("dbus-daemon (Debian package dbus) runs");
            let mut address = String::new();
            std::io::BufReader::new(daemon.stdout.take().unwrap())
                .read_line(&mut address)
                .unwrap();
            Bus {
                daemon,
                address: address.trim().to_owned(),
                _config: config,
            }
        }

        async fn connect(&self) -> zbus::Connection {
            zbus::connection::Builder::address(self.address.as_str())
                .unwrap()
                .build()
                .await
                .unwrap()
        }
    }

    impl Drop for Bus {
        fn drop(&mut self) {
            let _ = self.daemon.kill();
            let _ = self.daemon.wait();
        }
    }

    #[tokio::test]
    async fn a_bus_without_the_portal_has_no_file_dialog() {
        let bus = Bus::start(None);
        assert!(!portal_on(&bus.connect().await).await);
    }

    /// With the system's D-Bus service files (where `scripts/app` installs
    /// the portal), D-Bus can start it on demand: the dialog is there.
    #[tokio::test]
    async fn a_bus_that_can_start_the_portal_has_a_file_dialog() {
        let services = "/usr/share/dbus-1/services";
        let installed = std::path::Path::new(services)
            .join("org.freedesktop.portal.Desktop.service")
            .exists();
        assert!(
            installed,
            "xdg-desktop-portal is not installed (scripts/test installs it)"
        );
        let bus = Bus::start(Some(services));
        assert!(portal_on(&bus.connect().await).await);
    }
}

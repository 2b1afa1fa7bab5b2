//! The notify fifos at run time: opened (made if missing) when the config
//! is applied, their scripts started with the fifo's path as the last
//! argument, lines written without ever blocking the loop. As keepalived
//! 2.2.7 does (watched): a script that dies is logged and not restarted
//! until the next reload, which restarts every fifo script; at stop the
//! scripts get SIGTERM and the fifos we made are removed.

use log::{info, warn};

use super::scripts::start_command;
use super::Daemon;
use crate::config::{Config, FifoConfig};
use crate::sys::fifo::Fifo;
use crate::sys::process;
use crate::tracking::notify_fifo::{group_line, instance_line, priority_line};
use crate::vrrp::instance::State;

#[derive(Default)]
pub(super) struct NotifyFifos {
    open: Vec<OpenFifo>,
    /// Lines written while a reload restarts the fifo scripts: they go out
    /// once the new scripts run, so that a line is never read by an old
    /// script on its way out (and lost with it). keepalived's removed
    /// instance's FAULT line reaches the new script too (watched).
    held: Option<Vec<String>>,
}

struct OpenFifo {
    config: FifoConfig,
    /// keepalived's name for it in log lines.
    label: &'static str,
    fifo: Fifo,
    script: Option<u32>,
    /// Set while lines are being dropped, so that is logged once.
    full: bool,
}

impl NotifyFifos {
    fn write(&mut self, line: &str) {
        if let Some(held) = &mut self.held {
            held.push(line.to_owned());
            return;
        }
        for open in &mut self.open {
            match open.fifo.write_line(line) {
                Ok(()) => open.full = false,
                Err(e) => {
                    if !open.full {
                        warn!(
                            "{} {}: {e} (no reader?): notify lines are dropped until it drains",
                            open.label,
                            open.config.path.display()
                        );
                    }
                    open.full = true;
                }
            }
        }
    }

    /// From here on lines wait for `release`.
    pub(super) fn hold(&mut self) {
        self.held.get_or_insert_with(Vec::new);
    }

    /// Whether lines wait for `release` (a restart holds them through its
    /// reload, for the next image).
    pub(super) fn holding(&self) -> bool {
        self.held.is_some()
    }

    /// The lines waiting for `release`, in order.
    pub(super) fn held_lines(&self) -> Vec<String> {
        self.held.clone().unwrap_or_default()
    }

    /// Writes the held lines, in order, and stops holding.
    pub(super) fn release(&mut self) {
        for line in self.held.take().unwrap_or_default() {
            self.write(&line);
        }
    }

    /// SIGTERM to every script; fifos we made that `keep` does not list are
    /// removed. What stays open is returned for reuse.
    fn close(&mut self, keep: &[&FifoConfig]) -> Vec<OpenFifo> {
        let mut kept = Vec::new();
        for mut open in self.open.drain(..) {
            if let Some(pid) = open.script.take() {
                let _ = process::signal_group(pid, libc::SIGTERM);
            }
            if keep.iter().any(|k| k.path == open.config.path) {
                kept.push(open);
            } else if open.fifo.created {
                let _ = std::fs::remove_file(&open.config.path);
            }
        }
        kept
    }
}

impl Daemon {
    /// Opens the configured fifos and (re)starts their scripts.
    pub(super) fn apply_notify_fifos(&mut self, config: &Config) {
        let fifos = &config.notify_fifos;
        let wanted: Vec<(&FifoConfig, &'static str)> = fifos
            .general
            .iter()
            .map(|f| (f, "notify fifo"))
            .chain(fifos.vrrp.iter().map(|f| (f, "vrrp notify fifo")))
            .collect();
        let keep: Vec<&FifoConfig> = wanted.iter().map(|(f, _)| *f).collect();
        let mut reusable = self.notify_fifos.close(&keep);
        for (config, label) in wanted {
            let fifo = match reusable.iter().position(|o| o.config.path == config.path) {
                Some(at) => reusable.swap_remove(at).fifo,
                None => match Fifo::open(&config.path) {
                    Ok(fifo) => fifo,
                    Err(e) => {
                        warn!("{label} {}: {e}; not used", config.path.display());
                        continue;
                    }
                },
            };
            let script = config.script.as_ref().and_then(|command| {
                let mut command = command.clone();
                command
                    .argv
                    .push(config.path.to_string_lossy().into_owned());
                let run_as = command.run_as.as_ref().or(self.script_user.as_ref());
                start_command(&command, run_as, self.script_security)
                    .map_err(|why| warn!("{label} script cannot run: {why}"))
                    .ok()
            });
            self.notify_fifos.open.push(OpenFifo {
                config: config.clone(),
                label,
                fifo,
                script,
                full: false,
            });
        }
    }

    pub(super) fn write_fifo_instance(&mut self, index: usize, to: State) {
        let instance = &self.instances[index];
        let line = instance_line(&instance.config.name, to, instance.machine.priority());
        self.notify_fifos.write(&line);
    }

    pub(super) fn write_fifo_group(&mut self, group: usize, to: State) {
        let line = group_line(&self.groups[group].config.name, to);
        self.notify_fifos.write(&line);
    }

    pub(super) fn write_fifo_line(&mut self, line: &str) {
        self.notify_fifos.write(line);
    }

    /// With notify_priority_changes: the instance's new priority.
    pub(super) fn write_fifo_priority(&mut self, index: usize) {
        let instance = &self.instances[index];
        if !instance.config.notify_priority_changes {
            return;
        }
        let machine = &instance.machine;
        if let Some(line) =
            priority_line(&instance.config.name, machine.state(), machine.priority())
        {
            self.notify_fifos.write(&line);
        }
    }

    /// A child ended: if it was a fifo script, say so (it is not restarted).
    pub(super) fn notify_fifo_script_ended(&mut self, pid: u32) -> bool {
        let Some(open) = self
            .notify_fifos
            .open
            .iter_mut()
            .find(|o| o.script == Some(pid))
        else {
            return false;
        };
        open.script = None;
        info!("{} script terminated", open.label);
        true
    }

    /// At stop.
    pub(super) fn close_notify_fifos(&mut self) {
        self.notify_fifos.close(&[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;

    /// A reload holds lines until the new fifo scripts run: nothing reaches
    /// the pipe while held, then everything in order.
    #[test]
    fn held_lines_reach_the_fifo_on_release_in_order() {
        let dir = std::env::temp_dir().join(format!("keepvip-hold-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("vrrp.fifo");
        let mut fifos = NotifyFifos::default();
        fifos.open.push(OpenFifo {
            config: FifoConfig {
                path: path.clone(),
                script: None,
            },
            label: "vrrp notify fifo",
            fifo: Fifo::open(&path).unwrap(),
            script: None,
            full: false,
        });
        let mut reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&path)
            .unwrap();
        let mut got = String::new();
        fifos.hold();
        fifos.write("INSTANCE \"A\" FAULT 150\n");
        fifos.write("INSTANCE \"B\" MASTER 150\n");
        assert!(reader.read_to_string(&mut got).is_err(), "held: {got:?}");
        fifos.release();
        fifos.write("INSTANCE \"B\" BACKUP 150\n");
        let _ = reader.read_to_string(&mut got);
        assert_eq!(
            got,
            "INSTANCE \"A\" FAULT 150\nINSTANCE \"B\" MASTER 150\nINSTANCE \"B\" BACKUP 150\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

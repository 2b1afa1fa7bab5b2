//! `track_file` at run time: each file's value, read at start and again
//! whenever inotify says its directory changed; the instances that track a
//! changed file are re-evaluated. No polling, nothing blocks (a read of a
//! small local file is all).

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use log::{info, warn};
use mio::unix::SourceFd;
use mio::{Registry, Token};

use super::{watch, Daemon};
use crate::config::TrackFileConfig;
use crate::sys::inotify::Inotify;
use crate::tracking::track_file::{effect, init_text, parse_value, FileValue};
use crate::tracking::verdict::Effect;

/// Where the loop hears of tracked files (far from the other fixed tokens,
/// which count down from usize::MAX).
pub(super) const TRACK_FILES: Token = Token(usize::MAX - 16);

#[derive(Default)]
pub(super) struct TrackFiles {
    /// None while no file is tracked (or inotify cannot be had).
    inotify: Option<Inotify>,
    files: Vec<WatchedFile>,
}

struct WatchedFile {
    config: TrackFileConfig,
    /// The inotify watch on its directory.
    watch: Option<i32>,
    value: i64,
}

impl TrackFiles {
    /// Follows the files of `configs` (in their order: instances refer to
    /// them by index). A file kept from the running config keeps its
    /// value; `init_file` is written for the others.
    pub fn apply(&mut self, configs: &[TrackFileConfig], registry: &Registry) {
        if let Some(old) = self.inotify.take() {
            let _ = registry.deregister(&mut SourceFd(&std::os::fd::AsRawFd::as_raw_fd(&old)));
        }
        let old = std::mem::take(&mut self.files);
        if configs.is_empty() {
            return;
        }
        let inotify = match Inotify::new() {
            Ok(inotify) => watch(registry, &inotify, TRACK_FILES).map(|()| inotify),
            Err(e) => Err(e),
        };
        let inotify = inotify
            .map_err(|e| {
                warn!("track_file: inotify: {e}; changes to tracked files will not be seen")
            })
            .ok();
        for config in configs {
            let kept = old
                .iter()
                .find(|f| f.config.path == config.path && f.config.init == config.init);
            if kept.is_none() {
                if let Some(init) = config.init {
                    initialise(&config.path, init.value, init.overwrite);
                }
            }
            let directory = parent(&config.path);
            let watch = inotify.as_ref().and_then(|i| {
                i.watch_directory(&directory)
                    .map_err(|e| {
                        warn!(
                            "track_file {}: cannot watch {}: {e}; changes will not be seen",
                            config.name,
                            directory.display()
                        )
                    })
                    .ok()
            });
            let mut file = WatchedFile {
                config: config.clone(),
                watch,
                value: kept.map_or(0, |k| k.value),
            };
            file.read();
            self.files.push(file);
        }
        self.inotify = inotify;
    }

    /// After an inotify event: re-reads the files whose directory changed;
    /// the indexes of those whose value changed.
    pub fn changed(&mut self) -> Vec<usize> {
        let Some(inotify) = &self.inotify else {
            return Vec::new();
        };
        let changes = match inotify.read_changes() {
            Ok(changes) => changes,
            Err(e) => {
                warn!("track_file: inotify: {e}");
                Vec::new()
            }
        };
        let mut changed = Vec::new();
        for (index, file) in self.files.iter_mut().enumerate() {
            let touched = changes.iter().any(|c| {
                c.overflow
                    || (Some(c.watch) == file.watch
                        && file.config.path.file_name() == Some(c.name.as_os_str()))
            });
            if touched && file.read() {
                changed.push(index);
            }
        }
        changed
    }

    /// What file `index` does under a line's `weight [reverse]`.
    pub fn effect(&self, index: usize, weight: i32, reverse: bool) -> Effect {
        let value = self.files.get(index).map_or(0, |f| f.value);
        effect(value, weight, reverse)
    }

    pub fn name(&self, index: usize) -> &str {
        self.files.get(index).map_or("", |f| f.config.name.as_str())
    }
}

impl WatchedFile {
    /// Reads the value again; true when it changed. A missing file is 0.
    fn read(&mut self) -> bool {
        let path = &self.config.path;
        let value = match std::fs::read(path) {
            Ok(bytes) => match parse_value(&String::from_utf8_lossy(&bytes)) {
                FileValue::Number(value) => value,
                FileValue::Invalid => {
                    let text = String::from_utf8_lossy(&bytes);
                    warn!(
                        "Invalid number {} read from {} - ignoring",
                        text.trim(),
                        path.display()
                    );
                    return false;
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => {
                warn!("track_file {}: {}: {e}", self.config.name, path.display());
                return false;
            }
        };
        if value == self.value {
            return false;
        }
        info!(
            "Track file {} ({}): value {value} (was {})",
            self.config.name,
            path.display(),
            self.value
        );
        self.value = value;
        true
    }
}

/// `init_file`: the value goes in if the file is missing, or always with
/// `overwrite` (mode 0600, as keepalived creates it).
fn initialise(path: &Path, value: i32, overwrite: bool) {
    if !overwrite && path.exists() {
        return;
    }
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(init_text(value).as_bytes()));
    if let Err(e) = written {
        warn!("track_file: cannot initialise {}: {e}", path.display());
    }
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

impl Daemon {
    /// inotify said a watched directory changed.
    pub(super) fn handle_track_file_events(&mut self) {
        let changed = self.track_files.changed();
        if changed.is_empty() {
            return;
        }
        let now = self.clock.now_us();
        for index in 0..self.instances.len() {
            if self.instances[index]
                .config
                .track_files
                .iter()
                .any(|t| changed.contains(&t.file))
            {
                self.evaluate_tracking(index, now);
            }
        }
    }

    /// The effects of an instance's tracked files, logged when one puts it
    /// in FAULT, for `evaluate_tracking`.
    pub(super) fn track_file_effects(&self, index: usize) -> Vec<Effect> {
        let instance = &self.instances[index];
        instance
            .config
            .track_files
            .iter()
            .map(|t| {
                let effect = self.track_files.effect(t.file, t.weight, t.reverse);
                if effect == Effect::Fault
                    && instance.machine.state() != crate::vrrp::instance::State::Fault
                {
                    info!(
                        "({}): tracked file {} now FAULT state",
                        instance.config.name,
                        self.track_files.name(t.file)
                    );
                }
                effect
            })
            .collect()
    }
}

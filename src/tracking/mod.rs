//! The pure side of health checking: when a check script runs and is
//! killed, how its results are debounced, and what the tracked scripts and
//! interfaces make of an instance's priority. No processes, no clock.

pub mod health;
pub mod notify_fifo;
pub mod notify_queue;
pub mod privileges;
pub mod schedule;
pub mod track_file;
pub mod track_process;
pub mod verdict;

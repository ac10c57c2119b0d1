//! Ctrl-C as a value that the executor and the waits look at. The first press asks
//! them to stop cleanly (send nothing more, stop following); the command layer
//! treats a second press as "abandon what is in flight". SIGTERM and SIGHUP (a
//! cancelled CI job, a stopped container, a closed terminal) count as presses too,
//! so they also give the stack lock back.

use tokio::sync::watch;

/// How many times the user has asked to stop.
#[derive(Clone, Debug)]
pub struct Interrupt {
    presses: watch::Receiver<u32>,
}

/// Presses an [`Interrupt`] by hand (tests, embedding programs).
#[derive(Debug)]
pub struct Trigger(watch::Sender<u32>);

impl Trigger {
    pub fn press(&self) {
        self.0.send_modify(|n| *n += 1);
    }
}

impl Default for Interrupt {
    fn default() -> Self {
        Interrupt::never()
    }
}

impl Interrupt {
    /// An interrupt nobody can press.
    pub fn never() -> Interrupt {
        Interrupt::manual().0
    }

    /// An interrupt pressed through the returned [`Trigger`].
    pub fn manual() -> (Interrupt, Trigger) {
        let (sender, presses) = watch::channel(0);
        (Interrupt { presses }, Trigger(sender))
    }

    /// An interrupt pressed by each Ctrl-C (SIGINT), SIGTERM or SIGHUP the process
    /// receives from now on. Needs a Tokio runtime. Once this is called, these
    /// signals no longer end the process by themselves: the caller decides what
    /// each press does.
    pub fn on_ctrl_c() -> Interrupt {
        let (interrupt, trigger) = Interrupt::manual();
        let trigger = std::sync::Arc::new(trigger);
        // The handlers are in place when this returns, not when the tasks first
        // run: on a runtime of one thread that is only at the caller's next await,
        // and a signal in between would end the process.
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let kinds = [
                SignalKind::interrupt(),
                SignalKind::terminate(),
                SignalKind::hangup(),
            ];
            for kind in kinds {
                // Without a handler the signal keeps its default: the process ends.
                if let Ok(mut signals) = signal(kind) {
                    let trigger = trigger.clone();
                    tokio::spawn(async move {
                        while signals.recv().await.is_some() {
                            trigger.press();
                        }
                    });
                }
            }
        }
        #[cfg(not(unix))]
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                trigger.press();
            }
        });
        interrupt
    }

    /// Whether stopping has been asked for.
    pub fn is_set(&self) -> bool {
        *self.presses.borrow() > 0
    }

    /// Resolves once the interrupt has been pressed `times` times; never, if it
    /// cannot be pressed any more.
    pub async fn pressed(&self, times: u32) {
        let mut presses = self.presses.clone();
        if presses.wait_for(|n| *n >= times).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Sleeps for `duration`, or less if the interrupt is pressed; true if it was.
    pub async fn sleep(&self, duration: std::time::Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(duration) => self.is_set(),
            () = self.pressed(1) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_press_is_seen_and_cuts_a_sleep_short() {
        let (interrupt, trigger) = Interrupt::manual();
        assert!(!interrupt.is_set());
        let sleeper = interrupt.clone();
        let sleeping = tokio::spawn(async move { sleeper.sleep(Duration::from_secs(3600)).await });
        trigger.press();
        assert!(sleeping.await.unwrap());
        assert!(interrupt.is_set());
        interrupt.pressed(1).await;
    }

    #[tokio::test]
    async fn a_sleep_without_a_press_ends_unset() {
        let (interrupt, _trigger) = Interrupt::manual();
        assert!(!interrupt.sleep(Duration::from_millis(10)).await);
    }

    #[tokio::test]
    async fn a_second_press_is_counted() {
        let (interrupt, trigger) = Interrupt::manual();
        trigger.press();
        trigger.press();
        interrupt.pressed(2).await;
    }
}

//! The phases of a transaction and every transition between them, in one
//! place: what a `Start`, a `Cancel`, an abandonment or the worker's result
//! does in each phase. The manager carries out the effect.

/// Where a transaction is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Created; waiting for its initiator's `Start`.
    Pending,
    /// The worker runs.
    Running,
    /// Over; `Finished` was (or is being) sent.
    Finished { success: bool, message: String },
}

/// What happens to a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Input {
    Start,
    Cancel,
    /// Nobody will start it (initiator gone, start timeout).
    Abandon(String),
    /// The worker ended (after the sysroot was reloaded).
    Done {
        success: bool,
        message: String,
    },
}

/// What the manager must do about an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Start the worker; `Start` answers true.
    RunWorker,
    /// `Start` answers false: it runs already.
    AlreadyRunning,
    /// `Start` answers false, and this late peer gets `Finished` again.
    ReplayFinished,
    /// Tell the running worker to stop (it ends with a result of its own).
    CancelWorker,
    /// The work never ran and is dropped; `Finished` goes out with the new phase.
    DropPending,
    /// The work never ran and is dropped; nobody listens: tear down now.
    Abandon,
    /// `Finished` goes out with the new phase.
    Finish,
    /// Nothing to do.
    Nothing,
}

pub(crate) const CANCELLED: &str = "Operation was cancelled";

/// The transition for `input` in `phase`: the new phase (if it changes) and
/// the effect.
pub(crate) fn step(phase: &Phase, input: Input) -> (Option<Phase>, Effect) {
    use Effect as E;
    match (phase, input) {
        (Phase::Pending, Input::Start) => (Some(Phase::Running), E::RunWorker),
        (Phase::Running, Input::Start) => (None, E::AlreadyRunning),
        (Phase::Finished { .. }, Input::Start) => (None, E::ReplayFinished),
        (Phase::Pending, Input::Cancel) => (
            Some(Phase::Finished {
                success: false,
                message: CANCELLED.into(),
            }),
            E::DropPending,
        ),
        (Phase::Running, Input::Cancel) => (None, E::CancelWorker),
        (Phase::Pending, Input::Abandon(reason)) => (
            Some(Phase::Finished {
                success: false,
                message: format!("Transaction abandoned: {reason}"),
            }),
            E::Abandon,
        ),
        (Phase::Running, Input::Done { success, message }) => {
            (Some(Phase::Finished { success, message }), E::Finish)
        }
        (_, Input::Cancel | Input::Abandon(_) | Input::Done { .. }) => (None, E::Nothing),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finished(success: bool, message: &str) -> Phase {
        Phase::Finished {
            success,
            message: message.into(),
        }
    }

    #[test]
    fn start_runs_once_and_late_peers_learn_the_result() {
        assert_eq!(
            step(&Phase::Pending, Input::Start),
            (Some(Phase::Running), Effect::RunWorker)
        );
        assert_eq!(
            step(&Phase::Running, Input::Start),
            (None, Effect::AlreadyRunning)
        );
        assert_eq!(
            step(&finished(true, ""), Input::Start),
            (None, Effect::ReplayFinished)
        );
    }

    #[test]
    fn cancel_before_start_ends_it_and_during_work_asks_the_worker() {
        assert_eq!(
            step(&Phase::Pending, Input::Cancel),
            (Some(finished(false, CANCELLED)), Effect::DropPending)
        );
        assert_eq!(
            step(&Phase::Running, Input::Cancel),
            (None, Effect::CancelWorker)
        );
        assert_eq!(
            step(&finished(true, ""), Input::Cancel),
            (None, Effect::Nothing)
        );
    }

    #[test]
    fn only_pending_work_is_abandoned() {
        assert_eq!(
            step(&Phase::Pending, Input::Abandon("gone".into())),
            (
                Some(finished(false, "Transaction abandoned: gone")),
                Effect::Abandon
            )
        );
        for p in [Phase::Running, finished(false, "x")] {
            assert_eq!(
                step(&p, Input::Abandon("gone".into())),
                (None, Effect::Nothing)
            );
        }
    }

    #[test]
    fn the_worker_result_finishes_a_running_transaction_only() {
        let done = || Input::Done {
            success: false,
            message: "boom".into(),
        };
        assert_eq!(
            step(&Phase::Running, done()),
            (Some(finished(false, "boom")), Effect::Finish)
        );
        assert_eq!(step(&Phase::Pending, done()), (None, Effect::Nothing));
        assert_eq!(step(&finished(true, ""), done()), (None, Effect::Nothing));
    }
}

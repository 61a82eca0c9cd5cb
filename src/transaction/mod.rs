//! The transaction manager (main thread): one active slot, joining identical
//! calls, BUSY for others, the start timeout, Start/Cancel from peers, the
//! worker's events turned into signals, `Finished`, and teardown.
//!
//! The manager is built from its own [`Env`] and reports back through one
//! [`Observer`]; it knows nothing of the daemon or its D-Bus objects.

pub(crate) mod kinds;
pub(crate) mod server;
pub(crate) mod state;
pub(crate) mod worker;

use anyhow::Context;
use gio::prelude::*;
use glib::Variant;
use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::rc::{Rc, Weak};
use std::time::Duration;

use crate::authz::{self, PeerAction};
use crate::error::{BusError, reply_error};
use crate::progress::{Event, ProgressSink};
use kinds::{Ctx, Kind};
use server::{Callbacks, PeerCall, PeerServer};
use state::{Effect, Input, Phase};
use worker::WorkerResult;

/// What the manager needs from its surroundings.
pub(crate) struct Env {
    /// The bus connection (to watch initiators).
    pub conn: gio::DBusConnection,
    pub sysroot_path: PathBuf,
    /// Where transaction sockets are created.
    pub runtime_dir: PathBuf,
    pub start_timeout: Duration,
    pub force_close_timeout: Duration,
    pub reboot_command: Vec<String>,
}

/// What the manager tells its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Notice {
    /// The active slot changed (a transaction began or went away).
    SlotChanged,
    /// A peer called something (idle-exit activity).
    Activity,
    /// A transaction's work ended: reload what it may have changed. An error
    /// fails the transaction.
    WorkDone,
}

pub(crate) type Observer = Box<dyn Fn(Notice) -> anyhow::Result<()>>;

/// A validated, authorized request for a transaction.
pub(crate) struct TxnRequest {
    /// The D-Bus method that asked for it, and its complete parameters (for joining).
    pub method: String,
    pub params: Variant,
    pub sender: String,
    /// How the initiator shows in the log and the `InitiatingClientDescription`.
    pub client_description: String,
    /// uid of the caller, when known (decides who may Start and Cancel).
    pub uid: Option<u32>,
    pub os_path: String,
    pub title: String,
    pub kind: Box<dyn Kind>,
}

/// What waits for `Start`: the locked sysroot and the work.
struct Pending {
    sysroot: ostree::Sysroot,
    kind: Box<dyn Kind>,
    unwatch: Option<crate::bus::Unwatch>,
    timer: Option<glib::SourceId>,
}

impl Pending {
    /// Stops the name watch and the timer; the sysroot lock goes with `self`.
    fn release(mut self) -> (ostree::Sysroot, Box<dyn Kind>) {
        if let Some(u) = self.unwatch.take() {
            u();
        }
        if let Some(t) = self.timer.take() {
            t.remove();
        }
        (self.sysroot, self.kind)
    }
}

pub(crate) struct Transaction {
    method: String,
    params: Variant,
    sender: String,
    os_path: String,
    initiator_uid: Option<u32>,
    title: RefCell<String>,
    client_description: String,
    cancellable: gio::Cancellable,
    server: RefCell<Option<Rc<PeerServer>>>,
    address: String,
    phase: RefCell<Phase>,
    pending: RefCell<Option<Pending>>,
    force_close: RefCell<Option<glib::SourceId>>,
    mgr: Weak<Inner>,
}

struct Inner {
    env: Env,
    observer: Observer,
    active: RefCell<Option<Rc<Transaction>>>,
    reboot_queued: Cell<bool>,
}

/// The one active slot, and whether a reboot is on its way.
#[derive(Clone)]
pub(crate) struct Manager(Rc<Inner>);

impl Manager {
    pub(crate) fn new(env: Env, observer: Observer) -> Self {
        Self(Rc::new(Inner {
            env,
            observer,
            active: RefCell::new(None),
            reboot_queued: Cell::new(false),
        }))
    }

    pub(crate) fn is_active(&self) -> bool {
        self.0.active.borrow().is_some()
    }

    /// Values of `ActiveTransaction` and `ActiveTransactionPath`.
    pub(crate) fn active_property_values(&self) -> (Variant, String) {
        match &*self.0.active.borrow() {
            Some(t) => (
                (t.method.as_str(), t.sender.as_str(), t.os_path.as_str()).to_variant(),
                t.address.clone(),
            ),
            None => (("", "", "").to_variant(), String::new()),
        }
    }

    /// Cancels whatever is running (daemon shutdown).
    pub(crate) fn cancel_all(&self) {
        if let Some(t) = self.0.active.borrow().as_ref() {
            t.cancellable.cancel();
        }
    }

    /// Creates the transaction for `req` (or joins an identical one) and returns
    /// the address clients connect to.
    pub(crate) fn create(&self, req: TxnRequest) -> Result<String, BusError> {
        let inner = &self.0;
        if inner.reboot_queued.get() {
            return Err(BusError::failed(
                "Reboot initiated, cannot start new transaction",
            ));
        }
        if let Some(t) = inner.active.borrow().clone() {
            if t.method == req.method && t.params == req.params {
                glib::g_message!("rpm-ostreed", "Client joining existing transaction");
                return Ok(t.address.clone());
            }
            return Err(BusError::busy(format!(
                "Transaction in progress: {}\n You can cancel the current transaction with `rpm-ostree cancel`",
                t.title.borrow()
            )));
        }
        let sysroot = ostree::Sysroot::new(Some(&gio::File::for_path(&inner.env.sysroot_path)));
        sysroot
            .load(gio::Cancellable::NONE)
            .context("Loading sysroot")?;
        if !sysroot.try_lock().context("Locking sysroot")? {
            return Err(BusError::busy("System transaction in progress"));
        }
        let txn = Transaction::new(inner, req, sysroot)?;
        glib::g_message!(
            "rpm-ostreed",
            "Initiated txn {} for {}: {}",
            txn.method,
            txn.client_description,
            txn.os_path
        );
        *inner.active.borrow_mut() = Some(txn.clone());
        inner.notify(Notice::SlotChanged);
        Ok(txn.address.clone())
    }
}

impl Inner {
    fn notify(&self, notice: Notice) {
        if let Err(e) = (self.observer)(notice) {
            glib::g_warning!("rpm-ostreed", "{e:#}");
        }
    }

    /// Frees the slot (the transaction is over and nobody listens any more).
    fn teardown(&self, txn: &Rc<Transaction>) {
        let is_this = self
            .active
            .borrow()
            .as_ref()
            .is_some_and(|t| Rc::ptr_eq(t, txn));
        if !is_this {
            return;
        }
        if let Some(id) = txn.force_close.borrow_mut().take() {
            id.remove();
        }
        self.active.borrow_mut().take();
        // Dropping the server stops it and unlinks the socket.
        let server = txn.server.borrow_mut().take();
        drop(server);
        self.notify(Notice::SlotChanged);
        // The worker's allocations are not needed any more.
        glib::idle_add_local_full(glib::Priority::LOW, || {
            crate::ffi::malloc::trim();
            glib::ControlFlow::Break
        });
    }

    fn queue_reboot(&self) {
        self.reboot_queued.set(true);
        let command = self.env.reboot_command.clone();
        // Low priority, so that Finished reaches the peers first.
        glib::idle_add_local_full(glib::Priority::LOW, move || {
            glib::g_message!("rpm-ostreed", "Rebooting: {}", command.join(" "));
            if let Some((prog, args)) = command.split_first() {
                match std::process::Command::new(prog).args(args).status() {
                    Ok(s) if s.success() => {}
                    Ok(s) => glib::g_warning!("rpm-ostreed", "Reboot command failed: {s}"),
                    Err(e) => glib::g_warning!("rpm-ostreed", "Running reboot command: {e}"),
                }
            }
            glib::ControlFlow::Break
        });
    }
}

impl Transaction {
    fn new(
        inner: &Rc<Inner>,
        req: TxnRequest,
        sysroot: ostree::Sysroot,
    ) -> Result<Rc<Self>, BusError> {
        let txn = Rc::new_cyclic(|weak: &Weak<Transaction>| {
            let w_call = weak.clone();
            let w_prop = weak.clone();
            let w_peers = weak.clone();
            let callbacks = Callbacks {
                call: Box::new(move |call| {
                    if let Some(t) = w_call.upgrade() {
                        t.peer_call(call)
                    }
                }),
                property: Box::new(move |name| match w_prop.upgrade() {
                    Some(t) => match name {
                        "Title" => t.title.borrow().to_variant(),
                        _ => t.client_description.to_variant(),
                    },
                    None => "".to_variant(),
                }),
                peers_changed: Box::new(move || {
                    if let Some(t) = w_peers.upgrade() {
                        t.peers_changed()
                    }
                }),
            };
            let (server, address) =
                match PeerServer::new(&inner.env.runtime_dir, req.uid, callbacks) {
                    Ok(s) => {
                        let a = s.address().to_string();
                        (Some(s), a)
                    }
                    Err(e) => {
                        glib::g_warning!("rpm-ostreed", "{e:#}");
                        (None, String::new())
                    }
                };
            Transaction {
                method: req.method,
                params: req.params,
                sender: req.sender.clone(),
                os_path: req.os_path,
                initiator_uid: req.uid,
                title: RefCell::new(req.title),
                client_description: req.client_description,
                cancellable: gio::Cancellable::new(),
                server: RefCell::new(server),
                address,
                phase: RefCell::new(Phase::Pending),
                pending: RefCell::new(Some(Pending {
                    sysroot,
                    kind: req.kind,
                    unwatch: None,
                    timer: None,
                })),
                force_close: RefCell::new(None),
                mgr: Rc::downgrade(inner),
            }
        });
        if txn.server.borrow().is_none() {
            return Err(BusError::failed("Could not create the transaction socket"));
        }
        // No orphans: the initiator must call Start before it leaves and in time.
        let w = Rc::downgrade(&txn);
        let unwatch = crate::bus::watch_name(&inner.env.conn, &req.sender, move || {
            if let Some(t) = w.upgrade() {
                t.abandon("client disconnected before calling Start; cancelling transaction");
            }
        });
        let w = Rc::downgrade(&txn);
        let secs = inner.env.start_timeout.as_secs_f64();
        let timer = glib::timeout_add_local_once(inner.env.start_timeout, move || {
            if let Some(t) = w.upgrade() {
                if let Some(p) = t.pending.borrow_mut().as_mut() {
                    p.timer.take();
                }
                t.abandon(&format!(
                    "Start not called within {secs} seconds; cancelling transaction"
                ));
            }
        });
        if let Some(p) = txn.pending.borrow_mut().as_mut() {
            p.unwatch = Some(unwatch);
            p.timer = Some(timer);
        }
        Ok(txn)
    }

    /// Nobody will start this transaction. (The watch and the timer that
    /// call this only live while it is pending.)
    fn abandon(self: &Rc<Self>, reason: &str) {
        glib::g_message!("rpm-ostreed", "{reason}");
        self.input(Input::Abandon(reason.to_string()));
    }

    fn server(&self) -> Option<Rc<PeerServer>> {
        self.server.borrow().clone()
    }

    fn peer_call(self: &Rc<Self>, call: PeerCall) {
        if let Some(m) = self.mgr.upgrade() {
            m.notify(Notice::Activity);
        }
        let what = match call.method.as_str() {
            "Start" => PeerAction::Start,
            "Cancel" => PeerAction::Cancel,
            other => {
                let err = BusError::invalid_args(format!("Unknown method {other}"));
                return reply_error(call.invocation, err);
            }
        };
        let this = self.clone();
        glib::MainContext::default().spawn_local(async move {
            match authz::peer_may(&call.conn, call.start_time, this.initiator_uid, what).await {
                Ok(true) if what == PeerAction::Start => this.start(call),
                Ok(true) => {
                    glib::g_message!(
                        "rpm-ostreed",
                        "Cancelling transaction: {}",
                        this.title.borrow()
                    );
                    this.cancellable.cancel();
                    call.invocation.return_value(None);
                    this.input(Input::Cancel);
                }
                Ok(false) => {
                    let err = BusError::access_denied(format!(
                        "rpmostreed Transaction operation {} not allowed for user",
                        call.method
                    ));
                    reply_error(call.invocation, err)
                }
                Err(e) => reply_error(call.invocation, e),
            }
        });
    }

    fn start(self: &Rc<Self>, call: PeerCall) {
        let effect = self.input(Input::Start);
        match effect {
            Effect::RunWorker => {
                call.invocation.return_value(Some(&(true,).to_variant()));
                if let Err(e) = self.run_worker() {
                    self.work_done(Err(format!("Starting the worker thread: {e}")));
                }
            }
            Effect::ReplayFinished => {
                call.invocation.return_value(Some(&(false,).to_variant()));
                // Late joiners always learn the result, and only they get it again.
                if let Phase::Finished { success, message } = &*self.phase.borrow() {
                    server::emit(&call.conn, "Finished", &(success, message).to_variant());
                }
            }
            _ => call.invocation.return_value(Some(&(false,).to_variant())),
        }
    }

    fn run_worker(self: &Rc<Self>) -> std::io::Result<()> {
        let Some(mgr) = self.mgr.upgrade() else {
            return Ok(());
        };
        let Some(pending) = self.pending.borrow_mut().take() else {
            return Ok(());
        };
        let (sysroot, kind) = pending.release();
        let (tx, events) = async_channel::unbounded();
        let ctx = Ctx {
            sysroot,
            sysroot_path: mgr.env.sysroot_path.clone(),
            runtime_dir: mgr.env.runtime_dir.clone(),
            cancellable: self.cancellable.clone(),
            progress: ProgressSink::new(tx).with_output_to_self(kind.output_to_self()),
        };
        let result = worker::spawn(kind, ctx)?;
        let this = self.clone();
        let ev = events.clone();
        glib::MainContext::default().spawn_local(async move {
            while let Ok(e) = ev.recv().await {
                this.on_event(e);
            }
        });
        let this = self.clone();
        glib::MainContext::default().spawn_local(async move {
            let r = result
                .recv()
                .await
                .unwrap_or_else(|_| Err("The worker thread went away".into()));
            // Every event was sent before the result: deliver them first.
            while let Ok(e) = events.try_recv() {
                this.on_event(e);
            }
            this.work_done(r);
        });
        Ok(())
    }

    /// Feeds `input` to the phase machine and carries out what does not need
    /// the caller; returns the effect.
    fn input(self: &Rc<Self>, input: Input) -> Effect {
        let (next, effect) = state::step(&self.phase.borrow(), input);
        if let Some(p) = next {
            *self.phase.borrow_mut() = p;
        }
        match &effect {
            Effect::DropPending => {
                // Never started: there is nothing to interrupt, it simply ends.
                self.drop_pending();
                if let Some(m) = self.mgr.upgrade() {
                    m.notify(Notice::WorkDone);
                }
                self.publish_finished();
            }
            Effect::Abandon => {
                self.cancellable.cancel();
                self.drop_pending();
                if let Some(s) = self.server() {
                    s.close_all();
                }
                if let Some(m) = self.mgr.upgrade() {
                    m.teardown(self);
                }
            }
            Effect::Finish => self.publish_finished(),
            _ => {}
        }
        effect
    }

    /// Drops the pending work, the sysroot lock, the name watch and the timer.
    fn drop_pending(&self) {
        if let Some(p) = self.pending.borrow_mut().take() {
            drop(p.release());
        }
    }

    fn on_event(&self, ev: Event) {
        if !matches!(&*self.phase.borrow(), Phase::Running) {
            return;
        }
        match ev {
            Event::Title(t) => *self.title.borrow_mut() = t,
            other => {
                if let (Some((name, body)), Some(server)) = (other.to_signal(), self.server()) {
                    server.emit_all(name, &body);
                }
            }
        }
    }

    /// The worker ended: reload, then finish with its result.
    fn work_done(self: &Rc<Self>, result: WorkerResult) {
        let Some(mgr) = self.mgr.upgrade() else {
            return;
        };
        let (mut success, mut message, reboot) = match result {
            Ok(o) => (true, String::new(), o.reboot),
            Err(m) => (false, m, false),
        };
        if let Err(e) = (mgr.observer)(Notice::WorkDone)
            && success
        {
            success = false;
            message = format!("{e:#}");
        }
        self.input(Input::Done { success, message });
        if success && reboot {
            mgr.queue_reboot();
        }
    }

    /// Logs the result, emits `Finished`, and tears down now or after the
    /// grace period for peers to read it.
    fn publish_finished(self: &Rc<Self>) {
        let Some(mgr) = self.mgr.upgrade() else {
            return;
        };
        let (success, message) = match &*self.phase.borrow() {
            Phase::Finished { success, message } => (*success, message.clone()),
            _ => return,
        };
        if success {
            glib::g_message!(
                "rpm-ostreed",
                "Txn {} on {} successful",
                self.method,
                self.os_path
            );
        } else {
            glib::g_message!(
                "rpm-ostreed",
                "Txn {} on {} failed: {message}",
                self.method,
                self.os_path
            );
        }
        let body = (success, &message).to_variant();
        if let Some(server) = self.server() {
            server.emit_all("Finished", &body);
        }
        if self.server().is_none_or(|s| s.peer_count() == 0) {
            return mgr.teardown(self);
        }
        let w = Rc::downgrade(self);
        let id = glib::timeout_add_local_once(mgr.env.force_close_timeout, move || {
            let Some(t) = w.upgrade() else { return };
            t.force_close.borrow_mut().take();
            glib::g_message!("rpm-ostreed", "Forcibly closing transaction due to timeout");
            if let Some(s) = t.server() {
                s.close_all();
            }
            if let Some(m) = t.mgr.upgrade() {
                m.teardown(&t);
            }
        });
        *self.force_close.borrow_mut() = Some(id);
    }

    fn peers_changed(self: &Rc<Self>) {
        let finished = matches!(&*self.phase.borrow(), Phase::Finished { .. });
        let no_peers = self.server().is_none_or(|s| s.peer_count() == 0);
        if finished && no_peers {
            // Not from inside the server's own callback: it may be mid-borrow.
            let w = Rc::downgrade(self);
            glib::idle_add_local_once(move || {
                if let Some(t) = w.upgrade()
                    && let Some(m) = t.mgr.upgrade()
                {
                    m.teardown(&t);
                }
            });
        }
    }
}

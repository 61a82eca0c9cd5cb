//! The transaction manager (main thread): one active slot, joining identical
//! calls, BUSY for others, the start timeout, Start/Cancel from peers, the
//! worker's events turned into signals, `Finished`, and teardown.

pub(crate) mod child;
pub(crate) mod initramfs;
pub(crate) mod kinds;
pub(crate) mod new_deployment;
pub(crate) mod progress;
pub mod prune;
pub(crate) mod pull;
pub mod pull_helper;
pub(crate) mod server;
pub(crate) mod worker;
pub mod zygote;

use anyhow::Context;
use gio::prelude::*;
use glib::Variant;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use crate::authz::{self, PeerAction};
use crate::clients::Unwatch;
use crate::error::{BusError, reply_error};
use crate::state::Daemon;
use kinds::{Kind, Outcome};
use progress::{Event, ProgressSink};
use server::{Callbacks, PeerCall, PeerServer};
use worker::WorkerContext;

/// A validated, authorized request for a transaction.
pub(crate) struct TxnRequest {
    /// The D-Bus method that asked for it, and its complete parameters (for joining).
    pub method: String,
    pub params: Variant,
    pub sender: String,
    /// uid of the caller, when known (decides who may Start and Cancel).
    pub uid: Option<u32>,
    pub os_path: String,
    pub title: String,
    pub kind: Box<dyn Kind>,
}

enum Phase {
    /// Waiting for `Start`; the locked sysroot and the work wait here.
    Pending {
        sysroot: ostree::Sysroot,
        kind: Box<dyn Kind>,
        unwatch: Option<Unwatch>,
        timer: Option<glib::SourceId>,
    },
    Running,
    Finished {
        success: bool,
        message: String,
    },
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
    force_close: RefCell<Option<glib::SourceId>>,
    daemon: Weak<Daemon>,
}

/// The one active slot, and whether a reboot is on its way.
#[derive(Default)]
pub(crate) struct Manager {
    active: RefCell<Option<Rc<Transaction>>>,
    reboot_queued: Cell<bool>,
}

impl Manager {
    pub(crate) fn is_active(&self) -> bool {
        self.active.borrow().is_some()
    }

    pub(crate) fn active(&self) -> Option<Rc<Transaction>> {
        self.active.borrow().clone()
    }

    /// Values of `ActiveTransaction` and `ActiveTransactionPath`.
    pub(crate) fn active_property_values(&self) -> (Variant, String) {
        match &*self.active.borrow() {
            Some(t) => (
                (t.method.as_str(), t.sender.as_str(), t.os_path.as_str()).to_variant(),
                t.address.clone(),
            ),
            None => (("", "", "").to_variant(), String::new()),
        }
    }

    /// Cancels whatever is running (daemon shutdown).
    pub(crate) fn cancel_all(&self) {
        if let Some(t) = self.active.borrow().as_ref() {
            t.cancellable.cancel();
        }
    }

    /// Creates the transaction for `req` (or joins an identical one) and returns
    /// the address clients connect to.
    pub(crate) fn create(daemon: &Rc<Daemon>, req: TxnRequest) -> Result<String, BusError> {
        let mgr = &daemon.txns;
        if mgr.reboot_queued.get() {
            return Err(BusError::failed(
                "Reboot initiated, cannot start new transaction",
            ));
        }
        if let Some(t) = mgr.active() {
            if t.method == req.method && t.params == req.params {
                glib::g_message!("rpm-ostreed", "Client joining existing transaction");
                return Ok(t.address.clone());
            }
            return Err(BusError::busy(format!(
                "Transaction in progress: {}\n You can cancel the current transaction with `rpm-ostree cancel`",
                t.title.borrow()
            )));
        }
        daemon.reload(false)?;
        let sysroot = ostree::Sysroot::new(Some(&gio::File::for_path(&daemon.sysroot_path)));
        sysroot
            .load(gio::Cancellable::NONE)
            .context("Loading sysroot")?;
        if !sysroot.try_lock().context("Locking sysroot")? {
            return Err(BusError::busy("System transaction in progress"));
        }
        let txn = Transaction::new(daemon, req, sysroot)?;
        glib::g_message!(
            "rpm-ostreed",
            "Initiated txn {} for {}: {}",
            txn.method,
            txn.client_description,
            txn.os_path
        );
        *mgr.active.borrow_mut() = Some(txn.clone());
        crate::sysroot::update_properties(daemon);
        daemon.idle_state_changed();
        Ok(txn.address.clone())
    }

    /// Frees the slot (the transaction is over and nobody listens any more).
    fn teardown(daemon: &Rc<Daemon>, txn: &Rc<Transaction>) {
        let is_this = daemon
            .txns
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
        daemon.txns.active.borrow_mut().take();
        // Dropping the server stops it and unlinks the socket.
        let server = txn.server.borrow_mut().take();
        drop(server);
        crate::sysroot::update_properties(daemon);
        daemon.idle_state_changed();
        // The worker's allocations and the code it ran are not needed any more.
        glib::idle_add_local_full(glib::Priority::LOW, || {
            crate::memory::trim();
            glib::ControlFlow::Break
        });
    }

    fn queue_reboot(daemon: &Rc<Daemon>) {
        daemon.txns.reboot_queued.set(true);
        let command = daemon.hooks.reboot_command.clone();
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
        daemon: &Rc<Daemon>,
        req: TxnRequest,
        sysroot: ostree::Sysroot,
    ) -> Result<Rc<Self>, BusError> {
        let client_description = daemon.clients.borrow().describe(&req.sender);
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
            let server = PeerServer::new(&daemon.hooks.runtime_dir, callbacks);
            let (server, address) = match server {
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
                client_description,
                cancellable: gio::Cancellable::new(),
                server: RefCell::new(server),
                address,
                phase: RefCell::new(Phase::Pending {
                    sysroot,
                    kind: req.kind,
                    unwatch: None,
                    timer: None,
                }),
                force_close: RefCell::new(None),
                daemon: Rc::downgrade(daemon),
            }
        });
        if txn.server.borrow().is_none() {
            return Err(BusError::failed("Could not create the transaction socket"));
        }
        // No orphans: the initiator must call Start before it leaves and in time.
        let w = Rc::downgrade(&txn);
        let watch = gio::bus_watch_name_on_connection(
            daemon.store.connection(),
            &req.sender,
            gio::BusNameWatcherFlags::NONE,
            |_, _, _| {},
            move |_, _| {
                if let Some(t) = w.upgrade() {
                    t.abandon("client disconnected before calling Start; cancelling transaction");
                }
            },
        );
        let w = Rc::downgrade(&txn);
        let secs = daemon.hooks.start_timeout.as_secs_f64();
        let timer = glib::timeout_add_local_once(daemon.hooks.start_timeout, move || {
            if let Some(t) = w.upgrade() {
                if let Phase::Pending { timer, .. } = &mut *t.phase.borrow_mut() {
                    timer.take();
                }
                t.abandon(&format!(
                    "Start not called within {secs} seconds; cancelling transaction"
                ));
            }
        });
        if let Phase::Pending {
            unwatch, timer: t, ..
        } = &mut *txn.phase.borrow_mut()
        {
            *unwatch = Some(Box::new(move || gio::bus_unwatch_name(watch)));
            *t = Some(timer);
        }
        Ok(txn)
    }

    pub(crate) fn title(&self) -> String {
        self.title.borrow().clone()
    }

    fn server(&self) -> Option<Rc<PeerServer>> {
        self.server.borrow().clone()
    }

    fn peer_call(self: &Rc<Self>, call: PeerCall) {
        if let Some(d) = self.daemon.upgrade() {
            d.touch();
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
            match authz::peer_may(&call.conn, this.initiator_uid, what).await {
                Ok(true) if what == PeerAction::Start => this.start(call),
                Ok(true) => this.cancel(call),
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
        let phase = std::mem::replace(&mut *self.phase.borrow_mut(), Phase::Running);
        match phase {
            Phase::Pending {
                sysroot,
                kind,
                unwatch,
                timer,
            } => {
                if let Some(u) = unwatch {
                    u();
                }
                if let Some(t) = timer {
                    t.remove();
                }
                let Some(daemon) = self.daemon.upgrade() else {
                    return;
                };
                let (tx, rx) = async_channel::unbounded();
                let ctx = WorkerContext {
                    sysroot,
                    sysroot_path: daemon.sysroot_path.clone(),
                    cancellable: self.cancellable.clone(),
                    progress: ProgressSink::new(tx).with_output_to_self(kind.output_to_self()),
                };
                if let Err(e) = worker::spawn(kind, ctx) {
                    call.invocation.return_value(Some(&(true,).to_variant()));
                    return self.finish(Err(format!("Starting the worker thread: {e}")));
                }
                call.invocation.return_value(Some(&(true,).to_variant()));
                let this = self.clone();
                glib::MainContext::default().spawn_local(async move {
                    while let Ok(ev) = rx.recv().await {
                        this.on_event(ev);
                    }
                });
            }
            Phase::Running => {
                call.invocation.return_value(Some(&(false,).to_variant()));
            }
            Phase::Finished { success, message } => {
                call.invocation.return_value(Some(&(false,).to_variant()));
                // Late joiners always learn the result, and only they get it again.
                server::emit(&call.conn, "Finished", &(success, &message).to_variant());
                *self.phase.borrow_mut() = Phase::Finished { success, message };
            }
        }
    }

    fn cancel(self: &Rc<Self>, call: PeerCall) {
        glib::g_message!("rpm-ostreed", "Cancelling transaction: {}", self.title());
        self.cancellable.cancel();
        call.invocation.return_value(None);
        if matches!(&*self.phase.borrow(), Phase::Pending { .. }) {
            // Never started: there is nothing to interrupt, it simply ends.
            self.discard_pending();
            self.finish(Err("Operation was cancelled".into()));
        }
    }

    /// Drops the pending work, the sysroot lock, the name watch and the timer.
    fn discard_pending(&self) {
        let phase = std::mem::replace(&mut *self.phase.borrow_mut(), Phase::Running);
        if let Phase::Pending { unwatch, timer, .. } = phase {
            if let Some(u) = unwatch {
                u();
            }
            if let Some(t) = timer {
                t.remove();
            }
        }
    }

    /// Abandons a transaction that was never started.
    fn abandon(self: &Rc<Self>, reason: &str) {
        if !matches!(&*self.phase.borrow(), Phase::Pending { .. }) {
            return;
        }
        glib::g_message!("rpm-ostreed", "{reason}");
        self.cancellable.cancel();
        self.discard_pending();
        *self.phase.borrow_mut() = Phase::Finished {
            success: false,
            message: format!("Transaction abandoned: {reason}"),
        };
        if let Some(s) = self.server() {
            s.close_all();
        }
        if let Some(d) = self.daemon.upgrade() {
            Manager::teardown(&d, self);
        }
    }

    fn on_event(self: &Rc<Self>, ev: Event) {
        match ev {
            Event::Title(t) => *self.title.borrow_mut() = t,
            Event::Done(result) => self.finish(result),
            other => {
                if let (Some((name, body)), Some(server)) = (other.to_signal(), self.server()) {
                    server.emit_all(name, &body);
                }
            }
        }
    }

    fn finish(self: &Rc<Self>, result: Result<Outcome, String>) {
        let Some(daemon) = self.daemon.upgrade() else {
            return;
        };
        let (mut success, mut message, reboot) = match result {
            Ok(o) => (true, String::new(), o.reboot),
            Err(m) => (false, m, false),
        };
        if let Err(e) = daemon.reload(true)
            && success
        {
            success = false;
            message = format!("{e:#}");
        }
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
        *self.phase.borrow_mut() = Phase::Finished { success, message };
        if let Some(server) = self.server() {
            server.emit_all("Finished", &body);
        }
        if success && reboot {
            Manager::queue_reboot(&daemon);
        }
        if self.server().is_none_or(|s| s.peer_count() == 0) {
            return Manager::teardown(&daemon, self);
        }
        let w = Rc::downgrade(self);
        let id = glib::timeout_add_local_once(daemon.hooks.force_close_timeout, move || {
            let Some(t) = w.upgrade() else { return };
            t.force_close.borrow_mut().take();
            glib::g_message!("rpm-ostreed", "Forcibly closing transaction due to timeout");
            if let Some(s) = t.server() {
                s.close_all();
            }
            if let Some(d) = t.daemon.upgrade() {
                Manager::teardown(&d, &t);
            }
        });
        *self.force_close.borrow_mut() = Some(id);
    }

    fn peers_changed(self: &Rc<Self>) {
        let finished = matches!(&*self.phase.borrow(), Phase::Finished { .. });
        let no_peers = self.server().is_none_or(|s| s.peer_count() == 0);
        if finished
            && no_peers
            && let Some(d) = self.daemon.upgrade()
        {
            // Not from inside the server's own callback: it may be mid-borrow.
            let w = Rc::downgrade(self);
            glib::idle_add_local_once(move || {
                if let Some(t) = w.upgrade() {
                    Manager::teardown(&d, &t);
                }
            });
        }
    }
}

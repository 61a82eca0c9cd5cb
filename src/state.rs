//! The daemon's shared state on the main thread: configuration, the loaded
//! sysroot and its status, registered clients, and the idle bookkeeping. D-Bus
//! visible state changes only through the functions here, which also publish.

use anyhow::{Context, Result};
use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Instant;

use crate::bus::ObjectStore;
use crate::client_registry::ClientRegistry;
use crate::config::{DaemonConfig, Hooks};
use crate::deployment::signatures::SignatureCache;
use crate::deployment::status::{self, ChangeKey, SysrootStatus};
use crate::transaction::{self, Manager, Notice};

/// The main thread's view of the sysroot.
pub(crate) struct SysrootView {
    pub sysroot: ostree::Sysroot,
    pub status: SysrootStatus,
    key: ChangeKey,
    pub sigs: SignatureCache,
}

/// How the D-Bus objects learn of a new state (the daemon's `run` wires the
/// Sysroot and OS objects in; this module knows neither).
pub(crate) struct Publisher {
    /// Updates the Sysroot object's properties.
    pub sysroot: fn(&Rc<Daemon>),
    /// Exports, unexports and updates the OS objects.
    pub oses: fn(&Rc<Daemon>) -> Result<()>,
}

pub(crate) struct Daemon {
    pub store: Rc<ObjectStore>,
    pub hooks: Hooks,
    pub sysroot_path: PathBuf,
    pub config: RefCell<DaemonConfig>,
    pub view: RefCell<SysrootView>,
    pub clients: RefCell<ClientRegistry>,
    /// osname -> object path of the exported OS objects.
    pub os_objects: RefCell<std::collections::BTreeMap<String, String>>,
    pub txns: Manager,
    /// When the last method call arrived (idle exit counts from here).
    pub last_activity: Cell<Instant>,
    /// Called whenever the idle state may have changed (set by the main loop code).
    idle_changed: RefCell<Option<Box<dyn Fn()>>>,
    publisher: Publisher,
}

/// What the daemon does when the transaction manager reports.
fn transaction_observer(daemon: std::rc::Weak<Daemon>) -> transaction::Observer {
    Box::new(move |notice| {
        let Some(d) = daemon.upgrade() else {
            return Ok(());
        };
        match notice {
            Notice::SlotChanged => {
                (d.publisher.sysroot)(&d);
                d.idle_state_changed();
            }
            Notice::Activity => d.touch(),
            Notice::WorkDone => d.reload(true)?,
        }
        Ok(())
    })
}

impl Daemon {
    /// Loads the configuration and the sysroot; exports nothing yet.
    pub(crate) fn new(
        store: Rc<ObjectStore>,
        hooks: Hooks,
        sysroot_path: PathBuf,
        publisher: Publisher,
    ) -> Result<Rc<Self>> {
        let config = DaemonConfig::load(&hooks.config_path)?;
        let key = status::change_key(&sysroot_path);
        let sysroot = crate::deployment::load_sysroot(&sysroot_path)?;
        let mut sigs = SignatureCache::new(Some(hooks.runtime_dir.join("gpgcheck-cache")));
        let status = status::sysroot_status(&sysroot, &mut sigs);
        let env = transaction::Env {
            conn: store.connection().clone(),
            sysroot_path: sysroot_path.clone(),
            runtime_dir: hooks.runtime_dir.clone(),
            start_timeout: hooks.start_timeout,
            force_close_timeout: hooks.force_close_timeout,
            reboot_command: hooks.reboot_command.clone(),
        };
        Ok(Rc::new_cyclic(|weak: &std::rc::Weak<Self>| Self {
            store,
            txns: Manager::new(env, transaction_observer(weak.clone())),
            hooks,
            sysroot_path,
            config: RefCell::new(config),
            view: RefCell::new(SysrootView {
                sysroot,
                status,
                key,
                sigs,
            }),
            clients: Default::default(),
            os_objects: Default::default(),
            last_activity: Cell::new(Instant::now()),
            idle_changed: RefCell::new(None),
            publisher,
        }))
    }

    /// Re-reads the sysroot if anything changed (or always with `force`), then
    /// publishes the new status. Cheap when nothing changed.
    pub(crate) fn reload(self: &Rc<Self>, force: bool) -> Result<()> {
        let key = status::change_key(&self.sysroot_path);
        {
            let mut view = self.view.borrow_mut();
            if !force && key == view.key {
                return Ok(());
            }
            view.key = key;
            // A fresh sysroot: libostree's own reload looks only at the mtime
            // of ostree/deploy, which a staged deployment removed by another
            // tool (or `ostree admin cleanup`) leaves as it was.
            view.sysroot =
                crate::deployment::load_sysroot(&self.sysroot_path).context("Reloading sysroot")?;
            // Remotes may have changed too (a transaction, `ostree remote add`).
            if view
                .sysroot
                .repo()
                .reload_config(gio::Cancellable::NONE)
                .is_ok()
            {
                view.sigs.clear();
            }
            let SysrootView {
                sysroot,
                sigs,
                status: st,
                ..
            } = &mut *view;
            *st = status::sysroot_status(sysroot, sigs);
        }
        self.publish()
    }

    /// Re-reads the configuration and the repo configuration, then the sysroot.
    pub(crate) fn reload_config(self: &Rc<Self>) -> Result<()> {
        let config = DaemonConfig::load(&self.hooks.config_path)
            .context("Reloading daemon configuration")?;
        *self.config.borrow_mut() = config;
        {
            let mut view = self.view.borrow_mut();
            view.sysroot
                .repo()
                .reload_config(gio::Cancellable::NONE)
                .context("Reloading repo configuration")?;
            view.sigs.clear();
        }
        self.reload(true)
    }

    /// Pushes the current status to the exported objects.
    pub(crate) fn publish(self: &Rc<Self>) -> Result<()> {
        (self.publisher.sysroot)(self);
        (self.publisher.oses)(self)
    }

    pub(crate) fn is_idle(&self) -> bool {
        self.clients.borrow().is_empty() && !self.txns.is_active()
    }

    pub(crate) fn set_idle_callback(&self, f: impl Fn() + 'static) {
        *self.idle_changed.borrow_mut() = Some(Box::new(f));
    }

    /// To be called after anything that may change [`Self::is_idle`].
    pub(crate) fn idle_state_changed(&self) {
        if let Some(f) = self.idle_changed.borrow().as_ref() {
            f()
        }
    }

    pub(crate) fn touch(&self) {
        self.last_activity.set(Instant::now());
    }
}

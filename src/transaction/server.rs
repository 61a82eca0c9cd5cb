//! The private peer-to-peer D-Bus server of one transaction: a socket at a
//! unique path in the runtime directory, an auth observer that admits only
//! EXTERNAL-authenticated peers, and the `Transaction` object at `/` on every
//! accepted connection. Stopped and unlinked on drop.

use anyhow::{Context, Result};
use gio::prelude::*;
use glib::Variant;
use std::cell::RefCell;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::rc::{Rc, Weak};

use crate::bus::interface_info;
use crate::names;

/// A method call from a peer on the `Transaction` object.
pub(crate) struct PeerCall {
    pub conn: gio::DBusConnection,
    /// The start time of the peer's process when it connected.
    pub start_time: Option<u64>,
    pub method: String,
    pub invocation: gio::DBusMethodInvocation,
}

/// Peers a user other than root and the initiator may have connected at
/// once, and all such users together: what is over it is closed at once.
pub(crate) const MAX_PEERS_PER_USER: usize = 8;
pub(crate) const MAX_OTHER_PEERS: usize = 32;

/// What the server asks of its owner.
pub(crate) struct Callbacks {
    pub call: Box<dyn Fn(PeerCall)>,
    pub property: Box<dyn Fn(&str) -> Variant>,
    /// A peer connected or went away.
    pub peers_changed: Box<dyn Fn()>,
}

struct Peer {
    conn: gio::DBusConnection,
    uid: u32,
    start_time: Option<u64>,
    registration: Option<gio::RegistrationId>,
    closed_handler: Option<glib::SignalHandlerId>,
}

impl Peer {
    /// Unregisters the object and the handler here, on the main thread: the
    /// connection itself may be finalized later in GDBus's thread, which must
    /// not free our (thread-bound) closures.
    fn release(mut self) {
        if let Some(id) = self.registration.take() {
            let _ = self.conn.unregister_object(id);
        }
        if let Some(h) = self.closed_handler.take() {
            self.conn.disconnect(h);
        }
        if !self.conn.is_closed() {
            self.conn.close(gio::Cancellable::NONE, |_| {});
        }
    }
}

pub(crate) struct PeerServer {
    server: gio::DBusServer,
    socket_path: PathBuf,
    address: String,
    peers: RefCell<Vec<Peer>>,
    callbacks: Callbacks,
    /// Root and this user are never refused.
    initiator: Option<u32>,
    /// Users already logged as over the limit (one line each).
    refused: RefCell<std::collections::BTreeSet<u32>>,
}

fn auth_observer() -> gio::DBusAuthObserver {
    let observer = gio::DBusAuthObserver::new();
    // Both handlers may run in GDBus's authentication thread: they capture nothing.
    observer.connect_allow_mechanism(|_, mechanism| mechanism == "EXTERNAL");
    observer.connect_authorize_authenticated_peer(|_, _, credentials| {
        credentials.is_some_and(|c| c.unix_user().is_ok())
    });
    observer
}

impl PeerServer {
    /// Listens on a new socket in `runtime_dir`.
    pub(crate) fn new(
        runtime_dir: &Path,
        initiator: Option<u32>,
        callbacks: Callbacks,
    ) -> Result<Rc<Self>> {
        let guid = gio::dbus_generate_guid();
        let socket_path = runtime_dir.join(format!("transaction-{guid}.sock"));
        let _ = std::fs::remove_file(&socket_path);
        let address = format!(
            "unix:path={}",
            gio::dbus_address_escape_value(&socket_path.to_string_lossy())
        );
        let server = gio::DBusServer::new_sync(
            &address,
            gio::DBusServerFlags::NONE,
            &guid,
            Some(&auth_observer()),
            gio::Cancellable::NONE,
        )
        .with_context(|| format!("Creating transaction server at {address}"))?;
        // Any local user may connect (desktop clients watch progress); the auth
        // observer and the Start/Cancel checks decide what they may do.
        std::fs::set_permissions(&socket_path, std::fs::Permissions::from_mode(0o666))
            .with_context(|| format!("chmod {}", socket_path.display()))?;
        let this = Rc::new(Self {
            server,
            socket_path,
            address,
            peers: RefCell::new(Vec::new()),
            callbacks,
            initiator,
            refused: RefCell::new(Default::default()),
        });
        let weak = Rc::downgrade(&this);
        this.server
            .connect_new_connection(move |_, conn| match weak.upgrade() {
                Some(s) => s.accept(conn, Rc::downgrade(&s)),
                None => false,
            });
        this.server.start();
        Ok(this)
    }

    pub(crate) fn address(&self) -> &str {
        &self.address
    }

    pub(crate) fn peer_count(&self) -> usize {
        self.peers.borrow().len()
    }

    /// Whether one more peer of `uid` would be over the limits.
    fn over_limit(&self, uid: u32) -> bool {
        if uid == 0 || Some(uid) == self.initiator {
            return false;
        }
        let peers = self.peers.borrow();
        let others = peers
            .iter()
            .filter(|p| p.uid != 0 && Some(p.uid) != self.initiator);
        let (mut mine, mut all) = (0, 0);
        for p in others {
            all += 1;
            mine += usize::from(p.uid == uid);
        }
        mine >= MAX_PEERS_PER_USER || all >= MAX_OTHER_PEERS
    }

    fn start_time_of(&self, conn: &gio::DBusConnection) -> Option<u64> {
        self.peers
            .borrow()
            .iter()
            .find(|p| &p.conn == conn)
            .and_then(|p| p.start_time)
    }

    fn accept(&self, conn: &gio::DBusConnection, weak: Weak<Self>) -> bool {
        let creds = conn.peer_credentials();
        let uid = creds
            .as_ref()
            .and_then(|c| c.unix_user().ok())
            .unwrap_or(u32::MAX);
        let pid = creds.as_ref().and_then(|c| c.unix_pid().ok()).unwrap_or(0);
        if self.over_limit(uid) {
            if self.refused.borrow_mut().insert(uid) {
                glib::g_warning!(
                    "rpm-ostreed",
                    "Refusing more transaction peers of uid {uid} (at most \
                     {MAX_PEERS_PER_USER} per user, {MAX_OTHER_PEERS} in all)"
                );
            }
            conn.close(gio::Cancellable::NONE, |_| {});
            return false;
        }
        let info = interface_info(names::IFACE_TRANSACTION);
        let w1 = weak.clone();
        let w2 = weak.clone();
        let registration = conn
            .register_object("/", &info)
            .method_call(move |conn, _, _, _, method, _, invocation| {
                if let Some(s) = w1.upgrade() {
                    let start_time = s.start_time_of(&conn);
                    (s.callbacks.call)(PeerCall {
                        conn,
                        start_time,
                        method: method.to_string(),
                        invocation,
                    })
                }
            })
            .property(move |_, _, _, _, prop| match w2.upgrade() {
                Some(s) => (s.callbacks.property)(prop),
                None => "".to_variant(),
            })
            .build();
        let registration = match registration {
            Ok(r) => r,
            Err(e) => {
                glib::g_warning!("rpm-ostreed", "Exporting transaction to a peer: {e}");
                return false;
            }
        };
        glib::g_message!(
            "rpm-ostreed",
            "Process [pid: {pid} uid: {uid}] connected to transaction progress"
        );
        // GDBus emits `closed` in the context the connection was accepted in,
        // which is ours; the guard makes that assumption checked.
        let guard = glib::thread_guard::ThreadGuard::new(weak);
        let closed_handler = conn.connect_closed(move |conn, _, _| {
            if let Some(s) = guard.get_ref().upgrade() {
                s.forget(conn);
            }
        });
        self.peers.borrow_mut().push(Peer {
            conn: conn.clone(),
            uid,
            start_time: crate::procstat::start_time(pid),
            registration: Some(registration),
            closed_handler: Some(closed_handler),
        });
        (self.callbacks.peers_changed)();
        true
    }

    fn forget(&self, conn: &gio::DBusConnection) {
        let removed = {
            let mut peers = self.peers.borrow_mut();
            peers
                .iter()
                .position(|p| &p.conn == conn)
                .map(|i| peers.remove(i))
        };
        if let Some(peer) = removed {
            peer.release();
            glib::g_message!(
                "rpm-ostreed",
                "Process disconnected from transaction progress"
            );
            (self.callbacks.peers_changed)();
        }
    }

    /// Emits a `Transaction` signal on every peer.
    pub(crate) fn emit_all(&self, signal: &str, body: &Variant) {
        let conns: Vec<gio::DBusConnection> =
            self.peers.borrow().iter().map(|p| p.conn.clone()).collect();
        for c in conns {
            emit(&c, signal, body);
        }
    }

    /// Closes every peer connection (they are forgotten as their `closed` fires).
    pub(crate) fn close_all(&self) {
        let conns: Vec<gio::DBusConnection> =
            self.peers.borrow().iter().map(|p| p.conn.clone()).collect();
        for c in conns {
            c.close(gio::Cancellable::NONE, |_| {});
        }
    }
}

/// Emits a `Transaction` signal on one peer connection.
pub(crate) fn emit(conn: &gio::DBusConnection, signal: &str, body: &Variant) {
    if conn.is_closed() {
        return;
    }
    if let Err(e) = conn.emit_signal(None, "/", names::IFACE_TRANSACTION, signal, Some(body)) {
        glib::g_debug!("rpm-ostreed", "Emitting {signal} to a peer: {e}");
    }
}

impl Drop for PeerServer {
    fn drop(&mut self) {
        self.server.stop();
        for p in self.peers.take() {
            p.release();
        }
        let _ = std::fs::remove_file(&self.socket_path);
    }
}

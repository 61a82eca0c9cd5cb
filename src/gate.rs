//! The one gate every method of the `Sysroot` and `OS` objects passes: the
//! method's row parses the call into a typed request (or the call is answered
//! with the parse error), the gate authorizes what the request needs, then
//! the request is carried out. No handler authorizes anything itself.

use std::rc::Rc;

use crate::authz::{self, Access, Caller, Needed};
use crate::bus::MethodCall;
use crate::error::{BusError, reply, reply_error};
use crate::state::Daemon;
use crate::transaction::TxnRequest;
use crate::transaction::kinds::Kind;

/// A parsed call, ready to be carried out once authorized.
pub(crate) trait Request {
    /// The polkit actions this call needs, when they depend on its arguments
    /// (always among those its row declares). `None`: the row's.
    fn needed(&self) -> Option<Needed> {
        None
    }

    /// Carries the request out; answers `call` (now or later).
    fn run(self: Box<Self>, daemon: &Rc<Daemon>, call: MethodCall, uid: Option<u32>);
}

/// Parses a call made on an object whose context is `C` (the OS name).
pub(crate) type Parse<C> = fn(&C, &MethodCall) -> Result<Box<dyn Request>, BusError>;

/// One method: its name, who may call it, its parser.
pub(crate) struct Row<C: ?Sized + 'static> {
    pub method: &'static str,
    pub access: Access,
    pub parse: Parse<C>,
}

/// Parses, authorizes and carries out `call` with the row of its method.
pub(crate) fn dispatch<C: ?Sized>(
    daemon: &Rc<Daemon>,
    object: &'static str,
    rows: &[Row<C>],
    ctx: &C,
    call: MethodCall,
) {
    let Some(row) = rows.iter().find(|r| r.method == call.method) else {
        let err = authz::denied(object, &call.method);
        return reply_error(call.invocation, err);
    };
    if let Some(n) = crate::validate::oversized(&call.params) {
        let max = crate::validate::MAX_STRING;
        let err = BusError::invalid_args(format!("Argument too long ({n} bytes; at most {max})"));
        return reply_error(call.invocation, err);
    }
    let request = match (row.parse)(ctx, &call) {
        Ok(r) => r,
        Err(e) => return reply_error(call.invocation, e),
    };
    let needed = request.needed().unwrap_or_else(|| row.access.needed());
    debug_assert!(
        match &needed {
            Needed::Actions(a) => a.iter().all(|x| row.access.actions().contains(x)),
            _ => true,
        },
        "{}: {needed:?} is not declared in its row",
        row.method
    );
    if needed == Needed::Nothing {
        return request.run(daemon, call, None);
    }
    let daemon = daemon.clone();
    glib::MainContext::default().spawn_local(async move {
        let caller = Caller {
            object,
            method: &call.method,
            sender: &call.sender,
        };
        match authz::authorize(daemon.store.connection(), caller, needed).await {
            Ok(uid) => request.run(&daemon, call, uid),
            Err(e) => reply_error(call.invocation, e),
        }
    });
}

/// A request answered from the daemon's state.
struct Answer<F>(F);

impl<F> Request for Answer<F>
where
    F: FnOnce(&Rc<Daemon>) -> Result<glib::Variant, BusError>,
{
    fn run(self: Box<Self>, daemon: &Rc<Daemon>, call: MethodCall, _uid: Option<u32>) {
        reply(call.invocation, (self.0)(daemon))
    }
}

/// A request whose answer `f` computes (read-only methods and the like).
pub(crate) fn answer(
    f: impl FnOnce(&Rc<Daemon>) -> Result<glib::Variant, BusError> + 'static,
) -> Box<dyn Request> {
    Box::new(Answer(f))
}

/// A request answered by `work` on a thread of GLib's pool, from what
/// `prepare` takes from the daemon's state on the main thread: the daemon
/// keeps serving while it runs (package queries, diffs: each a helper
/// process). The reply is sent in serialized form, and once it is written
/// the heap is trimmed: a big answer leaves no peak behind.
pub(crate) fn off_loop<T: Send + 'static>(
    prepare: impl FnOnce(&Rc<Daemon>) -> Result<T, BusError> + 'static,
    work: impl FnOnce(T) -> Result<glib::Variant, BusError> + Send + 'static,
) -> Box<dyn Request> {
    struct OffLoop<P, W>(P, W);
    impl<T, P, W> Request for OffLoop<P, W>
    where
        T: Send + 'static,
        P: FnOnce(&Rc<Daemon>) -> Result<T, BusError> + 'static,
        W: FnOnce(T) -> Result<glib::Variant, BusError> + Send + 'static,
    {
        fn run(self: Box<Self>, daemon: &Rc<Daemon>, call: MethodCall, _uid: Option<u32>) {
            let OffLoop(prepare, work) = *self;
            let input = match prepare(daemon) {
                Ok(i) => i,
                Err(e) => return reply_error(call.invocation, e),
            };
            glib::MainContext::default().spawn_local(async move {
                let result = gio::spawn_blocking(move || work(input))
                    .await
                    .unwrap_or_else(|_| Err(BusError::failed(format!("{} failed", call.method))))
                    .map(serialized);
                let conn = call.invocation.connection();
                reply(call.invocation, result);
                conn.flush(gio::Cancellable::NONE, |_| crate::ffi::malloc::trim());
            });
        }
    }
    Box::new(OffLoop(prepare, work))
}

/// `v` in serialized form: one buffer instead of a tree of small GVariants
/// (about 15 per entry of a package list), which GLib frees here and now,
/// rather than in its bus thread once the reply is sent.
fn serialized(v: glib::Variant) -> glib::Variant {
    // Serializing a tree-form GVariant replaces the tree in place.
    let _ = v.data();
    v
}

/// A method whose work belongs to a later phase: authorized like the real
/// thing, then a clear error.
pub(crate) fn later() -> Box<dyn Request> {
    struct Later;
    impl Request for Later {
        fn run(self: Box<Self>, _: &Rc<Daemon>, call: MethodCall, _: Option<u32>) {
            let err = BusError::not_implemented(&call.method);
            reply_error(call.invocation, err)
        }
    }
    Box::new(Later)
}

/// A request carried out by a transaction of `kind`: the reply is its address.
pub(crate) fn transaction(title: String, kind: impl Kind + 'static) -> Box<dyn Request> {
    struct Start(String, Box<dyn Kind>);
    impl Request for Start {
        fn run(self: Box<Self>, daemon: &Rc<Daemon>, call: MethodCall, uid: Option<u32>) {
            let Start(title, kind) = *self;
            start_transaction(daemon, call, uid, title, kind)
        }
    }
    Box::new(Start(title, Box::new(kind)))
}

/// Creates (or joins) the transaction for `call`; returns its address.
pub(crate) fn create_transaction(
    daemon: &Rc<Daemon>,
    call: &MethodCall,
    uid: Option<u32>,
    title: String,
    kind: Box<dyn Kind>,
) -> Result<String, BusError> {
    daemon.reload(false)?;
    let req = TxnRequest {
        method: call.method.clone(),
        params: call.params.clone(),
        sender: call.sender.clone(),
        client_description: daemon.clients.borrow().describe(&call.sender),
        uid,
        os_path: call.path.clone(),
        title,
        kind,
    };
    daemon.txns.create(req)
}

/// Replies with the address of a new (or joined) transaction for `call`.
pub(crate) fn start_transaction(
    daemon: &Rc<Daemon>,
    call: MethodCall,
    uid: Option<u32>,
    title: String,
    kind: Box<dyn Kind>,
) {
    use glib::prelude::*;
    match create_transaction(daemon, &call, uid, title, kind) {
        Ok(address) => call.invocation.return_value(Some(&(address,).to_variant())),
        Err(e) => reply_error(call.invocation, e),
    }
}

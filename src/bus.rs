//! Our objects on one D-Bus connection: the interface data parsed once from
//! `data/`'s XML, property values with coalesced `PropertiesChanged`, and the
//! ObjectManager at the base path (`GetManagedObjects`, `InterfacesAdded/Removed`).
//!
//! gio-rs has no safe skeleton subclassing, so objects are registered with
//! `register_object`: GDBus then answers `Introspect`, `Peer`, `Properties.Get/GetAll`
//! (through our getter) and argument-signature errors by itself.

use gio::prelude::*;
use glib::Variant;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::{Rc, Weak};

use crate::names;

/// One incoming method call, as handed to an object's handler. The handler must
/// answer `invocation` exactly once (possibly later, from a callback).
pub(crate) struct MethodCall {
    pub sender: String,
    pub path: String,
    pub interface: String,
    pub method: String,
    pub params: Variant,
    /// The file descriptors that came with the message (`h` values index them).
    pub fds: Vec<std::os::fd::OwnedFd>,
    pub invocation: gio::DBusMethodInvocation,
}

pub(crate) type Handler = Rc<dyn Fn(MethodCall)>;
pub(crate) type Props = BTreeMap<String, Variant>;

/// The interface descriptions of `data/org.projectatomic.rpmostree1.xml`.
pub(crate) fn interface_info(name: &str) -> gio::DBusInterfaceInfo {
    thread_local! {
        static NODE: gio::DBusNodeInfo = gio::DBusNodeInfo::for_xml(names::INTROSPECTION_XML)
            .expect("data/org.projectatomic.rpmostree1.xml is valid introspection XML");
    }
    NODE.with(|n| n.lookup_interface(name))
        .unwrap_or_else(|| panic!("interface {name} is in the introspection XML"))
}

fn object_manager_info() -> gio::DBusInterfaceInfo {
    const XML: &str = r#"<node><interface name="org.freedesktop.DBus.ObjectManager">
      <method name="GetManagedObjects">
        <arg name="object_paths_interfaces_and_properties" type="a{oa{sa{sv}}}" direction="out"/>
      </method>
      <signal name="InterfacesAdded">
        <arg name="object_path" type="o"/>
        <arg name="interfaces_and_properties" type="a{sa{sv}}"/>
      </signal>
      <signal name="InterfacesRemoved">
        <arg name="object_path" type="o"/>
        <arg name="interfaces" type="as"/>
      </signal>
    </interface></node>"#;
    gio::DBusNodeInfo::for_xml(XML)
        .expect("static ObjectManager XML")
        .lookup_interface(names::IFACE_OBJECT_MANAGER)
        .expect("ObjectManager interface")
}

struct Interface {
    name: String,
    registration: Option<gio::RegistrationId>,
    props: Props,
}

/// Every object we export on the bus connection, with its property values.
pub(crate) struct ObjectStore {
    conn: gio::DBusConnection,
    objects: RefCell<BTreeMap<String, Vec<Interface>>>,
    /// (path, interface) -> properties changed since the last flush.
    pending: RefCell<BTreeMap<(String, String), Props>>,
    flush_scheduled: Cell<bool>,
    manager_registration: Cell<Option<gio::RegistrationId>>,
    /// Called on every incoming call to our objects (idle-exit activity).
    on_activity: RefCell<Option<Box<dyn Fn()>>>,
}

impl ObjectStore {
    /// Creates the store and exports the ObjectManager at the base path.
    pub(crate) fn new(conn: &gio::DBusConnection) -> anyhow::Result<Rc<Self>> {
        let store = Rc::new(Self {
            conn: conn.clone(),
            objects: Default::default(),
            pending: Default::default(),
            flush_scheduled: Cell::new(false),
            manager_registration: Cell::new(None),
            on_activity: RefCell::new(None),
        });
        let weak = Rc::downgrade(&store);
        let info = object_manager_info();
        let id = conn
            .register_object(names::BASE_PATH, &info)
            .method_call(move |_, _, _, _, method, _, invocation| {
                let Some(store) = weak.upgrade() else { return };
                store.activity();
                match method {
                    "GetManagedObjects" => {
                        let body = Variant::tuple_from_iter([store.managed_objects()]);
                        invocation.return_value(Some(&body))
                    }
                    _ => invocation.return_dbus_error(
                        "org.freedesktop.DBus.Error.UnknownMethod",
                        &format!("Unknown method {method}"),
                    ),
                }
            })
            .build()?;
        store.manager_registration.set(Some(id));
        Ok(store)
    }

    pub(crate) fn connection(&self) -> &gio::DBusConnection {
        &self.conn
    }

    pub(crate) fn set_activity_callback(&self, f: impl Fn() + 'static) {
        *self.on_activity.borrow_mut() = Some(Box::new(f));
    }

    fn activity(&self) {
        if let Some(f) = self.on_activity.borrow().as_ref() {
            f()
        }
    }

    pub(crate) fn is_exported(&self, path: &str) -> bool {
        self.objects.borrow().contains_key(path)
    }

    /// Exports an object with its interfaces and initial property values; method
    /// calls on any of them go to `handler`. Announces it with `InterfacesAdded`.
    pub(crate) fn export(
        self: &Rc<Self>,
        path: &str,
        interfaces: Vec<(&str, Props)>,
        handler: Handler,
    ) -> anyhow::Result<()> {
        let mut exported = Vec::new();
        for (iface, props) in interfaces {
            let info = interface_info(iface);
            let weak: Weak<Self> = Rc::downgrade(self);
            let weak2 = weak.clone();
            let handler = handler.clone();
            let registration = self
                .conn
                .register_object(path, &info)
                .method_call(move |_, sender, path, iface, method, params, invocation| {
                    let Some(store) = weak.upgrade() else { return };
                    store.activity();
                    handler(MethodCall {
                        sender: sender.unwrap_or_default().to_string(),
                        path: path.to_string(),
                        interface: iface.unwrap_or_default().to_string(),
                        method: method.to_string(),
                        params,
                        fds: crate::ffi::gio::descriptors(&invocation.message()),
                        invocation,
                    })
                })
                .property(move |_, _, path, iface, prop| {
                    weak2
                        .upgrade()
                        .and_then(|s| s.get(path, iface, prop))
                        .unwrap_or_else(|| {
                            // GDBus only asks for properties of the interface info; a
                            // missing value would be our bug. Answer the type's default.
                            default_for_property(iface, prop)
                        })
                })
                .build()?;
            exported.push(Interface {
                name: iface.to_string(),
                registration: Some(registration),
                props,
            });
        }
        let added = interfaces_variant(&exported);
        self.objects.borrow_mut().insert(path.to_string(), exported);
        self.emit(
            names::BASE_PATH,
            names::IFACE_OBJECT_MANAGER,
            "InterfacesAdded",
            &(
                glib::variant::ObjectPath::try_from(path.to_string())?,
                added,
            )
                .to_variant(),
        );
        Ok(())
    }

    /// Unexports an object (all its interfaces) and announces `InterfacesRemoved`.
    pub(crate) fn unexport(&self, path: &str) {
        let Some(ifaces) = self.objects.borrow_mut().remove(path) else {
            return;
        };
        self.pending.borrow_mut().retain(|(p, _), _| p != path);
        let names: Vec<String> = ifaces.iter().map(|i| i.name.clone()).collect();
        for mut i in ifaces {
            if let Some(id) = i.registration.take() {
                let _ = self.conn.unregister_object(id);
            }
        }
        if let Ok(p) = glib::variant::ObjectPath::try_from(path.to_string()) {
            self.emit(
                names::BASE_PATH,
                names::IFACE_OBJECT_MANAGER,
                "InterfacesRemoved",
                &(p, names).to_variant(),
            );
        }
    }

    pub(crate) fn get(&self, path: &str, iface: &str, prop: &str) -> Option<Variant> {
        let objects = self.objects.borrow();
        let i = objects.get(path)?.iter().find(|i| i.name == iface)?;
        i.props.get(prop).cloned()
    }

    /// Sets a property; if the value changed, `PropertiesChanged` is emitted once
    /// per main-loop iteration with every change made until then.
    pub(crate) fn set(self: &Rc<Self>, path: &str, iface: &str, prop: &str, value: Variant) {
        {
            let mut objects = self.objects.borrow_mut();
            let Some(i) = objects
                .get_mut(path)
                .and_then(|o| o.iter_mut().find(|i| i.name == iface))
            else {
                return;
            };
            if i.props.get(prop) == Some(&value) {
                return;
            }
            i.props.insert(prop.to_string(), value.clone());
        }
        self.pending
            .borrow_mut()
            .entry((path.to_string(), iface.to_string()))
            .or_default()
            .insert(prop.to_string(), value);
        self.schedule_flush();
    }

    fn schedule_flush(self: &Rc<Self>) {
        if self.flush_scheduled.replace(true) {
            return;
        }
        let weak = Rc::downgrade(self);
        glib::idle_add_local_once(move || {
            if let Some(store) = weak.upgrade() {
                store.flush();
            }
        });
    }

    /// Emits the pending `PropertiesChanged` signals now.
    pub(crate) fn flush(&self) {
        self.flush_scheduled.set(false);
        let pending = std::mem::take(&mut *self.pending.borrow_mut());
        for ((path, iface), props) in pending {
            let changed: BTreeMap<String, Variant> = props;
            let body = (iface.as_str(), changed, Vec::<String>::new()).to_variant();
            self.emit(&path, names::IFACE_PROPERTIES, "PropertiesChanged", &body);
        }
    }

    pub(crate) fn emit(&self, path: &str, iface: &str, signal: &str, body: &Variant) {
        if let Err(e) = self.conn.emit_signal(None, path, iface, signal, Some(body)) {
            glib::g_warning!("rpm-ostreed", "Emitting {iface}.{signal}: {e}");
        }
    }

    /// `a{oa{sa{sv}}}` of every exported object.
    pub(crate) fn managed_objects(&self) -> Variant {
        let objects = self.objects.borrow();
        let entries: Vec<Variant> = objects
            .iter()
            .filter_map(|(path, ifaces)| {
                let p = glib::variant::ObjectPath::try_from(path.clone()).ok()?;
                Some(Variant::from_dict_entry(
                    &p.to_variant(),
                    &interfaces_variant(ifaces),
                ))
            })
            .collect();
        Variant::array_from_iter_with_type(
            glib::VariantTy::new("{oa{sa{sv}}}").expect("valid type"),
            entries,
        )
    }
}

impl Drop for ObjectStore {
    fn drop(&mut self) {
        for (_, ifaces) in std::mem::take(&mut *self.objects.borrow_mut()) {
            for mut i in ifaces {
                if let Some(id) = i.registration.take() {
                    let _ = self.conn.unregister_object(id);
                }
            }
        }
        if let Some(id) = self.manager_registration.take() {
            let _ = self.conn.unregister_object(id);
        }
    }
}

fn interfaces_variant(ifaces: &[Interface]) -> Variant {
    let map: BTreeMap<String, Props> = ifaces
        .iter()
        .map(|i| (i.name.clone(), i.props.clone()))
        .collect();
    map.to_variant()
}

/// What to answer for a property we have no value for (never expected: every
/// property gets a value when its object is exported).
fn default_for_property(_iface: &str, _prop: &str) -> Variant {
    "".to_variant()
}

/// Stops watching a bus name. (gio-rs cannot name the watcher id type of
/// `bus_watch_name`, so the unwatch call is kept as a closure.)
pub(crate) type Unwatch = Box<dyn FnOnce()>;

/// Calls `vanished` when `name` leaves the bus (or is not on it).
pub(crate) fn watch_name(
    conn: &gio::DBusConnection,
    name: &str,
    vanished: impl Fn() + 'static,
) -> Unwatch {
    let watch = gio::bus_watch_name_on_connection(
        conn,
        name,
        gio::BusNameWatcherFlags::NONE,
        |_, _, _| {},
        move |_, _| vanished(),
    );
    Box::new(move || gio::bus_unwatch_name(watch))
}

/// Asks the bus driver a `u`-returning question about a peer (uid, pid).
pub(crate) async fn bus_u32(conn: &gio::DBusConnection, method: &str, name: &str) -> Option<u32> {
    let reply = conn
        .call_future(
            Some("org.freedesktop.DBus"),
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            method,
            Some(&(name,).to_variant()),
            Some(glib::VariantTy::new("(u)").expect("valid type")),
            gio::DBusCallFlags::NONE,
            -1,
        )
        .await
        .ok()?;
    reply.get::<(u32,)>().map(|(v,)| v)
}

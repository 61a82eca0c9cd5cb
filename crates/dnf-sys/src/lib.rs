//! Raw bindings to libdnf 0.69 (Debian 12's `libdnf-dev`), written by hand
//! from its headers (`/usr/include/libdnf`): no bindgen, so no libclang.
//! Only what rpm-ostree calls is declared. The enum values are those of the
//! headers (`hy-types.h`, `dnf-context.h`, `dnf-repo.h`, `dnf-types.h`);
//! `tests/constants.rs` checks them against the headers with the C compiler.
//!
//! The GObject types (`DnfContext`, `DnfRepo`, `DnfState`, `DnfSack`,
//! `DnfPackage`) are opaque here; the crate's safe layer wraps them with
//! their `*_get_type` functions.
#![allow(unsafe_code, non_camel_case_types)]

use glib_sys::{GError, GPtrArray, GType, gboolean};

macro_rules! opaque {
    ($($name:ident),*) => {$(
        #[repr(C)]
        pub struct $name {
            _private: [u8; 0],
        }
    )*};
}

opaque!(
    DnfContext,
    DnfRepo,
    DnfState,
    DnfSack,
    DnfPackage,
    HyQueryOpaque,
    HyGoalOpaque
);

/// `HyQuery`: a C++ object behind a pointer, freed with [`hy_query_free`].
pub type HyQuery = *mut HyQueryOpaque;
/// `HyGoal`: the context's goal (owned by the context).
pub type HyGoal = *mut HyGoalOpaque;

/// `HY_SYSTEM_REPO_NAME`: the repository of the installed packages.
pub const HY_SYSTEM_REPO_NAME: &str = "@System";
/// `HY_CMDLINE_REPO_NAME`: the repository of packages added from files.
pub const HY_CMDLINE_REPO_NAME: &str = "@commandline";

// enum _hy_key_name_e (hy-types.h)
pub const HY_PKG_ARCH: i32 = 2;
pub const HY_PKG_FILE: i32 = 7;
pub const HY_PKG_NAME: i32 = 8;
pub const HY_PKG_PROVIDES: i32 = 11;
pub const HY_PKG_REPONAME: i32 = 13;
pub const HY_PKG_SUMMARY: i32 = 16;

// enum _hy_comparison_type_e (hy-types.h)
pub const HY_ICASE: i32 = 1;
pub const HY_NOT: i32 = 2;
pub const HY_EQ: i32 = 256;
pub const HY_SUBSTR: i32 = 2048;
pub const HY_GLOB: i32 = 4096;

// DnfGoalActions (hy-goal.h)
pub const DNF_INSTALL: u32 = 1 << 4;
pub const DNF_ALLOW_UNINSTALL: u32 = 1 << 10;
pub const DNF_IGNORE_WEAK_DEPS: u32 = 1 << 13;

// DnfContextSetupSackFlags (dnf-context.h); NONE is 1 << 0, not 0.
pub const DNF_CONTEXT_SETUP_SACK_FLAG_NONE: u32 = 1;
pub const DNF_CONTEXT_SETUP_SACK_FLAG_SKIP_RPMDB: u32 = 2;
pub const DNF_CONTEXT_SETUP_SACK_FLAG_SKIP_FILELISTS: u32 = 4;
pub const DNF_CONTEXT_SETUP_SACK_FLAG_LOAD_UPDATEINFO: u32 = 8;

// DnfRepoEnabled, DnfRepoUpdateFlags, DnfRepoKind (dnf-repo.h)
pub const DNF_REPO_ENABLED_NONE: u32 = 0;
pub const DNF_REPO_ENABLED_PACKAGES: u32 = 1;
pub const DNF_REPO_ENABLED_METADATA: u32 = 2;
pub const DNF_REPO_UPDATE_FLAG_NONE: u32 = 0;
pub const DNF_REPO_UPDATE_FLAG_FORCE: u32 = 1;
pub const DNF_REPO_KIND_REMOTE: u32 = 0;
pub const DNF_REPO_KIND_MEDIA: u32 = 1;
pub const DNF_REPO_KIND_LOCAL: u32 = 2;

// DnfError (dnf-types.h), in the domain of `dnf_error_quark()`.
pub const DNF_ERROR_CANNOT_FETCH_SOURCE: i32 = 64;
pub const DNF_ERROR_REPO_NOT_AVAILABLE: i32 = 37;

unsafe extern "C" {
    pub fn dnf_error_quark() -> glib_sys::GQuark;

    // dnf-context.h
    pub fn dnf_context_get_type() -> GType;
    pub fn dnf_context_new() -> *mut DnfContext;
    pub fn dnf_context_set_config_file_path(path: *const libc::c_char);
    pub fn dnf_context_set_plugins_all_disabled(disabled: gboolean);
    pub fn dnf_context_set_repos_dir(ctx: *mut DnfContext, dirs: *const *const libc::c_char);
    pub fn dnf_context_set_vars_dir(ctx: *mut DnfContext, dirs: *const *const libc::c_char);
    pub fn dnf_context_set_release_ver(ctx: *mut DnfContext, v: *const libc::c_char);
    pub fn dnf_context_set_cache_dir(ctx: *mut DnfContext, dir: *const libc::c_char);
    pub fn dnf_context_set_solv_dir(ctx: *mut DnfContext, dir: *const libc::c_char);
    pub fn dnf_context_set_lock_dir(ctx: *mut DnfContext, dir: *const libc::c_char);
    pub fn dnf_context_set_install_root(ctx: *mut DnfContext, dir: *const libc::c_char);
    pub fn dnf_context_set_source_root(ctx: *mut DnfContext, dir: *const libc::c_char);
    pub fn dnf_context_set_check_disk_space(ctx: *mut DnfContext, v: gboolean);
    pub fn dnf_context_set_check_transaction(ctx: *mut DnfContext, v: gboolean);
    pub fn dnf_context_set_keep_cache(ctx: *mut DnfContext, v: gboolean);
    pub fn dnf_context_set_enable_filelists(ctx: *mut DnfContext, v: gboolean);
    pub fn dnf_context_set_zchunk(ctx: *mut DnfContext, v: gboolean);
    pub fn dnf_context_set_write_history(ctx: *mut DnfContext, v: gboolean);
    pub fn dnf_context_set_cache_age(ctx: *mut DnfContext, age: libc::c_uint);
    pub fn dnf_context_set_rpm_macro(
        ctx: *mut DnfContext,
        key: *const libc::c_char,
        value: *const libc::c_char,
    );
    pub fn dnf_context_set_http_proxy(ctx: *mut DnfContext, proxy: *const libc::c_char);
    pub fn dnf_context_set_user_agent(ctx: *mut DnfContext, agent: *const libc::c_char);
    pub fn dnf_context_get_base_arch(ctx: *mut DnfContext) -> *const libc::c_char;
    pub fn dnf_context_get_release_ver(ctx: *mut DnfContext) -> *const libc::c_char;
    pub fn dnf_context_setup(
        ctx: *mut DnfContext,
        cancellable: *mut gio_sys::GCancellable,
        error: *mut *mut GError,
    ) -> gboolean;
    /// Transfer none; elements are `DnfRepo*`.
    pub fn dnf_context_get_repos(ctx: *mut DnfContext) -> *mut GPtrArray;
    pub fn dnf_context_setup_sack_with_flags(
        ctx: *mut DnfContext,
        state: *mut DnfState,
        flags: u32,
        error: *mut *mut GError,
    ) -> gboolean;
    /// Transfer none.
    pub fn dnf_context_get_sack(ctx: *mut DnfContext) -> *mut DnfSack;

    /// Adds the best package matching `name` (a name, provide, path or
    /// NEVRA-ish subject) to the context's goal.
    pub fn dnf_context_install(
        ctx: *mut DnfContext,
        name: *const libc::c_char,
        error: *mut *mut GError,
    ) -> gboolean;
    /// Transfer none.
    pub fn dnf_context_get_goal(ctx: *mut DnfContext) -> HyGoal;

    // hy-goal.h, dnf-goal.h
    pub fn hy_goal_lock(goal: HyGoal, pkg: *mut DnfPackage, error: *mut *mut GError)
    -> libc::c_int;
    pub fn hy_goal_erase(goal: HyGoal, pkg: *mut DnfPackage) -> libc::c_int;
    pub fn hy_goal_install(goal: HyGoal, new_pkg: *mut DnfPackage) -> libc::c_int;
    pub fn dnf_goal_depsolve(goal: HyGoal, flags: u32, error: *mut *mut GError) -> gboolean;
    /// New arrays (unref them) of `DnfPackage*` they own.
    pub fn hy_goal_list_installs(goal: HyGoal, error: *mut *mut GError) -> *mut GPtrArray;
    pub fn hy_goal_list_erasures(goal: HyGoal, error: *mut *mut GError) -> *mut GPtrArray;
    pub fn hy_goal_list_upgrades(goal: HyGoal, error: *mut *mut GError) -> *mut GPtrArray;
    pub fn hy_goal_list_downgrades(goal: HyGoal, error: *mut *mut GError) -> *mut GPtrArray;
    pub fn hy_goal_list_reinstalls(goal: HyGoal, error: *mut *mut GError) -> *mut GPtrArray;
    pub fn hy_goal_list_obsoleted(goal: HyGoal, error: *mut *mut GError) -> *mut GPtrArray;

    // dnf-repo.h
    pub fn dnf_repo_get_type() -> GType;
    pub fn dnf_repo_get_id(repo: *mut DnfRepo) -> *const libc::c_char;
    pub fn dnf_repo_get_location(repo: *mut DnfRepo) -> *const libc::c_char;
    pub fn dnf_repo_get_filename(repo: *mut DnfRepo) -> *const libc::c_char;
    pub fn dnf_repo_get_enabled(repo: *mut DnfRepo) -> u32;
    pub fn dnf_repo_set_enabled(repo: *mut DnfRepo, enabled: u32);
    pub fn dnf_repo_get_required(repo: *mut DnfRepo) -> gboolean;
    pub fn dnf_repo_get_kind(repo: *mut DnfRepo) -> u32;
    /// Transfer full (g_free), may be NULL.
    pub fn dnf_repo_get_description(repo: *mut DnfRepo) -> *mut libc::c_char;
    pub fn dnf_repo_get_timestamp_generated(repo: *mut DnfRepo) -> u64;
    pub fn dnf_repo_get_n_solvables(repo: *mut DnfRepo) -> libc::c_uint;
    pub fn dnf_repo_is_devel(repo: *mut DnfRepo) -> gboolean;
    pub fn dnf_repo_get_gpgcheck(repo: *mut DnfRepo) -> gboolean;
    /// The `gpgkey=` keys (transfer full: g_strfreev).
    pub fn dnf_repo_get_public_keys(repo: *mut DnfRepo) -> *mut *mut libc::c_char;
    pub fn dnf_repo_is_source(repo: *mut DnfRepo) -> gboolean;
    pub fn dnf_repo_check(
        repo: *mut DnfRepo,
        permissible_cache_age: libc::c_uint,
        state: *mut DnfState,
        error: *mut *mut GError,
    ) -> gboolean;
    pub fn dnf_repo_update(
        repo: *mut DnfRepo,
        flags: u32,
        state: *mut DnfState,
        error: *mut *mut GError,
    ) -> gboolean;

    /// Downloads `pkgs` (`DnfPackage*`) into `directory` (NULL: the repo's
    /// `packages/` cache).
    pub fn dnf_repo_download_packages(
        repo: *mut DnfRepo,
        pkgs: *mut GPtrArray,
        directory: *const libc::c_char,
        state: *mut DnfState,
        error: *mut *mut GError,
    ) -> gboolean;

    // dnf-state.h
    pub fn dnf_state_get_type() -> GType;
    pub fn dnf_state_new() -> *mut DnfState;
    pub fn dnf_state_reset(state: *mut DnfState) -> gboolean;
    pub fn dnf_state_get_percentage(state: *mut DnfState) -> libc::c_uint;

    // dnf-sack.h
    pub fn dnf_sack_get_type() -> GType;
    pub fn dnf_sack_count(sack: *mut DnfSack) -> libc::c_int;
    /// Adds the RPM file `path` to the `@commandline` repository; a new
    /// package (transfer full), NULL if the file is not a readable RPM.
    pub fn dnf_sack_add_cmdline_package(
        sack: *mut DnfSack,
        path: *const libc::c_char,
    ) -> *mut DnfPackage;

    // hy-query.h
    pub fn hy_query_create(sack: *mut DnfSack) -> HyQuery;
    pub fn hy_query_free(q: HyQuery);
    pub fn hy_query_clear(q: HyQuery);
    pub fn hy_query_filter(
        q: HyQuery,
        keyname: libc::c_int,
        cmp_type: libc::c_int,
        matched: *const libc::c_char,
    ) -> libc::c_int;
    /// `matches`: NULL-terminated; the matches are OR-ed.
    pub fn hy_query_filter_in(
        q: HyQuery,
        keyname: libc::c_int,
        cmp_type: libc::c_int,
        matches: *const *const libc::c_char,
    ) -> libc::c_int;
    /// `reldeps`: NULL-terminated.
    pub fn hy_query_filter_provides_in(q: HyQuery, reldeps: *mut *mut libc::c_char) -> libc::c_int;
    pub fn hy_query_filter_latest_per_arch(q: HyQuery, val: libc::c_int);
    /// A new array (unref it) of `DnfPackage*` it owns.
    pub fn hy_query_run(q: HyQuery) -> *mut GPtrArray;

    // hy-package.h: strings are borrowed from the package.
    pub fn dnf_package_get_type() -> GType;
    pub fn dnf_package_get_name(pkg: *mut DnfPackage) -> *const libc::c_char;
    pub fn dnf_package_get_version(pkg: *mut DnfPackage) -> *const libc::c_char;
    pub fn dnf_package_get_release(pkg: *mut DnfPackage) -> *const libc::c_char;
    pub fn dnf_package_get_arch(pkg: *mut DnfPackage) -> *const libc::c_char;
    pub fn dnf_package_get_evr(pkg: *mut DnfPackage) -> *const libc::c_char;
    pub fn dnf_package_get_nevra(pkg: *mut DnfPackage) -> *const libc::c_char;
    pub fn dnf_package_get_reponame(pkg: *mut DnfPackage) -> *const libc::c_char;
    pub fn dnf_package_get_summary(pkg: *mut DnfPackage) -> *const libc::c_char;
    pub fn dnf_package_get_epoch(pkg: *mut DnfPackage) -> u64;
    pub fn dnf_package_get_location(pkg: *mut DnfPackage) -> *const libc::c_char;
    /// Where the package was downloaded to (its repo's `packages/` cache).
    pub fn dnf_package_get_filename(pkg: *mut DnfPackage) -> *const libc::c_char;
    pub fn dnf_package_get_downloadsize(pkg: *mut DnfPackage) -> u64;
    /// The package checksum of the repository metadata; `kind` gets its type.
    pub fn dnf_package_get_chksum(pkg: *mut DnfPackage, kind: *mut libc::c_int) -> *const u8;
    /// Transfer none.
    pub fn dnf_package_get_repo(pkg: *mut DnfPackage) -> *mut DnfRepo;

    // hy-util.h
    pub fn hy_chksum_name(kind: libc::c_int) -> *const libc::c_char;
    /// A new hex string (g_free).
    pub fn hy_chksum_str(chksum: *const u8, kind: libc::c_int) -> *mut libc::c_char;
}

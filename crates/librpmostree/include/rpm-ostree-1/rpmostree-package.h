/* RpmOstreePackage: one package of a commit (a GObject).
 *
 * SPDX-License-Identifier: Apache-2.0 OR MIT
 */

#pragma once

#include <gio/gio.h>

#ifndef _RPMOSTREE_EXTERN
#define _RPMOSTREE_EXTERN extern
#endif

G_BEGIN_DECLS

typedef struct RpmOstreePackage RpmOstreePackage;

#define RPM_OSTREE_TYPE_PACKAGE (rpm_ostree_package_get_type ())
#define RPM_OSTREE_PACKAGE(inst) \
  (G_TYPE_CHECK_INSTANCE_CAST ((inst), RPM_OSTREE_TYPE_PACKAGE, RpmOstreePackage))
#define RPM_OSTREE_IS_PACKAGE(inst) (G_TYPE_CHECK_INSTANCE_TYPE ((inst), RPM_OSTREE_TYPE_PACKAGE))

/* The GType of RpmOstreePackage (named "RpmOstreePackage"). */
_RPMOSTREE_EXTERN
GType rpm_ostree_package_get_type (void);

/* "name-[epoch:]version-release.arch", owned by @p. Prefer the other
 * getters to parsing it. */
_RPMOSTREE_EXTERN
const char *rpm_ostree_package_get_nevra (RpmOstreePackage *p);

/* The package name, owned by @p. */
_RPMOSTREE_EXTERN
const char *rpm_ostree_package_get_name (RpmOstreePackage *p);

/* "[epoch:]version-release" (no epoch when it is 0), owned by @p. */
_RPMOSTREE_EXTERN
const char *rpm_ostree_package_get_evr (RpmOstreePackage *p);

/* The package architecture, owned by @p. */
_RPMOSTREE_EXTERN
const char *rpm_ostree_package_get_arch (RpmOstreePackage *p);

/* Orders packages by name, then epoch:version-release in rpm's order, then
 * architecture: negative if @p1 sorts first, 0 if equal, positive if @p2
 * sorts first. Suits sorting functions. */
_RPMOSTREE_EXTERN
int rpm_ostree_package_cmp (RpmOstreePackage *p1, RpmOstreePackage *p2);

G_END_DECLS

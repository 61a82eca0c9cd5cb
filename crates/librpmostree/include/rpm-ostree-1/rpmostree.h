/* librpmostree-1: read-only access to the packages of OSTree commits, the
 * rpm base architecture and the library version.
 *
 * SPDX-License-Identifier: Apache-2.0 OR MIT
 */

#pragma once

#ifndef _RPMOSTREE_EXTERN
#define _RPMOSTREE_EXTERN extern
#endif

#include <rpmostree-db.h>
#include <rpmostree-package.h>
#include <rpmostree-version.h>

G_BEGIN_DECLS

/* The rpm base architecture of this system ("$basearch" of repository
 * URLs). Free the result with g_free(). */
_RPMOSTREE_EXTERN
char *rpm_ostree_get_basearch (void);

/* A copy of @src with every "${basearch}" replaced by
 * rpm_ostree_get_basearch(); NULL with @error set when @src refers to
 * another variable or leaves one unclosed. Free the result with g_free(). */
_RPMOSTREE_EXTERN
char *rpm_ostree_varsubst_basearch (const char *src, GError **error);

/* TRUE if the library that is loaded is at least version
 * @required_year.@required_release: RPM_OSTREE_CHECK_VERSION at run time. */
_RPMOSTREE_EXTERN
gboolean rpm_ostree_check_version (guint required_year, guint required_release);

G_END_DECLS

/* The packages of commits in an OSTree repository, and how two commits'
 * packages differ. The package list is the commit's rpmostree.rpmdb.pkglist
 * metadata, else the rpm database inside its tree.
 *
 * SPDX-License-Identifier: Apache-2.0 OR MIT
 */

#pragma once

#include <ostree.h>
#include <rpmostree-package.h>

#ifndef _RPMOSTREE_EXTERN
#define _RPMOSTREE_EXTERN extern
#endif

G_BEGIN_DECLS

/* Every package of @ref (a branch name or a commit checksum) in @repo,
 * sorted by name, version and architecture: a GPtrArray of
 * RpmOstreePackage that owns its elements (free it with
 * g_ptr_array_unref()), or NULL with @error set. */
_RPMOSTREE_EXTERN GPtrArray *rpm_ostree_db_query_all (OstreeRepo *repo, const char *ref,
                                                      GCancellable *cancellable, GError **error);

/* rpm_ostree_db_diff_ext() with no flags. */
_RPMOSTREE_EXTERN gboolean rpm_ostree_db_diff (OstreeRepo *repo, const char *orig_ref,
                                               const char *new_ref, GPtrArray **out_removed,
                                               GPtrArray **out_added, GPtrArray **out_modified_old,
                                               GPtrArray **out_modified_new,
                                               GCancellable *cancellable, GError **error);

/* RpmOstreeDbDiffExtFlags:
 * @RPM_OSTREE_DB_DIFF_EXT_NONE: no flags
 * @RPM_OSTREE_DB_DIFF_EXT_ALLOW_NOENT: when a commit has no package list,
 *   succeed with every output set to NULL instead of failing
 */
typedef enum
{
  RPM_OSTREE_DB_DIFF_EXT_NONE = 0,
  RPM_OSTREE_DB_DIFF_EXT_ALLOW_NOENT = (1 << 0),
} RpmOstreeDbDiffExtFlags;

/* The package changes from @orig_ref to @new_ref in @repo: packages only
 * in the first (@out_removed), only in the second (@out_added), and those
 * whose version changed (@out_modified_old[i] became
 * @out_modified_new[i]). Packages pair by name; the same name in another
 * architecture is a change only when each commit has that one package of
 * the name. Each output may be NULL (not all of them); the arrays own
 * their RpmOstreePackage elements. */
_RPMOSTREE_EXTERN gboolean rpm_ostree_db_diff_ext (
    OstreeRepo *repo, const char *orig_ref, const char *new_ref, RpmOstreeDbDiffExtFlags flags,
    GPtrArray **out_removed, GPtrArray **out_added, GPtrArray **out_modified_old,
    GPtrArray **out_modified_new, GCancellable *cancellable, GError **error);

G_END_DECLS

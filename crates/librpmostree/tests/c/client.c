/* A librpmostree-1 client, as GNOME Software is one: built with
 * `cc client.c $(pkg-config --cflags --libs rpm-ostree-1)`.
 *
 *   client list REPO REV      the packages of REV, one " NEVRA" a line
 *                             (the lines of `rpm-ostree db list`)
 *   client diff REPO FROM TO  the changes, in `rpm-ostree db diff`'s block
 *                             format (without its two header lines)
 *   client noent REPO REV     REV has no package database: query_all fails,
 *                             diff_ext with ALLOW_NOENT succeeds with NULLs
 *   client api                types, version checks, basearch
 *
 * Exits 0 on success; prints what went wrong and exits 1 otherwise.
 *
 * SPDX-License-Identifier: Apache-2.0 OR MIT
 */

#include <rpmostree.h>
#include <stdio.h>
#include <string.h>

#if !RPM_OSTREE_CHECK_VERSION(2017, 8)
#error "RPM_OSTREE_CHECK_VERSION"
#endif

static int
fail (const char *what, GError *error)
{
  fprintf (stderr, "client: %s: %s\n", what, error ? error->message : "failed");
  g_clear_error (&error);
  return 1;
}

static OstreeRepo *
open_repo (const char *path, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (OstreeRepo) repo = ostree_repo_new (file);
  if (!ostree_repo_open (repo, NULL, error))
    return NULL;
  return g_steal_pointer (&repo);
}

static int
list (OstreeRepo *repo, const char *rev)
{
  GError *error = NULL;
  g_autoptr (GPtrArray) pkgs = rpm_ostree_db_query_all (repo, rev, NULL, &error);
  if (!pkgs)
    return fail ("rpm_ostree_db_query_all", error);
  for (guint i = 0; i < pkgs->len; i++)
    {
      RpmOstreePackage *p = pkgs->pdata[i];
      if (!RPM_OSTREE_IS_PACKAGE (p))
        return fail ("not an RpmOstreePackage", NULL);
      g_autofree char *nevra = g_strdup_printf ("%s-%s.%s", rpm_ostree_package_get_name (p),
                                                rpm_ostree_package_get_evr (p),
                                                rpm_ostree_package_get_arch (p));
      if (strcmp (nevra, rpm_ostree_package_get_nevra (p)) != 0)
        return fail ("get_nevra is not name-evr.arch", NULL);
      if (i > 0 && rpm_ostree_package_cmp (pkgs->pdata[i - 1], p) > 0)
        return fail ("the list is not in rpm_ostree_package_cmp order", NULL);
      if (rpm_ostree_package_cmp (p, p) != 0)
        return fail ("a package differs from itself", NULL);
      printf (" %s\n", rpm_ostree_package_get_nevra (p));
    }
  return 0;
}

/* One section of the block format: the changed pairs whose order (old
 * before new) is `sign`. */
static void
print_changes (const char *title, GPtrArray *old, GPtrArray *new, int sign)
{
  gboolean first = TRUE;
  for (guint i = 0; i < old->len; i++)
    {
      int c = rpm_ostree_package_cmp (old->pdata[i], new->pdata[i]);
      if ((c < 0 ? -1 : 1) != sign)
        continue;
      if (first)
        printf ("%s:\n", title);
      first = FALSE;
      printf ("  %s %s -> %s\n", rpm_ostree_package_get_name (old->pdata[i]),
              rpm_ostree_package_get_evr (old->pdata[i]),
              rpm_ostree_package_get_evr (new->pdata[i]));
    }
}

static void
print_packages (const char *title, GPtrArray *pkgs)
{
  if (pkgs->len > 0)
    printf ("%s:\n", title);
  for (guint i = 0; i < pkgs->len; i++)
    printf ("  %s\n", rpm_ostree_package_get_nevra (pkgs->pdata[i]));
}

static int
diff (OstreeRepo *repo, const char *from, const char *to)
{
  GError *error = NULL;
  g_autoptr (GPtrArray) removed = NULL;
  g_autoptr (GPtrArray) added = NULL;
  g_autoptr (GPtrArray) old = NULL;
  g_autoptr (GPtrArray) new = NULL;
  if (!rpm_ostree_db_diff (repo, from, to, &removed, &added, &old, &new, NULL, &error))
    return fail ("rpm_ostree_db_diff", error);
  if (old->len != new->len)
    return fail ("modified_old and modified_new differ in length", NULL);
  print_changes ("Upgraded", old, new, -1);
  print_changes ("Downgraded", old, new, 1);
  print_packages ("Removed", removed);
  print_packages ("Added", added);
  /* Outputs may be left out. */
  g_autoptr (GPtrArray) added_only = NULL;
  if (!rpm_ostree_db_diff_ext (repo, from, to, RPM_OSTREE_DB_DIFF_EXT_NONE, NULL, &added_only,
                               NULL, NULL, NULL, &error))
    return fail ("rpm_ostree_db_diff_ext", error);
  if (added_only->len != added->len)
    return fail ("diff_ext gave another list of added packages", NULL);
  return 0;
}

static int
noent (OstreeRepo *repo, const char *rev)
{
  GError *error = NULL;
  GPtrArray *pkgs = rpm_ostree_db_query_all (repo, rev, NULL, &error);
  if (pkgs || !error || !strstr (error->message, "No package database found"))
    return fail ("query_all of a commit without packages", error);
  g_clear_error (&error);
  GPtrArray *removed = (GPtrArray *)&error; /* not NULL: must be set to NULL */
  GPtrArray *added = removed;
  if (!rpm_ostree_db_diff_ext (repo, rev, rev, RPM_OSTREE_DB_DIFF_EXT_ALLOW_NOENT, &removed,
                               &added, NULL, NULL, NULL, &error))
    return fail ("diff_ext ALLOW_NOENT", error);
  if (removed != NULL || added != NULL)
    return fail ("diff_ext ALLOW_NOENT left its outputs set", NULL);
  if (rpm_ostree_db_diff (repo, rev, rev, &removed, &added, NULL, NULL, NULL, &error)
      || error == NULL)
    return fail ("diff of a commit without packages succeeded", NULL);
  printf ("%s\n", error->message);
  g_clear_error (&error);
  return 0;
}

static int
api (void)
{
  GError *error = NULL;
  if (strcmp (g_type_name (RPM_OSTREE_TYPE_PACKAGE), "RpmOstreePackage") != 0
      || !g_type_is_a (RPM_OSTREE_TYPE_PACKAGE, G_TYPE_OBJECT))
    return fail ("RPM_OSTREE_TYPE_PACKAGE", NULL);
  if (!rpm_ostree_check_version (RPM_OSTREE_YEAR_VERSION, RPM_OSTREE_RELEASE_VERSION)
      || !rpm_ostree_check_version (2017, 8) || rpm_ostree_check_version (9999, 1)
      || RPM_OSTREE_VERSION_HEX != ((RPM_OSTREE_YEAR_VERSION << 16) | RPM_OSTREE_RELEASE_VERSION))
    return fail ("rpm_ostree_check_version", NULL);
  g_autofree char *arch = rpm_ostree_get_basearch ();
  g_autofree char *url = rpm_ostree_varsubst_basearch ("https://example.com/${basearch}/", &error);
  if (!url)
    return fail ("rpm_ostree_varsubst_basearch", error);
  g_autofree char *expected = g_strdup_printf ("https://example.com/%s/", arch);
  if (strcmp (url, expected) != 0)
    return fail ("rpm_ostree_varsubst_basearch substituted wrongly", NULL);
  if (rpm_ostree_varsubst_basearch ("${releasever}", &error) != NULL || error == NULL)
    return fail ("rpm_ostree_varsubst_basearch of an unknown variable", NULL);
  printf ("%s %s %s\n", RPM_OSTREE_VERSION_S, arch, error->message);
  g_clear_error (&error);
  return 0;
}

int
main (int argc, char **argv)
{
  GError *error = NULL;
  if (argc == 2 && strcmp (argv[1], "api") == 0)
    return api ();
  if (argc < 4)
    return fail ("usage: client list|diff|noent REPO REV [REV]", NULL);
  g_autoptr (OstreeRepo) repo = open_repo (argv[2], &error);
  if (!repo)
    return fail ("opening the repository", error);
  if (strcmp (argv[1], "list") == 0)
    return list (repo, argv[3]);
  if (strcmp (argv[1], "noent") == 0)
    return noent (repo, argv[3]);
  if (strcmp (argv[1], "diff") == 0 && argc == 5)
    return diff (repo, argv[3], argv[4]);
  return fail ("usage: client list|diff|noent REPO REV [REV]", NULL);
}

/* slotkeeper CLI: a left-aligned text table; columns are as wide as their widest cell. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SkCliTable SkCliTable;

SkCliTable *sk_cli_table_new(guint n_cols);
void sk_cli_table_free(SkCliTable *table);
/* Adds one row of exactly n_cols strings; NULL cells print empty. */
void sk_cli_table_add(SkCliTable *table, ...);
/* Renders every row after @indent; with @skip_header the first row (the header) is left out. */
void sk_cli_table_render(const SkCliTable *table, const char *indent, gboolean skip_header,
                         GString *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SkCliTable, sk_cli_table_free)

G_END_DECLS

/* slotkeeper CLI: text tables. */
#include "sk-cli-table.h"

#include <stdarg.h>

struct _SkCliTable {
    guint n_cols;
    GPtrArray *rows; /* GStrv, n_cols cells each */
};

SkCliTable *
sk_cli_table_new(guint n_cols)
{
    SkCliTable *table = g_new0(SkCliTable, 1);

    table->n_cols = n_cols;
    table->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    return table;
}

void
sk_cli_table_free(SkCliTable *table)
{
    g_ptr_array_unref(table->rows);
    g_free(table);
}

void
sk_cli_table_add(SkCliTable *table, ...)
{
    char **row = g_new0(char *, table->n_cols + 1);
    va_list ap;

    va_start(ap, table);
    for (guint i = 0; i < table->n_cols; i++) {
        const char *cell = va_arg(ap, const char *);
        row[i] = g_strdup(cell ? cell : "");
    }
    va_end(ap);
    g_ptr_array_add(table->rows, row);
}

void
sk_cli_table_render(const SkCliTable *table, const char *indent, gboolean skip_header, GString *out)
{
    g_autofree gsize *widths = g_new0(gsize, table->n_cols);

    for (guint r = 0; r < table->rows->len; r++) {
        char **row = g_ptr_array_index(table->rows, r);
        for (guint c = 0; c < table->n_cols; c++)
            widths[c] = MAX(widths[c], (gsize)g_utf8_strlen(row[c], -1));
    }
    for (guint r = skip_header ? 1 : 0; r < table->rows->len; r++) {
        char **row = g_ptr_array_index(table->rows, r);
        gsize line_start = out->len;

        g_string_append(out, indent);
        for (guint c = 0; c < table->n_cols; c++) {
            g_string_append(out, row[c]);
            if (c + 1 < table->n_cols) {
                gsize pad = widths[c] - (gsize)g_utf8_strlen(row[c], -1) + 2;
                for (gsize p = 0; p < pad; p++)
                    g_string_append_c(out, ' ');
            }
        }
        /* Empty trailing cells would leave trailing blanks. */
        while (out->len > line_start && out->str[out->len - 1] == ' ')
            g_string_truncate(out, out->len - 1);
        g_string_append_c(out, '\n');
    }
}

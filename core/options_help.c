/* options_help.c: printing option tables for --plugin-help, a groups
 * option's own options indented below it. */
#include <stdio.h>
#include <string.h>

#include "options.h"

struct help_widths {
    int name, type, def;
};

/* The DEFAULT column of o. */
static void help_default(const struct tocsin_option *o, char *def, size_t len)
{
    if (o->flags & TOCSIN_OPT_REQUIRED)
        snprintf(def, len, "(required)");
    else if (!o->def)
        snprintf(def, len, "-");
    else if (o->flags & TOCSIN_OPT_SECRET) /* a default key is still a key */
        snprintf(def, len, "(secret)");
    else if (o->type == TOCSIN_OPT_STRING) /* quoted: shows an empty default */
        snprintf(def, len, "\"%s\"", o->def);
    else
        snprintf(def, len, "%s", o->def);
}

/* Widens w for the rows of table, whose names are indented by indent, and
 * of its groups' tables below them. */
static void help_measure(const struct tocsin_option *table,
                         const struct tocsin_group_table *groups, int indent,
                         struct help_widths *w)
{
    const struct tocsin_option *o;

    for (o = table; o && o->name; o++) {
        const struct tocsin_group_table *gt;
        char def[256];
        int l;

        if ((l = indent + (int)strlen(o->name)) > w->name)
            w->name = l;
        if ((l = (int)strlen(tc_opt_type_name(o->type))) > w->type)
            w->type = l;
        help_default(o, def, sizeof def);
        if ((l = (int)strlen(def)) > w->def && l <= 24)
            w->def = l;
        if (o->type == TOCSIN_OPT_GROUPS && (gt = tc_options_group(groups, o->name)))
            help_measure(gt->options, NULL, indent + 2, w);
    }
}

static void help_rows(FILE *out, const struct tocsin_option *table,
                      const struct tocsin_group_table *groups, int indent,
                      const struct help_widths *w)
{
    const struct tocsin_option *o;

    for (o = table; o && o->name; o++) {
        const struct tocsin_group_table *gt;
        char def[256];

        help_default(o, def, sizeof def);
        fprintf(out, "  %*s%-*s  %-*s  %-*s  %-6s  %s\n", indent, "", w->name - indent,
                o->name, w->type, tc_opt_type_name(o->type), w->def, def,
                o->flags & TOCSIN_OPT_SECRET ? "secret" : "",
                o->description ? o->description : "");
        if (o->type == TOCSIN_OPT_GROUPS && (gt = tc_options_group(groups, o->name)))
            help_rows(out, gt->options, NULL, indent + 2, w);
    }
}

void tc_options_help(FILE *out, const struct tocsin_option *table,
                     const struct tocsin_group_table *groups)
{
    struct help_widths w = { (int)strlen("OPTION"), (int)strlen("TYPE"),
                             (int)strlen("DEFAULT") };

    if (!table || !table->name) {
        fprintf(out, "  (no options)\n");
        return;
    }
    help_measure(table, groups, 0, &w);
    fprintf(out, "  %-*s  %-*s  %-*s  %-6s  %s\n", w.name, "OPTION", w.type, "TYPE", w.def,
            "DEFAULT", "FLAGS", "DESCRIPTION");
    help_rows(out, table, groups, 0, &w);
}

/* main.c: tocsind's command line, signals and lifetime. */
#define _GNU_SOURCE
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "daemon.h"
#include "testsink.h"
#include "httpclient.h"
#include "loader.h"
#include "log.h"
#include "options.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/usr/local/etc"
#endif
#ifndef PKGLIBDIR
#define PKGLIBDIR "/usr/local/lib/tocsin"
#endif

static void usage(FILE *out)
{
    fprintf(out,
            "usage: tocsind [-f] [-c FILE] [--plugin-dir DIR]\n"
            "       tocsind --check-config [-c FILE]\n"
            "       tocsind --test-sink ID [-c FILE]\n"
            "       tocsind --list-plugins [--plugin-dir DIR | -c FILE]\n"
            "       tocsind --plugin-help NAME [--plugin-dir DIR | -c FILE]\n"
            "       tocsind --version\n"
            "\n"
            "  -c, --config FILE    configuration (default %s/tocsin/tocsin.conf)\n"
            "  -f, --foreground     stay in the foreground and log to stderr\n"
            "      --plugin-dir DIR load plugins from DIR (overrides daemon.plugin_dir)\n"
            "      --check-config   run start-up's checks (plugins included) without\n"
            "                       starting; print every error, exit 1 on any\n"
            "      --test-sink ID   send a marked test trigger, then its resolve, through\n"
            "                       sink ID; print what the provider answered; exit 0\n"
            "                       when both were delivered, 1 otherwise\n"
            "      --list-plugins   list the plugins in the plugin directory\n"
            "      --plugin-help NAME  print a plugin's options (NAME or KIND_NAME)\n"
            "      --version        print the version and the plugin ABI\n",
            SYSCONFDIR);
}

static void print_errors(const struct tc_errors *errs)
{
    size_t i;

    for (i = 0; i < errs->n; i++)
        fprintf(stderr, "%s\n", errs->msgs[i]);
}

/* The plugin directory for the listing commands: --plugin-dir, else the
 * config's daemon.plugin_dir when the config loads, else the default. */
static char *listing_dir(const char *override, const char *config_path, int config_given)
{
    struct tc_errors errs = { 0 };
    struct tc_config *cfg;
    char *dir;

    if (override)
        return strdup(override);
    if (config_given) {
        cfg = tc_config_load(config_path, NULL, &errs);
        tc_errors_free(&errs);
        if (cfg) {
            dir = strdup(cfg->daemon.plugin_dir);
            tc_config_free(cfg);
            return dir;
        }
    }
    return strdup(PKGLIBDIR);
}

static void list_one(void *arg, const char *path, const struct tc_plugin *p, const char *err)
{
    int *n = arg;

    if (p)
        printf("%-16s %-7s %-10s %u.%u   %s\n", p->desc->name, tc_kind_name(p->desc->kind),
               p->desc->version ? p->desc->version : "?", p->desc->abi_major,
               p->desc->abi_minor, path);
    else
        printf("%-16s %-7s %-10s %-5s %s (%s)\n", "-", "-", "-", "-", path, err);
    (*n)++;
}

static int list_plugins(const char *dir)
{
    int n = 0;

    printf("%-16s %-7s %-10s %-5s %s\n", "NAME", "KIND", "VERSION", "ABI", "PATH");
    tc_loader_scan(dir, list_one, &n);
    if (n == 0)
        fprintf(stderr, "no plugins in %s\n", dir);
    return 0;
}

static int plugin_help(const char *dir, const char *name)
{
    static const enum tocsin_kind kinds[] = { TOCSIN_INPUT, TOCSIN_SINK, TOCSIN_POLICY };
    struct tc_loader *l = tc_loader_new(dir);
    const struct tc_plugin *p = NULL;
    char err[512] = "", bare[128];
    size_t i;
    int found = 0;

    for (i = 0; l && i < 3; i++) {
        const char *kind = tc_kind_name(kinds[i]);
        size_t kl = strlen(kind);

        snprintf(bare, sizeof bare, "%s", name);
        if (strncmp(name, kind, kl) == 0 && (name[kl] == '_' || name[kl] == '/'))
            snprintf(bare, sizeof bare, "%s", name + kl + 1);
        p = tc_loader_load(l, kinds[i], bare, err, sizeof err);
        if (!p)
            continue;
        found = 1;
        printf("%s %s %s (ABI %u.%u): %s\n%s\n\n", kind, p->desc->name,
               p->desc->version ? p->desc->version : "?", p->desc->abi_major,
               p->desc->abi_minor, p->desc->description ? p->desc->description : "", p->path);
        tc_options_help(stdout, p->desc->options, p->desc->groups);
        if (kinds[i] == TOCSIN_SINK) {
            printf("\ncore options of every sink:\n");
            tc_options_help(stdout, tc_config_sink_options(), NULL);
        } else if (kinds[i] == TOCSIN_INPUT) {
            printf("\ncore options of every input:\n");
            tc_options_help(stdout, tc_config_input_options(), NULL);
        }
        printf("\n");
    }
    if (!found)
        fprintf(stderr, "tocsind: no plugin \"%s\" in %s\n", name, dir);
    tc_loader_free(l);
    return found ? 0 : 1;
}

static int run(struct tc_config *cfg)
{
    struct tc_daemon *d;
    sigset_t set;
    int sig;

    if (tc_daemon_start(cfg, &d) < 0)
        return 1;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    for (;;) {
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            tc_warn("SIGHUP: reloading is not supported yet; restart tocsind to apply changes");
            continue;
        }
        tc_info("%s: stopping (draining for up to %lld ms)", strsignal(sig),
                (long long)cfg->daemon.drain_timeout_ms);
        break;
    }
    tc_daemon_stop(d);
    tc_info("stopped");
    return 0;
}

int main(int argc, char **argv)
{
    enum { OPT_CHECK = 256, OPT_LIST, OPT_HELP_PLUGIN, OPT_VERSION, OPT_PLUGIN_DIR,
           OPT_TEST_SINK };
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "foreground", no_argument, NULL, 'f' },
        { "check-config", no_argument, NULL, OPT_CHECK },
        { "list-plugins", no_argument, NULL, OPT_LIST },
        { "plugin-help", required_argument, NULL, OPT_HELP_PLUGIN },
        { "plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR },
        { "test-sink", required_argument, NULL, OPT_TEST_SINK },
        { "version", no_argument, NULL, OPT_VERSION },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *config_path = SYSCONFDIR "/tocsin/tocsin.conf", *plugin_dir = NULL;
    const char *help_name = NULL, *test_sink = NULL;
    int foreground = 0, check = 0, list = 0, config_given = 0, c, rc;
    struct tc_errors errs = { 0 };
    struct tc_config *cfg;
    sigset_t set;

    while ((c = getopt_long(argc, argv, "c:fh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; config_given = 1; break;
        case 'f': foreground = 1; break;
        case OPT_CHECK: check = 1; break;
        case OPT_LIST: list = 1; break;
        case OPT_HELP_PLUGIN: help_name = optarg; break;
        case OPT_PLUGIN_DIR: plugin_dir = optarg; break;
        case OPT_TEST_SINK: test_sink = optarg; break;
        case OPT_VERSION:
            printf("tocsind %s (plugin ABI %d.%d)\n", PACKAGE_VERSION, TOCSIN_ABI_MAJOR,
                   TOCSIN_ABI_MINOR);
            return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tocsind: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    tc_log_init(1, TOCSIN_LOG_INFO);
    if (list || help_name) {
        char *dir = listing_dir(plugin_dir, config_path, config_given);

        rc = list ? list_plugins(dir) : plugin_help(dir, help_name);
        free(dir);
        return rc;
    }
    cfg = tc_config_load(config_path, plugin_dir, &errs);
    if (!cfg || errs.n) {
        print_errors(&errs);
        fprintf(stderr, "tocsind: %s: %zu error%s\n", config_path, errs.n,
                errs.n == 1 ? "" : "s");
        tc_errors_free(&errs);
        tc_config_free(cfg);
        return 1;
    }
    if (check && tc_daemon_check(cfg, &errs) > 0) {
        print_errors(&errs);
        fprintf(stderr, "tocsind: %s: %zu error%s\n", config_path, errs.n,
                errs.n == 1 ? "" : "s");
        tc_errors_free(&errs);
        tc_config_free(cfg);
        return 1;
    }
    if (test_sink) {
        tc_log_init(1, cfg->daemon.log_level);
        signal(SIGPIPE, SIG_IGN);
        tc_httpclient_global_init();
        rc = tc_test_sink(cfg, test_sink);
        tc_httpclient_global_cleanup();
        tc_config_free(cfg);
        return rc;
    }
    if (check) {
        printf("%s: OK (%zu inputs, %zu policies, %zu sinks, %zu routes)\n", config_path,
               cfg->n_inputs, cfg->n_policies, cfg->n_sinks, tc_routes_count(cfg->routes));
        tc_config_free(cfg);
        return 0;
    }
    if (!foreground && daemon(0, 0) < 0) {
        perror("tocsind: daemon");
        tc_config_free(cfg);
        return 1;
    }
    tc_log_init(foreground, cfg->daemon.log_level);
    if (tc_clock_from_env() < 0) { /* tests only: TOCSIN_TEST_CLOCK */
        tc_config_free(cfg);
        tc_log_close();
        return 1;
    }
    /* Signals are taken by sigwait() in run(); every thread inherits the mask. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    tc_httpclient_global_init();
    rc = run(cfg);
    tc_httpclient_global_cleanup();
    tc_config_free(cfg);
    tc_log_close();
    return rc;
}

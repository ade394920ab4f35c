/* astrad's main: configuration, the loop, the start order and the shutdown.
 *
 * Start: config -> log -> secrets -> store (loaded and replayed before the loop runs) ->
 * static files -> outgoing HTTP -> Discord (REST, gateway) -> both listeners -> the runtime
 * starts the bots, staggered -> running.
 * Stop (SIGTERM/SIGINT): stop accepting; close every bot's gateway session; let requests in
 * flight finish until SHUTDOWN_GRACE_MS; answer what is left with 503; close the listeners;
 * make the store durable (journal flushed, files checkpointed); release lws and curl; exit 0.
 * SIGHUP: reopen the log file and reload web/. */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "bot/bot.h"
#include "core/app.h"
#include "core/audit.h"
#include "core/config.h"
#include "core/log.h"
#include "discord/gateway.h"
#include "discord/rest.h"
#include "http/httpd.h"
#include "net/net.h"
#include "pay/mercadopago.h"
#include "pay/reconcile.h"
#include "runtime/runtime.h"
#include "servers.h"
#include "store/store.h"

static struct config cfg;
static uv_loop_t loop;
static uv_signal_t sig_term, sig_int, sig_hup;
static uv_timer_t drain_timer;
static struct static_site *portal_site, *admin_site;
static uint64_t stop_deadline;
static int servers_open;
static int exit_code;

static void usage(FILE *out) {
  fprintf(out,
          "Usage: astrad [--env-file FILE] [--check-config] [--version] [--help]\n"
          "\n"
          "Astra: stores inside Discord, one daemon. Seller portal on PORTAL_PORT (3100),\n"
          "admin panel on ADMIN_PORT (3000). Configuration comes from the environment and\n"
          "from .env (see .env.example); data lives in DATA_DIR (./data).\n"
          "\n"
          "  --env-file FILE  read FILE instead of ./.env\n"
          "  --check-config   print the effective configuration (secrets masked) and exit\n"
          "  --version        print the version and exit\n"
          "  --help           this text\n");
}

/* ---- shutdown ---- */

static void close_handle(uv_handle_t *h) {
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

static void on_store_closed(int status, void *arg) {
  (void)arg;
  if (status != 0) {
    log_error("main", "the store could not be made fully durable on exit; the journal "
                      "will be replayed on the next start");
    exit_code = 1;
  } else {
    log_info("main", "store durable; bye");
  }
  audit_close(); /* no request is left to append; the loop runs until the file is closed */
  mp_shutdown();
  rest_global_shutdown();
  gw_global_shutdown();
  net_shutdown();
  close_handle((uv_handle_t *)&sig_term);
  close_handle((uv_handle_t *)&sig_int);
  close_handle((uv_handle_t *)&sig_hup);
  close_handle((uv_handle_t *)&drain_timer);
}

static void on_server_closed(void *arg) {
  (void)arg;
  if (--servers_open > 0)
    return;
  astra.portal = NULL;
  astra.admin = NULL;
  if (astra.store)
    store_close(astra.store, on_store_closed, NULL);
  else
    on_store_closed(0, NULL);
}

static void stop_servers(void) {
  servers_open = 0;
  if (astra.portal)
    servers_open++;
  if (astra.admin)
    servers_open++;
  if (!servers_open) {
    servers_open = 1;
    on_server_closed(NULL);
    return;
  }
  if (astra.portal)
    http_server_stop(astra.portal, on_server_closed, NULL);
  if (astra.admin)
    http_server_stop(astra.admin, on_server_closed, NULL);
}

static void on_drain(uv_timer_t *t) {
  unsigned inflight = (astra.portal ? http_server_inflight(astra.portal) : 0) +
                      (astra.admin ? http_server_inflight(astra.admin) : 0);
  if (inflight > 0 && uv_now(&loop) < stop_deadline)
    return;
  uv_timer_stop(t);
  if (inflight > 0)
    log_warn("main", "%u request(s) still open at the shutdown deadline; answering 503",
             inflight);
  stop_servers();
}

static void begin_shutdown(const char *why) {
  if (astra.phase == APP_STOPPING)
    return;
  astra.phase = APP_STOPPING;
  log_info("main", "%s: stopping (grace %d ms)", why, cfg.shutdown_grace_ms);
  bot_cart_sweeper_stop();
  bot_outbox_stop();
  pay_reconcile_stop();
  runtime_shutdown(NULL, NULL);
  if (astra.portal)
    http_server_quiesce(astra.portal);
  if (astra.admin)
    http_server_quiesce(astra.admin);
  stop_deadline = uv_now(&loop) + (uint64_t)cfg.shutdown_grace_ms;
  uv_timer_start(&drain_timer, on_drain, 0, 20);
}

/* ---- SIGHUP: log reopen and web/ reload, the reading done off the loop thread ---- */

struct reload {
  uv_work_t work;
  struct static_site *portal, *admin;
  char err[256];
  int rc;
};

static void reload_work(uv_work_t *w) {
  struct reload *r = w->data;
  r->rc = static_site_load(&r->portal, cfg.web_dir, portal_mounts, portal_nmounts, r->err,
                           sizeof r->err);
  if (r->rc == 0)
    r->rc = static_site_load(&r->admin, cfg.web_dir, admin_mounts, admin_nmounts, r->err,
                             sizeof r->err);
}

static void reload_done(uv_work_t *w, int status) {
  struct reload *r = w->data;
  if (status == 0 && r->rc == 0 && astra.phase == APP_RUNNING) {
    if (astra.portal)
      http_server_set_site(astra.portal, r->portal);
    if (astra.admin)
      http_server_set_site(astra.admin, r->admin);
    static_site_free(portal_site);
    static_site_free(admin_site);
    portal_site = r->portal;
    admin_site = r->admin;
    log_info("main", "web files reloaded (%zu + %zu files)", static_site_files(portal_site),
             static_site_files(admin_site));
  } else {
    log_warn("main", "web reload failed, keeping the old files: %s", r->err);
    static_site_free(r->portal);
    static_site_free(r->admin);
  }
  free(r);
}

static void on_signal(uv_signal_t *h, int signum) {
  (void)h;
  if (signum == SIGHUP) {
    log_reopen();
    log_info("main", "SIGHUP: log reopened");
    struct reload *r = calloc(1, sizeof *r);
    if (r) {
      r->work.data = r;
      uv_queue_work(&loop, &r->work, reload_work, reload_done);
    }
    return;
  }
  begin_shutdown(signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* ---- start ---- */

static int start(void) {
  char err[512];
  struct store_options so = {.dir = cfg.data_dir, .loop = &loop};
  if (store_open(&astra.store, &so, err, sizeof err) != 0) {
    log_error("main", "cannot open the data store: %s", err);
    fprintf(stderr, "astrad: cannot open the data store: %s\n", err);
    return -1;
  }
  if (static_site_load(&portal_site, cfg.web_dir, portal_mounts, portal_nmounts, err,
                       sizeof err) != 0 ||
      static_site_load(&admin_site, cfg.web_dir, admin_mounts, admin_nmounts, err,
                       sizeof err) != 0) {
    fprintf(stderr, "astrad: %s\n", err);
    return -1;
  }
  if (net_init(&loop, "Astra/" ASTRA_VERSION " (astrad)", cfg.tls_ca_file) != 0) {
    fprintf(stderr, "astrad: cannot initialise outgoing HTTP (TLS_CA_FILE?)\n");
    return -1;
  }
  if (rest_global_init(cfg.discord_api_base,
                       "DiscordBot (https://github.com/astra-systems/astrad, " ASTRA_VERSION ")") !=
          0 ||
      gw_global_init(&loop, "DiscordBot (https://github.com/astra-systems/astrad, " ASTRA_VERSION ")",
                     cfg.tls_ca_file) != 0) {
    fprintf(stderr, "astrad: cannot initialise the Discord client (libwebsockets-evlib-uv "
                    "installed? TLS_CA_FILE readable?)\n");
    return -1;
  }
  if (portal_server_start(portal_site, err, sizeof err) != 0 ||
      admin_server_start(admin_site, err, sizeof err) != 0) {
    fprintf(stderr, "astrad: %s\n", err);
    return -1;
  }
  log_info("main", "astrad %s: portal on %s:%d, admin on %s:%d, data in %s", ASTRA_VERSION,
           cfg.portal_host, http_server_port(astra.portal), cfg.admin_host,
           http_server_port(astra.admin), cfg.data_dir);
  runtime_init();
  mp_init(cfg.mercadopago_api_base, cfg.mercadopago_access_token);
  pay_reconcile_start();
  bot_outbox_start();
  bot_cart_sweeper_start();
  astra.phase = APP_RUNNING;
  return 0;
}

int main(int argc, char **argv) {
  static const struct option opts[] = {{"env-file", required_argument, NULL, 'e'},
                                       {"check-config", no_argument, NULL, 'c'},
                                       {"version", no_argument, NULL, 'v'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  const char *env_file = NULL;
  int check = 0, o;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
    case 'e':
      env_file = optarg;
      break;
    case 'c':
      check = 1;
      break;
    case 'v':
      printf("astrad %s\n", ASTRA_VERSION);
      return 0;
    case 'h':
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "astrad: unexpected argument '%s'\n", argv[optind]);
    usage(stderr);
    return 2;
  }

  char err[512];
  if (config_load(&cfg, env_file, err, sizeof err) != 0) {
    fprintf(stderr, "astrad: %s\n", err);
    config_free(&cfg);
    return 2;
  }
  if (check) {
    config_print(&cfg, stdout);
    config_free(&cfg);
    return 0;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  log_set_level(cfg.log_level);
  if (log_open(cfg.log_dir, cfg.log_level) != 0)
    fprintf(stderr, "astrad: cannot open %s/astra.log; logging to stderr only\n", cfg.log_dir);
  if (config_secrets(&cfg, err, sizeof err) != 0) {
    fprintf(stderr, "astrad: %s\n", err);
    log_close();
    config_free(&cfg);
    return 2;
  }
  if (cfg.admin_token_generated)
    /* Printed once, to the terminal only (never to the log): the operator needs it to open
     * the admin panel; it stays in data/.secrets. */
    printf("ADMIN_PANEL_TOKEN gerado / generated: %s\n(guardado em / kept in %s/.secrets)\n",
           cfg.admin_panel_token, cfg.data_dir);
  fflush(stdout);

  uv_loop_init(&loop);
  astra.loop = &loop;
  astra.cfg = &cfg;
  astra.phase = APP_STARTING;
  astra.started_ms = uv_now(&loop);
  astra.started_at = time(NULL);
  uv_signal_init(&loop, &sig_term);
  uv_signal_init(&loop, &sig_int);
  uv_signal_init(&loop, &sig_hup);
  uv_timer_init(&loop, &drain_timer);
  uv_signal_start(&sig_term, on_signal, SIGTERM);
  uv_signal_start(&sig_int, on_signal, SIGINT);
  uv_signal_start(&sig_hup, on_signal, SIGHUP);

  if (start() != 0) {
    exit_code = 2;
    astra.phase = APP_STOPPING;
    stop_servers();
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  gw_global_finish(); /* lws 4.1 on a foreign loop frees its context only now */
  int rc = uv_loop_close(&loop);
  if (rc != 0)
    log_warn("main", "loop closed with handles still open (%s)", uv_err_name(rc));
  store_free(astra.store);
  static_site_free(portal_site);
  static_site_free(admin_site);
  log_close();
  config_free(&cfg);
  curl_global_cleanup();
  return exit_code;
}

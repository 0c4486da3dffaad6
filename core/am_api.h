/* am_api.h: Alertmanager's read API (v2) over the core's incidents, so
 * amtool, karma and Grafana can read tocsind. */
#ifndef TC_AM_API_H
#define TC_AM_API_H

#include "daemon.h"

/* GET /api/v2/alerts, /api/v2/status and /api/v2/receivers, behind the
 * read token like the core's own API. 0, or -1 (logged). */
int tc_am_api_register(struct tc_daemon *d);

#endif

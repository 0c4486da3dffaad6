/* api.h: the core HTTP API (incidents, health, metrics). Registered with
 * tc_api_register(), declared in daemon.h. */
#ifndef TC_API_H
#define TC_API_H

#include "daemon.h"

#endif

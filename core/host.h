/* host.h: the host-services table handed to each plugin instance.
 * Declared in daemon.h as tc_host_init(); this header is kept for the
 * file-per-job layout. */
#ifndef TC_HOST_H
#define TC_HOST_H

#include "daemon.h"

#endif

/* pagerduty_peer.h: a strict fake of PagerDuty's Events API v2 on a test
 * peer (peer.h): it checks every request against
 * /work/shared/formats/pagerduty.md (POST /v2/enqueue, JSON, a 32-character
 * routing_key, event_action, dedup_key, the trigger's payload, links and
 * images, no unknown fields, at most 512 KB) and answers as PagerDuty
 * does: 202 {"status":"success","message":"Event processed","dedup_key":…},
 * 400 {"status":"invalid event","message":"Event object is invalid",
 * "errors":[…]}, 429 and 5xx with PagerDuty's bodies. Statuses, Retry-After,
 * delays and hangs come from peer_script(). Violations are the peer's. */
#ifndef TOCSIN_TEST_PAGERDUTY_PEER_H
#define TOCSIN_TEST_PAGERDUTY_PEER_H

#include "peer.h"

/* The error the 400 answer lists. */
#define PD_PEER_400_ERROR "Length of 'routing_key' is incorrect (should be 32 characters)"

/* Makes p a PagerDuty peer (before its first request), answering 202
 * unless scripted otherwise. */
void pagerduty_peer_attach(struct peer *p);

#endif

/* opsgenie_peer.h: a strict fake of Opsgenie's Alert API v2 on a test peer
 * (peer.h): it checks every request against /work/shared/formats/opsgenie.md
 * (Authorization: GenieKey, JSON, create on /v2/alerts with a message of at
 * most 130 characters and Opsgenie's other limits, acknowledge and close on
 * /v2/alerts/{alias}/... ?identifierType=alias with a percent-encoded alias
 * that was created before, no unknown fields) and answers as Opsgenie
 * does: 202 {"result":"Request will be processed","took":…,"requestId":…},
 * 400, 401, 404, 422, 429 (with X-RateLimit-* headers) and 5xx with
 * Opsgenie's bodies. Statuses, Retry-After, delays and hangs come from
 * peer_script(). Violations are the peer's. */
#ifndef TOCSIN_TEST_OPSGENIE_PEER_H
#define TOCSIN_TEST_OPSGENIE_PEER_H

#include "peer.h"

/* What the 400 answer says. */
#define OG_PEER_400_MESSAGE "Request body is not processable. Please check the errors."
#define OG_PEER_400_ERROR "Message can not be empty."

struct og_peer;

/* Makes p an Opsgenie peer (before its first request) answering 202
 * unless scripted otherwise; every request must carry api_key (NULL: any
 * key). Free with opsgenie_peer_free() after peer_free(p). */
struct og_peer *opsgenie_peer_attach(struct peer *p, const char *api_key);
void opsgenie_peer_free(struct og_peer *og);

#endif

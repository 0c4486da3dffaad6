/* format.h: the twilio sink's texts and request bodies: the SMS text, the
 * voice call's TwiML, the form encoding, number and SID checks, and the
 * reason a Twilio error answer gives. Pure: no I/O. */
#ifndef TC_TWILIO_FORMAT_H
#define TC_TWILIO_FORMAT_H

#include <stddef.h>
#include <tocsin/plugin.h>

#include "common.h"

/* Twilio's limits: a message Body of 1600 characters (error 21617), an
 * inline Twiml of 4000 (error 32018). */
#define TWILIO_SMS_MAX 1600
#define TWILIO_TWIML_MAX 4000

/* 1 when s is an E.164 number: '+', then 8 to 15 digits, the first 1-9. */
int twilio_e164_ok(const char *s);
/* 1 when s is an Account SID: "AC" and 32 hex digits. */
int twilio_account_sid_ok(const char *s);

/* Twilio's limits count UTF-16 code units (an emoji counts 2), as
 * tc_text_units() (lib/common.h) does. */

/* The SMS text of a notification, at most max units (TWILIO_SMS_MAX):
 *   trigger      "CRITICAL: summary\ndetails"
 *   acknowledge  "ACK by alice: summary"
 *   resolve      "RESOLVED by bob: summary\nNote: note"
 * ("[TEST] " first for --test-sink), then whole lines "\nRunbook: URL"
 * (triggers), "\nIncident 12: URL" (its page under external_url; without
 * one "\nIncident 12"; none for --test-sink) and "\nSource: URL" (triggers:
 * the generator link). Text that does not fit is cut on a character
 * boundary and ends in "…"; links are never cut: the last lines are left
 * out when they alone would leave the text less than 160 units. Control
 * characters become spaces, bytes that are not UTF-8 U+FFFD. malloc()ed,
 * NULL when out of memory or n has no alert. */
char *twilio_sms_text(const struct tocsin_notification *n, size_t max);

/* The TwiML that reads the summary twice on a voice call:
 * <Response><Say loop="2">Alert from tocsin. Critical: summary. Incident
 * 12.</Say></Response>, XML-escaped, at most max units (TWILIO_TWIML_MAX),
 * the summary cut (never inside an entity) with "…". malloc()ed, or NULL. */
char *twilio_call_twiml(const struct tocsin_notification *n, size_t max);

/* Appends "name=value" (with a leading '&' unless t is empty), both
 * percent-encoded as RFC 3986 says: all but A-Z a-z 0-9 - . _ ~ as %XX. */
void twilio_form_add(struct tc_text *t, const char *name, const char *value);

/* What a Twilio error answer says, for a verdict reason: "HTTP 400,
 * Twilio error 21211: The 'To' number ... is not a valid phone number."
 * from {"code": 21211, "message": "...", "more_info": "...", "status": 400};
 * 0 and out untouched when body is not such an answer. */
int twilio_error_text(long status, const char *body, char *out, size_t len);

#endif

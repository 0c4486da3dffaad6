/* incident_state.h: the incident state machine, pure: what an event does
 * to an incident in a state. No store, no I/O. */
#ifndef TC_INCIDENT_STATE_H
#define TC_INCIDENT_STATE_H

enum tc_state { TC_NONE = 0, TC_TRIGGERED, TC_ACKNOWLEDGED, TC_RESOLVED };
enum tc_event { TC_EV_FIRING, TC_EV_RESOLVED, TC_EV_ACK, TC_EV_RESOLVE };

/* What an event does to an incident in a state (TC_NONE: no open one). */
enum tc_effect {
    TC_OPEN,      /* a new incident: notify trigger */
    TC_REPEAT,    /* bump count and last-seen, notify nobody */
    TC_CLOSE,     /* resolve: notify resolve */
    TC_TAKE,      /* acknowledge: notify acknowledge */
    TC_IGNORE,    /* a resolved alert with nothing open: nothing to do */
    TC_CONFLICT,  /* a human action that does not apply (HTTP 409) */
};

enum tc_effect tc_incident_transition(enum tc_state state, enum tc_event event);
const char *tc_state_name(enum tc_state s);
enum tc_state tc_state_parse(const char *name); /* TC_NONE when unknown */

#endif

/* incident_state.c: the incident state machine (see incident_state.h). */
#include <string.h>

#include "incident_state.h"

enum tc_effect tc_incident_transition(enum tc_state state, enum tc_event event)
{
    int open = state == TC_TRIGGERED || state == TC_ACKNOWLEDGED;

    switch (event) {
    case TC_EV_FIRING:
        return open ? TC_REPEAT : TC_OPEN;
    case TC_EV_RESOLVED:
        return open ? TC_CLOSE : TC_IGNORE;
    case TC_EV_ACK:
        return state == TC_TRIGGERED ? TC_TAKE : TC_CONFLICT;
    case TC_EV_RESOLVE:
        return open ? TC_CLOSE : TC_CONFLICT;
    }
    return TC_CONFLICT;
}

const char *tc_state_name(enum tc_state s)
{
    switch (s) {
    case TC_TRIGGERED: return "triggered";
    case TC_ACKNOWLEDGED: return "acknowledged";
    case TC_RESOLVED: return "resolved";
    case TC_NONE: break;
    }
    return "none";
}

enum tc_state tc_state_parse(const char *name)
{
    if (!name)
        return TC_NONE;
    if (strcmp(name, "triggered") == 0)
        return TC_TRIGGERED;
    if (strcmp(name, "acknowledged") == 0)
        return TC_ACKNOWLEDGED;
    if (strcmp(name, "resolved") == 0)
        return TC_RESOLVED;
    return TC_NONE;
}

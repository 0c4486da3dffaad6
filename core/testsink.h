/* testsink.h: tocsind --test-sink ID. */
#ifndef TC_TESTSINK_H
#define TC_TESTSINK_H

#include "config.h"

/* Send a marked test trigger and its resolve through sink id, printing
 * each outcome and the provider's answer to stdout. 0 when both were
 * delivered, 1 when not, 2 when there is no such sink. */
int tc_test_sink(struct tc_config *cfg, const char *id);

#endif

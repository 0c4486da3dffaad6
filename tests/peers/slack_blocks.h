/* slack_blocks.h: what a strict fake Slack checks in a message (see
 * /work/shared/formats/slack.md): text or blocks present, at most 50 blocks,
 * known block types within their limits (header 150 plain_text, section
 * text 3,000, 10 fields of 2,000, context 10 elements, actions 25 elements,
 * buttons with plain_text of 75 and a url of 3,000, block_id 255 and
 * unique), colours #RRGGBB, and every text escaped: no raw & < > outside
 * the control sequences Slack knows (links, mentions, dates). */
#ifndef TOCSIN_TEST_SLACK_BLOCKS_H
#define TOCSIN_TEST_SLACK_BLOCKS_H

#include <jansson.h>
#include <stddef.h>

/* Called once per problem found, with a description. */
typedef void (*slack_problem_fn)(void *arg, const char *what);

/* Checks a message (chat.postMessage / chat.update / incoming webhook
 * body) and calls problem() for each violation; returns how many. */
int slack_check_message(const json_t *msg, slack_problem_fn problem, void *arg);

/* Checks one mrkdwn/plain text for escaping; returns problems found. */
int slack_check_text(const char *where, const char *text, slack_problem_fn problem, void *arg);

/* Characters (code points) of a UTF-8 string. */
size_t slack_chars(const char *s);

#endif

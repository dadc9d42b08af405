/* field_limits.h: the sizes of what clients write, one place for every call
 * (docs/protocol.md lists them). In bytes of UTF-8; a longer value is
 * refused INVALID_ARGUMENT naming the field and the limit. */
#ifndef WHISTLED_FIELD_LIMITS_H
#define WHISTLED_FIELD_LIMITS_H

#define TICKET_MAX 32        /* a case's ticket number, e.g. E2026112100042 */
#define NOTE_MAX 1000        /* a note on a step of the case or an order */
#define DESCRIPTION_MAX 4000 /* a case's or a task's description */
#define FEEDBACK_MAX 4000    /* what a department did */
#define COMMENT_MAX 500      /* a resident's comment with a rating */
#define CONTACT_MAX 64       /* the reporter's phone */
#define EXTERNAL_ID_MAX 64   /* the id of a case in a municipal system */
#define TITLE_MAX 200        /* a task's title */

#endif

/* city.h: whistle-city's subcommands (docs/federation.md). Each takes its
 * own arguments (after the subcommand's name) and the connection, and
 * returns the process's exit status: 0 done, 1 failed (a line on stderr),
 * 2 bad usage. */
#ifndef WHISTLE_CITY_H
#define WHISTLE_CITY_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#include "citynats.h"
#include "uitext.h" /* _(): whistle-city speaks through the CLI's catalogue (po/whistle) */

#define CITY_PROG "whistle-city"

int city_setup(city_conn *c, int argc, char **argv);
int city_place(city_conn *c, int argc, char **argv);
int city_unrouted(city_conn *c, int argc, char **argv);
int city_stats(city_conn *c, int argc, char **argv);
int city_orders(city_conn *c, int argc, char **argv);
int city_act(city_conn *c, int argc, char **argv); /* checkin, feedback */
int city_supervise(city_conn *c, int argc, char **argv);
int city_feed(city_conn *c, int argc, char **argv);
int city_events(city_conn *c, int argc, char **argv);
int city_admin(city_conn *c, int argc, char **argv); /* leader, delete-msg, dump, consumer */

/* Publishes data to subj with Nats-Msg-Id msgid, retrying (a leader
 * election, a reconnect) until JetStream acknowledges it or wait_ms has
 * passed. Returns 0 (*dup: JetStream already had it), or -1 with a line on
 * stderr. */
int city_publish(city_conn *c, const char *subj, const char *msgid, const void *data, size_t len, int64_t wait_ms,
                 bool *dup, uint64_t *stream_seq);

/* Binds a pull subscription to the existing durable consumer of stream,
 * retrying for up to wait_ms. */
int city_bind(city_conn *c, const char *stream, const char *consumer, int64_t wait_ms, natsSubscription **sub);

/* "whistle-city: " and the message (translated by the caller) on stderr. */
void city_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "usage: whistle-city SYNOPSIS" on stderr; returns 2. The synopsis names
 * options and words: the same in every language. */
int city_usage(const char *synopsis);

/* Prints j as one line on stdout and frees it; flushes. */
void city_print_json(json_t *j);

/* The protobuf message m as a JSON object (client/json/pbjson.c). */
json_t *city_pb_json(const ProtobufCMessage *m);

#endif

/* metrics.h: the Prometheus endpoint ([metrics] in the config).
 *
 * GET /metrics on its own address (127.0.0.1:9473 unless configured;
 * off unless [metrics] enabled = yes) answers the daemon's counters in
 * Prometheus's text exposition format, served by libh2o on whistled's
 * loop: the loop thread reads what it keeps itself (connections,
 * answers, pushes) and the writer's atomics (writer.h), so a scrape never
 * waits for the writer. docs/operations.md lists the series. */
#ifndef WHISTLED_METRICS_H
#define WHISTLED_METRICS_H

#include <stdint.h>
#include <stdio.h>

struct server;
typedef struct metrics metrics;

/* Binds [metrics] listen:port on the server's loop and stops with its
 * drain (server.on_drain). NULL with err when it cannot (the daemon then
 * does not start: monitoring that was asked for and is missing would go
 * unnoticed; the caller drains the server and runs the loop to the end).
 * main.c starts it after server_start. */
metrics *metrics_start(struct server *s, char *err, size_t errlen);
/* The bound port (for port = 0). */
int metrics_port(metrics *m);
/* After the loop has ended. */
void metrics_free(metrics *m);

#endif

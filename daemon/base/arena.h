/* arena.h: a bump allocator for one request's lifetime.
 *
 * Every record unpacked, every string built and every response assembled
 * while serving one request comes from one arena and is freed at once when
 * the reply has been packed. That keeps error paths free of per-field
 * cleanup: an error just drops the arena.
 *
 * base/ is the bottom layer: the arena, the log, the text checks, scopes,
 * ptr_vec, the field limits, the working calendar, CSV and the look-up
 * guard. It calls nothing of the daemon; every layer may call it. */
#ifndef WHISTLED_ARENA_H
#define WHISTLED_ARENA_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

typedef struct arena arena;

arena *arena_new(void);
void arena_free(arena *a);
/* Never returns NULL: out of memory stops the daemon (log_oom: it
 * cannot answer anything sensible without memory). Memory is zeroed, 16-byte aligned. */
void *arena_alloc(arena *a, size_t n);
char *arena_strdup(arena *a, const char *s);
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A protobuf-c allocator drawing from the arena (free is a no-op), for
 * protobuf_c_message_unpack(): the unpacked message lives as long as a. */
ProtobufCAllocator *arena_allocator(arena *a);

#endif

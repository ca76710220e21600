/* libcairn: the public C client API of cairn (see cairn_open(3), cairn_content_store(3),
 * cairn_rpc(3), cairn_future_then(3), cairn_pollfd(3)).
 * A handle is one connection to a broker; each request returns a future, whose answer is
 * read with a blocking _get or handed to a continuation run by cairn_dispatch(). Requests made
 * before the caller next waits (a _get, cairn_dispatch, cairn_pollevents) leave together, in
 * one batch. A handle and its futures belong to one thread. Failures return -1 or NULL with
 * errno set; cairn_future_error() gives the broker's text. Link with `pkg-config libcairn`. */
#ifndef CAIRN_CLIENT_H
#define CAIRN_CLIENT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_handle cairn_t;
typedef struct cairn_future cairn_future_t;
typedef void (*cairn_continuation_f)(cairn_future_t *f, void *arg);

/* Connects to `uri` (local or tcp://, as `cairn start` prints it), or to $CAIRN_URI when `uri`
 * is NULL. `flags` must be 0. Returns NULL with errno set when the URI is missing or malformed
 * (EINVAL), or the broker's socket is not there (ENOENT, ECONNREFUSED, EACCES, ...). */
cairn_t *cairn_open(const char *uri, int flags);
/* Closes the handle. Futures still alive stay valid until cairn_future_destroy(): a fulfilled
 * one keeps its answer; any other fails with ENOTCONN, and no continuation runs any more.
 * Requests not yet answered may or may not have reached the broker. Not from a continuation
 * of one of its futures. NULL is ignored. */
void cairn_close(cairn_t *h);
/* How long a blocking _get waits for an answer: seconds >= 0, or negative for no limit.
 * The default is $CAIRN_RPC_TIMEOUT (60 s when unset). -1, EINVAL for NaN. */
int cairn_set_timeout(cairn_t *h, double seconds);

/* content.store: `len` bytes at `data` (copied before return). The answer is a blobref. */
cairn_future_t *cairn_content_store(cairn_t *h, const void *data, size_t len);
/* The blobref (NUL-terminated, valid until the future is destroyed). Waits if need be. */
int cairn_content_store_get(cairn_future_t *f, const char **blobref);
/* content.load of `blobref` (e.g. "sha1-<40 hex>"). */
cairn_future_t *cairn_content_load(cairn_t *h, const char *blobref);
/* The blob (valid until the future is destroyed). Waits if need be. */
int cairn_content_load_get(cairn_future_t *f, const void **data, size_t *len);
/* content.missing: which of the `count` blobrefs neither the cache nor its backing store holds
 * (one request for all of them). -1 (NULL), EINVAL for an empty blobref or one with a newline. */
cairn_future_t *cairn_content_missing(cairn_t *h, const char *const *blobrefs, size_t count);
/* The missing blobrefs, in the order they were asked for: `*count` NUL-terminated strings at
 * `*blobrefs` (none: *count is 0), valid until the future is destroyed. Waits if need be. */
int cairn_content_missing_get(cairn_future_t *f, const char *const **blobrefs, size_t *count);
/* content.flush: answered once every blob stored before it is on the backing store. */
cairn_future_t *cairn_content_flush(cairn_t *h);
/* Any request: `topic` with `len` bytes of payload (copied before return). */
cairn_future_t *cairn_rpc(cairn_t *h, const char *topic, const void *payload, size_t len);
/* The answer's payload (valid until the future is destroyed; may be empty). Waits if need be.
 * Works on a future of any kind. */
int cairn_rpc_get(cairn_future_t *f, const void **payload, size_t *len);

/* Waits (at most the handle's timeout) until `f` is answered: 0, or -1 with errno set (the
 * broker's errno for a failed request, ETIMEDOUT when no answer came in time: the future stays
 * pending and may be waited for again). */
int cairn_future_get(cairn_future_t *f);
/* Runs cb(f, arg) once, from cairn_dispatch(), after `f` is answered (at the next dispatch if it
 * already is). A later call replaces an earlier one that has not run yet. -1, EINVAL for a NULL
 * cb; ENOTCONN when the handle is closed. */
int cairn_future_then(cairn_future_t *f, cairn_continuation_f cb, void *arg);
/* The text of the failure the last _get of `f` reported (the broker's text, or the library's
 * for a timeout or a closed handle); NULL if none did. Valid until the future is destroyed. */
const char *cairn_future_error(cairn_future_t *f);
/* Frees the future. Its answer, if it comes later, is dropped. NULL is ignored. */
void cairn_future_destroy(cairn_future_t *f);

/* A descriptor for the caller's own event loop: it becomes readable when an answer may have
 * come. It is edge-triggered: after it wakes, and after any other call on the handle, call
 * cairn_pollevents() (or cairn_dispatch()) before sleeping on it again. -1 with errno on error. */
int cairn_pollfd(cairn_t *h);
/* Sends queued requests; POLLIN when cairn_dispatch() has something to do now, else 0. */
int cairn_pollevents(cairn_t *h);
/* Sends queued requests, takes in every answer that has come and runs the continuations of
 * answered futures (and those their continuations make ready), without ever waiting. Returns
 * how many continuations ran, or -1 with errno. It returns once nothing is left to do. */
int cairn_dispatch(cairn_t *h);

#ifdef __cplusplus
}
#endif

#endif /* CAIRN_CLIENT_H */

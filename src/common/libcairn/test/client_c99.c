/* Compiled as C99 with -pedantic: <cairn/client.h> is plain C, and a C caller can store, load
 * and run a continuation. Called by client_c_test.cpp; returns 0 or the number of the step
 * that failed. */
#include <cairn/client.h>
#include <poll.h>
#include <string.h>

int c99_store_and_load(const char *uri);

static void count_call(cairn_future_t *f, void *arg) {
  (void)f;
  ++*(int *)arg;
}

int c99_store_and_load(const char *uri) {
  int rc = 0, calls = 0;
  const char *ref = NULL;
  const void *data = NULL;
  size_t len = 0;
  cairn_future_t *s = NULL, *l = NULL;
  cairn_t *h = cairn_open(uri, 0);
  if (!h) return 1;
  s = cairn_content_store(h, "from C", 6);
  if (!s || cairn_content_store_get(s, &ref) < 0) rc = 2;
  if (!rc && !(l = cairn_content_load(h, ref))) rc = 3;
  if (!rc && cairn_future_then(l, count_call, &calls) < 0) rc = 4;
  if (!rc && (cairn_content_load_get(l, &data, &len) < 0 || len != 6 || memcmp(data, "from C", 6)))
    rc = 5;
  if (!rc && (cairn_dispatch(h) != 1 || calls != 1)) rc = 6;
  cairn_future_destroy(l);
  cairn_future_destroy(s);
  cairn_close(h);
  return rc;
}

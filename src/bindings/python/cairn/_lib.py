"""libcairn through cffi in ABI mode: the declarations of <cairn/client.h> and the dlopen.

The library is looked for, in order, at $CAIRN_LIBCAIRN (a path), at the path recorded when
the package was built or installed (_paths.py), then as libcairn.so.0 in the dynamic linker's
search path (LD_LIBRARY_PATH, ld.so.conf).
"""
import os

import cffi

ffi = cffi.FFI()
# As <cairn/client.h>, with `const char *` for the byte buffers (the same ABI as `const void *`)
# so that bytes objects pass without a copy.
ffi.cdef(
    """
typedef struct cairn_handle cairn_t;
typedef struct cairn_future cairn_future_t;
typedef void (*cairn_continuation_f)(cairn_future_t *f, void *arg);
cairn_t *cairn_open(const char *uri, int flags);
void cairn_close(cairn_t *h);
int cairn_set_timeout(cairn_t *h, double seconds);
cairn_future_t *cairn_content_store(cairn_t *h, const char *data, size_t len);
int cairn_content_store_get(cairn_future_t *f, const char **blobref);
cairn_future_t *cairn_content_load(cairn_t *h, const char *blobref);
int cairn_content_load_get(cairn_future_t *f, const char **data, size_t *len);
cairn_future_t *cairn_content_missing(cairn_t *h, const char *const *blobrefs, size_t count);
int cairn_content_missing_get(cairn_future_t *f, const char *const **blobrefs, size_t *count);
cairn_future_t *cairn_content_flush(cairn_t *h);
cairn_future_t *cairn_rpc(cairn_t *h, const char *topic, const char *payload, size_t len);
int cairn_rpc_get(cairn_future_t *f, const char **payload, size_t *len);
int cairn_future_get(cairn_future_t *f);
int cairn_future_then(cairn_future_t *f, cairn_continuation_f cb, void *arg);
const char *cairn_future_error(cairn_future_t *f);
void cairn_future_destroy(cairn_future_t *f);
int cairn_pollfd(cairn_t *h);
int cairn_pollevents(cairn_t *h);
int cairn_dispatch(cairn_t *h);
"""
)


def _candidates():
    env = os.environ.get("CAIRN_LIBCAIRN")
    if env:
        yield env
    try:
        from . import _paths

        yield _paths.LIBCAIRN
    except ImportError:
        pass
    yield "libcairn.so.0"


def _open():
    tried = []
    for path in _candidates():
        try:
            return ffi.dlopen(path)
        except OSError as e:
            tried.append(f"{path}: {e}")
    raise ImportError(
        "cairn: cannot load libcairn.so.0 ("
        + "; ".join(tried)
        + "): install cairn (make install), or set CAIRN_LIBCAIRN to the library's path"
    )


lib = _open()

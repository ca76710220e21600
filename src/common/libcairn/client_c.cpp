// The C functions of <cairn/client.h>: argument checks, -1/NULL + errno, and the boundary that
// no C++ exception crosses (an allocation failure becomes ENOMEM). The work is in handle.cpp.
#include <cairn/client.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <exception>
#include <memory>
#include <new>

#include "libcairn/handle.hpp"

namespace {

using Kind = cairn_future::Kind;

// Runs `fn`, turning an exception into `failed` with errno ENOMEM (bad_alloc) or EIO.
template <typename Fn, typename R>
R guarded(R failed, Fn&& fn) noexcept {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    errno = ENOMEM;
  } catch (...) {
    errno = EIO;
  }
  return failed;
}

cairn_future_t* make_request(cairn_t* h, Kind kind, const char* topic, const void* data,
                             size_t len) {
  if (!h || !topic || (!data && len > 0)) {
    errno = EINVAL;
    return nullptr;
  }
  return guarded(static_cast<cairn_future_t*>(nullptr), [&] {
    return h->request(kind, topic, {static_cast<const char*>(data), data ? len : 0});
  });
}

// Waits for `f` if need be: 0 once it has a successful answer, else -1 with errno.
int settle(cairn_future_t* f) {
  if (!f) {
    errno = EINVAL;
    return -1;
  }
  return guarded(-1, [f] { return f->settle(); });
}

}  // namespace

extern "C" {

cairn_t* cairn_open(const char* uri, int flags) {
  if (flags != 0) {
    errno = EINVAL;
    return nullptr;
  }
  return guarded(static_cast<cairn_t*>(nullptr), [&]() -> cairn_t* {
    auto c = cairn::client::Client::connect(uri ? uri : "");
    if (!c) {
      errno = c.error().errnum ? c.error().errnum : EINVAL;
      return nullptr;
    }
    return std::make_unique<cairn_handle>(std::move(c).value()).release();
  });
}

void cairn_close(cairn_t* h) { std::unique_ptr<cairn_handle> owned(h); }

int cairn_set_timeout(cairn_t* h, double seconds) {
  if (!h || std::isnan(seconds)) {
    errno = EINVAL;
    return -1;
  }
  std::chrono::milliseconds t(-1);
  if (seconds >= 0 && seconds < 1e9) t = std::chrono::milliseconds(std::llround(seconds * 1000));
  h->set_timeout(t);
  return 0;
}

cairn_future_t* cairn_content_store(cairn_t* h, const void* data, size_t len) {
  return make_request(h, Kind::kStore, "content.store", data, len);
}

cairn_future_t* cairn_content_load(cairn_t* h, const char* blobref) {
  if (!blobref) {
    errno = EINVAL;
    return nullptr;
  }
  return make_request(h, Kind::kLoad, "content.load", blobref, std::strlen(blobref));
}

cairn_future_t* cairn_content_missing(cairn_t* h, const char* const* blobrefs, size_t count) {
  if (!h || (!blobrefs && count > 0)) {
    errno = EINVAL;
    return nullptr;
  }
  std::string payload;
  for (size_t i = 0; i < count; ++i) {
    // One blobref a line: an empty one, or one holding a newline, would change the list.
    if (!blobrefs[i] || !*blobrefs[i] || std::strchr(blobrefs[i], '\n')) {
      errno = EINVAL;
      return nullptr;
    }
    payload += blobrefs[i];
    payload += '\n';
  }
  return make_request(h, Kind::kMissing, "content.missing", payload.data(), payload.size());
}

cairn_future_t* cairn_content_flush(cairn_t* h) {
  return make_request(h, Kind::kFlush, "content.flush", nullptr, 0);
}

cairn_future_t* cairn_rpc(cairn_t* h, const char* topic, const void* payload, size_t len) {
  return make_request(h, Kind::kRpc, topic, payload, len);
}

int cairn_content_store_get(cairn_future_t* f, const char** blobref) {
  if (f && f->kind_ != Kind::kStore) {
    errno = EINVAL;
    return -1;
  }
  if (settle(f) < 0) return -1;
  if (blobref) *blobref = f->payload_.c_str();
  return 0;
}

int cairn_content_load_get(cairn_future_t* f, const void** data, size_t* len) {
  if (f && f->kind_ != Kind::kLoad) {
    errno = EINVAL;
    return -1;
  }
  if (settle(f) < 0) return -1;
  if (data) *data = f->payload_.data();
  if (len) *len = f->payload_.size();
  return 0;
}

int cairn_content_missing_get(cairn_future_t* f, const char* const** blobrefs, size_t* count) {
  if (f && f->kind_ != Kind::kMissing) {
    errno = EINVAL;
    return -1;
  }
  if (settle(f) < 0) return -1;
  if (!f->split_) {
    f->split_ = true;
    std::string& text = f->payload_;
    for (size_t at = 0; at < text.size();) {
      size_t end = text.find('\n', at);
      if (end == std::string::npos) end = text.size();
      if (end > at) f->lines_.push_back(text.data() + at);
      if (end < text.size()) text[end] = '\0';
      at = end + 1;
    }
  }
  if (blobrefs) *blobrefs = f->lines_.data();
  if (count) *count = f->lines_.size();
  return 0;
}

int cairn_rpc_get(cairn_future_t* f, const void** payload, size_t* len) {
  if (settle(f) < 0) return -1;
  if (payload) *payload = f->payload_.data();
  if (len) *len = f->payload_.size();
  return 0;
}

int cairn_future_get(cairn_future_t* f) { return settle(f); }

int cairn_future_then(cairn_future_t* f, cairn_continuation_f cb, void* arg) {
  if (!f || !cb) {
    errno = EINVAL;
    return -1;
  }
  if (!f->handle_) {
    errno = ENOTCONN;
    return -1;
  }
  return guarded(-1, [&] {
    f->handle_->then(f, cb, arg);
    return 0;
  });
}

const char* cairn_future_error(cairn_future_t* f) {
  return f && f->has_error_ ? f->error_.c_str() : nullptr;
}

void cairn_future_destroy(cairn_future_t* f) {
  if (!f) return;
  if (f->handle_) f->handle_->forget(f);
  std::unique_ptr<cairn_future> owned(f);
}

int cairn_pollfd(cairn_t* h) {
  if (!h) {
    errno = EINVAL;
    return -1;
  }
  return h->pollfd();
}

int cairn_pollevents(cairn_t* h) {
  if (!h) {
    errno = EINVAL;
    return -1;
  }
  return guarded(-1, [&] { return h->pollevents(); });
}

int cairn_dispatch(cairn_t* h) {
  if (!h) {
    errno = EINVAL;
    return -1;
  }
  return guarded(-1, [&] { return h->dispatch(); });
}

}  // extern "C"

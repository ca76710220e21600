// The C API of libstats (cairn/stats.h) for jobtap plugins: thin calls into the Context behind
// a cairn_stats_t. Exported with default visibility: plugins resolve these symbols from the
// executable, which must therefore be linked with -rdynamic (-Wl,--export-dynamic).
// Every function does nothing (or fails with EINVAL) for a NULL context or NULL name.
#include <cairn/stats.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>

#include "libstats/c_api.hpp"

void cairn::stats::detail::bind_c_api(cairn_stats& c, Context* ctx) { c.ctx = ctx; }

namespace {
// The C boundary's form of a Status: 0, or -1 with errno set (the text goes no further).
int c_status(const cairn::util::Status& status) {
  if (status) return 0;
  errno = status.error().errnum;
  return -1;
}
}  // namespace

#define CAIRN_STATS_EXPORT extern "C" __attribute__((visibility("default")))

CAIRN_STATS_EXPORT void cairn_stats_count(cairn_stats_t* s, const char* name, int64_t total) {
  if (s && s->ctx && name) s->ctx->count(name, total);
}

CAIRN_STATS_EXPORT void cairn_stats_counter_add(cairn_stats_t* s, const char* name, int64_t delta) {
  if (s && s->ctx && name) s->ctx->counter_add(name, delta);
}

CAIRN_STATS_EXPORT void cairn_stats_gauge_set(cairn_stats_t* s, const char* name, int64_t value) {
  if (s && s->ctx && name) s->ctx->gauge_set(name, value);
}

CAIRN_STATS_EXPORT void cairn_stats_gauge_inc(cairn_stats_t* s, const char* name, int64_t delta) {
  if (s && s->ctx && name) s->ctx->gauge_inc(name, delta);
}

CAIRN_STATS_EXPORT void cairn_stats_timing(cairn_stats_t* s, const char* name, double ms) {
  if (s && s->ctx && name) s->ctx->timing(name, ms);
}

CAIRN_STATS_EXPORT int cairn_stats_set_period(cairn_stats_t* s, double seconds) {
  if (!s || !s->ctx) {
    errno = EINVAL;
    return -1;
  }
  return c_status(s->ctx->set_period(seconds));
}

CAIRN_STATS_EXPORT int cairn_stats_set_prefix(cairn_stats_t* s, const char* fmt, ...) {
  if (!s || !s->ctx || !fmt) {
    errno = EINVAL;
    return -1;
  }
  char prefix[129];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  if (n < 0 || static_cast<size_t>(n) >= sizeof prefix) {
    errno = EINVAL;
    return -1;
  }
  return c_status(s->ctx->set_prefix(std::string_view(prefix, static_cast<size_t>(n))));
}

CAIRN_STATS_EXPORT bool cairn_stats_enabled(cairn_stats_t* s) {
  return s && s->ctx && s->ctx->enabled();
}

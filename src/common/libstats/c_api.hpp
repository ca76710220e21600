// The C API's context (cairn/stats.h): a view of one cairn::stats::Context, owned by it.
#pragma once

#include "libstats/stats.hpp"

struct cairn_stats {
  cairn::stats::Context* ctx = nullptr;
};

namespace cairn::stats::detail {
// Points `c` at `ctx`. Defined in stats_c.cpp and called by every Context, so that linking any
// Context from the static libstats also links the exported C functions plugins resolve.
void bind_c_api(cairn_stats& c, Context* ctx);
}  // namespace cairn::stats::detail

// The content module: the content cache (cache.hpp) served on the broker's topics
// content.store / load / flush / missing / dropcache / stats-get (doc/protocol.md), with the
// backing store content.backing names among those its program lists (the first is the default).
#pragma once

#include <memory>

#include "broker/module-api/module.hpp"
#include "modules/content-backing/backing_type.hpp"

namespace cairn::content {

// Reads the content.* configuration, opens the backing store, registers the services, the
// heartbeat (purge, gauges) and the shutdown flush. Throws std::runtime_error naming the key or
// path when the configuration is unusable or the backing store cannot be opened.
std::unique_ptr<broker::Module> create_module(broker::ModuleContext& ctx,
                                              const BackingTypes& backings);

// The content module's keys: content.* (content.backing chooses among `backings`, the first by
// default; not empty) and those of every backing store type in `backings` (e.g. rados.pool).
broker::ConfigKeys config_keys(const BackingTypes& backings);

}  // namespace cairn::content

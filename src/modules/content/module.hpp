// The content module: the content cache (cache.hpp) served on the broker's topics
// content.store / load / flush / dropcache / stats-get (doc/protocol.md), with the SQLite backing
// store (content.backing=sqlite, in <statedir>/content.sqlite) or none.
#pragma once

#include <memory>

#include "broker/module-api/module.hpp"

namespace cairn::content {

// Reads the content.* configuration, opens the backing store, registers the services, the
// heartbeat (purge, gauges) and the shutdown flush. Throws std::runtime_error naming the key or
// path when the configuration is unusable or the backing store cannot be opened.
std::unique_ptr<broker::Module> create_module(broker::ModuleContext& ctx);

// The content module's keys: content.* and those of every backing store type (e.g. rados.pool).
broker::ConfigKeys config_keys();

}  // namespace cairn::content

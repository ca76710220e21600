// The job-manager module: jobs (job_manager.hpp) and jobtap plugins (jobtap.hpp) served on the
// broker's topics job-manager.submit / list / wait and jobtap.load / list / remove
// (doc/protocol.md). Job output is stored with content.store through ModuleContext::call.
#pragma once

#include <memory>

#include "broker/module-api/module.hpp"

namespace cairn::job_manager {

// Registers the services and loads the plugins named by job-manager.plugins. Throws
// std::runtime_error naming the key when one of those plugins cannot be loaded.
std::unique_ptr<broker::Module> create_module(broker::ModuleContext& ctx);

// The job manager's keys: job-manager.plugins.
broker::ConfigKeys config_keys();

}  // namespace cairn::job_manager

// What the broker's program hands the broker: the modules to create at start-up, in order
// (destroyed in reverse), each with its factory and its configuration keys. The broker knows no
// module by name; the list is made by the program that runs it (src/cmd/broker_modules.cpp for
// cairn-broker, a test's own list for the unit tests).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "broker/module-api/config_key.hpp"
#include "broker/module-api/module.hpp"

namespace cairn::broker {

struct ModuleSpec {
  std::string name;
  // Creates the module; null or an exception: the broker does not start.
  std::function<std::unique_ptr<Module>(ModuleContext&)> factory;
  ConfigKeys config_keys;  // the module's own keys (and its backing stores'); empty: none
};

using ModuleSpecs = std::vector<ModuleSpec>;

// Every module's keys, in module order (what Config adds to the broker's own keys).
inline ConfigKeys module_config_keys(const ModuleSpecs& modules) {
  ConfigKeys keys;
  for (const auto& m : modules) keys.insert(keys.end(), m.config_keys.begin(), m.config_keys.end());
  return keys;
}

}  // namespace cairn::broker

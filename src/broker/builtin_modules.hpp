// The modules the broker creates at start-up, in order (destroyed in reverse).
#pragma once

#include <vector>

#include "broker/module-api/module.hpp"

namespace cairn::broker {

struct BuiltinModule {
  const char* name;
  ModuleFactory factory;
  ConfigKeysFn config_keys = nullptr;  // the module's own keys; null: it has none
};

const std::vector<BuiltinModule>& builtin_modules();

}  // namespace cairn::broker

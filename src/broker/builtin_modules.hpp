// The modules the broker creates at start-up, in order (destroyed in reverse).
#pragma once

#include <vector>

#include "broker/module.hpp"

namespace cairn::broker {

struct BuiltinModule {
  const char* name;
  ModuleFactory factory;
};

const std::vector<BuiltinModule>& builtin_modules();

}  // namespace cairn::broker

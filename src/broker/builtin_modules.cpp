// The list of built-in modules: one line per module, in start-up order, with its factory and
// its configuration keys. This list is all the broker knows of modules. A module adds its line
// here, includes its src/modules/<name>/module.hpp and links its .la into libbroker.
#include "broker/builtin_modules.hpp"

#include "modules/content/module.hpp"
#include "modules/job-manager/module.hpp"

namespace cairn::broker {

const std::vector<BuiltinModule>& builtin_modules() {
  static const std::vector<BuiltinModule> modules = {
      {"content", &content::create_module, &content::config_keys},
      {"job-manager", &job_manager::create_module, &job_manager::config_keys},
  };
  return modules;
}

}  // namespace cairn::broker

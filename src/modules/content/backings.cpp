// See backings.hpp.
#include "modules/content/backings.hpp"

namespace cairn::content {

BackingType none_backing_type() {
  return {"none", "memory only: no backing store, nothing survives the broker", nullptr,
          [](const BackingEnv&) -> util::Result<std::unique_ptr<Backing>> {
            return std::unique_ptr<Backing>();
          }};
}

const BackingType* find_backing_type(const BackingTypes& types, std::string_view name) {
  for (const auto& t : types)
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace cairn::content

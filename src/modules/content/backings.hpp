// The backing store types the content module itself provides (none), and the lookup of
// content.backing in the list the broker's program hands the module.
#pragma once

#include <string_view>

#include "modules/content-backing/backing_type.hpp"

namespace cairn::content {

// content.backing = none: the cache is all there is.
BackingType none_backing_type();
// The type named `name` in `types`, or null.
const BackingType* find_backing_type(const BackingTypes& types, std::string_view name);

}  // namespace cairn::content

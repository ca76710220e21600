// The backing stores the content module can use, one BackingType each (content.backing picks
// one by name). This list is all the content module knows of backing stores.
#pragma once

#include <string_view>
#include <vector>

#include "modules/content-backing/backing_type.hpp"

namespace cairn::content {

const std::vector<BackingType>& backing_types();
// The type named `name`, or null.
const BackingType* find_backing_type(std::string_view name);

}  // namespace cairn::content

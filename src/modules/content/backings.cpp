// The list of backing store types: one line each, sqlite (the default) first. A backing store
// adds its line here and its library to libcontent (src/modules/content/Makefile.inc). The list
// is explicit rather than filled by static constructors, which a static link would drop.
#include "modules/content/backings.hpp"

#include "config.h"  // HAVE_RADOS, HAVE_S3: the backing stores configure found libraries for
#include "modules/content-files/files_backing.hpp"
#include "modules/content-sqlite/sqlite_backing.hpp"
#if HAVE_RADOS
#include "modules/content-rados/rados_backing.hpp"
#endif
#if HAVE_S3
#include "modules/content-s3/s3_backing.hpp"
#endif

namespace cairn::content {

namespace {

// content.backing = none: the cache is all there is.
BackingType none_backing_type() {
  return {"none", "memory only: no backing store, nothing survives the broker", nullptr,
          [](const BackingEnv&) -> util::Result<std::unique_ptr<Backing>> {
            return std::unique_ptr<Backing>();
          }};
}

}  // namespace

const std::vector<BackingType>& backing_types() {
  static const std::vector<BackingType> types = {
    sqlite_backing_type(),
    none_backing_type(),
#if HAVE_RADOS
    rados_backing_type(),
#endif
    files_backing_type(),
#if HAVE_S3
    s3_backing_type(),
#endif
  };
  return types;
}

const BackingType* find_backing_type(std::string_view name) {
  for (const auto& t : backing_types())
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace cairn::content

// See broker_modules.hpp.
#include "cmd/broker_modules.hpp"

#include <memory>

#include "cmd/paths.hpp"
#include "config.h"  // HAVE_RADOS, HAVE_S3: the backing store modules configure could build
#include "modules/content-files/files_backing.hpp"
#include "modules/content-sqlite/sqlite_backing.hpp"
#include "modules/content/backing_module.hpp"
#include "modules/content/backings.hpp"
#include "modules/content/module.hpp"
#include "modules/job-manager/module.hpp"
#if HAVE_RADOS
#include "modules/content-rados/rados_module.hpp"
#endif
#if HAVE_S3
#include "modules/content-s3/s3_module.hpp"
#endif

namespace cairn::cmd {

namespace {

content::BackingTypes backing_types() {
  content::BackingTypes types = {content::sqlite_backing_type(), content::none_backing_type()};
#if HAVE_RADOS
  types.push_back(
      content::module_backing_type("rados", content::kRadosBackingHelp, &content::rados_config_keys,
                                   {module_dir("src/modules/content-rados"),
                                    content::kRadosModuleFile, "librados-dev", "librados2"}));
#endif
  types.push_back(content::files_backing_type());
#if HAVE_S3
  types.push_back(content::module_backing_type(
      "s3", content::kS3BackingHelp, &content::s3_config_keys,
      {module_dir("src/modules/content-s3"), content::kS3ModuleFile, "libs3-dev", "libs3-2"}));
#endif
  return types;
}

}  // namespace

broker::ModuleSpecs broker_modules() {
  auto backings = std::make_shared<const content::BackingTypes>(backing_types());
  return {
      {"content",
       [backings](broker::ModuleContext& ctx) { return content::create_module(ctx, *backings); },
       content::config_keys(*backings)},
      {"job-manager", &job_manager::create_module, job_manager::config_keys()},
  };
}

}  // namespace cairn::cmd

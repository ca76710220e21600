// backing-s3.so: the S3 backing store as a broker module (see s3_module.hpp).
#include "modules/content-s3/s3_module.hpp"

#include "config.h"  // PACKAGE_VERSION

extern "C" {
__attribute__((
    visibility("default"))) extern const cairn::content::BackingModuleExport cairn_backing_module;
const cairn::content::BackingModuleExport cairn_backing_module = {PACKAGE_VERSION,
                                                                  &cairn::content::open_s3_backing};
}

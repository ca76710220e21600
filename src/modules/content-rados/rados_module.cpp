// backing-rados.so: the RADOS backing store as a broker module (see rados_module.hpp).
#include "modules/content-rados/rados_module.hpp"

#include "config.h"  // PACKAGE_VERSION

extern "C" {
__attribute__((
    visibility("default"))) extern const cairn::content::BackingModuleExport cairn_backing_module;
const cairn::content::BackingModuleExport cairn_backing_module = {
    PACKAGE_VERSION, &cairn::content::open_rados_backing};
}

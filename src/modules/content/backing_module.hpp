// A backing store that lives in a broker module of its own (rados, s3): a shared object that
// is loaded with dlopen only when content.backing names it, so a broker that does not use it
// loads none of its libraries (librados, libs3), and a packager can ship it apart.
// Its keys are declared by the broker's program (they need none of its libraries), so that
// --help-config and -o checks know them whether or not the module is installed.
#pragma once

#include <string>

#include "modules/content-backing/backing_type.hpp"

namespace cairn::content {

struct BackingModuleFile {
  std::string dir;          // where the module is, unless $CAIRN_MODULE_DIR names another directory
  std::string file;         // its file name, e.g. "backing-rados.so"
  std::string build_needs;  // the package configure needs to build it, e.g. "librados-dev"
  std::string runtime_needs;  // the package it loads, e.g. "librados2"
};

// A BackingType whose open() loads `module` (dlopen, then its kBackingModuleSymbol) and opens
// the store through it; the module stays loaded while the Backing lives. A module that is not
// there, does not load, is not a backing store module or is of another cairn version is an
// Error that names the file and the package to install.
BackingType module_backing_type(std::string name, std::string help,
                                broker::ConfigKeysFn config_keys, BackingModuleFile module);

}  // namespace cairn::content

// cairn-broker's composition root: which modules the broker runs, in start-up order, and which
// backing stores the content module can choose from. This list is all the broker knows of
// modules; libbroker includes none of them. A module adds its line in broker_modules.cpp and
// its library to src/cmd/Makefile.inc.
#pragma once

#include "broker/module_spec.hpp"

namespace cairn::cmd {

// content (its backing stores: sqlite, the default; none; rados; files; s3 — rados and s3 as
// broker modules loaded only when configured) and job-manager.
broker::ModuleSpecs broker_modules();

}  // namespace cairn::cmd

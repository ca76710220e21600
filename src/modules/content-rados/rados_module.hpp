// content.backing = rados as the broker's program sees it: its help and keys (rados.pool,
// rados.namespace, rados.conf, rados.user, rados.connect-timeout, rados.op-timeout), built into
// the program, and the module backing-rados.so, which the content module loads only when
// content.backing = rados (content/backing_module.hpp) and which alone links librados.
#pragma once

#include <memory>

#include "broker/module-api/config_key.hpp"
#include "libutil/result.hpp"
#include "modules/content-backing/backing_type.hpp"

namespace cairn::content {

inline constexpr char kRadosBackingHelp[] =
    "a Ceph RADOS pool shared by brokers on many nodes: rados.*";
inline constexpr char kRadosModuleFile[] = "backing-rados.so";

broker::ConfigKeys rados_config_keys();

// In the module (rados_backing.cpp): connects to the cluster and opens the pool.
util::Result<std::unique_ptr<Backing>> open_rados_backing(const BackingEnv& env);

}  // namespace cairn::content

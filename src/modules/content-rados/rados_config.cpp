// The rados backing store's keys (see rados_module.hpp): built into the broker's program,
// which needs them whether or not the module is installed, so they need nothing of librados.
#include "modules/content-rados/rados_module.hpp"

namespace cairn::content {

broker::ConfigKeys rados_config_keys() {
  using broker::ConfigKey;
  return {
      ConfigKey::string("rados.pool", "",
                        "RADOS pool holding the blobs, one object each, named by blobref "
                        "(required with content.backing = rados; it must exist)"),
      ConfigKey::string("rados.namespace", "",
                        "namespace inside rados.pool; empty: the pool's default namespace"),
      ConfigKey::string("rados.conf", "",
                        "ceph.conf of the cluster; empty: librados' default ($CEPH_CONF, else "
                        "/etc/ceph/ceph.conf, ~/.ceph/config, ./ceph.conf)"),
      ConfigKey::string("rados.user", "admin",
                        "Ceph client the broker connects as: an id (admin) or a name "
                        "(client.admin); its keyring is found through ceph.conf"),
      ConfigKey::integer("rados.connect-timeout", 10, 1, 3600,
                         "seconds `cairn start` waits for the cluster's monitors before it fails"),
      ConfigKey::integer("rados.op-timeout", 30, 1, 86400,
                         "seconds before a RADOS read or write fails with ETIMEDOUT (a failed "
                         "write stays dirty and is retried)"),
  };
}

}  // namespace cairn::content

// The s3 backing store's keys (see s3_module.hpp): built into the broker's program, which
// needs them whether or not the module is installed, so they need nothing of libs3.
#include "modules/content-s3/s3_module.hpp"

namespace cairn::content {

broker::ConfigKeys s3_config_keys() {
  using broker::ConfigKey;
  return {
      ConfigKey::string("s3.endpoint", "",
                        "S3 service host:port, e.g. a radosgw (required with content.backing = "
                        "s3)"),
      ConfigKey::string("s3.bucket", "",
                        "bucket holding the blobs, one object each, named by blobref (required "
                        "with content.backing = s3)"),
      ConfigKey::string("s3.credentials", "",
                        "file with the lines access_key=... and secret_key=... (required with "
                        "content.backing = s3)"),
      ConfigKey::choice("s3.protocol", "http", {"http", "https"},
                        "http, or https (encrypted; libs3 does not verify the certificate)"),
      ConfigKey::integer("s3.threads", 4, 1, 64, "S3 requests in flight at once"),
      ConfigKey::number("s3.timeout", 30.0, 0, 3600,
                        "seconds an S3 request may go without progress before it fails")
          .above_min(),
  };
}

}  // namespace cairn::content

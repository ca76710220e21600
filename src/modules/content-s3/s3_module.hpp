// content.backing = s3 as the broker's program sees it: its help and keys (s3.endpoint,
// s3.bucket, s3.credentials, s3.protocol, s3.threads, s3.timeout), built into the program, and
// the module backing-s3.so, which the content module loads only when content.backing = s3
// (content/backing_module.hpp) and which alone links libs3.
#pragma once

#include <memory>

#include "broker/module-api/config_key.hpp"
#include "libutil/result.hpp"
#include "modules/content-backing/backing_type.hpp"

namespace cairn::content {

inline constexpr char kS3BackingHelp[] = "one object per blob in s3.bucket at s3.endpoint (libs3)";
inline constexpr char kS3ModuleFile[] = "backing-s3.so";

broker::ConfigKeys s3_config_keys();

// In the module (s3_backing.cpp): checks the keys, reads the credentials, starts the workers.
util::Result<std::unique_ptr<Backing>> open_s3_backing(const BackingEnv& env);

}  // namespace cairn::content

// RadosIo through librados' C API (see librados_io.hpp).
#include "modules/content-rados/librados_io.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace cairn::content {

namespace {

// A librados option's value as a number, or `fallback` if it has none that parses.
uint64_t conf_number(rados_t cluster, const char* option, uint64_t fallback) {
  char value[32];
  if (rados_conf_get(cluster, option, value, sizeof value) != 0) return fallback;
  char* end = nullptr;
  unsigned long long v = std::strtoull(value, &end, 10);
  return end != value && *end == '\0' && v > 0 ? v : fallback;
}

}  // namespace

std::string LibradosIo::conf_source(const std::string& conf) {
  if (!conf.empty()) return conf;
  if (const char* env = std::getenv("CEPH_CONF"); env && *env)
    return fmt::format("{} (from $CEPH_CONF; rados.conf is empty)", env);
  return "librados' default ceph.conf (/etc/ceph/ceph.conf, ~/.ceph/config or ./ceph.conf; "
         "rados.conf is empty)";
}

util::Result<std::unique_ptr<LibradosIo>> LibradosIo::connect(const RadosSettings& s) {
  std::string name = s.user.find('.') == std::string::npos ? "client." + s.user : s.user;
  std::string source = conf_source(s.conf);
  auto failed = [&](int r, std::string what) {
    return util::Error{-r, fmt::format("{}: {}", what, std::strerror(-r))};
  };

  rados_t raw = nullptr;
  int r = rados_create2(&raw, "ceph", name.c_str(), 0);
  if (r < 0) return failed(r, fmt::format("cannot create a RADOS client as {}", name));
  RadosCluster cluster(raw);

  r = rados_conf_read_file(raw, s.conf.empty() ? nullptr : s.conf.c_str());
  if (r < 0 && s.conf.empty()) {
    return util::Error{-r, fmt::format("cannot read {}: {}; set rados.conf to the cluster's "
                                       "ceph.conf",
                                       source, std::strerror(-r))};
  }
  if (r < 0) return failed(r, fmt::format("cannot read the Ceph configuration {}", source));
  r = rados_conf_parse_env(raw, nullptr);  // CEPH_ARGS, as Ceph's own tools honour it
  if (r < 0) return failed(r, "cannot parse CEPH_ARGS");
  // Our timeouts win over ceph.conf: librados waits forever for an OSD by default, and a
  // cache must see a dead cluster as an error it can retry, not a hang.
  std::string connect_timeout = std::to_string(s.connect_timeout);
  std::string op_timeout = std::to_string(s.op_timeout);
  const std::pair<const char*, const std::string&> options[] = {
      {"client_mount_timeout", connect_timeout},
      {"rados_mon_op_timeout", connect_timeout},
      {"rados_osd_op_timeout", op_timeout},
  };
  for (const auto& [option, value] : options) {
    r = rados_conf_set(raw, option, value.c_str());
    if (r < 0) return failed(r, fmt::format("cannot set librados' {} to {}", option, value));
  }

  r = rados_connect(raw);
  if (r < 0) {
    return failed(r, fmt::format("cannot connect to the Ceph cluster of {} as {} (within "
                                 "rados.connect-timeout = {} s)",
                                 source, name, s.connect_timeout));
  }

  rados_ioctx_t ioctx_raw = nullptr;
  r = rados_ioctx_create(raw, s.pool.c_str(), &ioctx_raw);
  if (r == -ENOENT) {
    return util::Error{ENOENT, fmt::format("the RADOS pool {} (rados.pool) does not exist in the "
                                           "cluster of {}: create it (ceph osd pool create {})",
                                           s.pool, source, s.pool)};
  }
  if (r < 0) return failed(r, fmt::format("cannot open the RADOS pool {} (rados.pool)", s.pool));
  RadosIoctx ioctx(ioctx_raw);
  rados_ioctx_set_namespace(ioctx_raw, s.nspace.empty() ? nullptr : s.nspace.c_str());

  RadosLimits limits;
  limits.max_write = std::min(conf_number(raw, "osd_max_write_size", 90) << 20,
                              conf_number(raw, "osd_max_object_size", uint64_t{128} << 20));
  limits.inflight_bytes = conf_number(raw, "objecter_inflight_op_bytes", limits.inflight_bytes);
  limits.inflight_ops = conf_number(raw, "objecter_inflight_ops", limits.inflight_ops);
  return std::make_unique<LibradosIo>(Key{}, std::move(cluster), std::move(ioctx), limits);
}

LibradosIo::LibradosIo(Key, RadosCluster cluster, RadosIoctx ioctx, RadosLimits limits)
    : cluster_(std::move(cluster)), ioctx_(std::move(ioctx)), limits_(limits) {}

LibradosIo::~LibradosIo() {
  // An operation already finished is no longer known to librados: cancelling it does nothing.
  for (auto& [p, aio] : live_) rados_aio_cancel(ioctx_.get(), aio->completion.get());
  for (auto& [p, aio] : live_) rados_aio_wait_for_complete_and_cb(aio->completion.get());
  live_.clear();
}

void LibradosIo::on_complete(rados_completion_t c, void* arg) {
  auto* aio = static_cast<Aio*>(arg);
  int result = rados_aio_get_return_value(c);
  if (aio->read_op && result >= 0) {
    if (aio->stat_rval < 0)
      result = aio->stat_rval;
    else if (aio->read_rval < 0)
      result = aio->read_rval;
    else
      result = static_cast<int>(aio->bytes_read);
  }
  aio->done(result);
  LibradosIo* owner = aio->owner;
  std::lock_guard lock(owner->mutex_);
  owner->finished_.push_back(aio);  // the last touch: the reactor thread may free it next
}

LibradosIo::Aio* LibradosIo::start(RadosDone& done) {
  reap();
  auto aio = std::make_unique<Aio>();
  aio->owner = this;
  aio->done = std::move(done);
  rados_completion_t c = nullptr;
  int r = rados_aio_create_completion2(aio.get(), &LibradosIo::on_complete, &c);
  if (r < 0) {
    aio->done(r);
    return nullptr;
  }
  aio->completion.reset(c);
  Aio* p = aio.get();
  live_.emplace(p, std::move(aio));
  return p;
}

void LibradosIo::fail(Aio* aio, int result) {
  RadosDone done = std::move(aio->done);
  live_.erase(aio);  // its callback will never run: librados did not take the operation
  done(result);
}

void LibradosIo::reap() {
  {
    std::lock_guard lock(mutex_);
    reaping_.swap(finished_);
  }
  for (Aio* aio : reaping_) live_.erase(aio);
  reaping_.clear();
}

void LibradosIo::write_full(const char* oid, std::string_view data, RadosDone done) {
  Aio* aio = start(done);
  if (!aio) return;
  // librados copies `data` into its own buffer before returning.
  int r = rados_aio_write_full(ioctx_.get(), oid, aio->completion.get(), data.data(), data.size());
  if (r < 0) fail(aio, r);
}

void LibradosIo::read(const char* oid, uint64_t offset, char* buf, size_t len,
                      uint64_t* object_size, RadosDone done) {
  if (len > INT_MAX) {
    done(-EINVAL);
    return;
  }
  Aio* aio = start(done);
  if (!aio) return;
  int r;
  if (object_size) {
    // One round trip for the size and the first bytes; the op stays with the Aio until reaped.
    aio->read_op.reset(rados_create_read_op());
    if (!aio->read_op) {
      fail(aio, -ENOMEM);
      return;
    }
    rados_read_op_stat(aio->read_op.get(), object_size, nullptr, &aio->stat_rval);
    rados_read_op_read(aio->read_op.get(), offset, len, buf, &aio->bytes_read, &aio->read_rval);
    r = rados_aio_read_op_operate(aio->read_op.get(), ioctx_.get(), aio->completion.get(), oid,
                                  LIBRADOS_OPERATION_NOFLAG);
  } else {
    r = rados_aio_read(ioctx_.get(), oid, aio->completion.get(), buf, len, offset);
  }
  if (r < 0) fail(aio, r);
}

void LibradosIo::stat(const char* oid, RadosDone done) {
  Aio* aio = start(done);
  if (!aio) return;
  int r =
      rados_aio_stat(ioctx_.get(), oid, aio->completion.get(), &aio->stat_size, &aio->stat_mtime);
  if (r < 0) fail(aio, r);
}

}  // namespace cairn::content

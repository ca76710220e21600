// The RADOS backing store (see rados_backing.hpp) and the open() that connects through
// librados (its keys are in rados_config.cpp).
#include "modules/content-rados/rados_backing.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <utility>

#include "modules/content-rados/librados_io.hpp"

namespace cairn::content {

util::Result<std::unique_ptr<Backing>> open_rados_backing(const BackingEnv& env) {
  const broker::ConfigValues& config = env.config;
  RadosSettings s;
  s.pool = config.string("rados.pool");
  s.nspace = config.string("rados.namespace");
  s.conf = config.string("rados.conf");
  s.user = config.string("rados.user");
  s.connect_timeout = config.integer("rados.connect-timeout");
  s.op_timeout = config.integer("rados.op-timeout");
  if (s.pool.empty()) {
    return util::Error{EINVAL,
                       "rados.pool is not set: name the (existing) RADOS pool that holds the "
                       "blobs, e.g. -o rados.pool=cairn"};
  }
  auto io = LibradosIo::connect(s);
  if (!io) return io.error();
  env.log(broker::Level::kInfo,
          fmt::format("content: blobs are in RADOS pool {}{} of the cluster of {}", s.pool,
                      s.nspace.empty() ? "" : ", namespace " + s.nspace,
                      LibradosIo::conf_source(s.conf)));
  RadosSizes sizes;
  sizes.max_blob = static_cast<uint64_t>(config.integer("content.blob-size-limit"));
  const RadosLimits& limits = io.value()->limits();
  sizes.max_write = limits.max_write;
  sizes.inflight_bytes = limits.inflight_bytes;
  sizes.inflight_ops = limits.inflight_ops;
  if (sizes.max_blob > sizes.max_write) {
    env.log(broker::Level::kNotice,
            fmt::format("content: content.blob-size-limit ({} bytes) is larger than the largest "
                        "RADOS write (osd_max_write_size, {} bytes): larger blobs are kept in "
                        "memory but can never be flushed (EFBIG); lower content.blob-size-limit",
                        sizes.max_blob, sizes.max_write));
  }
  std::string location = "RADOS pool " + s.pool;
  if (!s.nspace.empty()) location += ", namespace " + s.nspace;
  return std::unique_ptr<Backing>(
      std::make_unique<RadosBacking>(env.loop, std::move(io).value(), sizes, location));
}

RadosBacking::RadosBacking(reactor::Loop& loop, std::unique_ptr<RadosIo> io, RadosSizes sizes,
                           std::string location)
    : sizes_(sizes),
      location_(std::move(location)),
      async_(loop, [this](reactor::Async&) { deliver(); }),
      io_(std::move(io)) {
  async_.start();
}

RadosBacking::~RadosBacking() {
  io_.reset();  // cancels and waits: no done_for() callback runs after this line
  // Results not yet delivered, and the callbacks in ops_, are dropped uncalled.
}

RadosBacking::Op& RadosBacking::add(const util::Digest& key, uint64_t* id) {
  *id = next_id_++;
  Op& op = ops_[*id];  // a node of its own: its address (and its oid's) is stable
  util::blobref_format(key, op.oid.data());  // the rest of oid is zero: NUL-terminated
  return op;
}

RadosDone RadosBacking::done_for(uint64_t id) {
  return [this, id](int result) {
    {
      std::lock_guard lock(mutex_);
      finished_.push_back({id, result});
    }
    async_.send();
  };
}

void RadosBacking::store(const util::Digest& key, std::string_view data, StoreCallback cb) {
  uint64_t id;
  Op& op = add(key, &id);
  op.stored = std::move(cb);
  if (data.size() > sizes_.max_write) return done_for(id)(-EFBIG);  // delivered later
  op.blob = data;
  op.step = data.size();
  submit(id, op);
}

void RadosBacking::load(const util::Digest& key, LoadCallback cb) {
  uint64_t id;
  Op& op = add(key, &id);
  op.is_load = true;
  op.loaded = std::move(cb);
  if (spare_buffers_.empty()) {
    op.data = std::make_unique_for_overwrite<char[]>(sizes_.first_read);
  } else {
    op.data = std::move(spare_buffers_.back());
    spare_buffers_.pop_back();
  }
  op.capacity = sizes_.first_read;
  op.step = sizes_.first_read;
  submit(id, op);
}

void RadosBacking::exists(const util::Digest& key, ExistsCallback cb) {
  uint64_t id;
  Op& op = add(key, &id);
  op.is_exists = true;
  op.stored = std::move(cb);
  op.step = 0;  // moves no data: it counts as an operation only
  submit(id, op);
}

std::string RadosBacking::describe(const util::Digest& key) const {
  return "object " + util::blobref_format(key) + " in " + location_;
}

util::Error RadosBacking::failure(const Op& op, int errnum) const {
  const char* what = op.is_load ? "read" : op.is_exists ? "stat" : "write";
  std::string why = std::strerror(errnum);
  if (errnum == ETIMEDOUT) {
    why += " (no answer within rados.op-timeout)";
  } else if (errnum == EFBIG && op.is_load) {
    why += fmt::format(" (the object's {} bytes exceed content.blob-size-limit, {} bytes)", op.size,
                       sizes_.max_blob);
  } else if (errnum == EFBIG) {
    why += fmt::format(" (larger than the largest RADOS write, osd_max_write_size: {} bytes)",
                       sizes_.max_write);
  }
  return util::Error{errnum, fmt::format("rados: cannot {} object {} in {}: {}", what,
                                         op.oid.data(), location_, why)};
}

void RadosBacking::submit(uint64_t id, Op& op) {
  if (waiting_.empty() && fits(op.step))
    start(id, op);
  else
    waiting_.push_back(id);  // in order: a large operation is not overtaken forever
}

bool RadosBacking::fits(size_t step) const {
  if (inflight_ops_ == 0) return true;  // alone, even over the byte budget, as librados allows
  return inflight_ops_ < sizes_.inflight_ops && inflight_bytes_ + step <= sizes_.inflight_bytes;
}

void RadosBacking::start(uint64_t id, Op& op) {
  op.in_flight = true;
  inflight_ops_++;
  inflight_bytes_ += op.step;
  if (op.is_exists) {
    io_->stat(op.oid.data(), done_for(id));
  } else if (!op.is_load) {
    io_->write_full(op.oid.data(), op.blob, done_for(id));
  } else {
    // The first read also fetches the object's size.
    io_->read(op.oid.data(), op.have, op.data.get() + op.have, op.step,
              op.sized ? nullptr : &op.size, done_for(id));
  }
}

void RadosBacking::start_waiting() {
  while (!waiting_.empty()) {
    auto it = ops_.find(waiting_.front());
    if (it == ops_.end()) {  // cannot happen: a waiting request has nothing in flight
      waiting_.pop_front();
      continue;
    }
    if (!fits(it->second.step)) return;
    waiting_.pop_front();
    start(it->first, it->second);
  }
}

void RadosBacking::deliver() {
  {
    std::lock_guard lock(mutex_);
    delivering_.swap(finished_);
  }
  for (const Finished& f : delivering_) {
    auto it = ops_.find(f.id);
    if (it == ops_.end()) continue;  // cannot happen: an operation ends once
    Op& op = it->second;
    if (op.in_flight) {  // (a store refused before it started never was)
      op.in_flight = false;
      inflight_ops_--;
      inflight_bytes_ -= op.step;
    }
    if (!op.is_load) {  // a store or an exists
      StoreCallback cb = std::move(op.stored);
      util::Status status;
      if (f.result < 0) status = failure(op, -f.result);
      ops_.erase(it);
      cb(status);
    } else {
      loaded(it, f.result);
    }
  }
  delivering_.clear();
  start_waiting();
}

void RadosBacking::loaded(std::unordered_map<uint64_t, Op>::iterator it, int result) {
  Op& op = it->second;
  if (result < 0) return finish_load(it, -result);
  if (!op.sized) {
    // The first read: the object's size came with it.
    op.sized = true;
    if (op.size > sizes_.max_blob) return finish_load(it, EFBIG);
  } else if (result == 0) {
    return finish_load(it, EIO);  // ended before its size: the object changed under us
  }
  op.have += static_cast<uint64_t>(result);
  if (op.have >= op.size) {
    op.have = op.size;
    return finish_load(it, 0);
  }
  if (op.capacity < op.size) {
    try {
      // No read into the buffer is outstanding now.
      auto larger = std::make_unique_for_overwrite<char[]>(op.size);
      std::memcpy(larger.get(), op.data.get(), op.have);
      op.data = std::move(larger);
      op.capacity = op.size;
    } catch (const std::bad_alloc&) {
      return finish_load(it, ENOMEM);
    }
  }
  op.step = static_cast<size_t>(std::min<uint64_t>(sizes_.read_chunk, op.size - op.have));
  submit(it->first, op);
}

void RadosBacking::finish_load(std::unordered_map<uint64_t, Op>::iterator it, int errnum) {
  LoadCallback cb = std::move(it->second.loaded);
  std::unique_ptr<char[]> data = std::move(it->second.data);  // lives through the call
  util::Result<std::string_view> blob = std::string_view(data.get(), it->second.have);
  if (errnum != 0) blob = failure(it->second, errnum);
  bool reusable = it->second.capacity == sizes_.first_read;
  ops_.erase(it);
  cb(blob);
  if (reusable && spare_buffers_.size() < kSpareBuffers) spare_buffers_.push_back(std::move(data));
}

}  // namespace cairn::content

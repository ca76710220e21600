// cairn::content::LibradosIo: RadosIo through librados' C API (rados/librados.h): one cluster
// handle and one I/O context (pool and namespace), every operation a rados_aio_* call whose
// completion runs on a librados thread.
// Invariants: operations are started, reaped and cancelled on one thread (the reactor's); a
// completion handle is released only on that thread, after its callback has handed the result
// on, so cancelling or waiting never touches a released handle; destruction cancels every
// operation still in flight, waits for every callback, and only then closes the I/O context
// and shuts the cluster handle down.
#pragma once

#include <rados/librados.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "libutil/result.hpp"
#include "modules/content-rados/rados_io.hpp"

namespace cairn::content {

// Where and as whom to connect (the rados.* keys).
struct RadosSettings {
  std::string conf;              // a ceph.conf; empty: librados' default search
  std::string user;              // client id ("admin") or name ("client.admin")
  std::string pool;              // must exist
  std::string nspace;            // empty: the pool's default namespace
  int64_t connect_timeout = 10;  // seconds, for the monitors at connect
  int64_t op_timeout = 30;       // seconds, for each OSD operation (librados' default: none)
};

// What this client's librados takes, as its configuration has them (ceph.conf, else Ceph's
// defaults).
struct RadosLimits {
  // The largest object one write may carry: the smaller of osd_max_write_size (90 MiB) and
  // osd_max_object_size (128 MiB). The OSDs refuse a larger write, but only once they have
  // received it (EMSGSIZE).
  uint64_t max_write = uint64_t{90} << 20;
  // objecter_inflight_op_bytes (100 MiB) and objecter_inflight_ops (1024): past them an aio
  // call blocks its caller until operations in flight finish.
  uint64_t inflight_bytes = uint64_t{100} << 20;
  uint64_t inflight_ops = 1024;
};

// Owning wrappers of librados' handles (each a void*).
struct RadosClusterShutdown {
  void operator()(void* cluster) const { rados_shutdown(cluster); }
};
using RadosCluster = std::unique_ptr<void, RadosClusterShutdown>;
struct RadosIoctxDestroy {
  void operator()(void* ioctx) const { rados_ioctx_destroy(ioctx); }
};
using RadosIoctx = std::unique_ptr<void, RadosIoctxDestroy>;
struct RadosCompletionRelease {
  void operator()(void* c) const { rados_aio_release(c); }
};
using RadosCompletion = std::unique_ptr<void, RadosCompletionRelease>;
struct RadosReadOpRelease {
  void operator()(void* op) const { rados_release_read_op(op); }
};
using RadosReadOp = std::unique_ptr<void, RadosReadOpRelease>;

class LibradosIo : public RadosIo {
 public:
  // Connects (blocking, at most about connect_timeout seconds) and opens the pool. An Error
  // names the config file, the user or the pool at fault and librados' reason.
  static util::Result<std::unique_ptr<LibradosIo>> connect(const RadosSettings& settings);
  ~LibradosIo() override;

  void write_full(const char* oid, std::string_view data, RadosDone done) override;
  void read(const char* oid, uint64_t offset, char* buf, size_t len, uint64_t* object_size,
            RadosDone done) override;
  void stat(const char* oid, RadosDone done) override;

  const RadosLimits& limits() const { return limits_; }

  // Where the configuration came from, for messages: the file, or librados' default search.
  static std::string conf_source(const std::string& conf);

 private:
  // One operation, from its start until it is reaped after its callback.
  struct Aio {
    LibradosIo* owner = nullptr;
    RadosDone done;
    RadosCompletion completion;
    RadosReadOp read_op;  // a read that also stats the object
    size_t bytes_read = 0;
    int read_rval = 0;
    int stat_rval = 0;
    uint64_t stat_size = 0;  // a stat's answers (unused, but librados writes them)
    time_t stat_mtime = 0;
  };
  struct Key {};  // lets only connect() construct

 public:
  LibradosIo(Key, RadosCluster cluster, RadosIoctx ioctx, RadosLimits limits);

 private:
  static void on_complete(rados_completion_t c, void* arg);  // on a librados thread
  Aio* start(RadosDone& done);      // a new Aio with its completion, or null after done(-errno)
  void fail(Aio* aio, int result);  // an operation that could not be started
  void reap();                      // frees the Aios whose callbacks have run

  RadosCluster cluster_;
  RadosIoctx ioctx_;  // after cluster_: closed before the cluster shuts down
  RadosLimits limits_;
  std::unordered_map<Aio*, std::unique_ptr<Aio>> live_;  // started, not yet reaped
  std::mutex mutex_;                                     // guards finished_
  std::vector<Aio*> finished_;  // callbacks done, filled on librados threads
  std::vector<Aio*> reaping_;   // reap()'s buffer, kept to avoid allocating each time
};

}  // namespace cairn::content

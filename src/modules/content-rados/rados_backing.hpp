// cairn::content::RadosBacking: the content cache's backing store in a Ceph RADOS pool, one
// object per blob named by its blobref (content.backing = rados; see cairn.toml(5)). Brokers on
// many nodes configured with the same pool share every blob one of them has flushed.
// The RADOS operations themselves are a RadosIo's (librados in LibradosIo, a fake in the unit
// tests); this class keeps the table of requests, reads a blob in as many reads as its size
// needs, keeps the operations in flight within librados' own budget (an aio call over that
// budget would block the reactor until others finish), and hands each result to the reactor
// thread through one reactor::Async.
// Invariants: ops_, waiting_ and the in-flight totals are touched only on the reactor thread;
// a request is in ops_ from its start until its callback is taken out to be called, so each
// callback runs at most once and only on the reactor thread, never inside store()/load(); a
// request has at most one operation in flight, or is waiting_ to start its next one, or
// neither (its result is on the way); a load's buffer is replaced only while no read into it is
// outstanding; destruction destroys the RadosIo first (which cancels and waits for every
// operation), then drops the callbacks not yet delivered without calling them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "libreactor/reactor.hpp"
#include "libutil/blobref.hpp"
#include "modules/content-backing/backing.hpp"
#include "modules/content-backing/backing_type.hpp"
#include "modules/content-rados/rados_io.hpp"
#include "modules/content-rados/rados_module.hpp"

namespace cairn::content {

// The sizes a RadosBacking works with.
struct RadosSizes {
  // content.blob-size-limit: a larger object fails to load with EFBIG without being read (no
  // blob this broker accepts is that large).
  uint64_t max_blob = 1073741824;
  // The cluster's largest write (osd_max_write_size, 90 MiB by default): a larger blob fails
  // to store with EFBIG at once, instead of being sent whole only for the OSD to refuse it
  // (EMSGSIZE) on every retry.
  uint64_t max_write = uint64_t{90} << 20;
  // librados' budget (objecter_inflight_op_bytes and _ops): the bytes written or read, and the
  // operations, in flight at once. An operation larger than the byte budget goes alone.
  uint64_t inflight_bytes = uint64_t{100} << 20;
  uint64_t inflight_ops = 1024;
  // A load's first read also asks for the object's size; the rest, if any, follow one at a
  // time, each at most read_chunk bytes (so each stays well inside rados.op-timeout).
  size_t first_read = 64 * 1024;
  size_t read_chunk = 4 * 1024 * 1024;
};

class RadosBacking : public Backing {
 public:
  // `location` names the pool (and namespace) in messages: "RADOS pool cairn".
  RadosBacking(reactor::Loop& loop, std::unique_ptr<RadosIo> io, RadosSizes sizes,
               std::string location = "the RADOS pool");
  ~RadosBacking() override;

  // A write_full: it replaces whatever the object holds (a corrupt copy included) in the one
  // round trip a stat would take; checking first could skip only the transfer, and only by
  // reading the object back, which costs as much.
  void store(const util::Digest& key, std::string_view data, StoreCallback cb) override;
  void load(const util::Digest& key, LoadCallback cb) override;
  // A stat of the object.
  void exists(const util::Digest& key, ExistsCallback cb) override;
  // "object <blobref> in <location>"
  std::string describe(const util::Digest& key) const override;

  // Requests whose callback has not been called yet.
  size_t outstanding() const { return ops_.size(); }
  // Operations in flight, and requests waiting for room to start their next one.
  uint64_t in_flight() const { return inflight_ops_; }
  size_t waiting() const { return waiting_.size(); }

 private:
  using ObjectName = std::array<char, util::kMaxBlobrefSize + 1>;  // a blobref, NUL-terminated
  struct Op {
    ObjectName oid{};
    bool is_load = false;
    bool is_exists = false;
    StoreCallback stored;   // a store's or an exists' callback, or
    LoadCallback loaded;    // a load's
    std::string_view blob;  // a store's data: valid until its callback (the Backing contract)
    // A load's buffer, of `capacity` bytes, not zeroed first: librados writes every byte it
    // reads, and only the `have` bytes read reach the callback.
    std::unique_ptr<char[]> data;
    size_t capacity = 0;
    uint64_t size = 0;   // the object's size, known after the first read
    uint64_t have = 0;   // bytes read so far
    bool sized = false;  // the first read has come back
    size_t step = 0;     // bytes the next or current operation moves: its budget
    bool in_flight = false;
  };
  struct Finished {
    uint64_t id;
    int result;
  };

  Op& add(const util::Digest& key, uint64_t* id);  // a new entry of ops_, its id in *id
  RadosDone done_for(uint64_t id);   // runs on any thread: queues the result for deliver()
  void submit(uint64_t id, Op& op);  // starts op's next operation, or queues it in waiting_
  bool fits(size_t step) const;
  void start(uint64_t id, Op& op);
  void start_waiting();
  void deliver();
  void loaded(std::unordered_map<uint64_t, Op>::iterator it, int result);
  void finish_load(std::unordered_map<uint64_t, Op>::iterator it, int errnum);
  // The Error of `op` failing with `errnum`: "rados: cannot <read|write|stat> object <oid> in
  // <location>: <strerror> (<detail, where there is one>)".
  util::Error failure(const Op& op, int errnum) const;

  RadosSizes sizes_;
  std::string location_;
  std::unordered_map<uint64_t, Op> ops_;  // reactor thread only, by request id
  uint64_t next_id_ = 1;
  std::vector<Finished> delivering_;  // deliver()'s buffer, kept to avoid allocating each time
  std::deque<uint64_t> waiting_;      // requests whose next operation waits for room, in order
  // First-read buffers of loads that have finished, for the next loads: a cold load of a small
  // blob then neither allocates its 64 KiB nor touches fresh pages (the heap shrank under a
  // freed batch of them and grew again for the next). At most kSpareBuffers are kept.
  static constexpr size_t kSpareBuffers = 64;
  std::vector<std::unique_ptr<char[]>> spare_buffers_;
  uint64_t inflight_bytes_ = 0;  // the steps of the operations in flight
  uint64_t inflight_ops_ = 0;

  std::mutex mutex_;                // guards finished_
  std::vector<Finished> finished_;  // operations' ends, filled on librados threads
  reactor::Async async_;
  std::unique_ptr<RadosIo> io_;  // last: destroyed first, while what its callbacks use exists
};

}  // namespace cairn::content

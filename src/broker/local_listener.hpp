// local://PATH: the Unix stream socket the broker's reactor serves itself, with libev io
// watchers and no thread of its own (doc/architecture.md; the framing in doc/protocol.md).
// Invariants:
// - everything runs on the loop's thread; no call here blocks: sockets are non-blocking, every
//   write is sendmsg(MSG_NOSIGNAL | MSG_DONTWAIT), so a peer that went away never raises SIGPIPE;
// - the listener owns its connections; responders reach one only through a weak_ptr, so a
//   reply to a connection that closed is dropped;
// - a connection's replies of one loop iteration leave as one frame in one sendmsg, at flush()
//   (or sooner once they reach kBatchBytes); bytes the peer has not read yet are held per
//   connection, at most broker.peer-queue-limit of them: a peer past it (one that stops reading)
//   is disconnected and counted, so its replies never grow the broker's memory past the limit;
// - a peer that sends a length past the limit, a malformed frame, or closes mid-frame loses its
//   own connection and nothing else, logged at a bounded rate;
// - accept() failing for want of descriptors (EMFILE) pauses accepting instead of spinning the
//   loop: until a connection closes, or kAcceptPause seconds pass.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/log.hpp"
#include "libmsg/batch.hpp"
#include "libmsg/message.hpp"
#include "libmsg/stream.hpp"
#include "libreactor/reactor.hpp"
#include "libutil/fd.hpp"

namespace cairn::broker {

// Who is at the other end of a local:// connection: SO_PEERCRED, read at accept.
struct LocalPeer {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  bool owner = false;  // may do everything; otherwise the user role (broker.cpp)
};

class LocalListener;

// One accepted connection. Only the listener creates and closes it.
class LocalConnection {
 public:
  LocalConnection(LocalListener& listener, util::UniqueFd fd, const LocalPeer& peer);
  ~LocalConnection();
  LocalConnection(const LocalConnection&) = delete;
  LocalConnection& operator=(const LocalConnection&) = delete;

  // Adds a reply to the peer's batch of this iteration (LocalListener::flush() sends it).
  void queue(const msg::Message& reply, std::string_view payload);
  const LocalPeer& peer() const { return peer_; }
  // "uid 1000 pid 4242", for log lines.
  std::string describe() const;

 private:
  friend class LocalListener;
  void on_io(int revents);
  // Reads what the peer sent (a bounded amount per wake-up) and hands out each complete frame.
  void read_some();
  // Hands this iteration's batch to the socket, keeping what it does not take.
  void send_batch();
  // Writes the bytes the socket did not take before; stops watching for writability once done.
  void write_pending();
  size_t pending() const { return out_.size() - out_at_; }

  LocalListener& listener_;
  util::UniqueFd fd_;
  LocalPeer peer_;
  reactor::Io io_;
  msg::FrameDecoder decoder_;
  msg::BatchWriter replies_;  // this iteration's replies
  bool dirty_ = false;        // in the listener's list of connections with replies to send
  std::string out_;           // framed bytes the socket has not taken yet, from out_at_
  size_t out_at_ = 0;
  bool closed_ = false;
};

class LocalListener {
 public:
  struct Limits {
    uint64_t max_frame;         // longest frame a peer may send
    uint64_t peer_queue_limit;  // unread reply bytes past which a peer is disconnected
  };
  // Decides the role of a peer from its credentials.
  using IsOwner = std::function<bool(uid_t uid, gid_t gid)>;
  // Serves one complete frame; returns false to close the connection (a malformed frame, which
  // it has logged).
  using OnFrame = std::function<bool(
      LocalConnection& conn, const std::weak_ptr<LocalConnection>& handle, std::string_view frame)>;

  // Binds `path` (a stale socket file there is replaced; a live one, or anything else, is
  // refused) and listens. Throws StartupError ("listen") saying why it cannot.
  LocalListener(reactor::Loop& loop, std::string path, Log& log, Limits limits, IsOwner is_owner,
                OnFrame on_frame);
  // Closes every connection and removes the socket file.
  ~LocalListener();
  LocalListener(const LocalListener&) = delete;
  LocalListener& operator=(const LocalListener&) = delete;

  // Sends every connection's batch of this iteration. The broker calls it once per loop
  // iteration, before the loop waits.
  void flush();

  // The longest frame a peer may send, for connections accepted from now on.
  void set_max_frame(uint64_t bytes) { limits_.max_frame = bytes; }
  const std::string& path() const { return path_; }
  size_t connections() const { return connections_.size(); }
  // Peers disconnected because they left more than peer_queue_limit bytes unread (total).
  uint64_t slow_peers_dropped() const { return slow_dropped_; }
  // accept() failures, such as EMFILE (total).
  uint64_t accept_errors() const { return accept_errors_; }
  // Whether new connections are being accepted now (false while paused after EMFILE).
  bool accepting() const { return accept_io_.active(); }

  static constexpr size_t kBatchBytes = 256 * 1024;  // a batch this large leaves at once
  static constexpr size_t kReadBytes = 256 * 1024;   // one read(2)
  static constexpr int kReadsPerWakeup = 4;          // fairness between busy peers
  static constexpr double kAcceptPause = 0.1;        // seconds, after EMFILE

 private:
  friend class LocalConnection;
  void on_accept();
  void pause_accepting(int errnum);
  void resume_accepting();
  // Closes `conn` now (its watcher stops, its descriptor closes) and forgets it once the stack
  // above it has unwound; `why`, if given, is logged at a bounded rate.
  void close(LocalConnection& conn, std::string_view why = {});
  void mark_dirty(LocalConnection& conn);

  reactor::Loop& loop_;
  std::string path_;
  Log& log_;
  Limits limits_;
  IsOwner is_owner_;
  OnFrame on_frame_;
  util::UniqueFd fd_;
  reactor::Io accept_io_;
  reactor::Timer accept_pause_;
  std::unordered_map<LocalConnection*, std::shared_ptr<LocalConnection>> connections_;
  std::vector<std::shared_ptr<LocalConnection>> dirty_;    // connections with replies to send
  std::vector<std::shared_ptr<LocalConnection>> closing_;  // closed, freed at the next flush()
  std::unique_ptr<char[]> read_buffer_;                    // kReadBytes, shared by every peer
  uint64_t slow_dropped_ = 0;
  uint64_t accept_errors_ = 0;
};

}  // namespace cairn::broker

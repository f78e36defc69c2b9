// In-process sessions on loopback for the swarm tests: a recording observer, a shared file
// with its meta, a seeder session on its own thread, and a raw client socket.
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/meta_creation.hpp"
#include "swarm/session.hpp"
#include "test_support.hpp"

namespace p2p::test {

// Records the listening port and every event text.
class Recorder : public SessionObserver {
 public:
  std::atomic<int> port{0};
  void on_listening(const std::string&, std::uint16_t p) override { port = p; }
  void on_event(const std::string&, EventKind, const std::string& text) override {
    std::lock_guard lock(mutex_);
    events_ += text + "\n";
  }
  void on_progress(const TorrentStats&) override {}
  std::string all() {
    std::lock_guard lock(mutex_);
    return events_;
  }

 private:
  std::mutex mutex_;
  std::string events_;
};

struct SharedFile {
  std::filesystem::path path;
  std::shared_ptr<const Meta> meta;
};

// A file of `size` random bytes in dir and its meta (16 KiB pieces).
inline SharedFile make_file(const TempDir& dir, const std::string& name, std::size_t size, std::uint64_t seed,
                            bool private_swarm = false) {
  auto path = dir / name;
  write_file(path, random_bytes(size, seed));
  return {path, std::make_shared<const Meta>(create_meta(path, 16 * 1024, {}, false, private_swarm))};
}

// A seeder session serving `files` on 127.0.0.1, on its own thread.
class SeederThread {
 public:
  explicit SeederThread(const std::vector<SharedFile>& files) {
    SessionOptions so;
    so.listen_port = 0;
    so.listen_host = "127.0.0.1";
    so.run_until_signal = true;
    session_ = std::make_unique<Session>(so, rec);
    TorrentOptions to;
    to.keep_seeding = true;
    for (const auto& f : files) session_->add_torrent(f.meta, PieceStore::open_complete(*f.meta, f.path), to);
    thread_ = std::thread([this] { session_->run(); });
    for (int i = 0; i < 500 && rec.port == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(rec.port != 0);
  }
  ~SeederThread() {
    session_->stop();
    thread_.join();
  }
  std::uint16_t port() const { return static_cast<std::uint16_t>(rec.port.load()); }
  Recorder rec;

 private:
  std::unique_ptr<Session> session_;
  std::thread thread_;
};

// A blocking TCP connection to 127.0.0.1:port with a 5 s receive timeout.
inline int dial(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

}  // namespace p2p::test

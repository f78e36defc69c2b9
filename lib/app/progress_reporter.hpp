// Shows what a swarm is doing: a live bar on a terminal, a plain line every few
// seconds off one, one JSON object per line with --json, nothing with --quiet.
// The "listening HOST:PORT" line always goes to stdout: scripts read it.
// Off a terminal (a service, a pipe) or with --log-level, every line on stderr
// starts with its level (log_level.hpp) and progress is never redrawn.
#pragma once
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "app/missing_files.hpp"
#include "base/log_level.hpp"
#include "swarm/session.hpp"

namespace p2p {

enum class OutputMode { automatic, plain, json, quiet };

class ProgressReporter : public SessionObserver {
 public:
  // A reporter for a seeder shows uploads and stays quiet while nothing happens.
  ProgressReporter(OutputMode mode, std::string name, bool seeding = false);
  void on_listening(const std::string& host, std::uint16_t port) override;
  void on_event(const std::string& torrent, EventKind kind, const std::string& text) override;
  void on_progress(const TorrentStats& stats) override;
  void on_file_complete(const std::string& torrent, const std::string& path, std::uint64_t size) override;
  // Final lines: summary of one torrent's finished (or interrupted) run; for a tree
  // not finished, `missing` names its files not there yet (all in JSON, a few on a line).
  void summary(const TorrentOutcome& outcome, const std::string& where, const MissingFiles& missing = {});
  void error(const std::string& message, int exit_code);  // JSON event (stderr has the line already)
  void info(const std::string& text);
  // --http: where the page is and the control token, printed once to stdout
  // ("page http://HOST:PORT/#token=T", or a JSON "http" event).
  void http_ready(const std::string& address, const std::string& token);  // a one-off human line (stderr), or a JSON "notice"
  bool json() const { return mode_ == OutputMode::json; }
  // --log-level: lines below `level` are dropped; lines carry their level, plain (no bar).
  void set_log_level(LogLevel level);

 private:
  void clear_bar();
  void line(LogLevel level, const std::string& text);  // one line on stderr, with its level when leveled_
  OutputMode mode_;
  std::string name_;
  bool seeding_ = false;
  bool bar_shown_ = false;
  bool leveled_ = false;
  LogLevel threshold_ = LogLevel::info;
  // A seeder reports a torrent's progress only when it changed.
  std::map<std::string, std::pair<std::uint64_t, std::size_t>> last_seen_;  // info hash -> (uploaded, peers)
  std::map<std::string, std::chrono::steady_clock::time_point> last_plain_;  // info hash -> last plain line
};

std::string human_bytes(double bytes);
std::string human_duration(double seconds);

}  // namespace p2p

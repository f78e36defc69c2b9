// Shows what a swarm is doing: a live bar on a terminal, a plain line every few
// seconds off one, one JSON object per line with --json, nothing with --quiet.
// The "listening HOST:PORT" line always goes to stdout: scripts read it.
#pragma once
#include <chrono>
#include <cstdio>
#include <string>

#include "swarm/swarm.hpp"

namespace p2p {

enum class OutputMode { automatic, plain, json, quiet };

class ProgressReporter : public SwarmObserver {
 public:
  // A reporter for a seeder shows uploads and stays quiet while nothing happens.
  ProgressReporter(OutputMode mode, std::string name, bool seeding = false);
  void on_listening(const std::string& host, std::uint16_t port) override;
  void on_event(const std::string& kind, const std::string& text) override;
  void on_progress(const SwarmStats& stats) override;
  // Final lines: summary of a finished (or interrupted) run.
  void summary(const SwarmOutcome& outcome, const std::string& where);
  void error(const std::string& message, int exit_code);  // JSON event (stderr has the line already)
  void info(const std::string& text);  // a one-off human line (stderr), or a JSON "notice"
  bool json() const { return mode_ == OutputMode::json; }

 private:
  void clear_bar();
  OutputMode mode_;
  std::string name_;
  bool seeding_ = false;
  bool bar_shown_ = false;
  std::uint64_t last_uploaded_ = 0;
  std::size_t last_peers_ = 0;
  std::chrono::steady_clock::time_point last_plain_{};
};

std::string human_bytes(double bytes);
std::string human_duration(double seconds);

}  // namespace p2p

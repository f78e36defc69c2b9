// p2p-tracker: command line over tracker::run_tracker; maps errors to exit codes.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "error.hpp"
#include "tracker_limits.hpp"
#include "tracker_server.hpp"

int main(int argc, char** argv) {
  p2p::tracker::TrackerConfig config;
  double header_timeout = 10, idle_timeout = 30;
  CLI::App app{"p2p-tracker: registers peers, catalogs published metas, serves a live dashboard"};
  app.add_option("--host", config.host, "address to listen on")->capture_default_str();
  app.add_option("--port", config.port, "TCP port (0 = any free port, printed on start)")->capture_default_str();
  app.add_option("--db", config.db, "SQLite catalog file (created if missing)")->capture_default_str();
  app.add_option("--interval", config.interval_seconds, "announce interval in seconds; peers expire after two")
      ->capture_default_str()
      ->check(CLI::Range(p2p::tracker::limits::kMinIntervalSeconds, p2p::tracker::limits::kMaxIntervalSeconds));
  app.add_option("--header-timeout", header_timeout, "seconds a client has to send its request headers")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 3600.0));
  app.add_option("--idle-timeout", idle_timeout, "seconds an idle keep-alive connection stays open")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 3600.0));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : static_cast<int>(p2p::ExitCode::usage);
  }
  config.header_timeout = std::chrono::milliseconds(static_cast<long>(header_timeout * 1000));
  config.idle_timeout = std::chrono::milliseconds(static_cast<long>(idle_timeout * 1000));

  try {
    p2p::tracker::run_tracker(config, [](const std::string& address) {
      std::printf("listening %s\n", address.c_str());
      std::fflush(stdout);
    });
    return 0;
  } catch (const p2p::Error& e) {
    std::fprintf(stderr, "p2p-tracker: %s\n", e.what());
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "p2p-tracker: internal error: %s\n", e.what());
    return static_cast<int>(p2p::ExitCode::internal);
  }
}

// p2p-tracker: command line over tracker::run_tracker; maps errors to exit codes.
#include <cstdio>

#include "app/app_main.hpp"
#include "base/error.hpp"
#include "cli_parse.hpp"
#include "tracker/server.hpp"
#include "tracker/tracker_limits.hpp"

int main(int argc, char** argv) {
  p2p::tracker::TrackerConfig config;
  double header_timeout = 10, idle_timeout = 30;
  CLI::App app{"p2p-tracker: registers peers, catalogs published metas, serves a live dashboard"};
  app.add_option("--host", config.host, "address to listen on")->capture_default_str();
  app.add_option("--port", config.port, "TCP port (0 = any free port, printed on start)")->capture_default_str();
  app.add_option("--store", config.store,
                 "where state lives: embedded (SQLite --db + memory) or redis://HOST:PORT[/DB], shared by every "
                 "tracker pointed at it")
      ->capture_default_str();
  auto* db = app.add_option("--db", config.db, "SQLite catalog file of the embedded store (created if missing)")
                 ->capture_default_str();
  app.add_option("--interval", config.interval_seconds, "announce interval in seconds; peers expire after two")
      ->capture_default_str()
      ->check(CLI::Range(p2p::tracker::limits::kMinIntervalSeconds, p2p::tracker::limits::kMaxIntervalSeconds));
  app.add_option("--header-timeout", header_timeout, "seconds a client has to send its request headers")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 3600.0));
  app.add_option("--idle-timeout", idle_timeout, "seconds an idle keep-alive connection stays open")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 3600.0));
  P2P_PARSE(app, argc, argv);
  config.header_timeout = std::chrono::milliseconds(static_cast<long>(header_timeout * 1000));
  config.idle_timeout = std::chrono::milliseconds(static_cast<long>(idle_timeout * 1000));

  return p2p::guarded_main("p2p-tracker", [&] {
    if (config.store != "embedded" && db->count() > 0)
      throw p2p::Error(p2p::ExitCode::usage, "--db is the embedded store's file; with --store " + config.store +
                                                 " the catalog lives in Redis");
    p2p::tracker::run_tracker(config, [](const std::string& address) {
      std::printf("listening %s\n", address.c_str());
      std::fflush(stdout);
    });
    return 0;
  });
}

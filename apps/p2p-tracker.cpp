// p2p-tracker: command line over tracker::run_tracker; maps errors to exit codes.
// Client subcommands talk to a running tracker: `files` lists its catalog,
// `withdraw` unpublishes a file with the owner token its publisher got.
#include <fmt/core.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/app_main.hpp"
#include "base/error.hpp"
#include "base/rate_limiter.hpp"
#include "cli_parse.hpp"
#include "tracker_client/owner_token_file.hpp"
#include "tracker_client/tracker_client.hpp"
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
  std::string relay_rate = std::to_string(config.relay_caps.bytes_per_second),
              relay_swarm_rate = std::to_string(config.relay_caps.swarm_bytes_per_second);
  auto* relay_flag = app.add_flag("--relay", config.relay,
               "forward connections between swarm members that cannot reach each other (off by default: a relay "
               "carries anyone's traffic)");
  app.add_option("--relay-port", config.relay_port, "TCP port of the relay (0 = any free port, printed on start)")
      ->capture_default_str()
      ->needs(relay_flag);
  app.add_option("--relay-rate", relay_rate, "relay cap over all pairs in bytes/s, e.g. 500k, 8M (0 = unlimited)")
      ->capture_default_str()
      ->needs(relay_flag);
  app.add_option("--relay-swarm-rate", relay_swarm_rate, "relay cap per swarm in bytes/s (0 = unlimited)")
      ->capture_default_str()
      ->needs(relay_flag);
  app.add_option("--relay-max-pairs", config.relay_caps.max_pairs, "pairs relayed (or waiting for their partner) at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 100'000))
      ->needs(relay_flag);

  auto* bt_flag = app.add_flag("--bittorrent", config.bittorrent,
                               "also serve BitTorrent clients (HTTP and UDP) for any info hash (off by default: an "
                               "open tracker serves anyone's swarms)");
  auto* bt_list = app.add_option("--bt-whitelist", config.bt_whitelist,
                                 "serve BitTorrent clients only for the info hashes in this file (40 or 64 hex digits "
                                 "a line; SIGHUP re-reads it)");
  bt_list->excludes(bt_flag);
  bool no_udp = false;
  app.add_flag("--no-udp", no_udp, "no UDP tracker (BEP 15) beside the BitTorrent HTTP dialect");

  constexpr auto kClientTimeout = std::chrono::milliseconds(10'000);
  std::string client_tracker, query, info_hash, token, token_file;
  bool list_json = false;
  auto* files_cmd = app.add_subcommand("files", "list a running tracker's catalog (name, size, seeders, leechers, id)");
  files_cmd->add_option("--tracker", client_tracker, "HOST:PORT of the tracker")->required();
  files_cmd->add_option("--q", query, "only names containing this text");
  files_cmd->add_flag("--json", list_json, "print the tracker's JSON answer");
  auto* withdraw_cmd = app.add_subcommand("withdraw", "unpublish a file (needs the owner token its publisher got)");
  withdraw_cmd->add_option("--tracker", client_tracker, "HOST:PORT of the tracker")->required();
  withdraw_cmd->add_option("--id", info_hash, "the file's info hash (64 hex digits)")->required();
  auto* token_opt = withdraw_cmd->add_option("--token", token, "the owner token (64 hex digits)");
  auto* file_opt = withdraw_cmd->add_option(
      "--token-file", token_file, "a <meta>.owner-tokens.json written by p2p-seed --publish (its entry for --tracker)");
  token_opt->excludes(file_opt);
  p2p_cli::set_up(app, "p2p-tracker");
  P2P_PARSE(app, argc, argv);

  if (*files_cmd)
    return p2p::guarded_main("p2p-tracker files", [&] {
      std::string body = p2p::tracker_client::list_files_json(client_tracker, query, kClientTimeout);
      if (list_json) {
        std::printf("%s\n", body.c_str());
        return 0;
      }
      auto j = nlohmann::json::parse(body);
      std::printf("%-40s %12s %8s %8s  %s\n", "name", "bytes", "seeders", "leechers", "info hash");
      for (const auto& f : j.value("files", nlohmann::json::array()))
        std::printf("%-40s %12llu %8llu %8llu  %s\n", f.value("name", "").c_str(),
                    static_cast<unsigned long long>(f.value("size", 0ull)),
                    static_cast<unsigned long long>(f.value("seeders", 0ull)),
                    static_cast<unsigned long long>(f.value("leechers", 0ull)), f.value("info_hash", "").c_str());
      if (j.value("truncated", false)) std::printf("(more files: narrow with --q)\n");
      return 0;
    });
  if (*withdraw_cmd)
    return p2p::guarded_main("p2p-tracker withdraw", [&] {
      if (token.empty() && token_file.empty())
        throw p2p::Error(p2p::ExitCode::usage, "give the owner token: --token HEX or --token-file FILE");
      if (!token_file.empty()) {
        auto found = p2p::load_owner_token(token_file, client_tracker);
        if (!found)
          throw p2p::Error(p2p::ExitCode::usage,
                           fmt::format("{} has no owner token for tracker {}", token_file, client_tracker));
        token = *found;
      }
      p2p::tracker_client::withdraw(client_tracker, info_hash, token, kClientTimeout);
      std::printf("withdrawn %s from %s\n", info_hash.c_str(), client_tracker.c_str());
      return 0;
    });
  auto apply_parsed = [&] {  // what the options hold -> config (throws Error(usage))
    config.udp = !no_udp;
    auto rate_option = [](const char* name, const std::string& text) {
      try {
        return p2p::parse_rate(text);
      } catch (const p2p::Error& e) {
        throw p2p::Error(p2p::ExitCode::usage, fmt::format("{}: {}", name, e.what()));
      }
    };
    config.header_timeout = std::chrono::milliseconds(static_cast<long>(header_timeout * 1000));
    config.idle_timeout = std::chrono::milliseconds(static_cast<long>(idle_timeout * 1000));
    config.relay_caps.bytes_per_second = rate_option("--relay-rate", relay_rate);
    config.relay_caps.swarm_bytes_per_second = rate_option("--relay-swarm-rate", relay_swarm_rate);
  };
  // SIGHUP: the same command line parsed again re-reads --config FILE (the command
  // line still wins); run_tracker applies what can change while it runs. A key
  // removed from the file keeps the value it had.
  auto reload = [&] {
    p2p::tracker::TrackerConfig running = config;
    try {
      app.parse(argc, argv);
      apply_parsed();
    } catch (const CLI::ParseError& e) {
      config = running;
      throw p2p::Error(p2p::ExitCode::usage, e.what());
    } catch (...) {
      config = running;
      throw;
    }
    p2p::tracker::TrackerConfig fresh = config;
    config = running;
    return fresh;
  };

  return p2p::guarded_main("p2p-tracker", [&] {
    apply_parsed();
    if (config.store != "embedded" && db->count() > 0)
      throw p2p::Error(p2p::ExitCode::usage, "--db is the embedded store's file; with --store " + config.store +
                                                 " the catalog lives in Redis");
    p2p::tracker::run_tracker(
        config,
        [](const std::string& address) {
          std::printf("listening %s\n", address.c_str());
          std::fflush(stdout);
        },
        [](const std::string& address) {
          std::printf("relay listening %s\n", address.c_str());
          std::fflush(stdout);
        },
        reload);
    return 0;
  });
}

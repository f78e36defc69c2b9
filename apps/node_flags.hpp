// The flags p2p-seed and p2p-download share (both run a node: one session that serves
// what it holds): reachability, the node's page, the upload cap, bans, log level and
// output mode. Added once here so the two command lines cannot drift apart.
#pragma once
#include <CLI/CLI.hpp>
#include <string>

#include "app/ban_list.hpp"
#include "base/log_level.hpp"
#include "app/progress_reporter.hpp"
#include "base/rate_limiter.hpp"

struct NodeFlags {
  bool no_port_mapping = false, no_lan = false, quiet = false, json = false;
  std::string http, up_rate = "0";
  bool list_bans = false, forget_bans = false;  // --list-bans / --forget-bans
  std::string log_level;                        // --log-level

  void add_to(CLI::App& app) {
    app.add_flag("--no-port-mapping", no_port_mapping,
                 "do not map the listening port on the home gateway (NAT-PMP, UPnP); mapping is on by default");
    app.add_flag("--no-lan", no_lan, "do not announce files or look for peers on the local network (multicast)");
    app.add_option("--http", http,
                   "serve a live page, JSON API and /metrics on [HOST:]PORT (HOST defaults to 127.0.0.1; port 0: any "
                   "free one)");
    app.add_option("--max-upload-rate", up_rate,
                   "upload limit over all files in bytes/s, e.g. 500k, 20M (default: unlimited)");
    app.add_flag("--list-bans", list_bans, "print the peers banned in WORKDIR (address, until, why) and exit");
    app.add_flag("--forget-bans", forget_bans, "lift every ban kept in WORKDIR first, then go on");
    // The lowest level of line printed; given, every line carries its level (as it does
    // off a terminal) and progress is plain.
    app.add_option("--log-level", log_level,
                   "print lines of this level and above: error, warning, info (default) or debug; each line "
                   "starts with its level (also whenever stderr is not a terminal; <N> for the systemd journal)")
        ->check(CLI::IsMember({"error", "warning", "info", "debug"}));
    app.add_flag("-q,--quiet", quiet, "print only errors");
    app.add_flag("--json", json, "one JSON event per line on stdout");
  }

  // --json, --quiet, or what the program prints otherwise.
  p2p::OutputMode output_mode(p2p::OutputMode otherwise) const {
    return json ? p2p::OutputMode::json : quiet ? p2p::OutputMode::quiet : otherwise;
  }
  void configure(p2p::ProgressReporter& reporter) const {
    if (!log_level.empty()) reporter.set_log_level(p2p::parse_log_level(log_level));
  }
  // --list-bans / --forget-bans on WORKDIR's reputation; true: nothing else to do.
  bool apply_bans(const std::string& workdir, p2p::ProgressReporter& reporter) const {
    return p2p::apply_ban_flags(list_bans, forget_bans, workdir, reporter);
  }
  // Into SeedOptions or DownloadOptions.
  template <typename Options>
  void apply_to(Options& o) const {
    o.port_mapping = !no_port_mapping;
    o.lan_discovery = !no_lan;
    if (!http.empty()) o.http = http;
    o.max_upload_rate = p2p::parse_rate(up_rate);
  }
};

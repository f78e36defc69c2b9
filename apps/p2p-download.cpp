// p2p-download: fetch files from peers, verify every piece, resume after any crash.
#include <fmt/core.h>

#include "app/allocator_policy.hpp"
#include "app/app_main.hpp"
#include "app/downloader.hpp"
#include "base/address.hpp"
#include "base/error.hpp"
#include "base/limits.hpp"
#include "base/rate_limiter.hpp"
#include "cli_parse.hpp"
#include "node_flags.hpp"

int main(int argc, char** argv) {
  p2p::back_heap_with_huge_pages();  // its start is much of its cost (lib/app/allocator_policy.hpp)
  CLI::App app{"Download files or folders from peers, verifying every piece; rerun the same command to resume."};
  p2p::DownloadOptions o;
  std::vector<std::string> metas, names, ids, only;
  std::string host, workdir = "downloads", down_rate = "0";
  std::uint16_t port = 0, listen_port = 0;
  std::optional<long> seed_time;
  bool seed = false, no_listen = false;
  NodeFlags node;
  // One value per flag (allow_extra_args false), so the command line's order is known.
  auto* meta_opt = app.add_option("--meta", metas,
                                  "the .p2pmeta of a file or folder to fetch (repeatable, and with --id/--name: all are "
                                  "fetched in one run on one port; one that fails does not stop the others, each failure "
                                  "is named, and the exit code is that of the first to fail in the order given)")
                       ->allow_extra_args(false);
  auto* name_opt = app.add_option("--name", names, "find a file by name on the tracker (repeatable; with or instead of --meta)")
                       ->allow_extra_args(false);
  auto* id_opt = app.add_option("--id", ids, "find a file by info hash on the tracker (repeatable; with or instead of --meta)")
                     ->allow_extra_args(false);
  auto* host_opt = app.add_option("--host", host, "a peer's host name or address, IPv6 bare or in brackets (with --port)");
  auto* port_opt = app.add_option("--port", port, "that peer's port")->needs(host_opt);
  host_opt->needs(port_opt);
  app.add_option("--peer", o.peers, "HOST:PORT of a peer (repeatable)");
  app.add_option("--tracker", o.trackers, "HOST:PORT of a tracker (repeatable; adds to the meta's)");
  app.add_option("--workdir", workdir, "where the files go, each as WORKDIR/<name> (default: downloads)");
  app.add_option("--only", only,
                 "a folder's meta: fetch only the files whose relative path matches this fnmatch(3) pattern "
                 "('*' also matches '/'; repeatable); each is put at WORKDIR/<name>/<path> once verified, the "
                 "others are named as missing, and a run without --only completes the rest")
      ->allow_extra_args(false);
  // One connection per peer: its request pipeline follows the connection's rate (up to 4 MiB),
  // which fills a fast link alone; extra connections are used only while that peer is the only
  // one (measured: docs/ARCHITECTURE.md, "Swarm defaults").
  o.parallel = 1;
  app.add_option("--parallel", o.parallel,
                 "connections to each peer given with --peer/--host, used together only while it is the only peer (default 1)")
      ->check(CLI::Range(1, p2p::limits::kMaxParallel));
  app.add_option("--listen-port", listen_port, "port to serve verified pieces to other peers on (default 0: any)");
  app.add_option("--listen-host", o.listen_host, "address to listen on (default 0.0.0.0)");
  app.add_flag("--no-listen", no_listen, "do not serve other peers while downloading (also no LAN discovery)");
  app.add_flag("--seed", seed, "keep serving the file once complete, until Ctrl-C");
  app.add_option("--seed-time", seed_time, "with --seed: stop after this many seconds")->check(CLI::NonNegativeNumber);
  app.add_option("--max-download-rate", down_rate, "download limit in bytes/s (default: unlimited)");
  long give_up_after = std::chrono::duration_cast<std::chrono::seconds>(p2p::limits::kDefaultGiveUpAfter).count();
  app.add_option("--give-up-after", give_up_after,
                 "seconds to keep retrying when no peer can be reached, before exiting with code 7 (default 600)")
      ->check(CLI::Range(1L, 30L * 24 * 3600));
  node.add_to(app);
  p2p_cli::set_up(app, "p2p-download");
  P2P_PARSE(app, argc, argv);

  p2p::ProgressReporter reporter(node.output_mode(p2p::OutputMode::automatic), "download");
  node.configure(reporter);
  return p2p::guarded_main("p2p-download", [&] {
    if (node.apply_bans(workdir, reporter)) return 0;
    // The items in the order given on the command line (then any from --config).
    std::size_t next_meta = 0, next_name = 0, next_id = 0;
    auto take = [&](const CLI::Option* opt) {
      p2p::DownloadItem item;
      if (opt == meta_opt && next_meta < metas.size()) item.meta_path = metas[next_meta++];
      else if (opt == name_opt && next_name < names.size()) item.name = names[next_name++];
      else if (opt == id_opt && next_id < ids.size()) item.info_hash = ids[next_id++];
      else return;
      o.items.push_back(std::move(item));
    };
    for (const CLI::Option* opt : app.parse_order()) take(opt);
    while (next_meta < metas.size()) take(meta_opt);
    while (next_name < names.size()) take(name_opt);
    while (next_id < ids.size()) take(id_opt);
    if (node.forget_bans && o.items.empty()) return 0;
    if (o.items.empty())
      throw p2p::Error(p2p::ExitCode::usage, "say which file: --meta FILE, or --name NAME / --id HASH with --tracker");
    if (!only.empty() && o.items.size() > 1)
      throw p2p::Error(p2p::ExitCode::usage, fmt::format("--only selects files of one folder; {} downloads are asked "
                                                         "for: run one p2p-download per folder to select from",
                                                         o.items.size()));
    if (!only.empty()) o.items[0].only = only;
    o.workdir = workdir;
    if (!host.empty()) {
      // --host takes a host alone (a bare IPv6 address too: "::1", "fe80::1%eth0"); --peer takes HOST:PORT.
      std::string why;
      auto h = p2p::parse_host(host, why);
      if (!h) throw p2p::Error(p2p::ExitCode::usage, fmt::format("--host {:?} {}", host, why));
      o.peers.insert(o.peers.begin(), p2p::format_host_port(*h, port));
    }
    if (!no_listen) o.listen_port = listen_port;
    o.keep_seeding = seed;
    node.apply_to(o);
    o.give_up_after = std::chrono::seconds(give_up_after);
    if (seed_time) o.seed_time = std::chrono::seconds(*seed_time);
    o.max_download_rate = p2p::parse_rate(down_rate);
    auto result = p2p::download(o, reporter);
    const bool several = result.items.size() > 1;
    for (const auto& item : result.items) {
      if (item.error && item.error->code() != p2p::ExitCode::interrupted) {
        // Each failure on its own line, named when there are several.
        std::string message = item.error->what();
        if (several && message.find(item.label) == std::string::npos) message = fmt::format("{}: {}", item.label, message);
        std::fprintf(stderr, "%sp2p-download: error: %s\n", p2p::stderr_is_journal() ? "<3>" : "", message.c_str());
        reporter.error(message, static_cast<int>(item.error->code()));
        continue;
      }
      reporter.summary(item.torrent, item.path, item.missing);
    }
    return result.exit_code();
  }, [&](const std::string& message, int code) { reporter.error(message, code); });
}

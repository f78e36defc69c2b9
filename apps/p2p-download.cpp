// p2p-download: fetch a file from peers, verify every piece, resume after any crash.
#include "cli_parse.hpp"
#include <fmt/core.h>

#include "app_main.hpp"
#include "downloader.hpp"
#include "error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Download a file described by a .p2pmeta from peers, verifying every piece."};
  p2p::DownloadOptions o;
  std::string meta, host, workdir = "downloads";
  std::uint16_t port = 0;
  std::optional<std::uint16_t> listen_port;
  bool quiet = false, json = false;
  app.add_option("--meta", meta, "the file's .p2pmeta")->required();
  auto* host_opt = app.add_option("--host", host, "a peer's address (with --port)");
  auto* port_opt = app.add_option("--port", port, "that peer's port")->needs(host_opt);
  host_opt->needs(port_opt);
  app.add_option("--peer", o.peers, "HOST:PORT of a peer (repeatable)");
  app.add_option("--workdir", workdir, "where the file is assembled (default: downloads)");
  app.add_option("--parallel", o.parallel, "connections per peer (default 4)")->check(CLI::Range(1, 32));
  app.add_flag("-q,--quiet", quiet, "only errors and the final line");
  app.add_flag("--json", json, "one JSON event per line on stdout");
  P2P_PARSE(app, argc, argv);

  p2p::ProgressReporter reporter(json ? p2p::OutputMode::json : quiet ? p2p::OutputMode::quiet : p2p::OutputMode::automatic,
                                 "download");
  return p2p::guarded_main("p2p-download", [&] {
    o.meta_path = meta;
    o.workdir = workdir;
    if (!host.empty()) o.peers.insert(o.peers.begin(), fmt::format("{}:{}", host, port));
    auto outcome = p2p::download(o, reporter);
    reporter.summary(outcome, outcome.path);
    if (outcome.interrupted && !outcome.complete) return static_cast<int>(p2p::ExitCode::interrupted);
    return outcome.complete ? 0 : static_cast<int>(p2p::ExitCode::peers_failed);
  });
}

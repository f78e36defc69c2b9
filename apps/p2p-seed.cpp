// p2p-seed: serve many files (and whole folders) from one process on one port.
#include <fmt/core.h>

#include <cstdio>
#include <iostream>

#include "app/app_main.hpp"
#include "app/node_ctl.hpp"
#include "app/seeder.hpp"
#include "base/error.hpp"
#include "cli_parse.hpp"
#include "node_flags.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Serve files' pieces to downloaders. Prints 'listening HOST:PORT' once ready."};
  p2p::SeedOptions o;
  std::vector<std::string> metas, sources;
  std::string dir, workdir = "data";
  NodeFlags node;
  app.add_option("--meta", metas, "a file's .p2pmeta (repeatable: one port serves them all)");
  app.add_option("--source", sources, "the complete file for each --meta, in order (default: WORKDIR/<name in meta>)");
  app.add_option("--dir", dir, "share every complete file of this folder, following additions and removals");
  auto* port_opt = app.add_option("--port", o.port, "TCP port to listen on; 0 lets the OS choose");
  app.add_option("--host", o.host, "address to listen on (default 0.0.0.0)");
  app.add_option("--workdir", workdir,
                 "working folder: reputation, verified sources, metas created for --dir (default: data)");
  app.add_option("--tracker", o.trackers, "HOST:PORT of a tracker to announce to (repeatable; adds to the meta's)");
  app.add_flag("--publish", o.publish,
               "publish each meta to the trackers before seeding it (owner tokens go to <meta>.owner-tokens.json)");
  app.add_option("--max-active-downloads", o.max_active_downloads,
                 "a node (--http, --watch): downloads fetched at once; the others wait in line (default 3)")
      ->check(CLI::Range(1, 100));
  std::string watch;
  app.add_option("--watch", watch,
                 "download every .p2pmeta that appears in this folder (once it stops changing), then move it to "
                 "FOLDER/.added/ (or .failed/, with the reason beside it)");
  node.add_to(app);
  // p2p-seed ctl: talk to a running node (lib/app/node_ctl.hpp).
  p2p::CtlOptions ctl;
  auto* ctl_cmd = app.add_subcommand("ctl", "control a running node over its API: add, ls, pause, resume, rm, move");
  ctl_cmd->add_option("--node", ctl.node, "the node's API: http://HOST:PORT (its --http)")->required();
  ctl_cmd->add_option("--token-file", ctl.token_file,
                      "the node's control token (default: WORKDIR/.p2p/http-token of a node on this machine)");
  std::string ctl_workdir = "data";
  ctl_cmd->add_option("--workdir", ctl_workdir, "the node's --workdir, for its token file (default: data)");
  ctl_cmd->add_flag("--json", ctl.json, "print the node's JSON answers");
  ctl_cmd->require_subcommand(1);
  auto* c_add = ctl_cmd->add_subcommand("add", "download a file or folder: a local .p2pmeta (uploaded), or --id with --tracker");
  c_add->add_option("meta", ctl.target, "the .p2pmeta file");
  c_add->add_option("--id", ctl.info_hash, "the info hash, found on the trackers");
  c_add->add_option("--tracker", ctl.trackers, "HOST:PORT of a tracker (repeatable; with --id, default: the node's)");
  c_add->add_option("--peer", ctl.peers, "HOST:PORT of a peer to dial (repeatable)");
  c_add->add_option("--only", ctl.only, "a folder: fetch only the files matching this fnmatch(3) pattern (repeatable)");
  ctl_cmd->add_subcommand("ls", "list the node's files: downloads (with their place in the queue) and shared files");
  for (auto [name, verb] : {std::pair{"pause", "pause"}, {"resume", "resume"}, {"rm", "remove (the data stays on disk)"}}) {
    auto* c = ctl_cmd->add_subcommand(name, std::string(verb) + " a file: its id from ls, or the start of it");
    c->add_option("id", ctl.target, "the file's id")->required();
  }
  auto* c_move = ctl_cmd->add_subcommand("move", "move a waiting download up or down the queue");
  c_move->add_option("id", ctl.target, "the download's id")->required();
  c_move->add_option("direction", ctl.direction, "up or down")->required()->check(CLI::IsMember({"up", "down"}));
  p2p_cli::set_up(app, "p2p-seed");
  P2P_PARSE(app, argc, argv);

  p2p::ProgressReporter reporter(node.output_mode(p2p::OutputMode::plain), "seed", /*seeding=*/true);
  node.configure(reporter);
  if (ctl_cmd->parsed()) {
    return p2p::guarded_main("p2p-seed ctl", [&] {
      ctl.workdir = ctl_workdir;
      for (auto* sub : ctl_cmd->get_subcommands()) ctl.command = sub->get_name();
      p2p::run_ctl(ctl, std::cout);
      return 0;
    }, [&](const std::string& message, int code) { reporter.error(message, code); });
  }
  return p2p::guarded_main("p2p-seed", [&] {
    if (node.apply_bans(workdir, reporter)) return 0;
    if (port_opt->count() == 0) throw p2p::Error(p2p::ExitCode::usage, "--port is required (0 lets the OS choose)");
    for (auto& m : metas) o.metas.emplace_back(m);
    for (auto& s : sources) o.sources.emplace_back(s);
    if (!dir.empty()) o.dir = dir;
    if (!watch.empty()) o.watch = watch;
    o.workdir = workdir;
    node.apply_to(o);
    auto result = p2p::seed(o, reporter);
    for (const auto& t : result.session.torrents) reporter.summary(t, t.name);
    return 0;  // stopped by a signal: a seeder's normal end
  }, [&](const std::string& message, int code) { reporter.error(message, code); });
}

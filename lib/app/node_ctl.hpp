// p2p-seed ctl: a command-line client for a running node's API (docs/API.md), in
// the spirit of transmission-remote: add a download (a local meta, uploaded; or an
// info hash with trackers), list the files, pause, resume, remove, move in the
// queue. Talks HTTP through net::http_call (the trackers' client); the control
// token comes from --token-file, else WORKDIR/.p2p/http-token (a node on this machine).
#pragma once
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace p2p {

struct CtlOptions {
  std::string node;                   // http://HOST:PORT (or HOST:PORT)
  std::filesystem::path token_file;   // empty: <workdir>/.p2p/http-token
  std::filesystem::path workdir = "data";
  bool json = false;                  // the node's JSON answers, one per line
  std::string command;                // add, ls, pause, resume, rm, move
  std::string target;                 // add: the meta file; pause/resume/rm/move: the file's id (or a unique prefix)
  std::string direction;              // move: up or down
  std::string info_hash;              // add --id
  std::vector<std::string> trackers, peers, only;
};

// Runs one command, printing to `out`. Throws Error: usage (bad arguments, no
// token), bad_meta / input_file (the local meta), tracker (the node unreachable, or refusing).
void run_ctl(const CtlOptions& options, std::ostream& out);

}  // namespace p2p
